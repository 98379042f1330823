"""Inbound sync in one process (the CLI's `sync`): the same pull and upsert services the Lambdas run, with a
small in-memory queue between them instead of SQS.

A message whose dependency is not in Assignar yet goes to the back of the queue, as SQS would bring it back
later; one that still waits when nothing else moves is reported with its reason.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..assignar.errors import AssignarError, AuthenticationError
from ..config import WORKFLOWS
from ..problems import Problem, explain
from .consume import SyncConsumer
from .messages import MessageError, SyncMessage
from .parking import StoreParking
from .pull import PullReport, PullService, sources_for
from .upsert import DependencyNotReady, UpsertResult, UpsertService

logger = logging.getLogger(__name__)

Outcome = Literal["ok", "failed", "not_run"]

# Assignar failing this many writes in a row after its own retries is Assignar being down, not one record.
ASSIGNAR_DOWN_AFTER = 3


@dataclass
class WorkflowSummary:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    skipped: int = 0
    failed: int = 0
    not_run: str | None = None
    # Why the workflow stopped (Intacct refused its read, a field it needs is not offered): its records waited.
    error: Problem | None = None
    # Optional Intacct fields the company does not offer: the records synced without them.
    missing_fields: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        if self.error is not None or self.failed:
            return "failed"
        return "not_run" if self.not_run else "ok"

    def as_dict(self) -> dict[str, Any]:
        counts = ("fetched", "created", "updated", "unchanged", "deactivated", "skipped", "failed")
        return {
            "outcome": self.outcome,
            **{name: getattr(self, name) for name in counts},
            "not_run": self.not_run,
            "error": self.error.as_dict() if self.error else None,
            "missing_fields": self.missing_fields,
        }


@dataclass
class Failure:
    workflow: str
    record: str
    reason: str


@dataclass
class SyncSummary:
    workflows: dict[str, WorkflowSummary] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    plan: list[UpsertResult] = field(default_factory=list)  # what was (or, dry, would be) written
    pulls: list[PullReport] = field(default_factory=list)
    # Why deleted records could not be looked for (AUDITHISTORY refused), when they could not.
    deletions: Problem | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.deletions is None and all(w.error is None for w in self.workflows.values())

    @property
    def missing_fields(self) -> list[str]:
        """Every optional field the company does not offer, once."""
        return list(dict.fromkeys(name for w in self.workflows.values() for name in w.missing_fields))


class SyncProgress(Protocol):
    """What a sync is doing, as it does it (the CLI draws it on a terminal); every call is cheap and optional."""

    def reading(self, source: str, workflows: Sequence[str]) -> None:
        """Reading one Intacct object for these workflows."""

    def queued(self, workflow: str, count: int) -> None:
        """`count` more of the workflow's records wait to be applied to Assignar."""

    def applied(self, workflow: str) -> None:
        """One of the workflow's records is done: written, found unchanged, or failed."""


class NoProgress:
    def reading(self, source: str, workflows: Sequence[str]) -> None:
        pass

    def queued(self, workflow: str, count: int) -> None:
        pass

    def applied(self, workflow: str) -> None:
        pass


class InProcessQueue:
    """Publisher for the pull and a drain loop for the upsert: SQS's behaviour, minus the network."""

    def __init__(self) -> None:
        self.pending: deque[str] = deque()
        self.parked: list[tuple[str, str]] = []

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        self.pending.extend(message.to_body() for message in messages)

    def park(self, body: str, reason: str) -> None:
        self.parked.append((body, reason))

    def drain(
        self, consumer: SyncConsumer, progress: SyncProgress | None = None
    ) -> tuple[list[UpsertResult], list[tuple[str, str]]]:
        """Apply everything queued; returns what was applied and what could not be, with the reason.

        One record's failure costs that record; Assignar refusing a workflow's resource (403) costs that
        workflow's records, without a call each; Assignar refusing our credentials, or not answering several
        records in a row, ends the run with that error, since no record could get through.
        """
        done: list[UpsertResult] = []
        waiting: dict[str, str] = {}
        failed: list[tuple[str, str]] = []
        refused: dict[str, str] = {}  # workflow -> why Assignar will not take its records
        stalled = 0
        down = 0
        shown = progress or NoProgress()
        while self.pending and stalled <= len(self.pending):
            body = self.pending.popleft()
            # Only parsed again once a workflow was refused: the consumer parses every body anyway.
            workflow = _workflow_of(body) if refused else None
            if workflow in refused:
                failed.append((body, refused[workflow]))
                shown.applied(workflow)
                continue
            try:
                outcome = consumer.handle(body)
            except DependencyNotReady as exc:
                self.pending.append(body)
                waiting[body] = str(exc)
                stalled += 1
                continue
            except AssignarError as exc:
                problem = explain(exc)
                down = down + 1 if problem.unavailable else 0
                if problem.stops_run or down >= ASSIGNAR_DOWN_AFTER:
                    raise
                if isinstance(exc, AuthenticationError) and (workflow := _workflow_of(body)) is not None:
                    refused[workflow] = problem.message  # Assignar will not let us write this resource
                failed.append((body, problem.message))
                waiting.pop(body, None)
                stalled = 0
                shown.applied(_workflow_of(body) or "?")
                continue
            stalled = down = 0
            waiting.pop(body, None)
            if isinstance(outcome, UpsertResult):
                done.append(outcome)
                shown.applied(outcome.workflow)
            else:  # parked: the consumer said why
                shown.applied(_workflow_of(body) or "?")
        # Whatever still waits when nothing moves would, in AWS, be parked after its last delivery.
        still = [(body, waiting.get(body, "waits for a dependency")) for body in self.pending]
        self.pending.clear()
        return done, failed + still


def run_sync(
    pull: PullService,
    upsert: UpsertService,
    *,
    workflows: Sequence[str] = WORKFLOWS,
    full: bool = False,
    progress: SyncProgress | None = None,
    parking: StoreParking | None = None,
) -> SyncSummary:
    """Pull the sources feeding `workflows` (in dependency order), then the deletions, and upsert everything.

    The queue lives in memory, so the watermarks move only after the drain, and only for sources none of whose
    records failed: a refused or waiting record is pulled again next time (once fixed, it goes through), and
    a crash mid-way loses nothing. A dry run moves nothing at all.

    `parking` keeps every record that did not go through, with its reason, for `parked list` and `parked replay`
    (what the dead-letter queue is in AWS), and forgets those this run got through; a dry run parks nothing.
    """
    unknown = sorted(set(workflows) - set(WORKFLOWS))
    if unknown:
        raise ValueError(f"unknown workflow {', '.join(unknown)}; choose from {', '.join(WORKFLOWS)}")
    queue = InProcessQueue()
    shown = progress or NoProgress()
    pull.publisher = queue
    pull.persist_progress = False
    if upsert.dry_run:
        parking = None
    if parking is not None:
        pull.parking = parking  # records the pull cannot map, as the puller parks them in AWS
    summary = SyncSummary({name: WorkflowSummary() for name in WORKFLOWS if name in workflows})
    # Refused credentials or an Intacct that does not answer stop the run here, before any workflow tries.
    pull.intacct.connect()
    for source in sources_for(workflows):
        shown.reading(source.object_name, [name for name in source.workflows if name in summary.workflows])
        try:
            report = pull.pull(source.object_name, full=full)
        except Exception as exc:  # one object's failure costs its workflows, never the run
            stopped = _stops_run_or_explain(exc, source.object_name)
            for workflow in source.workflows:
                if workflow in summary.workflows:
                    summary.workflows[workflow].error = stopped
            continue
        summary.pulls.append(report)
        for workflow in source.workflows:
            if workflow in summary.workflows:
                counts = summary.workflows[workflow]
                counts.fetched += report.fetched
                counts.not_run = report.skipped_workflows.get(workflow)
                if reason := report.cannot_run.get(workflow):
                    # Enabled, but a setting it needs is missing: a failure of the run (exit 1), in `check`'s words.
                    counts.error = Problem(reason)
                elif counts.not_run is None:
                    counts.missing_fields = list(report.missing_fields)
        for problem in report.problems:
            summary.failures.append(Failure(problem.workflow, problem.source_id or "?", problem.reason))
    shown.reading("AUDITHISTORY", ["deletions"])
    try:
        summary.pulls.append(pull.pull_deletions())
    except Exception as exc:
        summary.deletions = _stops_run_or_explain(exc, "AUDITHISTORY")
    for name, count in Counter(_workflow_of(body) or "?" for body in queue.pending).items():
        shown.queued(name, count)
    consumer = SyncConsumer(upsert, queue)
    consumer.prefetch(list(queue.pending))
    done, waiting = queue.drain(consumer, shown)
    for result in done:
        counts = summary.workflows.setdefault(result.workflow, WorkflowSummary())
        setattr(counts, result.action, getattr(counts, result.action) + 1)
        if result.action != "unchanged":
            summary.plan.append(result)
    if parking is not None:
        # Whatever did not go through would be parked in AWS too (at once, or after its last delivery).
        for body, reason in [*queue.parked, *waiting]:
            parking.park(body, reason)
        parking.went_through(done)
    for body, reason in [*queue.parked, *waiting]:
        name, record = "?", "?"
        try:
            message = SyncMessage.from_body(body)
            name = message.workflow
            record = message.record.source_id if message.record else message.integration_id
        except ValueError:
            pass  # a body that is not a message is reported under "?"
        summary.workflows.setdefault(name, WorkflowSummary()).failed += 1
        summary.failures.append(Failure(name, record, reason))
    if not upsert.dry_run:
        failed = {failure.workflow for failure in summary.failures}
        feeds = {s.object_name: s.workflows for s in sources_for(WORKFLOWS)}
        for report in summary.pulls:
            # What a pull published: its own workflows' records, and others it re-sent (a changed project's
            # work orders). Any of them failing keeps the watermark, so the next run reads them again.
            held = set(feeds.get(report.source, ()) or WORKFLOWS) | set(report.published) | set(report.deactivations)
            if "?" in failed or failed & held:
                continue  # pulled again next run, from the same watermark
            pull.commit(report)
    return summary


def _stops_run_or_explain(exc: Exception, object_name: str) -> Problem:
    """Re-raise what no other workflow could get past (Intacct refusing the sender or the login); otherwise the
    problem, for the workflows reading `object_name` only. (A refusal of the whole request that every request
    would meet, such as an expired company, already stopped the run at `connect`.)"""
    problem = explain(exc)
    if problem.stops_run:
        raise exc
    if problem.expected:
        # Said in the run's summary; the log line is for --debug.
        logger.info("workflow failed: %s: %s", object_name, problem.message)
    else:
        # The traceback of a failure nobody foresaw goes to the log (the CLI shows it with --debug).
        logger.warning("workflow failed: %s: %s", object_name, problem.message, exc_info=exc)
    return problem


def _workflow_of(body: str) -> str | None:
    try:
        return SyncMessage.from_body(body).workflow
    except MessageError:
        return None


__all__ = [
    "Failure",
    "InProcessQueue",
    "NoProgress",
    "Outcome",
    "SyncProgress",
    "SyncSummary",
    "WorkflowSummary",
    "run_sync",
]
