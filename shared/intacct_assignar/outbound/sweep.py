"""The approval watcher: queues every approved timesheet Assignar does not show processed, so approved time
reaches Intacct within about a minute with no webhook sender (the webhook receiver, where a tenant has one, only
makes it sooner).

Run every minute (the stack's `SweepSchedule`). Most runs are incremental: they list only the approved,
unprocessed timesheets Assignar changed since the previous run began, less an overlap for the two clocks'
difference and for late writes; for an idle tenant that is one empty page. At least every `full_sweep_minutes`
a run is a full pass over every approved, unprocessed timesheet instead: the safety net for whatever an
incremental look missed, and the measure of the oldest approval not yet in Intacct. Two watermarks in the state
store decide which, so one schedule drives both; they move only after the push queue took the run's batch, so a
run that fails is looked at again by the next. The function runs one at a time (reserved concurrency 1): the
watermarks have one writer.

A timesheet the ledger shows parked with the same content is left to a person (it would fail the same way); one
re-approved with changes since is queued, in case its webhook was the one lost. One being posted right now is
left to its worker; everything else is queued, including one posted whose "processed" mark in Assignar was lost
(the push only marks it then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol

from ..assignar.models import Timesheet
from ..config import Timesheets
from ..problems import explain
from ..runs import TIME_WORKFLOW, RunEntry, RunLog, RunOutcome
from ..state import StateStore
from .messages import PushMessage, PushQueue

logger = logging.getLogger(__name__)

SweepLook = Literal["incremental", "full"]

# Watermarks in the state store, beside the Intacct sources' own: when the last look of each kind began.
LAST_LOOK: Final = "assignar:timesheets"
LAST_FULL_LOOK: Final = "assignar:timesheets:full"

_DEFAULTS = Timesheets()


class SweepTimesheets(Protocol):
    def approved_unprocessed_pages(self, *, modified_since: datetime | None = None) -> Iterator[list[Timesheet]]: ...


class CallCount(Protocol):
    @property
    def total(self) -> int: ...


class AssignarForSweep(Protocol):
    """All the watcher asks of Assignar: its approved, unprocessed timesheets, and how many calls that took."""

    @property
    def timesheets(self) -> SweepTimesheets: ...

    @property
    def calls(self) -> CallCount: ...


@dataclass
class SweepReport:
    look: SweepLook
    found: int = 0
    queued: list[int] = field(default_factory=list)
    parked: list[int] = field(default_factory=list)
    in_progress: list[int] = field(default_factory=list)
    # Full passes only: the earliest approval (`Timesheet.approved_at`) of a timesheet neither in Intacct nor
    # parked. Parked ones are left out: each already raised its own alarm and waits with its reason, and counting
    # them would hold this alarm on until a person acts, hiding a timesheet stuck for another reason meanwhile.
    oldest_pending_approval: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "pass": self.look,
            "found": self.found,
            "queued": len(self.queued),
            "left_parked": self.parked,
            "in_progress": self.in_progress,
        }
        if self.oldest_pending_approval is not None:
            data["oldest_pending_approval"] = self.oldest_pending_approval.isoformat()
        return data


class SweepService:
    def __init__(
        self,
        assignar: AssignarForSweep,
        state: StateStore,
        queue: PushQueue,
        *,
        fingerprint: Callable[[Timesheet], str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        overlap: timedelta = _DEFAULTS.sweep_overlap,
        full_pass_every: timedelta = _DEFAULTS.full_sweep_every,
        run_log: RunLog | None = None,
    ) -> None:
        self.assignar = assignar
        self.state = state
        self.queue = queue
        # The ledger's content hash of a timesheet as it stands (`PushService.content_hash`).
        self._fingerprint = fingerprint
        self._clock = clock
        self.overlap = overlap
        self.full_pass_every = full_pass_every
        self.run_log = run_log

    def pending_timesheets(self, modified_since: datetime | None = None) -> list[Timesheet]:
        """Approved timesheets Assignar does not show processed (changed since `modified_since`), in id order."""
        pages = self.assignar.timesheets.approved_unprocessed_pages(modified_since=modified_since)
        return [timesheet for page in pages for timesheet in page]

    def pending(self) -> list[int]:
        return [timesheet.id for timesheet in self.pending_timesheets()]

    def run(self) -> SweepReport:
        """Look once (incrementally, or in full when one is due), queue what needs posting, and record the run."""
        started = self._clock()
        calls_before = self.assignar.calls.total
        try:
            report = self._look(started)
        except Exception as error:
            self._record(started, calls_before, None, "failed", detail=explain(error).message)
            raise
        self._record(started, calls_before, report, "ok")
        logger.info("timesheet sweep", extra=report.as_dict())
        return report

    def _look(self, started: datetime) -> SweepReport:
        since = self._incremental_since(started)
        report = SweepReport("full" if since is None else "incremental")
        batch: list[PushMessage] = []
        waiting: list[datetime] = []  # approvals not in Intacct yet, parked ones aside
        for timesheet in self.pending_timesheets(since):
            timesheet_id = timesheet.id
            report.found += 1
            entry = self.state.get_ledger(timesheet_id)
            unchanged = self._fingerprint is None or (
                entry is not None and entry.content_hash == self._fingerprint(timesheet)
            )
            if entry is not None and entry.state == "parked" and unchanged:
                report.parked.append(timesheet_id)
                continue
            in_intacct = entry is not None and entry.state == "posted" and unchanged
            if not in_intacct and timesheet.approved_at is not None:
                waiting.append(timesheet.approved_at)
            if entry is not None and entry.state == "claimed" and entry.lease_until and entry.lease_until > started:
                report.in_progress.append(timesheet_id)
                continue
            batch.append(PushMessage(timesheet_id=timesheet_id, trigger="sweep"))
            report.queued.append(timesheet_id)
        if batch:
            self.queue.publish(batch)
        # Only now that the queue took the batch: a run that failed before this leaves both where they were, and
        # the next run looks again from there.
        self.state.set_watermark(LAST_LOOK, started)
        if report.look == "full":
            self.state.set_watermark(LAST_FULL_LOOK, started)
            report.oldest_pending_approval = min(waiting, default=None)
        return report

    def _incremental_since(self, now: datetime) -> datetime | None:
        """Where an incremental look starts, or None when a full pass is due (or no look was ever made)."""
        last_full = self.state.get_watermark(LAST_FULL_LOOK)
        if last_full is None or now - last_full >= self.full_pass_every:
            return None
        last_look = self.state.get_watermark(LAST_LOOK)
        return None if last_look is None else last_look - self.overlap

    def _record(
        self,
        started: datetime,
        calls_before: int,
        report: SweepReport | None,
        outcome: RunOutcome,
        *,
        detail: str | None = None,
    ) -> None:
        if self.run_log is None:
            return
        extra: dict[str, Any] = {}
        if report is not None:
            extra = {
                "pass": report.look,
                "left_parked": len(report.parked),
                "in_progress": len(report.in_progress),
            }
            if report.oldest_pending_approval is not None:
                extra["oldest_pending_approval"] = report.oldest_pending_approval.isoformat()
        entry = RunEntry(
            workflow=TIME_WORKFLOW,
            kind="sweep",
            started_at=started,
            ended_at=self._clock(),
            outcome=outcome,
            read=report.found if report else 0,
            written=len(report.queued) if report else 0,
            assignar_calls=self.assignar.calls.total - calls_before,
            detail=detail,
            extra=extra,
        )
        self.run_log.record(entry)
