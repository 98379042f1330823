"""The safety net for missed webhooks: queue every approved timesheet Assignar does not show processed.

Run on a schedule. A timesheet the ledger shows parked is left to a person (it would fail the same way), and
one being posted right now is left to its worker; everything else is queued, including one posted whose
"processed" mark in Assignar was lost (the push only marks it then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..assignar import AssignarClient
from ..assignar.models import APPROVED_STATUSES
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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.assignar = assignar
        self.state = state
        self.queue = queue
        self._clock = clock

    def pending(self) -> list[int]:
        """Ids of approved timesheets Assignar does not show processed, oldest first."""
        filters = {"status__in": list(APPROVED_STATUSES), "processed_at__is": None}
        ids: list[int] = []
        for page in self.assignar.timesheets.pages(filters):
            ids.extend(timesheet.id for timesheet in page)
        return ids

    def run(self) -> SweepReport:
        report = SweepReport()
        now = self._clock()
        batch: list[PushMessage] = []
        for timesheet_id in self.pending():
            report.found += 1
            entry = self.state.get_ledger(timesheet_id)
            if entry is not None and entry.state == "parked":
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
