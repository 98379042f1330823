"""Inbound sync in one process (the CLI's `sync`): the same pull and upsert services the Lambdas run, with a
small in-memory queue between them instead of SQS.

A message whose dependency is not in Assignar yet goes to the back of the queue, as SQS would bring it back
later; one that still waits when nothing else moves is reported with its reason.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..config import WORKFLOWS
from .consume import Parked, SyncConsumer
from .messages import SyncMessage
from .pull import PullReport, PullService, sources_for
from .upsert import DependencyNotReady, UpsertResult, UpsertService


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

    @property
    def ok(self) -> bool:
        return not self.failures


class InProcessQueue:
    """Publisher for the pull and a drain loop for the upsert: SQS's behaviour, minus the network."""

    def __init__(self) -> None:
        self.pending: deque[str] = deque()
        self.parked: list[tuple[str, str]] = []

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        self.pending.extend(message.to_body() for message in messages)

    def park(self, body: str, reason: str) -> None:
        self.parked.append((body, reason))

    def drain(self, consumer: SyncConsumer) -> tuple[list[UpsertResult], list[tuple[str, str]]]:
        done: list[UpsertResult] = []
        waiting: dict[str, str] = {}
        stalled = 0
        while self.pending and stalled <= len(self.pending):
            body = self.pending.popleft()
            try:
                outcome = consumer.handle(body)
            except DependencyNotReady as exc:
                self.pending.append(body)
                waiting[body] = str(exc)
                stalled += 1
                continue
            stalled = 0
            waiting.pop(body, None)
            if isinstance(outcome, UpsertResult):
                done.append(outcome)
        # Whatever still waits when nothing moves would, in AWS, be parked after its last delivery.
        still = [(body, waiting.get(body, "waits for a dependency")) for body in self.pending]
        self.pending.clear()
        return done, still


def run_sync(
    pull: PullService,
    upsert: UpsertService,
    *,
    workflows: Sequence[str] = WORKFLOWS,
    full: bool = False,
) -> SyncSummary:
    """Pull the sources feeding `workflows` (in dependency order), then the deletions, and upsert everything.

    The queue lives in memory, so the watermarks move only after the drain, and only for sources none of whose
    records failed: a refused or waiting record is pulled again next time (once fixed, it goes through), and
    a crash mid-way loses nothing. A dry run moves nothing at all.
    """
    unknown = sorted(set(workflows) - set(WORKFLOWS))
    if unknown:
        raise ValueError(f"unknown workflow {', '.join(unknown)}; choose from {', '.join(WORKFLOWS)}")
    queue = InProcessQueue()
    pull.publisher = queue
    pull.persist_progress = False
    summary = SyncSummary({name: WorkflowSummary() for name in WORKFLOWS if name in workflows})
    for source in sources_for(workflows):
        report = pull.pull(source.object_name, full=full)
        summary.pulls.append(report)
        for workflow in source.workflows:
            if workflow in summary.workflows:
                summary.workflows[workflow].fetched += report.fetched
                summary.workflows[workflow].not_run = report.skipped_workflows.get(workflow)
        for problem in report.problems:
            summary.failures.append(Failure(problem.workflow, problem.source_id or "?", problem.reason))
    summary.pulls.append(pull.pull_deletions())
    consumer = SyncConsumer(upsert, queue)
    upsert.prefetch([SyncMessage.from_body(body) for body in queue.pending])
    done, waiting = queue.drain(consumer)
    for result in done:
        counts = summary.workflows.setdefault(result.workflow, WorkflowSummary())
        setattr(counts, result.action, getattr(counts, result.action) + 1)
        if result.action != "unchanged":
            summary.plan.append(result)
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
        for report in summary.pulls:
            source_workflows = {s.object_name: s.workflows for s in sources_for(WORKFLOWS)}.get(report.source, ())
            if "?" in failed or failed & set(source_workflows or WORKFLOWS):
                continue  # pulled again next run, from the same watermark
            pull.commit(report)
    return summary


__all__ = ["Failure", "InProcessQueue", "Parked", "SyncSummary", "WorkflowSummary", "run_sync"]
