"""From an approved Assignar timesheet to the Intacct documents that carry its time (pure: no I/O).

Labor time becomes one Intacct TIMESHEET per Assignar timesheet; equipment time becomes, by configuration,
one purchasing transaction (`create_potransaction`), extra lines on that TIMESHEET, or nothing.

Every Intacct ID comes from the Assignar records the inbound sync wrote (the worker's employee_id, the
project's, role's and asset's external_id, the work order's job number), so a timesheet naming a record typed
into Assignar by hand is refused with the record named, rather than guessed at.

Each document carries a revision, a short hash of its content, in its description (TIMESHEET), or in its
message, reference number and line memos (purchasing transaction): after a crash the document found in Intacct
tells which content it holds, and the function control ID is made from it, so re-sending the same content can
never post it twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import xmltodict

from ..assignar.models import ActivityEntry, AssetEntry, Timesheet
from ..config import Timesheets
from ..intacct.values import to_text
from ..outcomes import ParkForPerson

UTC_ZONE = ZoneInfo("UTC")  # documents hold dates, never timestamps: the zone is never used
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HUNDREDTH = Decimal("0.01")
REVISION_LENGTH = 10


class UnpostableError(ParkForPerson, ValueError):
    """The timesheet cannot become Intacct documents as it stands; `reason` tells a person what to fix."""

    def __init__(self, timesheet_id: int, reason: str) -> None:
        super().__init__(f"timesheet {timesheet_id}: {reason}")
        self.timesheet_id = timesheet_id
        self.reason = reason  # without the timesheet: it is parked under the timesheet's own message


@dataclass(frozen=True)
class References:
    """The Intacct records the documents name, checked to exist and be active before anything is written."""

    employee_id: str
    projects: frozenset[str]
    tasks: frozenset[tuple[str, str]]  # (PROJECTID, TASKID)
    items: frozenset[str]
    vendor: str | None = None
    # Where each ID came from in Assignar, so a refusal can name the record a person recognises.
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)

    def describe(self, intacct_id: str) -> str:
        source = self.sources.get(intacct_id)
        return f"{intacct_id} ({source})" if source else intacct_id


@dataclass(frozen=True)
class Document:
    """One Intacct write: the fields to send and the revision that names this content."""

    fields: dict[str, Any]
    revision: str


@dataclass(frozen=True)
class TimesheetPosting:
    """What one Assignar timesheet becomes in Intacct."""

    timesheet_id: int
    work_date: date
    labor: Document | None  # a TIMESHEET (header and TIMESHEETENTRIES), without RECORDNO
    equipment: Document | None  # a create_potransaction body
    references: References

    @property
    def content_hash(self) -> str:
        """The ledger's hash: changes exactly when what would be written to Intacct changes."""
        parts = [self.labor.revision if self.labor else "-", self.equipment.revision if self.equipment else "-"]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    @property
    def is_empty(self) -> bool:
        return self.labor is None and self.equipment is None


# The words every marker starts with: a search for them finds every document this integration wrote.
MARKER_WORDS = "Assignar timesheet "
_MARKED = re.compile(rf"(?:^|(?<=\s)){MARKER_WORDS}(\d+) \(rev ([A-Za-z0-9]+)\)")
# How an equipment line on a labor TIMESHEET (equipment_mode "timesheet") starts its NOTES, so a reader can tell
# its hours from the labor entries'.
EQUIPMENT_NOTE = "Equipment: "


def marker(timesheet_id: int) -> str:
    """What every text we write for a timesheet holds: how its documents are found again in Intacct after a crash.

    "Assignar timesheet 12 (rev " is never part of "Assignar timesheet 112 (rev ", so a search for the marker
    anywhere in a text finds this timesheet's documents only.
    """
    return f"{MARKER_WORDS}{timesheet_id} (rev "


def marked_timesheet(text: str | None) -> tuple[int, str] | None:
    """The Assignar timesheet and revision a text we wrote names (the first marker in it), or None.

    The counterpart of `revision_of` for a reader that does not know the timesheet yet (reconcile)."""
    found = _MARKED.search(text) if text else None
    return (int(found.group(1)), found.group(2)) if found else None


def labelled(timesheet_id: int, revision: str) -> str:
    return f"{marker(timesheet_id)}{revision})"


def revision_of(timesheet_id: int, text: str | None) -> str | None:
    """The revision in a text we wrote for this timesheet (the marker may follow other words), or None."""
    if not text:
        return None
    prefix = marker(timesheet_id)
    start = text.find(prefix)
    if start < 0 or (start > 0 and not text[start - 1].isspace()):
        return None
    end = text.find(")", start + len(prefix))
    revision = text[start + len(prefix) : end] if end > 0 else ""
    return revision if revision.isalnum() else None


def controlid(timesheet_id: int, kind: str, revision: str, generation: int) -> str:
    """Deterministic per write: the timesheet, the document, its content and the write's generation.

    Re-sending the same write keeps it, so Intacct refuses a second run; a new write (the same content again
    after a change, or after one that surely did not happen) gets a new generation, so a new control ID.
    """
    return f"assignar-ts-{timesheet_id}-{kind}-{revision}-g{generation}"


def week_start(day: date, first_day: str) -> date:
    """The first day of the Intacct week containing `day` (BEGINDATE must be one)."""
    offset = (day.weekday() - WEEKDAYS.index(first_day)) % 7
    return day - timedelta(days=offset)


def hours(minutes: Sequence[int]) -> list[Decimal]:
    """Minutes as hours to the hundredth, rounded so the lines add up to the rounded total.

    Three 20-minute entries are 0.33 + 0.33 + 0.34 = 1.00 hour, not 0.99: what the accountant totals in
    Intacct matches the worker's shift in Assignar.
    """
    exact = [Decimal(m) / 60 for m in minutes]
    total = sum(exact, Decimal(0)).quantize(HUNDREDTH, ROUND_HALF_UP)
    rounded = [value.quantize(HUNDREDTH, ROUND_HALF_UP) for value in exact]
    drift = total - sum(rounded, Decimal(0))
    # Hand the leftover hundredths to the lines whose rounding lost (or gained) the most.
    order = sorted(range(len(exact)), key=lambda i: exact[i] - rounded[i], reverse=drift > 0)
    step = HUNDREDTH if drift > 0 else -HUNDREDTH
    for index in order:
        if drift == 0:
            break
        rounded[index] += step
        drift -= step
    return rounded


def _revision(fields: Mapping[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:REVISION_LENGTH]


def _minutes(timesheet_id: int, total_time: str | None) -> int:
    """Assignar's "HH:MM" total; 0 when absent. Unreadable is refused: guessing 0 would drop the labor."""
    if not total_time:
        return 0
    hours_part, _, minutes_part = total_time.partition(":")
    try:
        return int(hours_part) * 60 + int(minutes_part or 0)
    except ValueError:
        raise UnpostableError(timesheet_id, f"its total time {total_time!r} is not HH:MM") from None


def work_date(timesheet: Timesheet) -> date:
    """The day worked, as the worker's own calendar shows it.

    Assignar writes local wall-clock times with a "Z" (its spec's example: an 08:00 Sydney shift is
    `08:00:00.000Z`), so the date is taken as written, never converted between zones.
    """
    if timesheet.start_datetime is not None:
        return timesheet.start_datetime.date()
    entries: list[ActivityEntry | AssetEntry] = [*timesheet.activity_entries, *timesheet.asset_entries]
    for entry in entries:
        if entry.start_at_naive:
            return date.fromisoformat(entry.start_at_naive[:10])
        if entry.start_at is not None:
            return entry.start_at.date()
    if timesheet.submitted_date:
        return date.fromisoformat(timesheet.submitted_date[:10])
    raise UnpostableError(timesheet.id, "it has no start date, so the Intacct week cannot be chosen")


@dataclass
class _Refs:
    """Collects the IDs the documents use, refusing Assignar records that carry no Intacct ID."""

    timesheet_id: int
    projects: set[str] = field(default_factory=set)
    tasks: set[tuple[str, str]] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    sources: dict[str, str] = field(default_factory=dict)

    def intacct_id(self, value: str | None, what: str, fix: str) -> str:
        """The Intacct ID an Assignar record carries, remembered with `what` so a refusal can name the record."""
        if value is None or not value.strip():
            raise UnpostableError(self.timesheet_id, f"{what} has no Intacct ID: {fix}")
        self.sources.setdefault(value.strip(), what)
        return value.strip()


def build_posting(timesheet: Timesheet, settings: Timesheets, *, entity_id: str | None = None) -> TimesheetPosting:
    """The Intacct documents for an approved timesheet; `UnpostableError` names what stops it."""
    ts_id = timesheet.id
    refs = _Refs(ts_id)
    worker = timesheet.user
    worker_name = (worker.full_name or worker.username) if worker else None
    worker_label = f"worker {worker_name or '?'} (Assignar user {timesheet.user_id})"
    employee_id = refs.intacct_id(
        worker.employee_id if worker else None,
        worker_label,
        "set the worker's employee ID to their Intacct EMPLOYEEID (the workers sync does this)",
    )
    project = timesheet.project
    project_label = f"project {project.name if project and project.name else '?'} (Assignar {timesheet.project_id})"
    project_id = refs.intacct_id(
        project.external_id if project else None,
        project_label,
        "sync the project from Intacct, or set its external ID to the Intacct PROJECTID",
    )
    refs.projects.add(project_id)
    task_id: str | None = None
    if timesheet.order_id is not None:
        order = timesheet.order
        order_name = (order.job_number or order.job_description) if order else None
        order_label = f"work order {order_name or '?'} (Assignar {timesheet.order_id})"
        task_id = refs.intacct_id(
            order.job_number if order else None, order_label, "sync it from Intacct, or set its job number"
        )
        refs.tasks.add((project_id, task_id))
    role_item: str | None = None
    if timesheet.task_id is not None:
        role = timesheet.task
        role_label = f"role {role.name if role and role.name else '?'} (Assignar {timesheet.task_id})"
        role_item = refs.intacct_id(
            role.external_id if role else None,
            role_label,
            "sync the role from Intacct, or set its external ID to the labor ITEMID",
        )
        refs.items.add(role_item)

    day = work_date(timesheet)
    dimensions: dict[str, Any] = {"PROJECTID": project_id}
    if task_id is not None:
        dimensions["TASKID"] = task_id
    location = settings.location_id or entity_id
    if location:
        dimensions["LOCATIONID"] = location
    if settings.department_id:
        dimensions["DEPARTMENTID"] = settings.department_id

    labor_lines = _labor_lines(timesheet, settings, dimensions, role_item, day)
    equipment = _timed_assets(timesheet)
    asset_items: list[tuple[str, str, int]] = []
    if settings.equipment_mode != "off":
        for entry in equipment:
            asset = entry.asset
            label = f"asset {asset.name if asset and asset.name else '?'} (Assignar {asset.id if asset else '?'})"
            item = refs.intacct_id(
                asset.external_id if asset else None,
                label,
                "sync the asset from Intacct, or set its external ID to the equipment ITEMID",
            )
            refs.items.add(item)
            asset_items.append((item, asset.name if asset and asset.name else item, entry.duration))

    vendor: str | None = None
    equipment_document: Document | None = None
    if settings.equipment_mode == "timesheet" and asset_items:
        for (item, name, _), quantity in zip(asset_items, hours([m for _, _, m in asset_items]), strict=True):
            line = {"ENTRYDATE": day, "QTY": quantity, **dimensions, "ITEMID": item, "NOTES": f"{EQUIPMENT_NOTE}{name}"}
            if task_id is not None and settings.equipment_cost_type:
                line["COSTTYPEID"] = settings.equipment_cost_type
            labor_lines.append(line)
    elif settings.equipment_mode == "purchasing" and asset_items:
        vendor = settings.equipment_vendor
        equipment_document = _purchasing(
            ts_id, settings, day, dimensions, task_id, asset_items, worker_name or employee_id
        )

    labor_document: Document | None = None
    if labor_lines:
        header: dict[str, Any] = {
            "EMPLOYEEID": employee_id,
            "BEGINDATE": week_start(day, settings.week_start),
            "STATE": settings.state,
            "TIMESHEETENTRIES": {"TIMESHEETENTRY": labor_lines},
        }
        revision = _revision(header)
        labor_document = Document({**_first("DESCRIPTION", labelled(ts_id, revision), header)}, revision)

    return TimesheetPosting(
        timesheet_id=ts_id,
        work_date=day,
        labor=labor_document,
        equipment=equipment_document,
        references=References(
            employee_id=employee_id,
            projects=frozenset(refs.projects),
            tasks=frozenset(refs.tasks),
            items=frozenset(refs.items),
            vendor=vendor,
            sources=dict(refs.sources),
        ),
    )


def _first(name: str, value: Any, header: dict[str, Any]) -> dict[str, Any]:
    """The header with DESCRIPTION placed after BEGINDATE, where Intacct's own example has it."""
    ordered: dict[str, Any] = {}
    for key, item in header.items():
        ordered[key] = item
        if key == "BEGINDATE":
            ordered[name] = value
    return ordered


def labor_minutes(timesheet: Timesheet) -> list[int]:
    """The minutes of each labor entry the push writes: one per activity entry with time, else the shift's total
    (none when no labor time). `UnpostableError` when the total cannot be read."""
    entries = [entry.duration for entry in timesheet.activity_entries if entry.duration > 0]
    if entries:
        return entries
    total = _minutes(timesheet.id, timesheet.total_time)
    # A shift with equipment entries only and no worked time recorded has no labor to post.
    return [total] if total > 0 else []


def equipment_minutes(timesheet: Timesheet) -> list[int]:
    """The minutes of each equipment line the push writes (asset entries with time), whatever the mode."""
    return [entry.duration for entry in _timed_assets(timesheet)]


def _timed_assets(timesheet: Timesheet) -> list[AssetEntry]:
    return [entry for entry in timesheet.asset_entries if entry.duration > 0]


def _labor_lines(
    timesheet: Timesheet,
    settings: Timesheets,
    dimensions: Mapping[str, Any],
    role_item: str | None,
    day: date,
) -> list[dict[str, Any]]:
    """One entry per activity entry, else one for the shift's total time; none when no labor time."""
    minutes = labor_minutes(timesheet)
    entries = [entry for entry in timesheet.activity_entries if entry.duration > 0]
    notes = [
        f"Activity: {entry.activity.name or entry.activity.external_id}"
        if entry.activity and (entry.activity.name or entry.activity.external_id)
        else None
        for entry in entries
    ] or [None] * len(minutes)
    lines: list[dict[str, Any]] = []
    for quantity, note in zip(hours(minutes), notes, strict=True):
        line: dict[str, Any] = {"ENTRYDATE": day, "QTY": quantity, **dimensions}
        if "TASKID" in dimensions and settings.labor_cost_type:
            # Intacct takes a cost type only on lines with a project and a task.
            line["COSTTYPEID"] = settings.labor_cost_type
        if role_item is not None:
            line["ITEMID"] = role_item
        if settings.time_type:
            line["TIMETYPE"] = settings.time_type
        if note:
            line["NOTES"] = note
        lines.append(line)
    return lines


def _purchasing(
    timesheet_id: int,
    settings: Timesheets,
    day: date,
    dimensions: Mapping[str, Any],
    task_id: str | None,
    assets: Sequence[tuple[str, str, int]],
    worker: str,
) -> Document:
    # Legacy functions follow their DTD's element order [inf: order as in Intacct's create_potransaction
    # reference]; dicts keep insertion order, so the body is written in that order.
    items = []
    for (item, name, _), quantity in zip(assets, hours([m for _, _, m in assets]), strict=True):
        line: dict[str, Any] = {"itemid": item, "quantity": quantity}
        if "LOCATIONID" in dimensions:
            line["locationid"] = dimensions["LOCATIONID"]
        if "DEPARTMENTID" in dimensions:
            line["departmentid"] = dimensions["DEPARTMENTID"]
        line["memo"] = f"{name}, {worker}"  # the marker is added once the revision is known
        line["projectid"] = dimensions["PROJECTID"]
        if task_id is not None:
            line["taskid"] = task_id
            if settings.equipment_cost_type:
                line["costtypeid"] = settings.equipment_cost_type
        items.append(line)
    body: dict[str, Any] = {
        "transactiontype": settings.equipment_transaction,
        "datecreated": {"year": f"{day.year}", "month": f"{day.month:02d}", "day": f"{day.day:02d}"},
        "vendorid": settings.equipment_vendor,
        "potransitems": {"potransitem": items},
    }
    revision = _revision(body)
    label = labelled(timesheet_id, revision)
    # The marker goes into every text the create documents under the same name as a field a purchasing
    # transaction may offer (MESSAGE, REFERENCENO, the lines' MEMO): which field Intacct reads <referenceno>
    # back from is not documented (reference §5.3), so the push searches whichever of these `lookup` lists.
    for line in items:
        line["memo"] = f"{line['memo']}; {label}"
    ordered = {
        "transactiontype": body["transactiontype"],
        "datecreated": body["datecreated"],
        "vendorid": body["vendorid"],
        "referenceno": label,
        "message": f"Equipment time from {label}",
        "potransitems": body["potransitems"],
    }
    return Document(ordered, revision)


def render(function: str, fields: Mapping[str, Any]) -> str:
    """A document as the XML function Intacct would receive (for `push-timesheets --dry-run`)."""

    def text(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: text(item) for key, item in value.items()}
        if isinstance(value, list):
            return [text(item) for item in value]
        return to_text(value, UTC_ZONE)

    body = {"create": {"TIMESHEET": text(fields)}} if function == "TIMESHEET" else {function: text(fields)}
    return str(xmltodict.unparse(body, pretty=True, indent="  ", full_document=False))
