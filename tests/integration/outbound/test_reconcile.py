"""`reconcile time` as a service against both emulators over HTTP: time posted by the real push, then changed by
hand in Intacct as an accountant would (a timesheet deleted, an entry's hours changed, a transaction deleted, a
description edited) or un-approved in Assignar; reconcile reports exactly those, and `--repair` posts the missing
ones again through the push and its ledger, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar.catalog import FieldCatalog, definition_scope
from intacct_assignar.outbound.reconcile import IntacctPostedTime, PostNow, ReconcileReport, TimeReconciler
from intacct_assignar.outbound.sweep import SweepService
from intacct_assignar_dev.emulators.assignar import LaborEntry

from .conftest import WORK_DATE, TimeWorld, synced_world

FIRST, LAST = WORK_DATE - timedelta(days=3), WORK_DATE + timedelta(days=3)


class _NoQueue:
    def publish(self, messages: object) -> None:
        raise AssertionError("reconcile's repair posts in process here")


def reconciler(world: TimeWorld) -> TimeReconciler:
    catalog = FieldCatalog(
        world.intacct, world.state, scope=definition_scope(world.intacct.settings), clock=world.clock
    )
    posted = IntacctPostedTime(world.intacct, catalog, world.config.timesheets)
    return TimeReconciler(world.assignar_client, posted, world.state, world.config.timesheets, clock=world.clock)


def repair(world: TimeWorld, report: ReconcileReport) -> None:
    sweep = SweepService(world.assignar_client, world.state, _NoQueue())
    reconciler(world).repair(report, PostNow(world.push, sweep))


def posted(world: TimeWorld, **shape: Any) -> int:
    timesheet_id = world.timesheet(**shape)
    assert world.push.post(timesheet_id).outcome == "posted"
    return timesheet_id


def timesheet_key(world: TimeWorld, timesheet_id: int) -> int:
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None
    return int(entry.intacct_keys["timesheet"])


def ids(report: ReconcileReport, status: str) -> list[int]:
    return sorted(check.timesheet_id for check in report.checks if check.status == status)


def writes(world: TimeWorld) -> int:
    functions = world.intacct.counters.by_function
    return sum(functions.get(name, 0) for name in ("create", "update", "delete", "create_potransaction"))


def test_a_deleted_timesheet_and_changed_hours_are_found_and_only_the_deleted_one_is_posted_again(
    world: TimeWorld,
) -> None:
    # Given: five timesheets posted by the push (the first proves where transactions keep the marker)
    first = world.first_day()
    kept = posted(world, worker=0)
    deleted = posted(world, worker=1)
    changed = posted(world, worker=2)
    labor_only = posted(world, worker=3, equipment=())
    # ...then an accountant deletes one timesheet and changes an entry's hours on another, by hand
    world.store.delete("TIMESHEET", timesheet_key(world, deleted))
    [entry, _] = world.timesheet_lines(timesheet_key(world, changed))
    world.store.change_line("TIMESHEET", timesheet_key(world, changed), entry["RECORDNO"], {"QTY": "3.5"})

    # When
    report = reconciler(world).reconcile(FIRST, LAST)

    # Then: exactly those two, each said for what it is
    assert ids(report, "matched") == sorted([first, kept, labor_only])
    assert ids(report, "missing_in_intacct") == [deleted]
    assert ids(report, "differs") == [changed]
    assert ids(report, "extra_in_intacct") == []
    [missing] = report.of("missing_in_intacct")
    assert missing.missing == ("timesheet",)
    assert "deleted in Intacct since" in missing.reason
    [differs] = report.of("differs")
    [difference] = differs.differences
    assert (difference.part, difference.approved, difference.in_intacct) == ("labor", Decimal("8.00"), Decimal("7.50"))
    assert not report.clean
    person = world.crew.workers[1]
    [week] = [row for row in report.workers() if row.employee_id == person["employee_id"]]
    assert week.week == date(2026, 11, 15) and week.counts["missing_in_intacct"] == 1

    # When: repaired
    timesheets_before = len(world.intacct_timesheets())
    old_key = timesheet_key(world, deleted)
    repair(world, report)

    # Then: the deleted one is posted again, through the ledger (a new Intacct key), and nothing else is written
    assert [(result.timesheet_id, result.outcome) for result in report.repaired] == [(deleted, "posted")]
    assert len(world.intacct_timesheets()) == timesheets_before + 1
    entry_after = world.state.get_ledger(deleted)
    assert entry_after is not None and entry_after.state == "posted"
    assert timesheet_key(world, deleted) != old_key
    assert "reopened" not in entry_after.intacct_keys
    assert len(world.equipment_documents()) == 4  # its transaction was still there: not posted twice
    assert not report.clean  # the changed hours are a person's

    # When: reconciled again
    again = reconciler(world).reconcile(FIRST, LAST)

    # Then: clean for the deleted one; the changed one still differs
    assert deleted in ids(again, "matched")
    assert ids(again, "differs") == [changed]
    assert ids(again, "missing_in_intacct") == []

    # When: a second repair
    before = writes(world)
    repair(world, again)

    # Then: nothing to repair, nothing written
    assert again.repaired == []
    assert writes(world) == before


def test_a_deleted_equipment_transaction_is_posted_again_alone(world: TimeWorld) -> None:
    # Given
    world.first_day()
    timesheet_id = posted(world, worker=0)
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None
    [transaction] = [po for po in world.equipment_documents() if po["DOCID"] == entry.intacct_keys["equipment"]]
    world.store.delete("PODOCUMENT", transaction["RECORDNO"])
    timesheets = len(world.intacct_timesheets())

    # When
    report = reconciler(world).reconcile(FIRST, LAST)
    repair(world, report)

    # Then
    [missing] = report.of("missing_in_intacct")
    assert (missing.timesheet_id, missing.missing) == (timesheet_id, ("equipment",))
    assert [result.outcome for result in report.repaired] == ["posted"]
    assert len(world.intacct_timesheets()) == timesheets  # the labor timesheet was there: left alone
    assert len(world.equipment_documents()) == 2
    assert reconciler(world).reconcile(FIRST, LAST).clean


def test_changed_equipment_hours_differ(world: TimeWorld) -> None:
    world.first_day()
    timesheet_id = posted(world, worker=0, equipment=(180,))
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None
    [transaction] = [po for po in world.equipment_documents() if po["DOCID"] == entry.intacct_keys["equipment"]]
    [line] = world.store.lines("PODOCUMENT", transaction["RECORDNO"])
    world.store.change_line("PODOCUMENT", transaction["RECORDNO"], line["RECORDNO"], {"QUANTITY": "2.25"})

    report = reconciler(world).reconcile(FIRST, LAST)

    [differs] = report.of("differs")
    assert differs.timesheet_id == timesheet_id
    assert [(d.part, d.approved, d.in_intacct) for d in differs.differences] == [
        ("equipment", Decimal("3.00"), Decimal("2.25"))
    ]


def test_a_description_edited_by_hand_is_found_by_its_key_and_never_posted_twice(world: TimeWorld) -> None:
    # Given: the marker is edited out of a timesheet's description (its hours are still right)
    world.first_day()
    timesheet_id = posted(world, worker=0)
    world.store.update("TIMESHEET", timesheet_key(world, timesheet_id), {"DESCRIPTION": "Ana, week 47"})

    # When
    report = reconciler(world).reconcile(FIRST, LAST)
    before = writes(world)
    repair(world, report)

    # Then: there, with the right hours; a repair writes nothing (negative control: trusting the marker alone
    # would call it missing and post its time twice)
    assert timesheet_id in ids(report, "matched")
    assert report.of("missing_in_intacct") == [] and report.repaired == []
    assert writes(world) == before


def test_time_no_longer_approved_in_assignar_is_extra(world: TimeWorld) -> None:
    # Given: posted, then reopened in Assignar (no longer approved)
    world.first_day()
    timesheet_id = posted(world, worker=0)
    world.assignar.reopen_timesheet(timesheet_id, status="SUBMITTED")

    # When
    report = reconciler(world).reconcile(FIRST, LAST)

    # Then
    [extra] = report.of("extra_in_intacct")
    assert extra.timesheet_id == timesheet_id
    assert "SUBMITTED (not approved)" in extra.reason
    assert extra.posted is not None and set(extra.posted.keys) == {"timesheet", "equipment"}
    person = world.crew.workers[0]
    assert extra.employee_id == person["employee_id"]
    assert extra.worker == f"{person['first_name']} {person['last_name']}"  # named by Assignar, not by its ID


def test_a_range_reads_only_its_days(world: TimeWorld) -> None:
    # Given: one timesheet inside the range, one the week after
    world.first_day()
    inside = posted(world, worker=0)
    outside = posted(world, worker=1, work_date=LAST + timedelta(days=1))

    # When
    report = reconciler(world).reconcile(FIRST, LAST)

    # Then
    assert inside in ids(report, "matched")
    assert outside not in {check.timesheet_id for check in report.checks}


def test_approved_but_never_posted_is_missing_and_repair_posts_it(world: TimeWorld) -> None:
    world.first_day()
    waiting = world.timesheet(worker=0)  # approved; no webhook, no sweep yet

    report = reconciler(world).reconcile(FIRST, LAST)
    [missing] = report.of("missing_in_intacct")
    assert missing.timesheet_id == waiting and missing.missing == ("equipment", "timesheet")
    assert "never posted by this integration" in missing.reason
    repair(world, report)

    assert [result.outcome for result in report.repaired] == ["posted"]
    assert world.processed(waiting)
    assert reconciler(world).reconcile(FIRST, LAST).clean


@pytest.fixture
def timesheet_mode_world(tmp_path: Path) -> Iterator[TimeWorld]:
    yield from synced_world(tmp_path, timesheets={"equipment_mode": "timesheet"})


def test_equipment_lines_on_the_timesheet_count_as_equipment(timesheet_mode_world: TimeWorld) -> None:
    world = timesheet_mode_world
    timesheet_id = posted(world, worker=0, labor=(240, 240), equipment=(90,))
    sheet = timesheet_key(world, timesheet_id)
    [equipment_line] = [line for line in world.timesheet_lines(sheet) if str(line["NOTES"]).startswith("Equipment")]
    world.store.change_line("TIMESHEET", sheet, equipment_line["RECORDNO"], {"QTY": "2"})

    report = reconciler(world).reconcile(FIRST, LAST)

    [differs] = report.of("differs")
    assert [(d.part, d.approved, d.in_intacct) for d in differs.differences] == [
        ("equipment", Decimal("1.50"), Decimal("2"))
    ]
    assert world.equipment_documents() == []


def test_hours_reopened_and_changed_in_assignar_after_posting_differ_until_posted_again(world: TimeWorld) -> None:
    world.first_day()
    timesheet_id = posted(world, worker=0)
    world.assignar.reopen_timesheet(timesheet_id, labor=[LaborEntry(world.crew.activities[0]["id"], 300)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)

    report = reconciler(world).reconcile(FIRST, LAST)
    [differs] = report.of("differs")
    assert [(d.part, d.approved, d.in_intacct) for d in differs.differences] == [
        ("labor", Decimal("5.00"), Decimal("8.00"))
    ]

    assert world.push.post(timesheet_id).outcome == "posted"  # the webhook of the re-approval
    assert reconciler(world).reconcile(FIRST, LAST).clean
