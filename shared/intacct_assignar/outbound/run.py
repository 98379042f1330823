"""Posting timesheets now, in this process (the `push-timesheets` command): the same service the push
consumer runs, over the timesheets named or every approved, unprocessed one."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..problems import explain
from ..state import LeaseLostError
from .push import WRITE_BATCH, PushService
from .results import PostingIncompleteError, PushResult, TimesheetBusyError
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
        """Nothing parked and nothing failed: what was asked for is in Intacct (or needed nothing).

        A timesheet parked on an earlier run counts too: it is still not in Intacct, and a scheduled run that
        exits 0 would tell nobody. One being posted elsewhere ("skipped") is that run's to report.
        """
        return not any(r.outcome in ("failed", "parked") for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": self.counts, "timesheets": [r.as_dict() for r in self.results]}


def push_timesheets(
    push: PushService,
    sweep: SweepService,
    timesheet_ids: Sequence[int] = (),
    *,
    dry_run: bool = False,
    progress: Callable[[PushResult], None] | None = None,
    planned: Callable[[int], None] | None = None,
    confirmed_absent: bool = False,
) -> PushSummary:
    """Post the named timesheets (retrying them even if parked: a person asked), or every pending one.

    `confirmed_absent`: the person looked in Intacct for the one named timesheet's lost write, as its parked
    reason asked, and found none (`PushService.post`). `planned` hears how many timesheets the run will post,
    once they are known, and `progress` each one's result as it comes."""
    named = bool(timesheet_ids)
    ids = list(dict.fromkeys(timesheet_ids)) if named else sweep.pending()
    if confirmed_absent and len(ids) != 1:
        raise ValueError("--not-in-intacct is a person's word about one timesheet: name exactly one --timesheet-id")
    summary = PushSummary()
    if planned is not None:
        planned(len(ids))
    for start in range(0, len(ids), WRITE_BATCH):
        chunk = ids[start : start + WRITE_BATCH]
        if not dry_run and not confirmed_absent:
            # Their writes in one Intacct request; `_post` then hands out each timesheet's outcome in turn.
            try:
                push.post_together(dict.fromkeys(chunk, named))
            except Exception:
                # Each timesheet's trouble is its own outcome; should the batch itself fail, each is posted alone.
                logger.warning("posting a batch together failed; posting its timesheets one by one", exc_info=True)
        for timesheet_id in chunk:
            result = _post(push, timesheet_id, retry_parked=named, dry_run=dry_run, confirmed_absent=confirmed_absent)
            summary.results.append(result)
            if progress is not None:
                progress(result)
    return summary


def retry_timesheet(push: PushService, timesheet_id: int) -> PushResult:
    """One timesheet posted again at a person's request (`parked replay`), exactly as `push-timesheets
    --timesheet-id` posts it: retried even if parked, the ledger deciding, its trouble its result."""
    return _post(push, timesheet_id, retry_parked=True, dry_run=False)


def _post(
    push: PushService, timesheet_id: int, *, retry_parked: bool, dry_run: bool, confirmed_absent: bool = False
) -> PushResult:
    """One timesheet's result. Its trouble becomes its result, never stopping the others, and the result's reason
    is what people read (push-timesheets prints it), so the log adds only what debugging needs."""
    try:
        return push.post(timesheet_id, retry_parked=retry_parked, dry_run=dry_run, confirmed_absent=confirmed_absent)
    except (TimesheetBusyError, LeaseLostError):
        # Another run (a second CLI, the push consumer) holds the timesheet, or took it over from this one; the
        # ledger lets only one of them write, and that one reports how it ended.
        logger.info("timesheet being posted elsewhere", extra={"timesheet_id": timesheet_id})
        return PushResult(
            timesheet_id, "skipped", reason=f"being posted elsewhere (another run holds timesheet {timesheet_id})"
        )
    except PostingIncompleteError as error:
        # Expected after a lost answer: its own sentence says what happened and when it is looked at again.
        logger.info("timesheet posting incomplete", extra={"timesheet_id": timesheet_id})
        return PushResult(timesheet_id, "failed", reason=" ".join(str(error).split()))
    except Exception as error:
        problem = explain(error)
        if problem.stops_run:
            raise  # refused credentials: every timesheet would fail the same way; the command says so (exit 2)
        # The traceback only at DEBUG: the CLI shows it with --debug; everyone else reads the reason, on one line
        # (some messages span lines): `explain`'s for the failures it knows, else the error's own.
        logger.debug("timesheet not posted", extra={"timesheet_id": timesheet_id}, exc_info=True)
        text = " ".join((problem.message if problem.expected else str(error)).split())
        return PushResult(
            timesheet_id, "failed", reason=text or "it failed without saying why; run with --debug to see the traceback"
        )
