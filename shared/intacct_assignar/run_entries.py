"""The run entries each kind of run leaves in the history (`runs.RunEntry`), built from what the run reports.

Pulls, upsert batches, `sync` and pushes all count the same way here, so `status` and the metrics read every run
alike, whichever function or command ran it. Callers record the entries through a `runs.RunLog`.

API costs: the clients count Intacct transactions and Assignar calls per client, not per workflow, so a run that
covers several workflows (a `sync`, a pull of ITEM for roles and assets, an upsert batch) charges its whole cost
to its first entry and none to the others, which carry the first one's workflow in `extra["cost_on"]`: summing
entries then gives what the tenant spent, never twice. A run of one workflow carries its own cost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from .consumer import Parked
from .inbound.events import RecordEvent
from .inbound.messages import SyncMessage
from .inbound.pull import DELETIONS, PullReport, RecordProblem, source_named, sources_for
from .inbound.sync import SyncSummary
from .inbound.targeted import EventResult
from .inbound.upsert import DependencyNotReady, UpsertResult
from .outbound.messages import PushMessage
from .outbound.results import PushResult, TimesheetBusyError
from .outbound.run import PushSummary
from .outcomes import RetryLater
from .problems import explain
from .runs import TIME_WORKFLOW, RunEntry, RunKind, RunLog, RunOutcome
from .state import LeaseLostError

DELETIONS_WORKFLOW = "deletions"


class IntacctSpend(Protocol):
    """What the Intacct client has spent so far (`IntacctClient.counters`)."""

    @property
    def api_transactions(self) -> int: ...


class AssignarSpend(Protocol):
    """What the Assignar client has spent so far (`AssignarClient.calls`)."""

    @property
    def total(self) -> int: ...


@dataclass(frozen=True)
class RunCost:
    intacct_transactions: int = 0
    assignar_calls: int = 0


NO_COST: Final = RunCost()


def _now() -> datetime:
    return datetime.now(UTC)


class RunMeter:
    """When a run began and what it has cost so far. The clients count for as long as their container (or
    command) lives, so a run's own cost is what they counted since it began."""

    def __init__(
        self,
        *,
        intacct: IntacctSpend | None = None,
        assignar: AssignarSpend | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.clock = clock
        self.started_at = clock()
        self._intacct: IntacctSpend | None = None
        self._assignar: AssignarSpend | None = None
        self._intacct_before = self._assignar_before = 0
        self.watch(intacct=intacct, assignar=assignar)

    def watch(self, *, intacct: IntacctSpend | None = None, assignar: AssignarSpend | None = None) -> None:
        """Count these clients from now on (a handler gets its clients only once the run began: reading their
        secrets may be what fails)."""
        if intacct is not None:
            self._intacct, self._intacct_before = intacct, intacct.api_transactions
        if assignar is not None:
            self._assignar, self._assignar_before = assignar, assignar.total

    def now(self) -> datetime:
        return self.clock()

    def cost(self) -> RunCost:
        return RunCost(
            intacct_transactions=self._intacct.api_transactions - self._intacct_before if self._intacct else 0,
            assignar_calls=self._assignar.total - self._assignar_before if self._assignar else 0,
        )


@dataclass
class Tally:
    """What one run of one workflow came to, counted as it goes; `entry` says it as a `RunEntry`.

    `stopped` is the one sentence of a run that could not finish (Intacct refused the read). `failed` records or
    timesheets must be tried again (the queue brings them back); `waiting` ones wait for a dependency, as they
    routinely do (a project arriving before its client), so they do not make the run fail.
    """

    read: int = 0
    written: int = 0
    unchanged: int = 0
    parked: int = 0
    failed: int = 0
    waiting: int = 0
    stopped: str | None = None
    not_run: str | None = None
    failures: list[str] = field(default_factory=list)
    parked_reasons: list[str] = field(default_factory=list)

    def fail(self, why: str) -> None:
        self.failed += 1
        self.failures.append(why)

    def park(self, why: str) -> None:
        self.parked += 1
        self.parked_reasons.append(why)

    @property
    def outcome(self) -> RunOutcome:
        if self.not_run is not None:
            return "not_run"
        if self.stopped is not None or self.failed:
            return "failed"
        return "parked" if self.parked else "ok"

    @property
    def detail(self) -> str | None:
        if self.not_run is not None:
            return self.not_run
        if self.stopped is not None:
            return self.stopped
        if self.failed:
            return _first_of(self.failed, "failed", self.failures)
        if self.parked:
            return _first_of(self.parked, "parked", self.parked_reasons)
        return None

    def entry(
        self,
        workflow: str,
        kind: RunKind,
        *,
        started_at: datetime,
        ended_at: datetime,
        cost: RunCost = NO_COST,
        extra: dict[str, Any] | None = None,
    ) -> RunEntry:
        figures = dict(extra or {})
        if self.failed:
            figures["failed"] = self.failed
        if self.waiting:
            figures["waiting"] = self.waiting
        return RunEntry(
            workflow=workflow,
            kind=kind,
            started_at=started_at,
            ended_at=ended_at,
            outcome=self.outcome,
            read=self.read,
            written=self.written,
            unchanged=self.unchanged,
            parked=self.parked,
            intacct_transactions=cost.intacct_transactions,
            assignar_calls=cost.assignar_calls,
            detail=self.detail,
            extra=figures,
        )


def _first_of(count: int, what: str, reasons: Sequence[str]) -> str:
    """The first reason, and how many more there are: one sentence, whatever the count."""
    first = reasons[0] if reasons else f"{count} {what}"
    return first if count == 1 else f"{first} (and {count - 1} more {what})"


def charged(entries: list[RunEntry], cost: RunCost) -> list[RunEntry]:
    """The run's cost on its first entry only (see the module's docstring)."""
    if not entries:
        return entries
    first = entries[0]
    rest = [replace(e, extra={**e.extra, "cost_on": first.workflow}) for e in entries[1:]]
    costed = replace(first, intacct_transactions=cost.intacct_transactions, assignar_calls=cost.assignar_calls)
    return [costed, *rest]


def failed_entries(
    workflows: Iterable[str],
    kind: RunKind,
    sentence: str,
    *,
    started_at: datetime,
    ended_at: datetime,
    cost: RunCost = NO_COST,
) -> list[RunEntry]:
    """A run that stopped before it could report anything: each of its workflows failed, with its one sentence."""
    run = uuid.uuid4().hex[:12]
    entries = [
        Tally(stopped=sentence).entry(workflow, kind, started_at=started_at, ended_at=ended_at, extra={"run": run})
        for workflow in dict.fromkeys(workflows)
    ]
    return charged(entries, cost)


# --- the puller ------------------------------------------------------------------------------------------------


def entries_from_pull(report: PullReport, *, ended_at: datetime, cost: RunCost = NO_COST) -> list[RunEntry]:
    """One "pull" entry per workflow of the pulled source that ran, or could not ("not_run", a setting missing);
    "deletions" for the audit-trail pull. Nothing for a pull paused at a checkpoint: it is recorded when the
    invocation that finishes it ends, from the start of the first (`PullReport.started_at`).

    `read` is what was read of the source: ITEM's records count for both roles and assets, as each looked at all
    of them. Disabled workflows get no entry (`status` shows them disabled). Work orders a projects pull re-sent
    are counted in the projects entry's `extra["also_sent"]`, not as a work-orders run: the work orders' own pull
    (of TASK) says how they stand, and a re-send must not hide its failure.
    """
    if not report.complete:
        return []
    started_at = report.started_at or ended_at
    extra: dict[str, Any] = {
        "run": report.run_id[:12],
        "source": report.source,
        "progress_key": report.progress_key,
        "full": report.full,
        "watermark": report.watermark.astimezone(UTC).isoformat() if report.watermark else None,
    }
    if report.source == DELETIONS:
        tally = Tally(read=report.fetched, written=sum(report.deactivations.values()))
        extra["deactivations"] = dict(report.deactivations)
        return [
            tally.entry(DELETIONS_WORKFLOW, "pull", started_at=started_at, ended_at=ended_at, cost=cost, extra=extra)
        ]
    own = source_named(report.source).workflows
    also_sent = {
        workflow: report.published.get(workflow, 0) + report.deactivations.get(workflow, 0)
        for workflow in {*report.published, *report.deactivations}
        if workflow not in own
    }
    entries = []
    for workflow in own:
        if workflow in report.skipped_workflows:
            continue
        tally = Tally(not_run=report.cannot_run.get(workflow))
        if tally.not_run is None:
            tally.read = report.fetched
            tally.written = report.published.get(workflow, 0) + report.deactivations.get(workflow, 0)
            tally.unchanged = report.unchanged.get(workflow, 0)
            for problem in report.problems:
                if problem.workflow == workflow:
                    tally.park(_record_problem(problem))
        figures = {**extra, "also_sent": also_sent} if also_sent and workflow == own[0] else extra
        entries.append(tally.entry(workflow, "pull", started_at=started_at, ended_at=ended_at, extra=figures))
    return charged(entries, cost)


def entries_from_failed_pull(
    entity: str, sentence: str, *, started_at: datetime, ended_at: datetime, cost: RunCost = NO_COST
) -> list[RunEntry]:
    """A pull that raised: every workflow its source feeds failed, with the sentence the puller logged.

    The tenant's settings may be what failed, so which workflows were enabled is not asked: a disabled one's
    entry changes nothing (`status` shows it disabled)."""
    return failed_entries(
        pulled_workflows(entity), "pull", sentence, started_at=started_at, ended_at=ended_at, cost=cost
    )


def pulled_workflows(entity: str) -> list[str]:
    """The workflows a schedule's entity feeds, resolved as `PullService.run` resolves it; [] for no known one."""
    if entity.lower() == DELETIONS_WORKFLOW or entity.upper() == DELETIONS:
        return [DELETIONS_WORKFLOW]
    feeding = sources_for([entity])
    if feeding:
        return list(feeding[0].workflows)
    try:
        return list(source_named(entity).workflows)
    except ValueError:
        return []


def _why(error: Exception) -> str:
    """One line: `RetryLater`'s own words (it says when it comes back), else `explain`'s sentence."""
    text = str(error) if isinstance(error, RetryLater) else explain(error).message
    return " ".join(text.split())


def _record_problem(problem: RecordProblem) -> str:
    return f"{problem.workflow} {problem.source_id or problem.recordno or '?'}: {problem.reason}"


# --- `sync` on the command line ---------------------------------------------------------------------------------


def entries_from_sync(
    summary: SyncSummary, *, started_at: datetime, ended_at: datetime, cost: RunCost = NO_COST
) -> list[RunEntry]:
    """One "sync" entry per workflow it ran (fetched, written, unchanged; its failed records parked), and one for
    the deletions it looked for. Disabled workflows get none."""
    run = uuid.uuid4().hex[:12]
    reports = {report.source: report for report in summary.pulls}
    entries = []
    for workflow, counts in summary.workflows.items():
        if counts.not_run is not None:
            continue  # disabled in the configuration
        try:
            source = sources_for([workflow])[0]
        except IndexError:
            continue  # "?": records whose message could not be read, reported by `sync` itself
        report = reports.get(source.object_name)
        reason = report.cannot_run.get(workflow) if report is not None else None
        tally = Tally(
            read=counts.fetched,
            written=counts.created + counts.updated + counts.deactivated,
            unchanged=counts.unchanged + counts.skipped,
            not_run=reason,
            stopped=counts.error.message if counts.error is not None and reason is None else None,
        )
        for failure in summary.failures:
            if failure.workflow == workflow:
                tally.park(f"{workflow} {failure.record}: {failure.reason}")
        extra: dict[str, Any] = {"run": run}
        if report is not None:
            extra["progress_key"] = report.progress_key
        entries.append(tally.entry(workflow, "sync", started_at=started_at, ended_at=ended_at, extra=extra))
    deletions = reports.get(DELETIONS)
    if summary.deletions is not None:
        tally = Tally(stopped=summary.deletions.message)
    elif deletions is not None:
        tally = Tally(read=deletions.fetched, written=sum(deletions.deactivations.values()))
    else:
        return charged(entries, cost)
    extra = {"run": run, "progress_key": DELETIONS}
    entries.append(tally.entry(DELETIONS_WORKFLOW, "sync", started_at=started_at, ended_at=ended_at, extra=extra))
    return charged(entries, cost)


# --- the upsert consumer ----------------------------------------------------------------------------------------


class UpsertBatch:
    """One delivery batch of the upsert queue, counted delivery by delivery: one "upsert" entry per workflow in it.

    A body that is not a sync message is parked under no workflow (the dead-letter queue lists it with its reason).
    """

    def __init__(self, meter: RunMeter) -> None:
        self.meter = meter
        self.tallies: dict[str, Tally] = {}

    def handled(self, outcome: UpsertResult | Parked[SyncMessage]) -> None:
        if isinstance(outcome, UpsertResult):
            tally = self._tally(outcome.workflow)
            tally.read += 1
            if outcome.action in ("created", "updated", "deactivated"):
                tally.written += 1
            else:
                tally.unchanged += 1
        elif outcome.message is not None:
            tally = self._tally(outcome.message.workflow)
            tally.read += 1
            tally.park(outcome.reason)

    def retrying(self, body: str, error: Exception) -> None:
        """A delivery that raised: the queue brings it back."""
        try:
            message = SyncMessage.from_body(body)
        except ValueError:
            return
        tally = self._tally(message.workflow)
        tally.read += 1
        if isinstance(error, DependencyNotReady):
            tally.waiting += 1
        else:
            tally.fail(f"{message.workflow} {message.integration_id}: {_why(error)}")

    def entries(self) -> list[RunEntry]:
        ended_at = self.meter.now()
        run = uuid.uuid4().hex[:12]
        entries = [
            tally.entry(workflow, "upsert", started_at=self.meter.started_at, ended_at=ended_at, extra={"run": run})
            for workflow, tally in self.tallies.items()
        ]
        return charged(entries, self.meter.cost())

    def _tally(self, workflow: str) -> Tally:
        return self.tallies.setdefault(workflow, Tally())


# --- the targeted pull (Smart Events) -----------------------------------------------------------------------------


class EventBatch:
    """One delivery batch of the event queue: one "event" entry per workflow whose object it read.

    Counted as a pull's entry is (`read` from Intacct, `written` sent to the upsert queue, `unchanged`, records it
    could not map parked), plus each notice that failed (its object could not be read: it comes back) or was parked.
    """

    def __init__(self, meter: RunMeter) -> None:
        self.meter = meter
        self.tallies: dict[str, Tally] = {}

    def handled(self, outcome: EventResult | Parked[RecordEvent]) -> None:
        if isinstance(outcome, EventResult) or outcome.message is None:
            return  # counted from the reads' reports; a body that was not an event is the parked queue's to show
        for workflow in _workflows_of(outcome.message.object_name):
            self._tally(workflow).park(
                f"{workflow} {outcome.message.object_name} {outcome.message.recordno}: {outcome.reason}"
            )

    def retrying(self, body: str, error: Exception) -> None:
        """A notice that raised (its object could not be read): the queue brings it back."""
        try:
            event = RecordEvent.from_body(body)
        except ValueError:
            return
        for workflow in _workflows_of(event.object_name):
            self._tally(workflow).fail(f"{workflow} {event.object_name} {event.recordno}: {_why(error)}")

    def entries(self, reports: Sequence[PullReport]) -> list[RunEntry]:
        for report in reports:
            for workflow in source_named(report.source).workflows:
                if workflow in report.skipped_workflows:
                    continue
                tally = self._tally(workflow)
                if workflow in report.cannot_run:
                    tally.not_run = report.cannot_run[workflow]
                    continue
                tally.read += report.fetched
                tally.written += report.published.get(workflow, 0) + report.deactivations.get(workflow, 0)
                tally.unchanged += report.unchanged.get(workflow, 0)
                for problem in report.problems:
                    if problem.workflow == workflow:
                        tally.park(_record_problem(problem))
        ended_at = self.meter.now()
        run = uuid.uuid4().hex[:12]
        entries = [
            tally.entry(workflow, "event", started_at=self.meter.started_at, ended_at=ended_at, extra={"run": run})
            for workflow, tally in self.tallies.items()
        ]
        return charged(entries, self.meter.cost())

    def _tally(self, workflow: str) -> Tally:
        return self.tallies.setdefault(workflow, Tally())


def _workflows_of(object_name: str) -> tuple[str, ...]:
    try:
        return source_named(object_name).workflows
    except ValueError:
        return ()


# --- pushing timesheets -----------------------------------------------------------------------------------------


def entry_from_push(
    results: Sequence[PushResult], *, started_at: datetime, ended_at: datetime, cost: RunCost = NO_COST
) -> RunEntry:
    """The "time" "push" entry: timesheets handled, posted, already posted or being posted elsewhere, parked,
    failed (to be tried again)."""
    tally = Tally()
    for result in results:
        _count_push(tally, result)
    return tally.entry(TIME_WORKFLOW, "push", started_at=started_at, ended_at=ended_at, cost=cost)


def _count_push(tally: Tally, result: PushResult) -> None:
    tally.read += 1
    why = f"timesheet {result.timesheet_id}: {result.reason or result.outcome.replace('_', ' ')}"
    if result.outcome == "posted":
        tally.written += 1
    elif result.outcome in ("already_posted", "skipped", "dry_run"):
        tally.unchanged += 1
    elif result.outcome == "parked":
        tally.park(why)
    else:
        tally.fail(why)


class PushBatch:
    """One delivery batch of the push queue, counted delivery by delivery, as one "time" "push" entry."""

    def __init__(self, meter: RunMeter) -> None:
        self.meter = meter
        self.tally = Tally()

    def handled(self, result: PushResult | None) -> None:
        """`PushConsumer.handle`'s answer; None for a body that was not a push message (parked)."""
        if result is None:
            self.tally.read += 1
            self.tally.park("a delivery that is not a push message was parked")
            return
        _count_push(self.tally, result)

    def retrying(self, body: str, error: Exception) -> None:
        """A delivery that raised: the queue brings it back. One another worker holds is that worker's to report."""
        try:
            timesheet = f"timesheet {PushMessage.from_body(body).timesheet_id}"
        except ValueError:
            timesheet = "a timesheet"
        self.tally.read += 1
        if isinstance(error, (TimesheetBusyError, LeaseLostError)):
            self.tally.unchanged += 1
        else:
            self.tally.fail(f"{timesheet}: {_why(error)}")

    def entry(self) -> RunEntry:
        return self.tally.entry(
            TIME_WORKFLOW, "push", started_at=self.meter.started_at, ended_at=self.meter.now(), cost=self.meter.cost()
        )


# --- the command line's runs ------------------------------------------------------------------------------------


def sync_recorded(
    log: RunLog, meter: RunMeter, workflows: Sequence[str], run: Callable[[], SyncSummary]
) -> SyncSummary:
    """`run()` (a `sync`), its entries recorded; one that raises (Intacct refused the credentials) is recorded as
    failed for each workflow it was asked for and the deletions, in the sentence the command prints, and raised."""
    try:
        summary = run()
    except Exception as exc:
        for entry in failed_entries(
            [*workflows, DELETIONS_WORKFLOW],
            "sync",
            explain(exc).message,
            started_at=meter.started_at,
            ended_at=meter.now(),
            cost=meter.cost(),
        ):
            log.record(entry)
        raise
    for entry in entries_from_sync(summary, started_at=meter.started_at, ended_at=meter.now(), cost=meter.cost()):
        log.record(entry)
    return summary


def push_recorded(log: RunLog, meter: RunMeter, run: Callable[[], PushSummary]) -> PushSummary:
    """`run()` (a `push-timesheets`), its entry recorded; one that raises is recorded as failed, and raised."""
    try:
        summary = run()
    except Exception as exc:
        sentence = explain(exc).message
        for entry in failed_entries(
            [TIME_WORKFLOW], "push", sentence, started_at=meter.started_at, ended_at=meter.now(), cost=meter.cost()
        ):
            log.record(entry)
        raise
    log.record(entry_from_push(summary.results, started_at=meter.started_at, ended_at=meter.now(), cost=meter.cost()))
    return summary
