"""The true-up in the accountant's terms: the hours Assignar approved against the hours Intacct holds from this
integration, per timesheet, and per worker and week (pure: no I/O).

A timesheet's time lives in up to two Intacct documents, named as the ledger names them: its `timesheet` (the
labor TIMESHEET, which also carries equipment lines when `equipment_mode` is "timesheet") and its `equipment`
purchasing transaction. Each approved timesheet comes out as one of:
- matched: every document the push writes for it is in Intacct, with the approved hours;
- missing_in_intacct: a document it should have is not there (deleted by hand, or never posted);
- differs: the documents are there, with other hours (changed in Intacct after posting, or doubled);
and each document carrying our marker whose timesheet Assignar does not show approved in the range is
extra_in_intacct (un-approved or deleted in Assignar since it was posted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ...runs import TIME_WORKFLOW, RunEntry

Part = Literal["labor", "equipment"]
Status = Literal["matched", "missing_in_intacct", "extra_in_intacct", "differs"]
STATUSES: tuple[Status, ...] = ("matched", "missing_in_intacct", "extra_in_intacct", "differs")
EquipmentMode = Literal["purchasing", "timesheet", "off"]

ZERO = Decimal(0)
# The push writes hours to the hundredth and makes each document's lines add up to its rounded total
# (`documents.hours`): hours that round to the same hundredth are the same hours. An accountant's 4.333 against
# the push's 4.33 is no difference; 4.34 is.
TOLERANCE = Decimal("0.005")

# The Intacct documents in people's words, by the ledger's names for them.
DOCUMENT_WORDS = {"timesheet": "timesheet", "equipment": "equipment purchasing transaction"}


def same_hours(approved: Decimal, in_intacct: Decimal) -> bool:
    return abs(approved - in_intacct) < TOLERANCE


def document_of(part: Part, mode: EquipmentMode) -> str:
    """The document a part of the time is posted in (`equipment_mode` "timesheet": lines on the labor TIMESHEET)."""
    return "equipment" if part == "equipment" and mode == "purchasing" else "timesheet"


def hours_text(value: Decimal) -> str:
    return f"{value:.2f} h"


@dataclass(frozen=True)
class ApprovedTime:
    """One approved Assignar timesheet, as the push posts it: hours rounded as the push rounds them."""

    timesheet_id: int
    employee_id: str | None  # the worker's Intacct EMPLOYEEID (None: the worker has none, so it cannot post)
    worker: str
    work_date: date
    week: date  # the first day of its Intacct week (the tenant's `timesheets.week_start`)
    labor: Decimal
    equipment: Decimal  # 0 when equipment_mode is "off": the push posts none
    documents: frozenset[str]  # what the push writes for it: "timesheet" and/or "equipment"


@dataclass
class PostedTime:
    """What Intacct holds for one Assignar timesheet: the documents carrying its marker (or, for one whose text
    a person edited, the documents the ledger names), and the hours on them."""

    timesheet_id: int
    keys: dict[str, list[str]] = field(default_factory=dict)  # document -> Intacct keys (one, unless doubled)
    labor: Decimal = ZERO
    equipment: Decimal = ZERO
    employee_id: str | None = None
    week: date | None = None
    dates: set[date] = field(default_factory=set)  # the entries' (lines') dates
    problems: list[str] = field(default_factory=list)  # values Intacct sent that could not be read
    unmarked: set[str] = field(default_factory=set)  # documents found by the ledger's key: their marker is gone

    def holds(self, document: str, key: str) -> None:
        keys = self.keys.setdefault(document, [])
        if key not in keys:
            keys.append(key)

    def merge(self, other: PostedTime) -> None:
        for document, keys in other.keys.items():
            for key in keys:
                self.holds(document, key)
        self.labor += other.labor
        self.equipment += other.equipment
        self.employee_id = self.employee_id or other.employee_id
        self.week = self.week or other.week
        self.dates |= other.dates
        self.problems += other.problems
        self.unmarked |= other.unmarked

    def describe(self, document: str) -> str:
        keys = self.keys.get(document, [])
        words = DOCUMENT_WORDS.get(document, document)
        return f"Intacct {words}{'s' if len(keys) > 1 else ''} {', '.join(keys)}"


@dataclass
class PostedRead:
    """What a read of Intacct found, per Assignar timesheet, and what it could not compare (one sentence each)."""

    posted: dict[int, PostedTime] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    equipment_read: bool = True  # False: equipment hours could not be read (the note says why): not compared

    def time_of(self, timesheet_id: int) -> PostedTime:
        return self.posted.setdefault(timesheet_id, PostedTime(timesheet_id))

    def merge(self, other: PostedRead) -> None:
        for timesheet_id, posted in other.posted.items():
            self.time_of(timesheet_id).merge(posted)
        self.notes += [note for note in other.notes if note not in self.notes]
        self.equipment_read = self.equipment_read and other.equipment_read


@dataclass(frozen=True)
class HoursDifference:
    part: Part
    approved: Decimal
    in_intacct: Decimal

    def describe(self) -> str:
        return f"{self.part} {hours_text(self.approved)} approved, {hours_text(self.in_intacct)} in Intacct"

    def as_dict(self) -> dict[str, Any]:
        return {"part": self.part, "approved_hours": float(self.approved), "intacct_hours": float(self.in_intacct)}


@dataclass(frozen=True)
class TimesheetProblem:
    """An approved timesheet whose hours could not be read (one sentence, with what to fix)."""

    timesheet_id: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"timesheet_id": self.timesheet_id, "reason": self.reason}


@dataclass(frozen=True)
class TimesheetCheck:
    """One Assignar timesheet compared: its status, the hours on both sides and the sentence a person acts on."""

    timesheet_id: int
    status: Status
    employee_id: str | None
    worker: str
    week: date | None
    work_date: date | None
    approved: ApprovedTime | None
    posted: PostedTime | None
    missing: tuple[str, ...] = ()  # documents it should have that Intacct does not hold
    differences: tuple[HoursDifference, ...] = ()
    reason: str = ""
    # The Intacct keys the ledger held for the missing documents, looked up by key and not found: a repair forgets
    # exactly these, so a document posted since this report (a new key) is never taken for the one gone.
    gone_keys: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "timesheet_id": self.timesheet_id,
            "status": self.status,
            "employee_id": self.employee_id,
            "worker": self.worker,
            "week": self.week.isoformat() if self.week else None,
            "work_date": self.work_date.isoformat() if self.work_date else None,
            "approved": None
            if self.approved is None
            else {"labor_hours": float(self.approved.labor), "equipment_hours": float(self.approved.equipment)},
            "intacct": None
            if self.posted is None
            else {
                "labor_hours": float(self.posted.labor),
                "equipment_hours": float(self.posted.equipment),
                "documents": {name: list(keys) for name, keys in self.posted.keys.items()},
            },
        }
        if self.missing:
            data["missing"] = list(self.missing)
        if self.differences:
            data["differences"] = [difference.as_dict() for difference in self.differences]
        data["reason"] = self.reason
        return data


@dataclass
class WorkerWeek:
    """One worker's week: the hours on both sides and how its timesheets came out."""

    employee_id: str | None
    worker: str
    week: date | None
    approved_labor: Decimal = ZERO
    approved_equipment: Decimal = ZERO
    intacct_labor: Decimal = ZERO
    intacct_equipment: Decimal = ZERO
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def matched(self) -> bool:
        return all(count == 0 for status, count in self.counts.items() if status != "matched")

    def add(self, check: TimesheetCheck) -> None:
        self.counts[check.status] += 1
        if check.approved is not None:
            self.approved_labor += check.approved.labor
            self.approved_equipment += check.approved.equipment
        if check.posted is not None:
            self.intacct_labor += check.posted.labor
            self.intacct_equipment += check.posted.equipment

    def as_dict(self) -> dict[str, Any]:
        return {
            "employee_id": self.employee_id,
            "worker": self.worker,
            "week": self.week.isoformat() if self.week else None,
            "approved": {"labor_hours": float(self.approved_labor), "equipment_hours": float(self.approved_equipment)},
            "intacct": {"labor_hours": float(self.intacct_labor), "equipment_hours": float(self.intacct_equipment)},
            **self.counts,
        }


RepairOutcome = Literal["posted", "already_posted", "parked", "skipped", "failed", "queued"]


@dataclass(frozen=True)
class RepairResult:
    """What re-queueing one missing timesheet through the push came to."""

    timesheet_id: int
    outcome: RepairOutcome
    reason: str | None = None
    intacct_keys: dict[str, str] = field(default_factory=dict)

    @property
    def resolved(self) -> bool:
        """Posted again. Not a queued one (the push queue has yet to post it), nor one the push calls already
        posted: its ledger still says posted, which is what reconcile found untrue."""
        return self.outcome == "posted"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"timesheet_id": self.timesheet_id, "outcome": self.outcome}
        if self.reason:
            data["reason"] = self.reason
        if self.intacct_keys:
            data["intacct"] = dict(self.intacct_keys)
        return data


@dataclass
class ReconcileReport:
    first: date
    last: date
    checks: list[TimesheetCheck] = field(default_factory=list)
    problems: list[TimesheetProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[RepairResult] = field(default_factory=list)

    def of(self, status: Status) -> list[TimesheetCheck]:
        return [check for check in self.checks if check.status == status]

    @property
    def unresolved(self) -> list[TimesheetCheck]:
        """What is still wrong: everything not matched, but a missing one that a repair put back in Intacct."""
        resolved = {result.timesheet_id for result in self.repaired if result.resolved}
        return [
            check
            for check in self.checks
            if check.status != "matched"
            and not (check.status == "missing_in_intacct" and check.timesheet_id in resolved)
        ]

    @property
    def clean(self) -> bool:
        return not self.unresolved and not self.problems

    def run_entry(
        self, started_at: datetime, ended_at: datetime, *, intacct_transactions: int = 0, assignar_calls: int = 0
    ) -> RunEntry:
        """The run-history entry of this reconcile (`runs.py`): read = approved timesheets compared, unchanged =
        matched, written = posted again by a repair, parked = what still waits for a person."""
        waiting = len(self.unresolved) + len(self.problems)
        return RunEntry(
            workflow=TIME_WORKFLOW,
            kind="reconcile",
            started_at=started_at,
            ended_at=ended_at,
            outcome="ok" if self.clean else "parked",
            read=sum(1 for check in self.checks if check.approved is not None),
            written=sum(1 for result in self.repaired if result.resolved),
            unchanged=len(self.of("matched")),
            parked=waiting,
            intacct_transactions=intacct_transactions,
            assignar_calls=assignar_calls,
            detail=None if self.clean else f"{waiting} timesheet{'' if waiting == 1 else 's'} to look at",
            extra={"from": self.first.isoformat(), "to": self.last.isoformat()},
        )

    def workers(self) -> list[WorkerWeek]:
        """Per worker and week, in week then employee order."""
        weeks: dict[tuple[str, date | None], WorkerWeek] = {}
        for check in self.checks:
            who = check.employee_id or check.worker
            row = weeks.setdefault((who, check.week), WorkerWeek(check.employee_id, check.worker, check.week))
            row.add(check)
        return sorted(weeks.values(), key=lambda row: (row.week or date.min, row.employee_id or row.worker))

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "clean": self.clean,
            "matched": len(self.of("matched")),
            "missing_in_intacct": [check.as_dict() for check in self.of("missing_in_intacct")],
            "extra_in_intacct": [check.as_dict() for check in self.of("extra_in_intacct")],
            "differs": [check.as_dict() for check in self.of("differs")],
            "problems": [problem.as_dict() for problem in self.problems],
            "notes": list(self.notes),
            "workers": [row.as_dict() for row in self.workers()],
            "repaired": [result.as_dict() for result in self.repaired],
        }


def compare(
    approved: Mapping[int, ApprovedTime],
    found: PostedRead,
    *,
    first: date,
    last: date,
    mode: EquipmentMode,
    why_missing: Mapping[int, str] | None = None,
    why_extra: Mapping[int, str] | None = None,
    workers: Mapping[str, str] | None = None,
) -> list[TimesheetCheck]:
    """Each approved timesheet against what Intacct holds for it, then what Intacct holds for timesheets not
    approved in the range (those with an entry dated in it). `why_missing` says what the ledger knows of a missing
    one, `why_extra` what Assignar says of an extra one (un-approved, deleted, dated elsewhere), `workers` the
    names Assignar gives employee IDs (an extra one's worker)."""
    parts: tuple[Part, ...] = ("labor", "equipment") if found.equipment_read and mode != "off" else ("labor",)
    checks = [
        _check(time, found.posted.get(time.timesheet_id), parts, mode, (why_missing or {}).get(time.timesheet_id))
        for time in approved.values()
    ]
    for timesheet_id, posted in found.posted.items():
        if timesheet_id in approved or not any(first <= day <= last for day in posted.dates):
            continue
        worker = (workers or {}).get(posted.employee_id or "")
        checks.append(_extra(posted, (why_extra or {}).get(timesheet_id), worker))
    return sorted(checks, key=lambda check: (check.week or date.min, check.employee_id or "", check.timesheet_id))


def _check(
    time: ApprovedTime, posted: PostedTime | None, parts: Iterable[Part], mode: EquipmentMode, ledger: str | None
) -> TimesheetCheck:
    expected = set(time.documents)
    if "equipment" in expected and "equipment" not in {document_of(part, mode) for part in parts}:
        expected.discard("equipment")  # equipment hours could not be read: not compared (a note says why)
    held = set(posted.keys) if posted is not None else set()
    missing = tuple(sorted(expected - held))
    differences = []
    for part in parts:
        if document_of(part, mode) in missing:
            continue  # said as missing, not as other hours
        approved = time.labor if part == "labor" else time.equipment
        in_intacct = ZERO if posted is None else posted.labor if part == "labor" else posted.equipment
        if not same_hours(approved, in_intacct):
            differences.append(HoursDifference(part, approved, in_intacct))
    problems = posted.problems if posted is not None else []
    status: Status = "missing_in_intacct" if missing else "differs" if differences or problems else "matched"
    return TimesheetCheck(
        timesheet_id=time.timesheet_id,
        status=status,
        employee_id=time.employee_id,
        worker=time.worker,
        week=time.week,
        work_date=time.work_date,
        approved=time,
        posted=posted,
        missing=missing,
        differences=tuple(differences),
        reason=_reason(status, posted, missing, differences, problems, ledger),
    )


def _reason(
    status: Status,
    posted: PostedTime | None,
    missing: tuple[str, ...],
    differences: list[HoursDifference],
    problems: list[str],
    ledger: str | None,
) -> str:
    if status == "matched":
        return ""
    said: list[str] = []
    if missing:
        what = " and ".join(DOCUMENT_WORDS[document] for document in _in_order(missing))
        said.append(f"Intacct holds no {what} for it" + (f": {ledger}" if ledger else ""))
    if differences:
        where = "; ".join(difference.describe() for difference in differences)
        said.append(
            f"{where}: changed in Intacct after it was posted; reconcile never overwrites an accountant's change, "
            "so correct the hours in Intacct, or in Assignar and approve it again"
        )
    doubled = [document for document, keys in (posted.keys.items() if posted else ()) if len(keys) > 1]
    for document in doubled:
        assert posted is not None
        said.append(f"{posted.describe(document)} all carry it: delete all but one in Intacct")
    if posted is not None and posted.unmarked:
        gone = " and ".join(posted.describe(document) for document in _in_order(posted.unmarked))
        said.append(f"the marker naming it was edited out of {gone} (found by the key the ledger keeps)")
    said += problems
    return "; ".join(said)


def _in_order(documents: Iterable[str]) -> list[str]:
    """The labor timesheet first, as people read a timesheet's documents."""
    return sorted(documents, key=lambda document: (document != "timesheet", document))


def _extra(posted: PostedTime, why: str | None, worker: str | None) -> TimesheetCheck:
    documents = " and ".join(posted.describe(document) for document in _in_order(posted.keys))
    hours = f"{hours_text(posted.labor)} labor" + (
        f" and {hours_text(posted.equipment)} equipment" if posted.equipment else ""
    )
    reason = (
        f"{hours} in {documents}, but {why or 'Assignar does not show it approved in this range'}: reverse the "
        "time in Intacct if it should not stand, or approve the timesheet again in Assignar"
    )
    return TimesheetCheck(
        timesheet_id=posted.timesheet_id,
        status="extra_in_intacct",
        employee_id=posted.employee_id,
        worker=worker or posted.employee_id or "?",
        week=posted.week,
        work_date=min(posted.dates) if posted.dates else None,
        approved=None,
        posted=posted,
        reason="; ".join([reason, *posted.problems]),
    )
