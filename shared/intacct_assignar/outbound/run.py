"""Posting timesheets now, in this process (the `push-timesheets` command): the same service the push
consumer runs, over the timesheets named or every approved, unprocessed one."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .push import PushResult, PushService
from .sweep import SweepService

logger = logging.getLogger(__name__)


@dataclass
class PushSummary:
    results: list[PushResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(result.outcome for result in self.results)
        return {name: counted.get(name, 0) for name in ("posted", "already_posted", "parked", "skipped", "failed")}

    @property
    def ok(self) -> bool:
        """Nothing newly parked and nothing failed: what was asked for is in Intacct (or needed nothing)."""
        return not any(r.outcome == "failed" or (r.outcome == "parked" and not r.earlier) for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts, "timesheets": [r.as_dict() for r in self.results]}


def push_timesheets(
    push: PushService,
    sweep: SweepService,
    timesheet_ids: Sequence[int] = (),
    *,
    dry_run: bool = False,
    progress: Callable[[PushResult], None] | None = None,
) -> PushSummary:
    """Post the named timesheets (retrying them even if parked: a person asked), or every pending one."""
    named = bool(timesheet_ids)
    ids = list(dict.fromkeys(timesheet_ids)) if named else sweep.pending()
    summary = PushSummary()
    for timesheet_id in ids:
        try:
            result = push.post(timesheet_id, retry_parked=named, dry_run=dry_run)
        except Exception as error:  # one timesheet's trouble must not stop the others
            logger.warning("timesheet not posted", extra={"timesheet_id": timesheet_id}, exc_info=True)
            result = PushResult(timesheet_id, "failed", reason=f"{type(error).__name__}: {error}")
        summary.results.append(result)
        if progress is not None:
            progress(result)
    return summary
