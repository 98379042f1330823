"""Reconcile's rules, pure: what counts as matched, missing, extra or different, the tolerance the push's rounding
allows, weeks, workers, and what a repair leaves unresolved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from intacct_assignar.assignar.models import Timesheet
from intacct_assignar.config import parse_config
from intacct_assignar.outbound.reconcile import (
    ApprovedTime,
    PostedRead,
    PostedTime,
    RangeError,
    ReconcileReport,
    RepairResult,
    check_range,
    compare,
)
from intacct_assignar.outbound.reconcile.approved import approved_time
from intacct_assignar.outbound.reconcile.model import EquipmentMode, RepairOutcome

WEEK = date(2026, 11, 15)  # a Sunday
FIRST, LAST = date(2026, 11, 15), date(2026, 11, 21)


def approved(
    timesheet_id: int = 1,
    *,
    labor: str = "8.00",
    equipment: str = "3.00",
    documents: frozenset[str] = frozenset({"timesheet", "equipment"}),
    employee: str = "E-1",
    day: date = date(2026, 11, 18),
) -> ApprovedTime:
    return ApprovedTime(
        timesheet_id, employee, f"Worker {employee}", day, WEEK, Decimal(labor), Decimal(equipment), documents
    )


def posted(
    timesheet_id: int = 1,
    *,
    labor: str = "8.00",
    equipment: str = "3.00",
    keys: dict[str, list[str]] | None = None,
    day: date = date(2026, 11, 18),
) -> PostedTime:
    return PostedTime(
        timesheet_id,
        keys=keys if keys is not None else {"timesheet": ["10"], "equipment": ["Equipment Usage-1"]},
        labor=Decimal(labor),
        equipment=Decimal(equipment),
        employee_id="E-1",
        week=WEEK,
        dates={day},
    )


def run(
    approved_times: list[ApprovedTime],
    found: list[PostedTime],
    *,
    mode: EquipmentMode = "purchasing",
    equipment_read: bool = True,
    why_extra: dict[int, str] | None = None,
) -> ReconcileReport:
    read = PostedRead({time.timesheet_id: time for time in found}, equipment_read=equipment_read)
    checks = compare(
        {time.timesheet_id: time for time in approved_times},
        read,
        first=FIRST,
        last=LAST,
        mode=mode,
        why_extra=why_extra,
    )
    return ReconcileReport(FIRST, LAST, checks)


def statuses(report: ReconcileReport) -> dict[int, str]:
    return {check.timesheet_id: check.status for check in report.checks}


def test_the_same_hours_in_both_match() -> None:
    report = run([approved()], [posted()])
    assert statuses(report) == {1: "matched"}
    assert report.clean


@pytest.mark.parametrize(
    ("in_intacct", "status"),
    [
        ("8.00", "matched"),
        ("8.004", "matched"),  # the same hundredth, as the push rounds: typed by hand with more decimals
        ("7.996", "matched"),
        ("8.005", "differs"),  # the next hundredth once rounded
        ("8.01", "differs"),
        ("7.99", "differs"),
    ],
)
def test_hours_are_compared_to_the_hundredth_the_push_writes(in_intacct: str, status: str) -> None:
    assert statuses(run([approved()], [posted(labor=in_intacct)])) == {1: status}


def test_a_deleted_timesheet_is_missing_and_its_labor_is_not_said_twice() -> None:
    report = run([approved()], [posted(labor="0", keys={"equipment": ["Equipment Usage-1"]})])
    [check] = report.checks
    assert check.status == "missing_in_intacct"
    assert check.missing == ("timesheet",)
    assert check.differences == ()  # the labor is missing, not "0.00 h in Intacct"
    assert "Intacct holds no timesheet for it" in check.reason


def test_nothing_in_intacct_is_missing_everything() -> None:
    [check] = run([approved()], []).checks
    assert (check.status, check.missing, check.posted) == ("missing_in_intacct", ("equipment", "timesheet"), None)


def test_changed_equipment_hours_differ_and_say_which_part() -> None:
    [check] = run([approved()], [posted(equipment="2.50")]).checks
    assert check.status == "differs"
    [difference] = check.differences
    assert (difference.part, difference.approved, difference.in_intacct) == (
        "equipment",
        Decimal("3.00"),
        Decimal("2.50"),
    )
    assert "equipment 3.00 h approved, 2.50 h in Intacct" in check.reason
    assert "correct the hours in Intacct" in check.reason


def test_a_transaction_assignar_no_longer_has_equipment_for_differs() -> None:
    time = approved(equipment="0", documents=frozenset({"timesheet"}))
    [check] = run([time], [posted()]).checks
    assert check.status == "differs"
    assert [(d.part, d.in_intacct) for d in check.differences] == [("equipment", Decimal("3.00"))]


def test_time_doubled_in_intacct_differs_and_names_both_documents() -> None:
    doubled = posted(labor="16.00", keys={"timesheet": ["10", "11"], "equipment": ["Equipment Usage-1"]})
    [check] = run([approved()], [doubled]).checks
    assert check.status == "differs"
    assert "Intacct timesheets 10, 11 all carry it: delete all but one" in check.reason


def test_time_in_intacct_not_approved_in_the_range_is_extra_only_when_dated_in_it() -> None:
    inside = posted(7, day=date(2026, 11, 17))
    outside = posted(8, day=date(2026, 11, 14))  # its week began before the range: read, but not the range's
    report = run([], [inside, outside], why_extra={7: "Assignar shows it SUBMITTED (not approved)"})
    assert statuses(report) == {7: "extra_in_intacct"}
    [check] = report.checks
    assert check.reason.startswith("8.00 h labor and 3.00 h equipment in Intacct timesheet 10 and Intacct equipment")
    assert "Assignar shows it SUBMITTED (not approved)" in check.reason
    assert check.approved is None and check.employee_id == "E-1"


def test_an_extra_timesheet_s_worker_is_named_as_assignar_names_them() -> None:
    read = PostedRead({7: posted(7)})
    named = compare({}, read, first=FIRST, last=LAST, mode="purchasing", workers={"E-1": "Ana Ruiz"})
    unnamed = compare({}, read, first=FIRST, last=LAST, mode="purchasing")
    assert [check.worker for check in named + unnamed] == ["Ana Ruiz", "E-1"]


def test_equipment_that_could_not_be_read_is_neither_missing_nor_different() -> None:
    labor_only = posted(equipment="0", keys={"timesheet": ["10"]})
    report = run([approved()], [labor_only], equipment_read=False)
    assert statuses(report) == {1: "matched"}


def test_equipment_mode_off_compares_labor_only() -> None:
    time = approved(equipment="0", documents=frozenset({"timesheet"}))
    report = run([time], [posted(equipment="0", keys={"timesheet": ["10"]})], mode="off")
    assert statuses(report) == {1: "matched"}


def test_equipment_lines_on_the_timesheet_are_its_equipment_in_timesheet_mode() -> None:
    time = approved(documents=frozenset({"timesheet"}))
    found = posted(equipment="3.00", keys={"timesheet": ["10"]})
    assert statuses(run([time], [found], mode="timesheet")) == {1: "matched"}
    changed = posted(equipment="2.00", keys={"timesheet": ["10"]})
    [check] = run([time], [changed], mode="timesheet").checks
    assert [(d.part, d.in_intacct) for d in check.differences] == [("equipment", Decimal("2.00"))]


def test_a_value_intacct_sent_unreadable_is_not_a_match() -> None:
    found = posted()
    found.problems.append("Intacct sent timesheet 10's entry QTY as 'x', not a number of hours")
    [check] = run([approved()], [found]).checks
    assert check.status == "differs" and "not a number of hours" in check.reason


def test_workers_and_weeks_add_up_their_timesheets() -> None:
    next_week = date(2026, 11, 22)
    times = [
        approved(1),
        approved(2, labor="4.00", equipment="0", documents=frozenset({"timesheet"})),
        ApprovedTime(3, "E-1", "Worker E-1", next_week, next_week, Decimal(2), Decimal(0), frozenset({"timesheet"})),
        approved(4, employee="E-2"),
    ]
    found = [posted(1), posted(2, labor="3.50", equipment="0", keys={"timesheet": ["12"]})]
    report = run(times, found)
    rows = {(row.employee_id, row.week): row for row in report.workers()}
    assert list(rows) == [("E-1", WEEK), ("E-2", WEEK), ("E-1", next_week)]
    first = rows[("E-1", WEEK)]
    assert (first.approved_labor, first.intacct_labor) == (Decimal("12.00"), Decimal("11.50"))
    assert first.counts == {"matched": 1, "missing_in_intacct": 0, "extra_in_intacct": 0, "differs": 1}
    assert not first.matched
    assert rows[("E-1", next_week)].counts["missing_in_intacct"] == 1


@pytest.mark.parametrize(
    ("outcome", "resolved"), [("posted", True), ("queued", False), ("already_posted", False), ("parked", False)]
)
def test_only_a_missing_timesheet_posted_again_is_resolved(outcome: RepairOutcome, resolved: bool) -> None:
    report = run([approved()], [])
    report.repaired = [RepairResult(1, outcome)]
    assert report.clean is resolved


def test_a_repair_never_resolves_hours_that_differ() -> None:
    report = run([approved()], [posted(labor="7.00")])
    report.repaired = [RepairResult(1, "posted")]
    assert not report.clean


def test_a_reconcile_is_one_run_history_entry() -> None:
    started = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    clean = run([approved(1)], [posted(1)]).run_entry(started, started + timedelta(seconds=9), assignar_calls=13)
    assert (clean.workflow, clean.kind, clean.outcome, clean.read, clean.unchanged, clean.parked) == (
        "time",
        "reconcile",
        "ok",
        1,
        1,
        0,
    )
    off = run([approved(1), approved(2)], [posted(1, labor="7.00")])
    off.repaired = [RepairResult(2, "posted")]
    entry = off.run_entry(started, started, intacct_transactions=15)
    assert (entry.outcome, entry.written, entry.parked, entry.detail) == ("parked", 1, 1, "1 timesheet to look at")
    assert entry.extra == {"from": "2026-11-15", "to": "2026-11-21"}


def test_the_json_lists_each_kind_with_its_timesheet_id() -> None:
    report = run([approved(1), approved(2)], [posted(1, labor="7.00")])
    document: dict[str, Any] = report.as_dict()
    assert document["matched"] == 0
    assert [item["timesheet_id"] for item in document["differs"]] == [1]
    assert [item["timesheet_id"] for item in document["missing_in_intacct"]] == [2]
    assert document["extra_in_intacct"] == []
    assert document["differs"][0]["differences"] == [{"part": "labor", "approved_hours": 8.0, "intacct_hours": 7.0}]
    assert document["workers"][0]["employee_id"] == "E-1" and document["workers"][0]["week"] == "2026-11-15"


# --- what Assignar approved, as the push posts it ---------------------------------------------------------


def timesheet(**changes: Any) -> Timesheet:
    fields: dict[str, Any] = {
        "id": 5,
        "status": "APPROVED",
        "user_id": 9,
        "start_datetime": "2026-11-18T07:00:00.000Z",
        "total_time": "08:00",
        "user": {"user_id": 9, "full_name": "Ana Ruiz", "employee_id": " E-1005 "},
        "activity_entries": [{"duration": 20}, {"duration": 20}, {"duration": 20}],
        "asset_entries": [{"duration": 90, "asset": {"id": 1, "external_id": "EQ-1"}}, {"duration": 0}],
    }
    return Timesheet.model_validate({**fields, **changes})


def test_approved_hours_are_the_push_s_rounded_lines() -> None:
    # Three 20-minute entries: the push writes 0.33 + 0.33 + 0.34, so 1.00 hour.
    time = approved_time(timesheet(), parse_config({}).timesheets)
    assert (time.labor, time.equipment) == (Decimal("1.00"), Decimal("1.50"))
    assert time.documents == frozenset({"timesheet", "equipment"})
    assert (time.employee_id, time.worker) == ("E-1005", "Ana Ruiz")


def test_the_week_is_the_tenants() -> None:
    sunday = approved_time(timesheet(), parse_config({}).timesheets)
    monday = approved_time(timesheet(), parse_config({"timesheets": {"week_start": "monday"}}).timesheets)
    assert (sunday.week, monday.week) == (date(2026, 11, 15), date(2026, 11, 16))


@pytest.mark.parametrize(
    ("mode", "equipment", "documents"),
    [
        ("purchasing", Decimal("1.50"), {"timesheet", "equipment"}),
        ("timesheet", Decimal("1.50"), {"timesheet"}),
        ("off", Decimal(0), {"timesheet"}),
    ],
)
def test_where_equipment_goes_follows_the_equipment_mode(mode: str, equipment: Decimal, documents: set[str]) -> None:
    time = approved_time(timesheet(), parse_config({"timesheets": {"equipment_mode": mode}}).timesheets)
    assert (time.equipment, time.documents) == (equipment, frozenset(documents))


def test_equipment_only_in_timesheet_mode_still_makes_a_timesheet() -> None:
    settings = parse_config({"timesheets": {"equipment_mode": "timesheet"}}).timesheets
    time = approved_time(timesheet(activity_entries=[], total_time="00:00"), settings)
    assert (time.labor, time.documents) == (Decimal(0), frozenset({"timesheet"}))


def test_the_shift_total_counts_when_there_are_no_activity_entries() -> None:
    time = approved_time(timesheet(activity_entries=[], total_time="07:45"), parse_config({}).timesheets)
    assert time.labor == Decimal("7.75")


def test_a_worker_without_an_employee_id_is_named_by_assignar() -> None:
    time = approved_time(
        timesheet(user={"user_id": 9, "username": "ana", "employee_id": "  "}), parse_config({}).timesheets
    )
    assert (time.employee_id, time.worker) == (None, "ana")


# --- the range ----------------------------------------------------------------------------------------------


def test_a_range_is_a_day_to_92_days() -> None:
    check_range(FIRST, FIRST)
    check_range(date(2026, 1, 1), date(2026, 4, 2))  # 92 days
    with pytest.raises(RangeError, match="is after"):
        check_range(LAST, FIRST)
    with pytest.raises(RangeError, match="93 days"):
        check_range(date(2026, 1, 1), date(2026, 4, 3))
