"""What Assignar approved in a date range, as the push would post it: labor and equipment hours per timesheet,
the worker's Intacct employee ID and the Intacct week.

Hours come from the push's own pieces (`documents.labor_minutes`, `equipment_minutes`, `hours`), so a timesheet
posted as approved always matches; what cannot be read is that timesheet's problem, never the run's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ...assignar.models import APPROVED_STATUSES, Timesheet
from ...assignar.requestor import FilterValue
from ...config import Timesheets
from ..documents import UnpostableError, equipment_minutes, hours, labor_minutes, week_start, work_date
from .model import ZERO, ApprovedTime, TimesheetProblem
from .ports import AssignarForReconcile

# [guess] A timesheet Assignar gives no start_datetime (the spec lets it be null) is dated by its entries, else
# by its submission (`documents.work_date`), so no filter on start_datetime finds it. Those are read by their
# submitted_date, from the range's first day to this long after its last: a shift is submitted on or after the
# day worked, and a supervisor rarely takes longer. One more call per run (usually an empty page). What would
# confirm it: Assignar saying whether start_datetime is ever empty on a submitted timesheet.
LATE_SUBMISSION = timedelta(days=14)


@dataclass
class ApprovedRead:
    approved: dict[int, ApprovedTime] = field(default_factory=dict)
    problems: list[TimesheetProblem] = field(default_factory=list)


def approved_between(assignar: AssignarForReconcile, settings: Timesheets, first: date, last: date) -> ApprovedRead:
    """Every approved timesheet worked in [first, last], in two filtered list reads (pages of the client's size)."""
    statuses: FilterValue = list(APPROVED_STATUSES)
    # Assignar writes a shift's local wall-clock time with a "Z" (documents.work_date): compared as written, a
    # date bound means that day's local midnight.
    queries: list[dict[str, FilterValue]] = [
        {
            "status__in": statuses,
            "start_datetime__gte": first.isoformat(),
            "start_datetime__lt": (last + timedelta(days=1)).isoformat(),
        },
        {
            "status__in": statuses,
            "start_datetime__is": None,
            "submitted_date__between": f"{first.isoformat()},{(last + LATE_SUBMISSION).isoformat()}",
        },
    ]
    read = ApprovedRead()
    for filters in queries:
        for page in assignar.timesheets.pages(filters):
            for timesheet in page:
                _take(timesheet, settings, first, last, read)
    return read


def _take(timesheet: Timesheet, settings: Timesheets, first: date, last: date, read: ApprovedRead) -> None:
    # Assignar's own filters chose these; each is checked again here, as any outside input is.
    if not timesheet.is_approved or timesheet.id in read.approved:
        return
    try:
        time = approved_time(timesheet, settings)
    except (UnpostableError, ValueError) as error:
        reason = (
            error.reason if isinstance(error, UnpostableError) else f"it holds a value that cannot be read: {error}"
        )
        read.problems.append(TimesheetProblem(timesheet.id, f"its hours cannot be read: {reason}"))
        return
    if first <= time.work_date <= last:
        read.approved[timesheet.id] = time


def approved_time(timesheet: Timesheet, settings: Timesheets) -> ApprovedTime:
    """The hours the push posts for this timesheet, and where; `UnpostableError` when they cannot be read."""
    day = work_date(timesheet)
    labor = _total(labor_minutes(timesheet))
    mode = settings.equipment_mode
    equipment = ZERO if mode == "off" else _total(equipment_minutes(timesheet))
    documents = set()
    if labor or (mode == "timesheet" and equipment):
        documents.add("timesheet")
    if mode == "purchasing" and equipment:
        documents.add("equipment")
    worker = timesheet.user
    employee_id = worker.employee_id.strip() if worker and worker.employee_id and worker.employee_id.strip() else None
    name = (worker.full_name or worker.username) if worker else None
    return ApprovedTime(
        timesheet_id=timesheet.id,
        employee_id=employee_id,
        worker=name or employee_id or f"Assignar user {timesheet.user_id}",
        work_date=day,
        week=week_start(day, settings.week_start),
        labor=labor,
        equipment=equipment,
        documents=frozenset(documents),
    )


def _total(minutes: list[int]) -> Decimal:
    # The sum of the lines as the push rounds them, which is also the rounded total (`documents.hours`).
    return sum(hours(minutes), ZERO)


@dataclass
class AssignarSays:
    """What Assignar says now of timesheets Intacct holds time from that are not approved in the range."""

    why: dict[int, str] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)  # employee ID -> the worker's name


def why_not_approved(
    assignar: AssignarForReconcile, timesheet_ids: Iterable[int], first: date, last: date
) -> AssignarSays:
    """Why each is not among the range's approved timesheets (one list call per batch of ids)."""
    says = AssignarSays()
    ids = sorted(set(timesheet_ids))
    if not ids:
        return says
    found = assignar.timesheets.get_many(ids)
    said = says.why
    for timesheet_id in ids:
        timesheet = found.get(timesheet_id)
        worker = timesheet.user if timesheet is not None else None
        if worker is not None and worker.employee_id and (worker.full_name or worker.username):
            says.workers[worker.employee_id.strip()] = str(worker.full_name or worker.username)
        if timesheet is None:
            said[timesheet_id] = "Assignar no longer has this timesheet (deleted there)"
        elif not timesheet.is_approved:
            said[timesheet_id] = f"Assignar shows it {timesheet.status or 'without a status'} (not approved)"
        else:
            try:
                day: date | None = work_date(timesheet)
            except (UnpostableError, ValueError):
                day = None
            said[timesheet_id] = (
                f"Assignar dates it {day.isoformat()}, outside {first.isoformat()}..{last.isoformat()}"
                if day is not None and not first <= day <= last
                else "Assignar did not list it among the range's approved timesheets"
            )
    return says
