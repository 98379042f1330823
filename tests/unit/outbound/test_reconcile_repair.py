"""Reconcile's run and repair on the push's in-memory fakes, with a SQLite ledger: what looks missing is looked up
by the ledger's keys first, and a repair goes through the ledger and the push (a new write, under a new control ID)
and writes nothing twice. Negative controls show what a repair around the ledger would come to."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.assignar.models import Timesheet
from intacct_assignar.assignar.requestor import FilterValue
from intacct_assignar.outbound.documents import marked_timesheet
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.push import PushService
from intacct_assignar.outbound.reconcile import (
    PostedRead,
    PostedTime,
    PostNow,
    QueueForPush,
    RepairResult,
    TimeReconciler,
)
from intacct_assignar.outbound.sweep import SweepService
from intacct_assignar.state import LedgerEntry, SqliteStateStore

from .fakes import InMemoryIntacctForPush, InMemoryTimesheets
from .test_push_on_fakes import CONFIG, NOW, Clock, company, shift

FIRST, LAST = date(2026, 11, 15), date(2026, 11, 21)


class ListedTimesheets(InMemoryTimesheets):
    """Assignar's timesheets, also listed by the filters reconcile sends (`status__in`, a start_datetime range or
    none, a submitted_date range), compared as Assignar's text."""

    def pages(
        self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id", page_size: int | None = None
    ) -> Iterator[builtins.list[Timesheet]]:
        self.reads += 1
        rows = [
            row for _, row in sorted(self.rows.items()) if all(_passes(row, k, v) for k, v in (filters or {}).items())
        ]
        yield [self._record(int(str(row["id"]))) for row in rows]


def _passes(row: Mapping[str, object], name: str, wanted: FilterValue) -> bool:
    field_name, _, operator = name.partition("__")
    value = row.get(field_name)
    text = None if value is None else str(value)
    if operator == "in":
        assert isinstance(wanted, list)
        return text in [str(item) for item in wanted]
    if operator == "is":
        return text is None if wanted is None else text == str(wanted)
    if text is None:
        return False
    if operator == "gte":
        return text >= str(wanted)
    if operator == "lt":
        return text < str(wanted)
    if operator == "between":
        low, high = str(wanted).split(",")
        return low <= text <= high
    raise AssertionError(f"the fake does not filter by {name}")


class ReconcileAssignar:
    """An Assignar account as the push and reconcile see it: its timesheets."""

    def __init__(self) -> None:
        self.timesheets = ListedTimesheets()


class FakeIntacctTime:
    """What the fake Intacct company holds, read as `IntacctPostedTime` reads the real one: documents by their
    marker, or by the keys the ledger names. `by_keys_asked` records each lookup by key."""

    def __init__(self, intacct: InMemoryIntacctForPush) -> None:
        self.intacct = intacct
        self.by_keys_asked: list[dict[int, dict[str, str]]] = []

    def marked(self, first: date, last: date) -> PostedRead:
        read = PostedRead()
        for row in self.intacct.rows("TIMESHEET"):
            found = marked_timesheet(row.get("DESCRIPTION"))
            if found is not None:
                self._timesheet(read.time_of(found[0]), row, unmarked=False)
        for document in self.intacct.rows("PODOCUMENT"):
            found = marked_timesheet(document.get("MESSAGE"))
            if found is not None:
                self._transaction(read.time_of(found[0]), document)
        return read

    def by_keys(self, keys: Mapping[int, Mapping[str, str]]) -> PostedRead:
        self.by_keys_asked.append({owner: dict(documents) for owner, documents in keys.items()})
        read = PostedRead()
        for owner, documents in keys.items():
            for row in self.intacct.rows("TIMESHEET"):
                if row["RECORDNO"] == documents.get("timesheet"):
                    found = marked_timesheet(row.get("DESCRIPTION"))
                    self._timesheet(read.time_of(owner), row, unmarked=found is None or found[0] != owner)
            for document in self.intacct.rows("PODOCUMENT"):
                if document["DOCID"] == documents.get("equipment"):
                    self._transaction(read.time_of(owner), document)
        return read

    def _timesheet(self, posted: PostedTime, row: Mapping[str, Any], *, unmarked: bool) -> None:
        posted.holds("timesheet", str(row["RECORDNO"]))
        posted.employee_id = row["EMPLOYEEID"]
        posted.week = row["BEGINDATE"]
        if unmarked:
            posted.unmarked.add("timesheet")
        for line in row["TIMESHEETENTRIES"]["TIMESHEETENTRY"]:
            posted.labor += Decimal(line["QTY"])
            posted.dates.add(line["ENTRYDATE"])

    def _transaction(self, posted: PostedTime, document: Mapping[str, Any]) -> None:
        posted.holds("equipment", document["DOCID"])
        posted.dates.add(document["WHENCREATED"])
        posted.equipment += sum(Decimal(line["QUANTITY"]) for line in self.intacct.lines_of(document["DOCID"]))


@dataclass
class Recorded:
    """A requeue that only records what it was asked (a deployed tenant's queue, say)."""

    asked: list[list[int]] = field(default_factory=list)

    def requeue(self, timesheet_ids: Sequence[int]) -> list[RepairResult]:
        self.asked.append(list(timesheet_ids))
        return [RepairResult(timesheet_id, "queued") for timesheet_id in timesheet_ids]


class NoQueue:
    def publish(self, messages: Sequence[PushMessage]) -> None:
        raise AssertionError("the repair posts in process here")


@dataclass
class World:
    intacct: InMemoryIntacctForPush
    assignar: ReconcileAssignar
    state: SqliteStateStore
    clock: Clock
    push: PushService
    reader: FakeIntacctTime

    def posted(self, **changes: Any) -> int:
        timesheet_id = self.assignar.timesheets.add(**shift(**changes)).id
        assert self.push.post(timesheet_id).outcome == "posted"
        return timesheet_id

    def reconciler(self) -> TimeReconciler:
        return TimeReconciler(self.assignar, self.reader, self.state, CONFIG.timesheets, clock=self.clock)

    def post_now(self) -> PostNow:
        # The sweep is never asked: a repair names its timesheets.
        sweep = SweepService(cast(AssignarClient, self.assignar), self.state, NoQueue())
        return PostNow(self.push, sweep)

    def delete_timesheet(self, timesheet_id: int) -> str:
        key = self.ledger(timesheet_id).intacct_keys["timesheet"]
        rows = self.intacct.records["TIMESHEET"]
        rows[:] = [row for row in rows if row["RECORDNO"] != key]
        return key

    def ledger(self, timesheet_id: int) -> LedgerEntry:
        entry = self.state.get_ledger(timesheet_id)
        assert entry is not None
        return entry

    def creates(self) -> list[str]:
        return [write.controlid for write in self.intacct.sent("create") if write.answer == "ok"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    intacct = InMemoryIntacctForPush(company(), entity_id="E100")
    assignar = ReconcileAssignar()
    clock = Clock()
    with SqliteStateStore(tmp_path / "state.db") as state:
        push = PushService(assignar, intacct, state, CONFIG, clock=clock)
        yield World(intacct, assignar, state, clock, push, FakeIntacctTime(intacct))


def test_a_deleted_timesheet_is_reopened_in_the_ledger_and_posted_again_under_a_new_control_id(world: World) -> None:
    # Given: posted, then deleted by hand in Intacct
    timesheet_id = world.posted()
    old_key = world.delete_timesheet(timesheet_id)
    [first_write] = world.creates()

    # When
    report = world.reconciler().reconcile(FIRST, LAST)
    results = world.reconciler().repair(report, world.post_now())

    # Then: missing, and posted again as a new write (generation 2: Intacct would refuse generation 1 as a repeat)
    assert [check.timesheet_id for check in report.of("missing_in_intacct")] == [timesheet_id]
    assert [(result.timesheet_id, result.outcome) for result in results] == [(timesheet_id, "posted")]
    assert first_write.endswith("-g1")
    [_, second_write] = world.creates()
    assert second_write == first_write[: -len("-g1")] + "-g2"
    entry = world.ledger(timesheet_id)
    assert entry.state == "posted" and entry.intacct_keys["timesheet"] != old_key
    assert "reopened" not in entry.intacct_keys
    assert report.clean


def test_a_second_repair_finds_nothing_missing_and_writes_nothing(world: World) -> None:
    timesheet_id = world.posted()
    world.delete_timesheet(timesheet_id)
    world.reconciler().repair(world.reconciler().reconcile(FIRST, LAST), world.post_now())
    writes = len(world.intacct.writes)

    again = world.reconciler().reconcile(FIRST, LAST)
    world.reconciler().repair(again, world.post_now())

    assert again.clean and again.repaired == []
    assert len(world.intacct.writes) == writes


def test_negative_control_a_repair_around_the_ledger_posts_nothing_and_resolves_nothing(world: World) -> None:
    # Given: the same deleted timesheet
    timesheet_id = world.posted()
    world.delete_timesheet(timesheet_id)
    report = world.reconciler().reconcile(FIRST, LAST)
    writes = len(world.intacct.writes)

    # When: the push is asked without the ledger entry being reopened first
    report.repaired = world.post_now().requeue([timesheet_id])

    # Then: the ledger still says posted, so the push posts nothing, and the report does not call it repaired
    assert [result.outcome for result in report.repaired] == ["already_posted"]
    assert "nothing was sent" in str(report.repaired[0].reason)
    assert len(world.intacct.writes) == writes
    assert not report.clean


def test_matched_and_differing_timesheets_are_never_requeued(world: World) -> None:
    # Given: one matched, one whose hours an accountant changed in Intacct
    world.posted()
    changed = world.posted(user_id=6, user={"user_id": 6, "full_name": "Bo Li", "employee_id": "E-1005"})
    [_, row] = world.intacct.rows("TIMESHEET")
    row["TIMESHEETENTRIES"]["TIMESHEETENTRY"][0]["QTY"] = Decimal("2.00")
    requeue = Recorded()

    # When
    report = world.reconciler().reconcile(FIRST, LAST)
    world.reconciler().repair(report, requeue)

    # Then: the differing one is reported, and nothing is asked of the push
    assert [check.timesheet_id for check in report.of("differs")] == [changed]
    assert requeue.asked == [[]]
    assert not report.clean


def test_what_looks_missing_is_looked_up_by_the_ledgers_key_before_it_is_called_missing(world: World) -> None:
    # Given: a marker edited out of the description by hand
    timesheet_id = world.posted()
    [row] = world.intacct.rows("TIMESHEET")
    row["DESCRIPTION"] = "Ana, week 47"
    requeue = Recorded()

    # When
    report = world.reconciler().reconcile(FIRST, LAST)
    world.reconciler().repair(report, requeue)

    # Then: found by key, once, and not requeued
    assert world.reader.by_keys_asked == [{timesheet_id: {"timesheet": row["RECORDNO"]}}]
    assert [check.timesheet_id for check in report.of("matched")] == [timesheet_id]
    assert requeue.asked == [[]]


def test_nothing_is_looked_up_by_key_when_nothing_looks_missing(world: World) -> None:
    world.posted()
    assert world.reconciler().reconcile(FIRST, LAST).clean
    assert world.reader.by_keys_asked == []


def test_a_timesheet_another_run_holds_is_left_to_it(world: World) -> None:
    # Given: missing, and claimed right now by a push worker (a re-approval being posted)
    timesheet_id = world.posted()
    world.delete_timesheet(timesheet_id)
    report = world.reconciler().reconcile(FIRST, LAST)
    assert world.state.claim_timesheet(timesheet_id, "another-content", 300, world.clock()) is not None
    requeue = Recorded()

    # When
    results = world.reconciler().repair(report, requeue)

    # Then
    assert [(result.outcome, result.reason) for result in results] == [
        ("skipped", f"being posted elsewhere (another run holds timesheet {timesheet_id}); reconcile again later")
    ]
    assert requeue.asked == [[]]
    assert world.ledger(timesheet_id).state == "claimed"


def test_the_ledger_says_why_a_timesheet_is_missing(world: World) -> None:
    parked = world.assignar.timesheets.add(**shift(user={"user_id": 5, "full_name": "Ana Ruiz", "employee_id": "E-9"}))
    assert world.push.post(parked.id).outcome == "parked"  # Intacct has no employee E-9
    waiting = world.assignar.timesheets.add(**shift(user_id=7)).id

    report = world.reconciler().reconcile(FIRST, LAST)

    reasons = {check.timesheet_id: check.reason for check in report.of("missing_in_intacct")}
    assert reasons[parked.id].startswith("Intacct holds no timesheet for it: parked: ")
    assert "never posted by this integration" in reasons[waiting]


def test_a_deployed_tenant_requeues_on_the_push_queue_as_a_replay() -> None:
    sent: list[PushMessage] = []

    class Queue:
        def publish(self, messages: Sequence[PushMessage]) -> None:
            sent.extend(messages)

    results = QueueForPush(Queue()).requeue([7, 8])

    assert [(m.timesheet_id, m.trigger, m.retry_parked) for m in sent] == [(7, "replay", True), (8, "replay", True)]
    assert [result.outcome for result in results] == ["queued", "queued"]
    assert QueueForPush(Queue()).requeue([]) == [] and len(sent) == 2


# --- the push, for a timesheet Assignar shows processed -------------------------------------------------------


def test_a_reopened_timesheet_waits_for_someone_to_ask(world: World) -> None:
    timesheet_id = world.posted()
    world.delete_timesheet(timesheet_id)
    report = world.reconciler().reconcile(FIRST, LAST)
    world.reconciler().repair(report, Recorded())  # reopened, not posted yet

    redelivered = world.push.post(timesheet_id)  # a webhook or the sweep: nobody asked

    assert (redelivered.outcome, redelivered.earlier) == ("parked", True)
    assert redelivered.reason is not None and redelivered.reason.startswith("missing in Intacct (reconcile on ")
    assert world.push.post(timesheet_id, retry_parked=True).outcome == "posted"


def test_negative_control_a_parked_timesheet_processed_elsewhere_is_still_never_posted(world: World) -> None:
    # Given: parked by this integration, then marked processed by someone else (another integration)
    timesheet = world.assignar.timesheets.add(**shift(user={"user_id": 5, "full_name": "A", "employee_id": "E-9"}))
    assert world.push.post(timesheet.id).outcome == "parked"
    world.assignar.timesheets.change(timesheet.id, processed_at=(NOW + timedelta(hours=1)).isoformat())

    # When: a person replays it
    result = world.push.post(timesheet.id, retry_parked=True)

    # Then: only a reopened entry is ours to post again
    assert (
        result.outcome == "skipped" and result.reason == "already marked processed in Assignar, not by this integration"
    )


def test_a_re_post_that_stops_part_way_is_finished_by_the_next_delivery_not_skipped(world: World) -> None:
    # Given: posted, deleted by hand, reopened by a repair whose re-post Intacct turned away (429)
    timesheet_id = world.posted()
    world.delete_timesheet(timesheet_id)
    report = world.reconciler().reconcile(FIRST, LAST)
    world.intacct.fail_next("rate_limited", function="create")
    [repaired] = world.reconciler().repair(report, world.post_now())
    assert repaired.outcome == "failed" and world.ledger(timesheet_id).state == "claimed"

    # When the push queue brings it back once the lease is over (a delivery, not a person's retry)
    world.clock.at += timedelta(seconds=CONFIG.timesheets.lease_seconds + 1)
    pushed = world.push.post(timesheet_id)

    # Then it is posted, once: not skipped as "processed in Assignar, not by this integration"
    assert pushed.outcome == "posted", pushed.reason
    assert [w.answer for w in world.intacct.sent("create")] == ["ok", "rate_limited", "ok"]
    assert len(world.intacct.rows("TIMESHEET")) == 1
    assert world.ledger(timesheet_id).state == "posted"
    assert world.reconciler().reconcile(FIRST, LAST).clean


def test_a_repair_from_a_report_read_before_the_push_posted_the_timesheet_posts_nothing_twice(world: World) -> None:
    # Given: approved, not yet posted when reconcile read it (missing, no key in the ledger) ...
    timesheet_id = world.assignar.timesheets.add(**shift()).id
    report = world.reconciler().reconcile(FIRST, LAST)
    assert [check.timesheet_id for check in report.of("missing_in_intacct")] == [timesheet_id]
    # ... then posted by the push (the watcher found it) before the admin's repair ran
    assert world.push.post(timesheet_id).outcome == "posted"
    posted = world.ledger(timesheet_id)
    asked = len(world.intacct.queries)

    # When the repair acts on the report it read earlier
    world.reconciler().repair(report, world.post_now())

    # Then the ledger is left as the push left it (not reopened: Intacct is not even searched again), and Intacct
    # holds one timesheet, written once
    assert len(world.intacct.queries) == asked
    assert world.ledger(timesheet_id).intacct_keys == posted.intacct_keys
    assert world.ledger(timesheet_id).state == "posted"
    assert len(world.creates()) == 1 and len(world.intacct.rows("TIMESHEET")) == 1


def test_a_repair_from_a_report_whose_key_was_replaced_since_forgets_nothing(world: World) -> None:
    # Given: posted and deleted; reconcile proves the ledger's key gone ...
    timesheet_id = world.posted()
    world.delete_timesheet(timesheet_id)
    report = world.reconciler().reconcile(FIRST, LAST)
    [check] = report.of("missing_in_intacct")
    assert dict(check.gone_keys) == {"timesheet": world.ledger(timesheet_id).intacct_keys["timesheet"]}
    # ... and before the repair runs, the timesheet is in Intacct again under a new key (another admin's repair)
    world.reconciler().repair(world.reconciler().reconcile(FIRST, LAST), world.post_now())
    again = world.ledger(timesheet_id)
    creates, asked = len(world.creates()), len(world.intacct.queries)

    # When the first admin's repair runs on the older report
    world.reconciler().repair(report, world.post_now())

    # Then the new key is not forgotten (nor looked for again) and nothing is written again
    assert len(world.intacct.queries) == asked
    assert world.ledger(timesheet_id).intacct_keys == again.intacct_keys
    assert len(world.creates()) == creates and len(world.intacct.rows("TIMESHEET")) == 1
