"""The push on an in-memory Intacct and Assignar (`fakes.py`), with a SQLite ledger: approved time posted exactly
once through lost answers, refusals, rate limits and repeated deliveries; what cannot be posted parked with the
reason a person acts on. The same flows over HTTP, on both emulators, are in tests/integration/outbound."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar.catalog import FieldCatalog, definition_scope
from intacct_assignar.config import parse_config
from intacct_assignar.intacct import (
    IntacctAuthenticationError,
    IntacctDuplicateControlIdError,
    IntacctErrorDetail,
    IntacctRateLimitError,
)
from intacct_assignar.intacct.protocol import Record
from intacct_assignar.outbound.documents import marker
from intacct_assignar.outbound.equipment import EQUIPMENT_MARK_FIELDS
from intacct_assignar.outbound.push import PushService
from intacct_assignar.outbound.results import PostingIncompleteError
from intacct_assignar.state import LedgerEntry, SqliteStateStore

from .fakes import BUSINESS, InMemoryAssignarForPush, InMemoryIntacctForPush

CONFIG = parse_config({"timezone": "America/Denver"})  # equipment as purchasing transactions, by default
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
ANA = {"user_id": 5, "full_name": "Ana Ruiz", "employee_id": "E-1005"}
FORMWORK = {"id": 7, "name": "Formwork", "external_id": "03-100"}
# Intacct refusing a create in its own words, with the correction a person follows.
CLOSED_PERIOD = IntacctErrorDetail(
    BUSINESS,
    "Could not create Timesheet record!",
    "The period containing 11/15/2026 is closed for timesheets.",
    "Reopen the period, or post the time to an open one.",
)


def company() -> dict[str, list[Record]]:
    """The Intacct records a timesheet of Ana's names, all active."""
    return {
        "EMPLOYEE": [{"RECORDNO": "1", "EMPLOYEEID": "E-1005", "STATUS": "active"}],
        "PROJECT": [{"RECORDNO": "1", "PROJECTID": "P-2001", "STATUS": "active"}],
        "TASK": [{"RECORDNO": "1", "PROJECTID": "P-2001", "TASKID": "T-01", "STATUS": "active"}],
        "ITEM": [
            {"RECORDNO": "1", "ITEMID": "LAB-CARP", "STATUS": "active"},
            {"RECORDNO": "2", "ITEMID": "EQ-EX1", "STATUS": "active"},
        ],
        "VENDOR": [{"RECORDNO": "1", "VENDORID": "V-INTERNAL", "STATUS": "active"}],
    }


def shift(*, equipment: bool = False, **changes: Any) -> dict[str, Any]:
    """Ana's approved Wednesday on work order T-01 as a carpenter: 4h and 3h20 of labor, and 3h of excavator."""
    fields: dict[str, Any] = {
        "status": "APPROVED",
        "user_id": 5,
        "project_id": 20,
        "task_id": 30,
        "order_id": 40,
        "start_datetime": "2026-11-18T07:00:00.000Z",
        "total_time": "08:00",
        "user": ANA,
        "project": {"name": "Depot 4", "external_id": "P-2001"},
        "task": {"name": "Carpenter", "external_id": "LAB-CARP"},
        "order": {"id": 40, "job_number": "T-01", "job_description": "Framing"},
        "activity_entries": [
            {"id": 1, "duration": 240, "activity": FORMWORK},
            {"id": 2, "duration": 200, "activity": {"id": 8, "name": "Pour", "external_id": "03-300"}},
        ],
        "asset_entries": (
            [{"id": 3, "duration": 180, "asset": {"id": 9, "name": "Excavator", "external_id": "EQ-EX1"}}]
            if equipment
            else []
        ),
    }
    return {**fields, **changes}


@dataclass
class Clock:
    """The service's clock, moved by the tests: past a holder's lease, past Intacct's in-doubt window."""

    at: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.at


@dataclass
class World:
    intacct: InMemoryIntacctForPush
    assignar: InMemoryAssignarForPush
    state: SqliteStateStore
    clock: Clock
    push: PushService

    def timesheet(self, **changes: Any) -> int:
        return self.assignar.timesheets.add(**shift(**changes)).id

    def processed(self, timesheet_id: int) -> bool:
        return self.assignar.timesheets.rows[timesheet_id].get("processed_at") is not None

    def ledger(self, timesheet_id: int) -> LedgerEntry:
        entry = self.state.get_ledger(timesheet_id)
        assert entry is not None
        return entry

    def after_the_lease(self) -> None:
        """Past the lease of the worker that last held a timesheet: a redelivery may take it over."""
        self.clock.at += timedelta(seconds=self.push.lease_s + 1)

    def after_the_doubt_window(self) -> None:
        """Past the time Intacct may still be running a write whose answer was lost (config: 15 minutes)."""
        self.clock.at += self.push.doubt_window


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    intacct = InMemoryIntacctForPush(company(), entity_id="E100")
    assignar = InMemoryAssignarForPush()
    clock = Clock()
    with SqliteStateStore(tmp_path / "state.db") as state:
        yield World(intacct, assignar, state, clock, PushService(assignar, intacct, state, CONFIG, clock=clock))


# --- the fakes keep the rule exactly-once leans on ---------------------------------------------------------


def test_the_fake_refuses_a_repeated_control_id_as_the_real_client_surfaces_it() -> None:
    # Given a timesheet created under a function control ID
    intacct = InMemoryIntacctForPush(company())
    record = {"EMPLOYEEID": "E-1005", "BEGINDATE": date(2026, 11, 15), "DESCRIPTION": "week 47"}
    intacct.create("TIMESHEET", record, controlid="assignar-ts-1-labor-abc-g1")

    # When the same write is sent again under it
    with pytest.raises(IntacctDuplicateControlIdError) as repeated:
        intacct.create("TIMESHEET", record, controlid="assignar-ts-1-labor-abc-g1")

    # Then it is refused in Intacct's words, and nothing more is written
    assert repeated.value.controlid == "assignar-ts-1-labor-abc-g1"
    assert len(intacct.rows("TIMESHEET")) == 1


# --- posted once --------------------------------------------------------------------------------------------


def test_an_approved_timesheet_becomes_one_intacct_timesheet_and_is_marked_processed(world: World) -> None:
    # Given an approved day of labor
    timesheet_id = world.timesheet()

    # When it is posted
    result = world.push.post(timesheet_id)

    # Then Intacct holds one timesheet for Ana's week, carrying the Assignar timesheet's marker, from one create
    assert result.outcome == "posted"
    [sheet] = world.intacct.rows("TIMESHEET")
    assert (sheet["EMPLOYEEID"], sheet["BEGINDATE"], sheet["STATE"]) == ("E-1005", date(2026, 11, 15), "Submitted")
    assert sheet["DESCRIPTION"].startswith(marker(timesheet_id))
    entries = sheet["TIMESHEETENTRIES"]["TIMESHEETENTRY"]
    assert [(e["QTY"], e["TASKID"], e["LOCATIONID"]) for e in entries] == [
        (Decimal("4.00"), "T-01", "E100"),
        (Decimal("3.33"), "T-01", "E100"),
    ]
    assert [(w.function, w.answer) for w in world.intacct.writes] == [("create", "ok")]
    # And the ledger keeps its key, and Assignar shows the timesheet processed
    assert result.intacct_keys == {"timesheet": sheet["RECORDNO"]}
    entry = world.ledger(timesheet_id)
    assert (entry.state, entry.intacct_keys["timesheet"]) == ("posted", sheet["RECORDNO"])
    assert world.assignar.timesheets.marked == [timesheet_id]


def test_a_posted_result_carries_when_it_was_approved_and_when_the_ledger_recorded_it(world: World) -> None:
    # Given a timesheet approved at 08:00:01 by Assignar's clock (its modified_time while approved)
    timesheet_id = world.timesheet()
    approved = world.assignar.timesheets.rows[timesheet_id]["modified_time"]

    # When it is posted at 16:00 by ours, and a repeat delivery comes after
    result = world.push.post(timesheet_id)
    repeat = world.push.post(timesheet_id)

    # Then the posting carries both moments, the wait between them, and the repeat carries none
    assert result.approved_at == datetime.fromisoformat(str(approved))
    assert result.posted_at == NOW == world.ledger(timesheet_id).updated_at
    assert result.approval_to_intacct_s == (NOW - datetime.fromisoformat(str(approved))).total_seconds()
    assert repeat.outcome == "already_posted" and repeat.approval_to_intacct_s is None


def test_the_same_timesheet_delivered_twice_is_written_once(world: World) -> None:
    # Given a timesheet posted
    timesheet_id = world.timesheet()
    world.push.post(timesheet_id)
    queries = len(world.intacct.queries)

    # When it is delivered again (the webhook retried, the sweep found it)
    again = world.push.post(timesheet_id)

    # Then it is known as posted: Intacct is neither written nor read, and Assignar is not marked again
    assert (again.outcome, again.intacct_keys) == ("already_posted", {"timesheet": "1"})
    assert len(world.intacct.sent("create")) == 1
    assert len(world.intacct.queries) == queries
    assert world.assignar.timesheets.marked == [timesheet_id]


def test_a_worker_holding_a_read_from_before_the_posting_writes_nothing(world: World) -> None:
    # Given a second worker that read two timesheets before the first worker posted one of them
    first, other = world.timesheet(), world.timesheet()
    second_worker = PushService(world.assignar, world.intacct, world.state, CONFIG, clock=world.clock)
    second_worker.prefetch([first, other])
    assert world.push.post(first).outcome == "posted"
    reads = world.assignar.timesheets.reads

    # When the second worker posts it from that read (Assignar did not show it processed then)
    result = second_worker.post(first)

    # Then it went by that read, not a fresh one, and the ledger knew it posted: no second create
    assert world.assignar.timesheets.reads == reads
    assert result.outcome == "already_posted"
    assert len(world.intacct.sent("create")) == 1
    assert len(world.intacct.rows("TIMESHEET")) == 1


def test_a_run_on_another_ledger_is_stopped_by_intaccts_duplicate_control_id_check(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a timesheet whose create ran in Intacct, by a worker that died before its ledger or Assignar heard
    timesheet_id = world.timesheet()

    def die(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("the Lambda container died here")

    with monkeypatch.context() as patch:
        patch.setattr(world.state, "record_posted", die)
        with pytest.raises(SystemExit):
            world.push.post(timesheet_id)

    # When a run with a ledger of its own posts it (the CLI on another machine, with its own state file)
    with SqliteStateStore(tmp_path / "elsewhere.db") as elsewhere:
        result = PushService(world.assignar, world.intacct, elsewhere, CONFIG, clock=world.clock).post(timesheet_id)

    # Then Intacct refuses the same write under the same control ID, and the timesheet it made is adopted
    assert result.outcome == "posted"
    first, second = world.intacct.sent("create")
    assert (first.answer, second.answer) == ("ok", "duplicate")
    assert first.controlid == second.controlid
    [sheet] = world.intacct.rows("TIMESHEET")
    assert result.intacct_keys == {"timesheet": sheet["RECORDNO"]}
    assert world.assignar.timesheets.marked == [timesheet_id]


# --- lost answers ----------------------------------------------------------------------------------------


def test_an_answer_lost_after_the_create_committed_is_found_by_its_marker_and_not_sent_again(world: World) -> None:
    # Given Intacct will run the next create and lose its answer (an HTTP 524)
    timesheet_id = world.timesheet()
    world.intacct.fail_next("lost_after_commit", function="create")

    # When the timesheet is posted
    result = world.push.post(timesheet_id)

    # Then the push looks before anything else, finds the timesheet by its marker, and sends nothing more
    assert result.outcome == "posted"
    [sheet] = world.intacct.rows("TIMESHEET")
    assert [w.answer for w in world.intacct.sent("create")] == ["lost"]
    assert result.intacct_keys == {"timesheet": sheet["RECORDNO"]}
    assert world.ledger(timesheet_id).intacct_keys["timesheet_gen"] == "1"
    assert world.processed(timesheet_id)


def test_a_create_still_running_when_its_answer_was_lost_is_found_by_a_later_retry(world: World) -> None:
    # Given a create whose answer was lost while Intacct was still running it
    timesheet_id = world.timesheet()
    world.intacct.fail_next("lost_commits_later", function="create")
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)

    # When it is retried before Intacct finished
    world.after_the_lease()
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)

    # Then nothing was sent again
    assert len(world.intacct.sent("create")) == 1

    # When Intacct finishes it and the next retry comes
    world.intacct.settle_late_commits()
    world.after_the_lease()
    result = world.push.post(timesheet_id)

    # Then that retry finds it by its marker: one timesheet, from the one create sent
    assert result.outcome == "posted"
    [sheet] = world.intacct.rows("TIMESHEET")
    assert result.intacct_keys == {"timesheet": sheet["RECORDNO"]}
    assert len(world.intacct.sent("create")) == 1
    assert world.processed(timesheet_id)


def test_an_answer_lost_with_nothing_committed_is_sent_again_once_after_the_doubt_window(world: World) -> None:
    # Given a create whose answer was lost and which Intacct never ran (a 502 from its gateway)
    timesheet_id = world.timesheet()
    world.intacct.fail_next("lost_before_commit", function="create")
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)

    # When it is retried while Intacct might still be running it
    world.after_the_lease()
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)

    # Then it is looked for, not sent again
    assert len(world.intacct.sent("create")) == 1
    assert world.intacct.rows("TIMESHEET") == []

    # When it is retried after Intacct's in-doubt window
    world.after_the_doubt_window()
    result = world.push.post(timesheet_id)

    # Then it is sent once more, as a new write (a new control ID), and Intacct holds one timesheet
    assert result.outcome == "posted"
    first, second = world.intacct.sent("create")
    assert (first.answer, second.answer) == ("lost", "ok")
    assert first.controlid != second.controlid
    assert len(world.intacct.rows("TIMESHEET")) == 1
    assert world.ledger(timesheet_id).intacct_keys["timesheet_gen"] == "2"
    assert world.processed(timesheet_id)


def test_a_rate_limited_create_ran_nothing_so_the_retry_sends_it_without_waiting_out_the_doubt_window(
    world: World,
) -> None:
    # Given a create the gateway turned away (429): Intacct ran nothing
    timesheet_id = world.timesheet()
    world.intacct.fail_next("rate_limited", function="create")
    with pytest.raises(IntacctRateLimitError):
        world.push.post(timesheet_id)

    # When it is retried once the lease is over, well inside the in-doubt window
    world.after_the_lease()
    result = world.push.post(timesheet_id)

    # Then it is sent at once, as a new write, and posted once
    assert result.outcome == "posted"
    assert [w.answer for w in world.intacct.sent("create")] == ["rate_limited", "ok"]
    assert len(world.intacct.rows("TIMESHEET")) == 1
    assert world.processed(timesheet_id)


# --- parked for a person ---------------------------------------------------------------------------------


def test_intacct_refusing_the_timesheet_parks_it_with_intaccts_reason_and_nothing_is_marked_processed(
    world: World,
) -> None:
    # Given Intacct will refuse the create (a closed period)
    timesheet_id = world.timesheet()
    world.intacct.fail_next("refused", function="create", detail=CLOSED_PERIOD)

    # When the timesheet is posted
    result = world.push.post(timesheet_id)

    # Then it is parked with Intacct's words and correction; Intacct holds nothing, Assignar shows nothing processed
    assert result.outcome == "parked"
    assert result.reason is not None and result.reason.startswith("Intacct refused the timesheet")
    assert CLOSED_PERIOD.description2 is not None and CLOSED_PERIOD.description2 in result.reason
    assert CLOSED_PERIOD.correction is not None and CLOSED_PERIOD.correction in result.reason
    assert world.intacct.rows("TIMESHEET") == []
    assert not world.processed(timesheet_id)
    entry = world.ledger(timesheet_id)
    assert (entry.state, entry.reason) == ("parked", result.reason)
    # And a duplicate delivery does not try again
    again = world.push.post(timesheet_id)
    assert (again.outcome, again.earlier) == ("parked", True)
    assert len(world.intacct.sent("create")) == 1

    # When a person has reopened the period and replays it
    replay = world.push.post(timesheet_id, retry_parked=True)

    # Then it is posted, once
    assert replay.outcome == "posted"
    assert len(world.intacct.rows("TIMESHEET")) == 1
    assert world.processed(timesheet_id)


def test_an_employee_made_inactive_after_the_reference_check_is_refused_by_intacct_and_parked(world: World) -> None:
    # Given a dry run saw the employee active (the check remembers that a while); then Intacct made them inactive
    timesheet_id = world.timesheet()
    assert world.push.post(timesheet_id, dry_run=True).problems == []
    world.intacct.rows("EMPLOYEE")[0]["STATUS"] = "inactive"

    # When the timesheet is posted
    result = world.push.post(timesheet_id)

    # Then Intacct's own check refuses the create, and the parked reason carries its words
    assert result.outcome == "parked"
    assert result.reason is not None and "Intacct refused the timesheet" in result.reason
    assert "Employee 'E-1005' specified in EMPLOYEEID is inactive" in result.reason
    assert [w.answer for w in world.intacct.sent("create")] == ["refused"]
    assert world.intacct.rows("TIMESHEET") == []
    assert not world.processed(timesheet_id)


def test_a_worker_without_an_intacct_id_is_parked_with_the_fix_named_and_intacct_is_not_asked(world: World) -> None:
    # Given a timesheet of a worker typed into Assignar by hand, without an employee ID
    timesheet_id = world.timesheet(user={**ANA, "employee_id": ""})

    # When it is posted
    result = world.push.post(timesheet_id)

    # Then it is parked naming the worker and the fix, and Intacct is neither read nor written
    assert result.outcome == "parked"
    assert result.reason is not None
    assert "worker Ana Ruiz (Assignar user 5) has no Intacct ID" in result.reason
    assert "set the worker's employee ID to their Intacct EMPLOYEEID" in result.reason
    assert (world.intacct.writes, world.intacct.queries) == ([], [])
    assert not world.processed(timesheet_id)
    assert world.ledger(timesheet_id).state == "parked"


def test_an_employee_intacct_does_not_have_is_parked_before_anything_is_written(world: World) -> None:
    # Given a worker whose employee ID Intacct does not know
    timesheet_id = world.timesheet(user={**ANA, "employee_id": "E-NOBODY"})

    # When the timesheet is posted
    result = world.push.post(timesheet_id)

    # Then the reference check parks it naming the employee, and nothing is written
    assert result.outcome == "parked"
    assert result.reason is not None and "employee E-NOBODY" in result.reason
    assert "does not exist in Intacct" in result.reason
    assert world.intacct.writes == []

    # When the employee is added in Intacct and a person replays the timesheet
    world.intacct.rows("EMPLOYEE").append({"RECORDNO": "2", "EMPLOYEEID": "E-NOBODY", "STATUS": "active"})
    replay = world.push.post(timesheet_id, retry_parked=True)

    # Then it is posted
    assert replay.outcome == "posted"
    [sheet] = world.intacct.rows("TIMESHEET")
    assert sheet["EMPLOYEEID"] == "E-NOBODY"


# --- re-approved -----------------------------------------------------------------------------------------


def test_re_approved_with_changed_hours_updates_the_same_intacct_timesheet(world: World) -> None:
    # Given a posted timesheet
    timesheet_id = world.timesheet()
    world.push.post(timesheet_id)
    [sheet] = world.intacct.rows("TIMESHEET")
    description = sheet["DESCRIPTION"]

    # When it is re-approved with five hours of formwork instead
    world.assignar.timesheets.reapprove(
        timesheet_id, activity_entries=[{"id": 1, "duration": 300, "activity": FORMWORK}]
    )
    result = world.push.post(timesheet_id)

    # Then the Intacct timesheet is updated in place: its entries and revision, under its own key
    assert result.outcome == "posted"
    [updated] = world.intacct.rows("TIMESHEET")
    assert updated["RECORDNO"] == result.intacct_keys["timesheet"] == "1"
    assert [e["QTY"] for e in updated["TIMESHEETENTRIES"]["TIMESHEETENTRY"]] == [Decimal("5.00")]
    assert updated["DESCRIPTION"] != description
    assert [(w.function, w.answer) for w in world.intacct.writes] == [("create", "ok"), ("update", "ok")]
    assert world.assignar.timesheets.marked == [timesheet_id, timesheet_id]


def test_re_approved_after_intacct_approved_its_timesheet_is_parked_and_intacct_left_alone(world: World) -> None:
    # Given a posted timesheet that Intacct's approvers have since approved
    timesheet_id = world.timesheet()
    world.push.post(timesheet_id)
    [sheet] = world.intacct.rows("TIMESHEET")
    sheet["STATE"] = "Approved"

    # When it is re-approved in Assignar with changed hours
    world.assignar.timesheets.reapprove(
        timesheet_id, activity_entries=[{"id": 1, "duration": 300, "activity": FORMWORK}]
    )
    result = world.push.post(timesheet_id)

    # Then it is parked naming the Intacct timesheet and its state, and no update is sent
    assert result.outcome == "parked"
    assert result.reason is not None and "Intacct timesheet 1 is Approved in Intacct" in result.reason
    assert world.intacct.sent("update") == []
    assert [e["QTY"] for e in sheet["TIMESHEETENTRIES"]["TIMESHEETENTRY"]] == [Decimal("4.00"), Decimal("3.33")]
    assert world.ledger(timesheet_id).intacct_keys["timesheet"] == "1"


# --- equipment as purchasing transactions ----------------------------------------------------------------


def test_an_equipment_timesheet_becomes_one_timesheet_and_one_purchasing_transaction(world: World) -> None:
    # Given an approved day with labor and three hours of excavator
    timesheet_id = world.timesheet(equipment=True)

    # When it is posted
    result = world.push.post(timesheet_id)

    # Then Intacct holds one timesheet and one Equipment Usage transaction for the internal vendor
    assert result.outcome == "posted"
    [sheet] = world.intacct.rows("TIMESHEET")
    [po] = world.intacct.rows("PODOCUMENT")
    assert (po["DOCPARID"], po["CUSTVENDID"]) == ("Equipment Usage", "V-INTERNAL")
    [line] = world.intacct.lines_of(po["DOCID"])
    assert (line["ITEMID"], line["QUANTITY"], line["COSTTYPEID"]) == ("EQ-EX1", Decimal("3.00"), "EQP")
    assert result.intacct_keys == {"timesheet": sheet["RECORDNO"], "equipment": po["DOCID"]}
    assert [(w.function, w.answer) for w in world.intacct.writes] == [("create", "ok"), ("create_potransaction", "ok")]
    assert world.processed(timesheet_id)
    # And reading the transaction back showed which of its fields hold the marker (those a lost answer is searched
    # by): MESSAGE and the lines' MEMO; REFERENCENO is not one lookup lists
    catalog = FieldCatalog(
        world.intacct, world.state, scope=definition_scope(world.intacct.settings), clock=world.clock
    )
    assert [catalog.holds(obj, name) for obj, name in EQUIPMENT_MARK_FIELDS] == [True, False, True]


def test_a_lost_equipment_answer_is_found_by_the_field_an_earlier_posting_proved(world: World) -> None:
    # Given the company's first equipment posting went through (proving its message holds the marker)
    assert world.push.post(world.timesheet(equipment=True)).outcome == "posted"
    # And Intacct will run the next purchasing transaction and lose its answer
    timesheet_id = world.timesheet(equipment=True)
    world.intacct.fail_next("lost_after_commit", function="create_potransaction")

    # When the timesheet is posted
    result = world.push.post(timesheet_id)

    # Then the transaction is found, not sent again
    assert result.outcome == "posted"
    _first_day, second = world.intacct.rows("PODOCUMENT")
    assert result.intacct_keys["equipment"] == second["DOCID"]
    assert [w.answer for w in world.intacct.sent("create_potransaction")] == ["ok", "lost"]
    assert world.processed(timesheet_id)


def test_the_first_equipment_answer_lost_is_handed_to_a_person_and_never_sent_again(world: World) -> None:
    # Given the company's first purchasing transaction ran and its answer was lost: no field is proven yet
    timesheet_id = world.timesheet(equipment=True)
    world.intacct.fail_next("lost_after_commit", function="create_potransaction")
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)

    # When it is retried
    world.after_the_lease()
    result = world.push.post(timesheet_id)

    # Then it is parked asking a person to look for the transaction; the labor stays posted
    assert result.outcome == "parked"
    assert result.reason is not None and "cannot be looked for" in result.reason
    assert f"--timesheet-id {timesheet_id} --not-in-intacct" in result.reason
    assert world.ledger(timesheet_id).intacct_keys["timesheet"] == "1"
    # And however long it waits and however often it is replayed, it is not sent again without a person's word
    world.after_the_doubt_window()
    assert world.push.post(timesheet_id, retry_parked=True).outcome == "parked"
    assert len(world.intacct.sent("create_potransaction")) == 1
    assert len(world.intacct.rows("PODOCUMENT")) == 1
    assert not world.processed(timesheet_id)


# --- a batch's writes in one request ------------------------------------------------------------------------


def outcomes_of(world: World, ids: list[int]) -> list[str]:
    results = world.push.post_together(dict.fromkeys(ids, False))
    return [getattr(results[i], "outcome", type(results[i]).__name__) for i in ids]


def test_a_batch_sends_every_timesheets_writes_in_one_request(world: World) -> None:
    ids = [world.timesheet(start_datetime=f"2026-11-{day}T07:00:00.000Z") for day in (16, 17, 18)]
    assert outcomes_of(world, ids) == ["posted"] * 3
    assert world.intacct.writes_per_request == [3]
    assert len(world.intacct.rows("TIMESHEET")) == 3 and all(world.processed(i) for i in ids)


def test_a_lost_answer_for_a_batch_looks_for_each_document_and_re_sends_none_that_ran(world: World) -> None:
    # Given Intacct will run every write of the next request and lose its answer
    ids = [world.timesheet(start_datetime=f"2026-11-{day}T07:00:00.000Z") for day in (16, 17, 18)]
    world.intacct.fail_next("lost_after_commit", function="create")

    # When the batch is posted
    # Then each timesheet was found by its marker: posted, nothing sent twice
    assert outcomes_of(world, ids) == ["posted"] * 3
    assert [w.answer for w in world.intacct.sent("create")] == ["lost", "ok", "ok"]
    assert len(world.intacct.rows("TIMESHEET")) == 3
    assert {world.ledger(i).intacct_keys["timesheet"] for i in ids} == {"1", "2", "3"}


def test_a_lost_answer_for_a_batch_re_sends_only_what_did_not_run_and_only_after_the_doubt_window(
    world: World,
) -> None:
    # Given the gateway will lose the next request's answer, and the first of its writes never ran
    ids = [world.timesheet(start_datetime=f"2026-11-{day}T07:00:00.000Z") for day in (16, 17, 18)]
    world.intacct.fail_next("lost_before_commit", function="create")

    # When the batch is posted, then again after the lease, then after Intacct's in-doubt window
    assert outcomes_of(world, ids) == ["PostingIncompleteError", "posted", "posted"]
    world.after_the_lease()
    assert outcomes_of(world, ids[:1]) == ["PostingIncompleteError"]  # still in doubt: looked for, not re-sent
    world.after_the_doubt_window()
    assert outcomes_of(world, ids[:1]) == ["posted"]

    # Then each is in Intacct once; the one that never ran went again under a new control ID
    assert len(world.intacct.rows("TIMESHEET")) == 3
    assert world.ledger(ids[0]).intacct_keys["timesheet_gen"] == "2"
    assert all(world.processed(i) for i in ids)


def test_a_rate_limited_batch_is_sent_again_at_once_without_waiting_out_any_doubt(world: World) -> None:
    ids = [world.timesheet(start_datetime=f"2026-11-{day}T07:00:00.000Z") for day in (16, 17)]
    world.intacct.fail_next("rate_limited", function="create")
    assert outcomes_of(world, ids) == ["IntacctRateLimitError"] * 2
    world.after_the_lease()
    assert outcomes_of(world, ids) == ["posted"] * 2  # nothing ran: no doubt to wait out
    assert [w.answer for w in world.intacct.sent("create")] == ["rate_limited", "rate_limited", "ok", "ok"]
    assert len(world.intacct.rows("TIMESHEET")) == 2


def test_post_hands_out_each_batched_outcome_once_and_only_as_it_was_asked(world: World) -> None:
    ids = [world.timesheet(start_datetime=f"2026-11-{day}T07:00:00.000Z") for day in (16, 17)]
    world.intacct.fail_next("refused", function="create", detail=CLOSED_PERIOD)
    world.push.post_together(dict.fromkeys(ids, False))
    sent = len(world.intacct.writes)
    assert world.push.post(ids[0]).outcome == "parked"
    assert world.push.post(ids[1]).outcome == "posted"
    assert len(world.intacct.writes) == sent, "both outcomes came from the batch"
    # Asked again, or as a replay, each is posted afresh: the ledger decides.
    assert world.push.post(ids[1]).outcome == "already_posted"
    assert world.push.post(ids[0]).outcome == "parked"  # parked earlier, not retried unless a replay asks
    assert world.push.post(ids[0], retry_parked=True).outcome == "posted"


class Killed(BaseException):
    """The process is stopped mid-batch (a Lambda timeout, a SIGKILL): nothing after this line runs."""


def test_a_purchasing_transaction_answered_before_a_kill_is_in_the_ledger_and_never_handed_to_a_person(
    world: World,
) -> None:
    # Given a company whose purchasing fields are not proven yet: each transaction goes in a request of its own
    ids = [world.timesheet(equipment=True, start_datetime=f"2026-11-{day}T07:00:00.000Z") for day in (16, 17)]
    # And the process is killed while the second transaction's request is out (the first one answered, created)
    write_batch, requests = world.intacct.write_batch, []

    def killed_on_the_third_request(writes: Any) -> Any:
        requests.append(writes)
        if len(requests) == 3:
            raise Killed
        return write_batch(writes)

    world.intacct.write_batch = killed_on_the_third_request  # type: ignore[method-assign]
    with pytest.raises(Killed):
        world.push.post_together(dict.fromkeys(ids, False))
    world.intacct.write_batch = write_batch  # type: ignore[method-assign]
    [first_po] = world.intacct.rows("PODOCUMENT")

    # When the first timesheet is tried again after the lease
    world.after_the_lease()
    result = world.push.post(ids[0])

    # Then the transaction Intacct answered for is known from the ledger: posted, with no person asked to look
    assert result.outcome == "posted", result.reason
    assert result.intacct_keys["equipment"] == first_po["DOCID"]
    assert len(world.intacct.rows("PODOCUMENT")) == 1


def test_a_batch_that_fails_after_claiming_gives_each_timesheet_its_error_rather_than_raising(world: World) -> None:
    # Given two equipment timesheets, and the ledger unreachable when the push asks which purchasing fields are
    # proven (the catalog reads them from the state store) after both were claimed
    ids = [world.timesheet(equipment=True, start_datetime=f"2026-11-{day}T07:00:00.000Z") for day in (16, 17)]

    def unreachable() -> bool:
        raise ConnectionError("the state store did not answer")

    world.push._equipment.can_find = unreachable  # type: ignore[method-assign]

    # When the batch is posted
    results = world.push.post_together(dict.fromkeys(ids, False))

    # Then each timesheet has that trouble as its outcome (to be tried again), not "being posted elsewhere"
    assert [type(results[i]).__name__ for i in ids] == ["ConnectionError"] * 2
    with pytest.raises(ConnectionError):
        world.push.post(ids[0])
    assert world.intacct.writes == []


def test_a_batch_refused_at_the_login_is_sent_again_at_once_once_the_credentials_work(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Intacct refuses the next request at its authentication level (nothing in it runs)
    ids = [world.timesheet(start_datetime=f"2026-11-{day}T07:00:00.000Z") for day in (16, 17)]

    def refused_login(writes: object) -> object:
        raise IntacctAuthenticationError("Intacct refused the login or session", level="authentication")

    with monkeypatch.context() as patch:
        patch.setattr(world.intacct, "write_batch", refused_login)
        assert outcomes_of(world, ids) == ["IntacctAuthenticationError"] * 2
    # Then no intent is left to wait out: once the login works, the next attempt posts at once
    assert all(not key.endswith("_pending") for i in ids for key in world.ledger(i).intacct_keys)
    world.after_the_lease()
    assert outcomes_of(world, ids) == ["posted"] * 2
    assert len(world.intacct.rows("TIMESHEET")) == 2
