"""What the push looks for after a lost answer, and what it reads before changing a posted document, when the
gateway behaves as Intacct's reference allows rather than as our emulator's defaults guess.

Each test here failed before the push stopped relying on a guess: the lost-answer lookup searched PONUMBER,
which only our emulator fills from `<referenceno>`, and an update over an approved timesheet was stopped only
by Intacct refusing it, which Intacct's reference does not promise.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from intacct_assignar.emulators.assignar import LaborEntry
from intacct_assignar.emulators.intacct import store as emulator_store
from intacct_assignar.emulators.intacct.profiles import CompanyProfile
from intacct_assignar.outbound.push import PostingIncompleteError, PushResult

from .conftest import TimeWorld, synced_world

# A gateway that keeps <referenceno> under a name of its own: nothing a query of PONUMBER finds.
REFERENCE_ELSEWHERE = CompanyProfile("reference-elsewhere", po_reference_field=None)
# ...and offers none of the texts the marker is written to: the push cannot look at all.
NOTHING_TO_SEARCH = CompanyProfile(
    "nothing-to-search",
    po_reference_field=None,
    hidden={"PODOCUMENT": frozenset({"MESSAGE", "PONUMBER"}), "PODOCUMENTENTRY": frozenset({"MEMO"})},
)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[TimeWorld]:
    yield from synced_world(tmp_path, profile=REFERENCE_ELSEWHERE)


@pytest.fixture
def blind(tmp_path: Path) -> Iterator[TimeWorld]:
    yield from synced_world(tmp_path, profile=NOTHING_TO_SEARCH)


def post_until_settled(world: TimeWorld, timesheet_id: int, *, rounds: int = 4) -> PushResult:
    """Post as the queue would: each "try again later" is retried once the lease and the in-doubt window pass."""
    for _ in range(rounds):
        try:
            return world.push.post(timesheet_id)
        except PostingIncompleteError:
            world.clock.at += world.push_lease() + world.push.doubt_window
    raise AssertionError(f"timesheet {timesheet_id} never settled")


@pytest.mark.parametrize("fault", ["524", "timeout"])
def test_a_lost_equipment_answer_is_found_by_its_message_wherever_the_reference_number_went(
    elsewhere: TimeWorld, fault: str
) -> None:
    timesheet_id = elsewhere.timesheet()
    elsewhere.intacct_emulator.fail_next(fault, function="create_potransaction")
    result = post_until_settled(elsewhere, timesheet_id)
    assert result.outcome == "posted"
    [po] = elsewhere.equipment_documents()  # one: found by MESSAGE, never sent twice
    assert "PONUMBER" not in po or not po["PONUMBER"]
    assert elsewhere.intacct_emulator.stats.functions["create_potransaction"] == 1
    assert elsewhere.processed(timesheet_id)


def test_the_lines_memo_finds_it_when_the_header_offers_no_text(tmp_path: Path) -> None:
    memo_only = CompanyProfile(
        "memo-only", po_reference_field=None, hidden={"PODOCUMENT": frozenset({"MESSAGE", "PONUMBER"})}
    )
    for world in synced_world(tmp_path, profile=memo_only):
        timesheet_id = world.timesheet(equipment=(120, 60))  # two lines: still one document
        world.intacct_emulator.fail_next("524", function="create_potransaction")
        assert post_until_settled(world, timesheet_id).outcome == "posted"
        assert len(world.equipment_documents()) == 1
        assert world.intacct_emulator.stats.functions["create_potransaction"] == 1


def test_with_no_field_to_search_a_lost_equipment_answer_is_parked_for_a_person_never_re_sent(blind: TimeWorld) -> None:
    timesheet_id = blind.timesheet()
    blind.intacct_emulator.fail_next("524", function="create_potransaction")
    result = post_until_settled(blind, timesheet_id)
    assert result.outcome == "parked"
    assert result.reason is not None
    assert "cannot be looked for" in result.reason and f"Assignar timesheet {timesheet_id} (rev " in result.reason
    # However long it waits, it is never sent again by itself: one transaction, as Intacct committed it.
    blind.clock.at += blind.push.doubt_window * 4
    assert post_until_settled(blind, timesheet_id).outcome == "parked"
    assert len(blind.equipment_documents()) == 1
    assert blind.intacct_emulator.stats.functions["create_potransaction"] == 1
    assert not blind.processed(timesheet_id)


def test_when_a_person_finds_nothing_and_replays_it_is_sent_once(blind: TimeWorld) -> None:
    timesheet_id = blind.timesheet()
    # A 502: the gateway ran nothing, but the push cannot tell; it parks and asks.
    blind.intacct_emulator.fail_next("502", function="create_potransaction")
    assert post_until_settled(blind, timesheet_id).outcome == "parked"
    assert blind.equipment_documents() == []
    blind.clock.at += blind.push.doubt_window
    assert blind.push.post(timesheet_id, retry_parked=True).outcome == "posted"
    assert len(blind.equipment_documents()) == 1
    assert blind.push.post(timesheet_id, retry_parked=True).outcome == "already_posted"
    assert len(blind.equipment_documents()) == 1


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
