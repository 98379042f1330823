"""The run: read both sides for a date range, look up by key what looks missing, compare, and (asked to) repair.

Before a timesheet is called missing, the documents the ledger says hold it are looked up by their Intacct keys
(one query per kind for all of them): an accountant may have edited a marker out of a description, and a repair
that trusted the marker alone would post that time twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

from ...config import Timesheets
from ...state import LedgerEntry, StateStore
from ..claim import REOPENED, describe_keys
from .approved import approved_between, why_not_approved
from .model import ApprovedTime, PostedRead, ReconcileReport, RepairResult, TimesheetCheck, compare
from .ports import AssignarForReconcile, PostedTimeReader, Requeue
from .repair import repair

# Two weeks is the true-up an accountant runs; a quarter is the most one run reads (its queries and the report
# grow with the range, and a longer look back is a few runs, one per quarter).
MAX_RANGE_DAYS = 92


class RangeError(ValueError):
    """The dates asked for do not make a range reconcile reads; the message says what to give instead."""


def check_range(first: date, last: date) -> None:
    if first > last:
        raise RangeError(f"--from {first.isoformat()} is after --to {last.isoformat()}: give the earlier day first")
    days = (last - first).days + 1
    if days > MAX_RANGE_DAYS:
        raise RangeError(
            f"{first.isoformat()}..{last.isoformat()} is {days} days; reconcile at most {MAX_RANGE_DAYS} days a run "
            "(run it once per quarter for a longer look back)"
        )


class TimeReconciler:
    """Assignar's approved hours against what Intacct holds from this integration, for one tenant."""

    def __init__(
        self,
        assignar: AssignarForReconcile,
        intacct: PostedTimeReader,
        state: StateStore,
        settings: Timesheets,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.assignar = assignar
        self.intacct = intacct
        self.state = state
        self.settings = settings
        self._clock = clock

    def reconcile(self, first: date, last: date) -> ReconcileReport:
        check_range(first, last)
        approved = approved_between(self.assignar, self.settings, first, last)
        found = self.intacct.marked(first, last)
        ledger: dict[int, tuple[LedgerEntry | None, set[str]]] = {}
        known: dict[int, dict[str, str]] = {}
        for timesheet_id, time in approved.approved.items():
            absent = _absent(time, found)
            if not absent:
                continue
            entry = self.state.get_ledger(timesheet_id)
            ledger[timesheet_id] = (entry, absent)
            keys = {
                document: entry.intacct_keys[document]
                for document in absent
                if entry and document in entry.intacct_keys
            }
            if keys:
                known[timesheet_id] = keys
        if known:
            found.merge(self.intacct.by_keys(known))
        extras = [
            timesheet_id
            for timesheet_id, posted in found.posted.items()
            if timesheet_id not in approved.approved and any(first <= day <= last for day in posted.dates)
        ]
        now = self._clock()
        why_missing = {timesheet_id: _ledger_words(*known_of, now) for timesheet_id, known_of in ledger.items()}
        says = why_not_approved(self.assignar, extras, first, last)
        names = {time.employee_id: time.worker for time in approved.approved.values() if time.employee_id}
        checks = compare(
            approved.approved,
            found,
            first=first,
            last=last,
            mode=self.settings.equipment_mode,
            why_missing=why_missing,
            why_extra=says.why,
            workers={**says.workers, **names},
        )
        checks = [_with_gone_keys(check, known.get(check.timesheet_id, {})) for check in checks]
        notes = list(found.notes)
        if self.settings.equipment_mode == "off":
            notes.append("equipment hours not compared: the tenant posts none (timesheets.equipment_mode is off)")
        return ReconcileReport(first, last, checks, approved.problems, notes)

    def repair(self, report: ReconcileReport, requeue: Requeue) -> list[RepairResult]:
        """Send the missing ones back through the push (see `repair.py`); the differing ones are a person's."""
        return repair(report, self.state, requeue, lease_s=self.settings.lease_seconds, clock=self._clock)


def _with_gone_keys(check: TimesheetCheck, looked_up: dict[str, str]) -> TimesheetCheck:
    """The check, carrying the ledger keys of its missing documents that the lookup by key did not find."""
    gone = {document: key for document, key in looked_up.items() if document in check.missing}
    return replace(check, gone_keys=gone) if gone else check


def _absent(time: ApprovedTime, found: PostedRead) -> set[str]:
    posted = found.posted.get(time.timesheet_id)
    expected = set(time.documents) if found.equipment_read else set(time.documents) - {"equipment"}
    return expected - set(posted.keys if posted is not None else ())


def _ledger_words(entry: LedgerEntry | None, absent: set[str], now: datetime) -> str:
    """What the ledger knows of a timesheet whose documents (`absent`) Intacct does not hold."""
    if entry is None:
        return "never posted by this integration: the push posts it when it runs, or run with --repair"
    if entry.state == "posted":
        gone = describe_keys({document: key for document, key in entry.intacct_keys.items() if document in absent})
        return (
            f"the ledger shows it posted on {entry.updated_at.date().isoformat()}"
            + (f" as {gone}" if gone else "")
            + "; deleted in Intacct since, so --repair posts it again"
        )
    if entry.state == "parked":
        if REOPENED in entry.intacct_keys:
            return f"{entry.reason}; --repair posts it again"
        return f"parked: {entry.reason}; fix that, then --repair (or `parked replay`) retries it"
    lease = entry.lease_until
    if lease is not None and lease > now:
        return "being posted right now; reconcile again in a minute"
    return "a push of it stopped part way; --repair finishes it"
