"""What the push looks for after a lost answer, and what it reads before changing a posted document, when the
gateway behaves as Intacct's reference allows rather than as our emulator's defaults guess.

Most tests here failed before the push stopped relying on guesses: the lost-answer lookup searched PONUMBER,
which only our emulator filled from `<referenceno>`; a document whose texts a person edited was taken for
deleted and posted again; an update over an approved timesheet was stopped only by Intacct refusing it, which
Intacct's reference does not promise.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from intacct_assignar.outbound.push import PushService
from intacct_assignar.outbound.results import PostingIncompleteError, PushResult
from intacct_assignar_dev.emulators.assignar import EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.intacct import store as emulator_store
from intacct_assignar_dev.emulators.intacct.profiles import CompanyProfile

from .conftest import TimeWorld, synced_world

# A gateway that keeps <referenceno> under a name of its own: a query of PONUMBER finds nothing.
REFERENCE_ELSEWHERE = CompanyProfile("reference-elsewhere", po_texts={"referenceno": None})
# ...and <message> too, though lookup still lists MESSAGE: only the lines' MEMO holds the marker.
MEMO_ONLY = CompanyProfile("memo-only", po_texts={"referenceno": None, "message": None})
# Every text listed by lookup, none holding what was written: nothing can be searched.
NOTHING_HELD = CompanyProfile("nothing-held", po_texts={"referenceno": None, "message": None, "memo": None})
# ...or none even listed.
NOTHING_LISTED = CompanyProfile(
    "nothing-listed",
    po_texts={"referenceno": None, "message": None, "memo": None},
    hidden={"PODOCUMENT": frozenset({"MESSAGE", "PONUMBER"}), "PODOCUMENTENTRY": frozenset({"MEMO"})},
)


def world_of(tmp_path: Path, profile: CompanyProfile) -> Iterator[TimeWorld]:
    yield from synced_world(tmp_path, profile=profile)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[TimeWorld]:
    yield from world_of(tmp_path, REFERENCE_ELSEWHERE)


@pytest.fixture(params=[NOTHING_HELD, NOTHING_LISTED], ids=lambda p: p.name)
def blind(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TimeWorld]:
    yield from world_of(tmp_path, request.param)


def post_until_settled(world: TimeWorld, timesheet_id: int, *, rounds: int = 4) -> PushResult:
    """Post as the queue would: each "try again later" is retried once the lease and the in-doubt window pass."""
    for _ in range(rounds):
        try:
            return world.push.post(timesheet_id)
        except PostingIncompleteError:
            world.clock.at += world.push_lease() + world.push.doubt_window
    raise AssertionError(f"timesheet {timesheet_id} never settled")


def creates(world: TimeWorld) -> int:
    return world.intacct_emulator.stats.functions["create_potransaction"]


@pytest.mark.parametrize("fault", ["524", "timeout", "drop"])
def test_a_lost_equipment_answer_is_found_by_its_message_wherever_the_reference_number_went(
    elsewhere: TimeWorld, fault: str
) -> None:
    elsewhere.first_day()
    timesheet_id = elsewhere.timesheet()
    elsewhere.intacct_emulator.fail_next(fault, function="create_potransaction")
    result = post_until_settled(elsewhere, timesheet_id)
    assert result.outcome == "posted"
    assert len(elsewhere.equipment_documents()) == 2  # the first day's and this one: never sent twice
    assert not any(po.get("PONUMBER") for po in elsewhere.equipment_documents())
    assert creates(elsewhere) == 2
    assert elsewhere.processed(timesheet_id)


def test_a_field_lookup_lists_but_the_write_does_not_fill_is_never_searched(tmp_path: Path) -> None:
    for world in world_of(tmp_path, MEMO_ONLY):
        world.first_day()
        timesheet_id = world.timesheet(equipment=(120, 60))  # two lines: still one document
        world.intacct_emulator.fail_next("524", function="create_potransaction")
        assert post_until_settled(world, timesheet_id).outcome == "posted"
        assert len(world.equipment_documents()) == 2
        assert creates(world) == 2


def test_with_no_field_holding_the_marker_a_lost_answer_is_parked_for_a_person_never_re_sent(blind: TimeWorld) -> None:
    blind.first_day()
    timesheet_id = blind.timesheet()
    blind.intacct_emulator.fail_next("524", function="create_potransaction")
    result = post_until_settled(blind, timesheet_id)
    assert result.outcome == "parked"
    assert result.reason is not None
    assert "cannot be looked for" in result.reason and f"Assignar timesheet {timesheet_id} (rev " in result.reason
    assert f"--timesheet-id {timesheet_id} --not-in-intacct" in result.reason
    # However long it waits, and however often it is replayed (a bulk re-drive of the parked queue), it is
    # never sent again without a person's word: one transaction, as Intacct committed it.
    blind.clock.at += blind.push.doubt_window * 4
    assert blind.push.post(timesheet_id, retry_parked=True).outcome == "parked"
    assert post_until_settled(blind, timesheet_id).outcome == "parked"
    assert len(blind.equipment_documents()) == 2
    assert creates(blind) == 2
    assert not blind.processed(timesheet_id)


def test_the_first_equipment_answer_lost_is_parked_since_no_field_is_proven_yet(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    world.intacct_emulator.fail_next("524", function="create_potransaction")
    assert post_until_settled(world, timesheet_id).outcome == "parked"
    assert len(world.equipment_documents()) == 1


def test_when_a_person_finds_nothing_and_says_so_it_is_sent_once(blind: TimeWorld) -> None:
    blind.first_day()
    timesheet_id = blind.timesheet()
    # A 502: the gateway ran nothing, but the push cannot tell; it parks and asks.
    blind.intacct_emulator.fail_next("502", function="create_potransaction")
    with pytest.raises(PostingIncompleteError):
        blind.push.post(timesheet_id)
    blind.clock.at += blind.push_lease()
    assert blind.push.post(timesheet_id).outcome == "parked"
    assert len(blind.equipment_documents()) == 1
    # Too early, even on a person's word: Intacct may still be running it.
    assert blind.push.post(timesheet_id, retry_parked=True, confirmed_absent=True).outcome == "parked"
    blind.clock.at += blind.push.doubt_window
    assert blind.push.post(timesheet_id, retry_parked=True, confirmed_absent=True).outcome == "posted"
    assert len(blind.equipment_documents()) == 2
    assert blind.push.post(timesheet_id, retry_parked=True, confirmed_absent=True).outcome == "already_posted"
    assert len(blind.equipment_documents()) == 2


def test_an_accountant_editing_the_message_does_not_make_a_second_transaction(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(equipment=(120,))
    world.push.post(timesheet_id)
    [po] = world.equipment_documents()
    world.store.update("PODOCUMENT", po["RECORDNO"], {"MESSAGE": "Excavator hire, checked by AP"})
    world.assignar.reopen_timesheet(timesheet_id, equipment=[EquipmentEntry(world.crew.assets[0]["id"], 240)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    result = world.push.post(timesheet_id)
    assert result.outcome == "parked", "purchasing transactions are left to the accountants"
    assert result.reason is not None and po["DOCID"] in result.reason
    assert len(world.equipment_documents()) == 1


def test_a_person_editing_the_description_does_not_make_a_second_timesheet(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(equipment=())
    world.push.post(timesheet_id)
    [sheet] = world.intacct_timesheets()
    world.store.update("TIMESHEET", sheet["RECORDNO"], {"DESCRIPTION": "Week 47, Ana"})
    world.assignar.reopen_timesheet(timesheet_id, labor=[LaborEntry(world.crew.activities[0]["id"], 600)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    assert world.push.post(timesheet_id).outcome == "posted"
    [updated] = world.intacct_timesheets()
    assert updated["RECORDNO"] == sheet["RECORDNO"]
    assert [line["QTY"] for line in world.timesheet_lines(sheet["RECORDNO"])] == [Decimal("10.00")]


@pytest.mark.parametrize("state", ["Approved", "Declined", "Partially Approved"])
def test_a_timesheet_intacct_no_longer_lets_change_is_never_updated_even_where_the_gateway_would(
    world: TimeWorld, monkeypatch: pytest.MonkeyPatch, state: str
) -> None:
    # A gateway that takes the update (Intacct's reference does not promise to refuse it).
    monkeypatch.setattr(emulator_store, "LOCKED_TIMESHEET_STATES", frozenset())
    timesheet_id = world.timesheet(equipment=())
    world.push.post(timesheet_id)
    [sheet] = world.intacct_timesheets()
    world.store.set_timesheet_state(sheet["RECORDNO"], state)
    world.assignar.reopen_timesheet(timesheet_id, labor=[LaborEntry(world.crew.activities[0]["id"], 600)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    result = world.push.post(timesheet_id)
    assert result.outcome == "parked"
    assert result.reason is not None and f"Intacct timesheet {sheet['RECORDNO']} is {state}" in result.reason
    assert world.intacct_emulator.stats.functions["update"] == 0
    assert [line["QTY"] for line in world.timesheet_lines(sheet["RECORDNO"])] == [Decimal("4.00"), Decimal("4.00")]


@pytest.mark.parametrize("state", ["Draft", "Submitted"])
def test_a_draft_or_submitted_timesheet_is_updated(world: TimeWorld, state: str) -> None:
    timesheet_id = world.timesheet(equipment=())
    world.push.post(timesheet_id)
    [sheet] = world.intacct_timesheets()
    world.store.set_timesheet_state(sheet["RECORDNO"], state)
    world.assignar.reopen_timesheet(timesheet_id, labor=[LaborEntry(world.crew.activities[0]["id"], 600)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    assert world.push.post(timesheet_id).outcome == "posted"
    assert [line["QTY"] for line in world.timesheet_lines(sheet["RECORDNO"])] == [Decimal("10.00")]


def test_a_copy_under_another_transaction_definition_is_not_taken_for_a_second_one(tmp_path: Path) -> None:
    for world in world_of(tmp_path, MEMO_ONLY):
        world.first_day()
        timesheet_id = world.timesheet(equipment=(120,))
        # The commit lands after the push looked: it is looked for again on the next attempt.
        world.intacct_emulator.fail_next("late", function="create_potransaction")
        with pytest.raises(PostingIncompleteError):
            world.push.post(timesheet_id)
        world.intacct_emulator.settle_late_commits()
        # Meanwhile purchasing copied the usage into a purchase order, memo and all.
        usage = world.equipment_documents()[-1]
        [line] = world.store.lines("PODOCUMENT", usage["RECORDNO"])
        world.store.create(
            "PODOCUMENT",
            {
                "DOCPARID": "Purchase Order",
                "CUSTVENDID": usage["CUSTVENDID"],
                "WHENCREATED": usage["WHENCREATED"],
                "ENTRIES": [{"ITEMID": line["ITEMID"], "QUANTITY": line["QUANTITY"], "MEMO": line["MEMO"]}],
            },
        )
        world.clock.at += world.push_lease()
        assert world.push.post(timesheet_id).outcome == "posted"
        assert creates(world) == 2


def test_a_transaction_posted_under_an_earlier_transaction_definition_is_still_found(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(equipment=(120,))
    world.push.post(timesheet_id)
    # The tenant moves equipment to another transaction definition afterwards.
    config = world.config.model_copy(
        update={"timesheets": world.config.timesheets.model_copy(update={"equipment_transaction": "Purchase Order"})}
    )
    push = PushService(world.assignar_client, world.intacct, world.state, config, clock=world.clock)
    world.assignar.reopen_timesheet(timesheet_id, equipment=[EquipmentEntry(world.crew.assets[0]["id"], 240)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    assert push.post(timesheet_id).outcome == "parked"
    assert len(world.equipment_documents()) == 1


def test_what_a_posting_proved_is_renewed_daily_and_not_trusted_after_a_month(world: TimeWorld) -> None:
    world.first_day()
    counters = world.intacct.counters
    # The same day: nothing more to prove. Requests: the reference check and the two creates, together.
    before = counters.http_requests
    world.push.post(world.timesheet(worker=1))
    assert counters.http_requests == before + 2
    # A day later the next posting proves again: two definitions read again and one batched query.
    world.clock.at += timedelta(days=1, minutes=1)
    before, lookups, sessions = counters.http_requests, counters.by_function["lookup"], counters.sessions_opened
    world.push.post(world.timesheet(worker=2))
    renewed_session = counters.sessions_opened - sessions  # the day-old session timed out
    assert counters.http_requests == before + renewed_session + 2 + 3
    assert counters.by_function["lookup"] == lookups + 2
    # A month with no equipment posted: a lost answer is handed to a person, never re-sent.
    world.clock.at += timedelta(days=31)
    timesheet_id = world.timesheet(worker=3)
    world.intacct_emulator.fail_next("524", function="create_potransaction")
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)
    world.clock.at += world.push_lease()
    assert world.push.post(timesheet_id).outcome == "parked"
    assert len(world.equipment_documents()) == 4
