"""`reconcile time --repair`: the timesheets missing in Intacct go back through the push, never around the ledger.

A timesheet the ledger shows posted whose document reconcile found gone (by its marker and by the key the ledger
keeps) is reopened: claimed like any worker claims it, its gone documents' keys forgotten (their write generations
kept, so the next write has a new control ID), and parked with the reason "missing in Intacct (reconcile on DATE)".
Then the push is asked to retry it, as `push-timesheets --timesheet-id` asks: it finds the document absent and
posts it again. A second repair finds nothing missing and writes nothing. Hours that differ are not repaired: an
accountant changed them, and only a person knows which side is right.

The push is reached through `Requeue`: in this process (`PostNow`, what the CLI does) or through a deployed
tenant's push queue (`QueueForPush`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from ...state import StateStore
from ..claim import REOPENED
from ..messages import PushMessage, PushQueue
from ..push import PushService
from ..results import PushResult
from ..run import push_timesheets
from ..sweep import SweepService
from .model import ReconcileReport, RepairResult, TimesheetCheck
from .ports import Requeue

logger = logging.getLogger(__name__)

# What the claim that reopens an entry is made under: never a real content hash, so the claim rule lets it take
# an entry posted or parked with any content (and not one another worker holds).
REOPENING = "reconcile:reopening"


def repair(
    report: ReconcileReport,
    state: StateStore,
    requeue: Requeue,
    *,
    lease_s: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[RepairResult]:
    """Re-queue every timesheet missing in Intacct; what each came to is also kept on the report."""
    results: list[RepairResult] = []
    ready: list[int] = []
    for check in report.of("missing_in_intacct"):
        busy = reopen(state, check, lease_s=lease_s, now=clock())
        if busy is not None:
            results.append(RepairResult(check.timesheet_id, "skipped", reason=busy))
        else:
            ready.append(check.timesheet_id)
    results += requeue.requeue(ready)
    report.repaired = sorted(results, key=lambda result: result.timesheet_id)
    return report.repaired


def reopen(state: StateStore, check: TimesheetCheck, *, lease_s: float, now: datetime) -> str | None:
    """Make a timesheet the ledger shows in Intacct, but reconcile found gone, postable again; None when done (or
    nothing to do: never posted, it is posted like any approved one), else why not (another run holds it)."""
    entry = state.get_ledger(check.timesheet_id)
    gone = _proven_gone(check, entry.intacct_keys if entry is not None else {})
    if entry is None or not gone:
        # Never posted (the push posts it like any approved one), or the ledger holds other keys than those the
        # report proved gone: posted again since the report was read, so forgetting them could post it twice.
        return None
    if any(f"{document}_pending" in entry.intacct_keys for document in gone):
        # A write whose answer was lost is waiting on a person (its parked reason says what to look for).
        return None
    claimed = state.claim_timesheet(check.timesheet_id, REOPENING, lease_s, now)
    if claimed is None:
        return f"being posted elsewhere (another run holds timesheet {check.timesheet_id}); reconcile again later"
    if _proven_gone(check, claimed.intacct_keys) != gone:
        # Changed between the read and the claim (a re-approval posted meanwhile): hand it to a person rather than
        # guess, keeping every key it holds; `parked list` shows it and a new reconcile says what is missing now.
        state.record_parked(
            check.timesheet_id,
            entry.content_hash,
            f"changed while reconcile reopened it ({now.date().isoformat()}): run reconcile time again",
            now,
            attempt=claimed.attempts,
        )
        return f"timesheet {check.timesheet_id} changed while it was reopened; run reconcile time again"
    keys = dict(claimed.intacct_keys)
    for document in gone:
        # The `_gen` counter stays: the re-post is a new write, so it needs a new function control ID.
        keys.pop(document, None)
        keys.pop(f"{document}_rev", None)
    keys[REOPENED] = now.date().isoformat()
    reason = f"missing in Intacct (reconcile on {now.date().isoformat()})"
    # Parked with the content it was posted with: the push's claim (asked to retry) then holds what it posts.
    state.record_parked(
        check.timesheet_id, entry.content_hash, reason, now, intacct_keys=keys, attempt=claimed.attempts
    )
    logger.info("timesheet reopened: missing in Intacct", extra={"timesheet_id": check.timesheet_id, "gone": gone})
    return None


def _proven_gone(check: TimesheetCheck, held: Mapping[str, str]) -> list[str]:
    """The missing documents whose key the ledger holds is the very key reconcile looked up and did not find."""
    return [
        document for document in check.missing if document in held and check.gone_keys.get(document) == held[document]
    ]


class PostNow:
    """Posts in this process, through the same path as `push-timesheets --timesheet-id` (retrying parked ones)."""

    def __init__(self, push: PushService, sweep: SweepService) -> None:
        self._push = push
        self._sweep = sweep

    def requeue(self, timesheet_ids: Sequence[int]) -> list[RepairResult]:
        if not timesheet_ids:
            return []  # push_timesheets with no ids would post every pending timesheet
        summary = push_timesheets(self._push, self._sweep, timesheet_ids)
        return [_from_push(result) for result in summary.results]


class QueueForPush:
    """A deployed tenant's way: each timesheet goes on the push queue as a replay (retrying it even if parked)."""

    def __init__(self, queue: PushQueue) -> None:
        self._queue = queue

    def requeue(self, timesheet_ids: Sequence[int]) -> list[RepairResult]:
        if not timesheet_ids:
            return []
        self._queue.publish(
            [
                PushMessage(timesheet_id=timesheet_id, trigger="replay", retry_parked=True)
                for timesheet_id in timesheet_ids
            ]
        )
        return [RepairResult(timesheet_id, "queued") for timesheet_id in timesheet_ids]


def _from_push(result: PushResult) -> RepairResult:
    outcome = result.outcome if result.outcome != "dry_run" else "skipped"
    reason = result.reason
    if outcome == "already_posted":
        # Its ledger entry names no document reconcile found gone (one posted before this tenant posted that
        # kind, say): the push trusts its ledger and sends nothing, so a person looks.
        reason = (
            "the ledger shows it posted and names no Intacct document found gone, so nothing was sent; look for "
            "its time in Intacct, and post it by hand if it is not there"
        )
    return RepairResult(result.timesheet_id, outcome, reason, dict(result.intacct_keys))
