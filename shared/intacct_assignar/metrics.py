"""The functions' business metrics: every run entry, and each posted timesheet's wait, as CloudWatch metrics in the
embedded metric format (Powertools Metrics), for the stack's alarms and dashboard. Only the functions publish them.

The names below are the contract with template.yaml's alarms and dashboard (a template test keeps the two in
step). Dimensions are `service` (Powertools adds it) and `workflow`, nothing else: every distinct set of values
is a metric CloudWatch bills each month, so no record or timesheet id ever becomes one. A count of zero is not
published: it adds nothing to a sum or to a "> 0" alarm, and a metric that never gets a value is not billed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from .outbound.results import PushResult
from .runs import TIME_WORKFLOW, RunEntry

logger = logging.getLogger(__name__)

WORKFLOW_DIMENSION: Final = "workflow"

# Inbound workflows (Intacct -> Assignar), per workflow: read from Intacct by pulls, written to Assignar by upserts,
# parked for a person by either (each parks different records, so the two add up).
RECORDS_READ: Final = "RecordsRead"
RECORDS_WRITTEN: Final = "RecordsWritten"
RECORDS_PARKED: Final = "RecordsParked"
# Approved time (workflow "time"): posted or parked by the push, queued by the approval watcher.
TIMESHEETS_POSTED: Final = "TimesheetsPosted"
TIMESHEETS_PARKED: Final = "TimesheetsParked"
TIMESHEETS_QUEUED: Final = "TimesheetsQueued"
# Every run: what it cost each API. Intacct bills and throttles by API transactions: summed per day, this is the
# tenant's budget meter.
INTACCT_TRANSACTIONS: Final = "IntacctTransactions"
ASSIGNAR_CALLS: Final = "AssignarCalls"
RUN_FAILED: Final = "RunFailed"
# Per posted timesheet: from its approval in Assignar (`Timesheet.approved_at`) to the ledger recording it posted.
APPROVAL_TO_INTACCT: Final = "ApprovalToIntacctSeconds"
# Per full pass of the watcher: the age of the oldest approval neither in Intacct nor parked (0 when none).
OLDEST_UNPOSTED_APPROVAL: Final = "OldestUnpostedApprovalSeconds"

METRIC_NAMES: Final = frozenset(
    {
        RECORDS_READ,
        RECORDS_WRITTEN,
        RECORDS_PARKED,
        TIMESHEETS_POSTED,
        TIMESHEETS_PARKED,
        TIMESHEETS_QUEUED,
        INTACCT_TRANSACTIONS,
        ASSIGNAR_CALLS,
        RUN_FAILED,
        APPROVAL_TO_INTACCT,
        OLDEST_UNPOSTED_APPROVAL,
    }
)

MetricValue = tuple[str, MetricUnit, float]


def entry_metrics(entry: RunEntry) -> list[MetricValue]:
    """What one run entry publishes, zeros left out (see the module's docstring)."""
    values: list[MetricValue] = []

    def count(name: str, value: int) -> None:
        if value:
            values.append((name, MetricUnit.Count, float(value)))

    if entry.workflow == TIME_WORKFLOW:
        if entry.kind == "push":
            count(TIMESHEETS_POSTED, entry.written)
            count(TIMESHEETS_PARKED, entry.parked)
        elif entry.kind == "sweep":
            count(TIMESHEETS_QUEUED, entry.written)
    else:
        # A pull's `written` is what it queued, an upsert's `read` what it took from the queue: counting those
        # too would count each record twice.
        if entry.kind in ("pull", "sync", "event"):
            count(RECORDS_READ, entry.read)
        if entry.kind in ("upsert", "sync"):
            count(RECORDS_WRITTEN, entry.written)
        count(RECORDS_PARKED, entry.parked)
    count(INTACCT_TRANSACTIONS, entry.intacct_transactions)
    count(ASSIGNAR_CALLS, entry.assignar_calls)
    count(RUN_FAILED, 1 if entry.outcome == "failed" else 0)
    oldest = _oldest_unposted_s(entry)
    if oldest is not None:
        values.append((OLDEST_UNPOSTED_APPROVAL, MetricUnit.Seconds, oldest))
    return values


def _oldest_unposted_s(entry: RunEntry) -> float | None:
    """A full pass of the watcher measured the oldest unposted approval (absent: none waits, so 0)."""
    if entry.kind != "sweep" or entry.outcome != "ok" or entry.extra.get("pass") != "full":
        return None
    oldest = entry.extra.get("oldest_pending_approval")
    if not oldest:
        return 0.0
    return max(0.0, (entry.started_at - datetime.fromisoformat(str(oldest))).total_seconds())


class MetricsRunLog:
    """A `RunLog` that publishes each run entry as metrics, plus the approval-to-Intacct wait of posted timesheets.

    Metrics are added to the functions' one `Metrics` (observability.metrics) and published by the handler's
    `@metrics.log_metrics` when the invocation ends. Never raises: a metric is never worth a run.
    """

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def record(self, entry: RunEntry) -> None:
        try:
            values = entry_metrics(entry)
        except Exception:  # e.g. an `extra` some writer filled in another shape
            logger.warning("run metrics not published", extra={"workflow": entry.workflow}, exc_info=True)
            return
        self._publish(entry.workflow, values)

    def timesheet_posted(self, result: PushResult) -> None:
        """The wait from approval to Intacct of a timesheet this invocation posted (nothing for other outcomes)."""
        seconds = result.approval_to_intacct_s
        if seconds is not None:
            self._publish(TIME_WORKFLOW, [(APPROVAL_TO_INTACCT, MetricUnit.Seconds, seconds)])

    def _publish(self, workflow: str, values: Sequence[MetricValue]) -> None:
        # Checked here, not only at the flush: Powertools still prints a full set of 100 values when metrics are
        # disabled (3.37), and the demo runs the functions in the CLI's own process with metrics off.
        if not values or is_metrics_disabled():
            return
        try:
            current = self.metrics.dimension_set.get(WORKFLOW_DIMENSION)
            if current is not None and current != workflow:
                # One EMF line holds one value per dimension: another workflow's metrics (a batch of several
                # workflows' records) go out first, in their own line.
                if self.metrics.metric_set:
                    self.metrics.flush_metrics()
                else:
                    self.metrics.clear_metrics()
            self.metrics.add_dimension(name=WORKFLOW_DIMENSION, value=workflow)
            for name, unit, value in values:
                self.metrics.add_metric(name=name, unit=unit, value=value)
        except Exception:
            logger.warning("run metrics not published", extra={"workflow": workflow}, exc_info=True)
