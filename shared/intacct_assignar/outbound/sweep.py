"""The safety net for missed webhooks: queue every approved timesheet Assignar does not show processed.

Run on a schedule. A timesheet the ledger shows parked with the same content is left to a person (it would
fail the same way); one re-approved with changes since is queued, in case its webhook was the one lost. One
being posted right now is left to its worker; everything else is queued, including one posted whose
"processed" mark in Assignar was lost (the push only marks it then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..assignar import AssignarClient
from ..assignar.models import APPROVED_STATUSES, Timesheet
from ..state import StateStore
from .messages import PushMessage, PushQueue

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    found: int = 0
    queued: list[int] = field(default_factory=list)
    parked: list[int] = field(default_factory=list)
    in_progress: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "found": self.found,
            "queued": len(self.queued),
            "left_parked": self.parked,
            "in_progress": self.in_progress,
        }


class SweepService:
    def __init__(
        self,
        assignar: AssignarClient,
        state: StateStore,
        queue: PushQueue,
        *,
        fingerprint: Callable[[Timesheet], str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.assignar = assignar
        self.state = state
        self.queue = queue
        # The ledger's content hash of a timesheet as it stands (`PushService.content_hash`).
        self._fingerprint = fingerprint
        self._clock = clock

    def pending_timesheets(self) -> list[Timesheet]:
        """Approved timesheets Assignar does not show processed, oldest first."""
        filters = {"status__in": list(APPROVED_STATUSES), "processed_at__is": None}
        found: list[Timesheet] = []
        for page in self.assignar.timesheets.pages(filters):
            found.extend(page)
        return found

    def pending(self) -> list[int]:
        return [timesheet.id for timesheet in self.pending_timesheets()]

    def run(self) -> SweepReport:
        report = SweepReport()
        now = self._clock()
        batch: list[PushMessage] = []
        for timesheet in self.pending_timesheets():
            timesheet_id = timesheet.id
            report.found += 1
            entry = self.state.get_ledger(timesheet_id)
            unchanged = self._fingerprint is None or (
                entry is not None and entry.content_hash == self._fingerprint(timesheet)
            )
            if entry is not None and entry.state == "parked" and unchanged:
                report.parked.append(timesheet_id)
                continue
            if entry is not None and entry.state == "claimed" and entry.lease_until and entry.lease_until > now:
                report.in_progress.append(timesheet_id)
                continue
            batch.append(PushMessage(timesheet_id=timesheet_id, trigger="sweep"))
            report.queued.append(timesheet_id)
        if batch:
            self.queue.publish(batch)
        logger.info("timesheet sweep", extra=report.as_dict())
        return report

    def _unchanged(self, parked_hash: str, timesheet: Timesheet) -> bool:
        return self._fingerprint is None or self._fingerprint(timesheet) == parked_hash
