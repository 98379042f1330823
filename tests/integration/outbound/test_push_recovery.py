"""Lost answers and re-approvals: Intacct is looked up before anything is re-sent, and changed time updates
the Intacct timesheet only while Intacct still allows it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from intacct_assignar.outbound.results import PostingIncompleteError
from intacct_assignar_dev.emulators.assignar import EquipmentEntry, LaborEntry

from .conftest import TimeWorld, synced_world


def creates(world: TimeWorld) -> int:
    counted = world.intacct.counters.by_function
    return counted["create"] + counted["create_potransaction"]


@pytest.mark.parametrize("fault", ["524", "timeout"])
def test_a_lost_answer_on_create_is_looked_up_and_not_sent_again(world: TimeWorld, fault: str) -> None:
    timesheet_id = world.timesheet()
    world.intacct_emulator.fail_next(fault, function="create")
    result = world.push.post(timesheet_id)
    assert result.outcome == "posted"
    assert len(world.intacct_timesheets()) == 1
    assert len(world.equipment_documents()) == 1
    # Committed, answer lost: found by the lookup, so only the equipment transaction was sent after it.
    assert creates(world) == 1
    assert world.processed(timesheet_id)


def test_a_write_not_found_after_a_lost_answer_is_re_sent_only_after_the_in_doubt_window(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    # A 502 from the gateway: the client cannot tell whether Intacct ran it, and here it did not.
    world.intacct_emulator.fail_next("502", function="create")
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)
    assert world.intacct_timesheets() == []
    sent = creates(world)  # the equipment transaction, in a request of its own, went through
    world.clock.at += world.push_lease()
    with pytest.raises(PostingIncompleteError):  # still inside the window: looked for, not re-sent
        world.push.post(timesheet_id)
    assert creates(world) == sent
    world.clock.at += world.push.doubt_window
    assert world.push.post(timesheet_id).outcome == "posted"
    assert len(world.intacct_timesheets()) == 1
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None and entry.intacct_keys["timesheet_gen"] == "2", "a new write, so a new control ID"


def test_a_lost_answer_on_the_equipment_transaction_is_looked_up_too(world: TimeWorld) -> None:
    world.first_day()
    timesheet_id = world.timesheet()
    world.intacct_emulator.fail_next("524", function="create_potransaction")
    assert world.push.post(timesheet_id).outcome == "posted"
    assert len(world.equipment_documents()) == 2


def test_a_write_that_never_arrived_is_sent_again_under_the_same_control_id(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    # The gateway answered 429 without running anything: the client retries by itself.
    world.intacct_emulator.fail_next("429", function="create")
    assert world.push.post(timesheet_id).outcome == "posted"
    assert len(world.intacct_timesheets()) == 1


def test_when_intacct_keeps_losing_answers_the_timesheet_waits_and_is_never_doubled(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    # Every create commits but answers 524: the first lands, the re-send is refused as a repeated control ID.
    world.intacct_emulator.fail_next("524", function="create", times=5)
    result = world.push.post(timesheet_id)
    assert result.outcome == "posted"
    assert len(world.intacct_timesheets()) == 1


def test_a_repeated_control_id_whose_document_cannot_be_found_waits_for_a_later_look(
    world: TimeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    timesheet_id = world.timesheet()
    world.intacct_emulator.fail_next("524", function="create")
    # Intacct still committing behind its CDN: the lookups see nothing yet.
    monkeypatch.setattr(world.push._labor, "find", lambda _timesheet_id: None)
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)
    assert len(world.intacct_timesheets()) == 1
    monkeypatch.undo()
    world.clock.at += world.push_lease()
    assert world.push.post(timesheet_id).outcome == "posted"
    assert len(world.intacct_timesheets()) == 1


def test_re_approved_with_changed_hours_updates_the_intacct_timesheet(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(labor=(240, 240), equipment=())
    world.push.post(timesheet_id)
    [sheet] = world.intacct_timesheets()
    activity = world.crew.activities[0]["id"]
    world.assignar.reopen_timesheet(timesheet_id, labor=[LaborEntry(activity, 300), LaborEntry(activity, 90)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    result = world.push.post(timesheet_id)
    assert result.outcome == "posted"
    [updated] = world.intacct_timesheets()
    assert updated["RECORDNO"] == sheet["RECORDNO"]
    assert [line["QTY"] for line in world.timesheet_lines(sheet["RECORDNO"])] == [Decimal("5.00"), Decimal("1.50")]
    assert updated["DESCRIPTION"] != sheet["DESCRIPTION"], "the description carries the new revision"
    assert world.processed(timesheet_id)


def test_re_approved_after_intacct_approved_it_is_parked_with_the_reason(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(equipment=())
    world.push.post(timesheet_id)
    [sheet] = world.intacct_timesheets()
    world.store.approve_timesheet(sheet["RECORDNO"])
    world.assignar.reopen_timesheet(timesheet_id, labor=[LaborEntry(world.crew.activities[0]["id"], 600)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    result = world.push.post(timesheet_id)
    assert result.outcome == "parked"
    assert result.reason is not None
    assert f"Intacct timesheet {sheet['RECORDNO']}" in result.reason and "Approved" in result.reason
    assert [line["QTY"] for line in world.timesheet_lines(sheet["RECORDNO"])] == [Decimal("4.00"), Decimal("4.00")]
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None and entry.state == "parked" and entry.intacct_keys["timesheet"] == str(sheet["RECORDNO"])


def test_re_approved_with_changed_equipment_hours_is_parked_and_the_transaction_left_alone(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(equipment=(120,))
    world.push.post(timesheet_id)
    [po] = world.equipment_documents()
    world.assignar.reopen_timesheet(timesheet_id, equipment=[EquipmentEntry(world.crew.assets[0]["id"], 240)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    result = world.push.post(timesheet_id)
    assert result.outcome == "parked"
    assert result.reason is not None and po["DOCID"] in result.reason
    assert len(world.equipment_documents()) == 1


def test_re_approved_unchanged_is_recognised_as_already_posted(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    world.push.post(timesheet_id)
    world.assignar.reopen_timesheet(timesheet_id)
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    before = creates(world)
    assert world.push.post(timesheet_id).outcome == "already_posted"
    assert creates(world) == before
    assert world.processed(timesheet_id)


@pytest.fixture
def lines_mode(tmp_path: Path) -> Iterator[TimeWorld]:
    yield from synced_world(tmp_path, timesheets={"equipment_mode": "timesheet"})


@pytest.fixture
def off_mode(tmp_path: Path) -> Iterator[TimeWorld]:
    yield from synced_world(tmp_path, timesheets={"equipment_mode": "off", "week_start": "monday"})


def test_equipment_as_lines_on_the_labor_timesheet(lines_mode: TimeWorld) -> None:
    world = lines_mode
    timesheet_id = world.timesheet(labor=(480,), equipment=(120,))
    assert world.push.post(timesheet_id).outcome == "posted"
    assert world.equipment_documents() == []
    [sheet] = world.intacct_timesheets()
    lines = world.timesheet_lines(sheet["RECORDNO"])
    assert [(line["QTY"], line["COSTTYPEID"]) for line in lines] == [(Decimal("8.00"), "LAB"), (Decimal("2.00"), "EQP")]
    assert lines[1]["ITEMID"] == world.crew.assets[0]["external_id"]


def test_equipment_off_posts_labor_only(off_mode: TimeWorld) -> None:
    world = off_mode
    world.store.week_start = "monday"
    timesheet_id = world.timesheet(labor=(480,), equipment=(120,))
    assert world.push.post(timesheet_id).outcome == "posted"
    assert world.equipment_documents() == []
    [sheet] = world.intacct_timesheets()
    assert sheet["BEGINDATE"].isoformat() == "2026-11-16"
    assert len(world.timesheet_lines(sheet["RECORDNO"])) == 1
