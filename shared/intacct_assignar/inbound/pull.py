"""The pull: read what changed in one Intacct object, normalize it, and publish one message per record.

Incremental by watermark with the configured lookback (full on request, or when there is no watermark yet).
The watermark only moves to the window's end once every page up to it was published; until then a
checkpoint after each published page lets a pull that runs out of time continue in a follow-up invocation.
Deletions come from one AUDITHISTORY query for all objects (`pull_deletions`), so a scheduled cycle costs one
Intacct query per object plus one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ..config import TenantConfig, WorkflowName
from ..intacct import ChangePull, Cursor, IntacctClient, Window, deletions
from ..intacct.filters import in_
from ..intacct.protocol import Record
from ..sources import PROJECTS, SOURCES, TASKS, IntacctSource
from ..state import PullCheckpoint, StateStore
from .mappings import MappingError, normalize
from .messages import SyncMessage
from .records import ProjectRecord, integration_id_for

logger = logging.getLogger(__name__)

DELETIONS = "AUDITHISTORY"
# Stop starting new pages this long before the invocation's deadline: a page of 2,000 records needs time
# to be fetched, normalized and published.
DEFAULT_SAFETY_S = 60.0


class Publisher(Protocol):
    """Where pulled records go: the upsert queue in AWS, the upsert service directly in the CLI."""

    def publish(self, messages: Sequence[SyncMessage]) -> None: ...


@dataclass
class RecordProblem:
    workflow: str
    object_name: str
    recordno: str | None
    source_id: str | None
    reason: str


@dataclass
class PullReport:
    source: str
    run_id: str
    full: bool
    fetched: int = 0
    published: dict[str, int] = field(default_factory=dict)  # messages per workflow
    deactivations: dict[str, int] = field(default_factory=dict)
    problems: list[RecordProblem] = field(default_factory=list)
    skipped_workflows: dict[str, str] = field(default_factory=dict)  # workflow -> why it did not run
    complete: bool = False  # False: stopped at a checkpoint, to be continued
    watermark: datetime | None = None


def source_named(name: str) -> IntacctSource:
    for source in SOURCES:
        if source.object_name == name.upper():
            return source
    known = ", ".join(s.object_name for s in SOURCES)
    raise ValueError(f"no Intacct source named {name!r} (known: {known}, {DELETIONS})")


def sources_for(workflows: Sequence[str]) -> list[IntacctSource]:
    """The sources feeding these workflows, each once, in dependency order."""
    return [s for s in SOURCES if any(w in s.workflows for w in workflows)]


class PullService:
    """Pulls one Intacct source into messages; knows nothing of Lambda or SQS."""

    def __init__(
        self,
        intacct: IntacctClient,
        state: StateStore,
        publisher: Publisher,
        config: TenantConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pagesize: int = 2000,
    ) -> None:
        self.intacct = intacct
        self.state = state
        self.publisher = publisher
        self.config = config
        self.clock = clock
        self.pagesize = pagesize

    def pull(
        self,
        source_name: str,
        *,
        full: bool = False,
        time_left_s: Callable[[], float] | None = None,
        safety_s: float = DEFAULT_SAFETY_S,
    ) -> PullReport:
        """Pull one source; stops at a page boundary when `time_left_s()` runs below `safety_s`."""
        source = source_named(source_name)
        run_id = uuid.uuid4().hex
        workflows, skipped = self._runnable(source)
        checkpoint = None if full else self.state.get_checkpoint(source.object_name)
        if checkpoint is None:
            now = self.clock()
            watermark = None if full else self.state.get_watermark(source.object_name)
            window = Window.incremental(watermark, self.config.lookback, now)
            checkpoint = PullCheckpoint(
                full=window.since is None,
                since=window.since,
                until=window.until,
                after_recordno=None,
                after_whenmodified=None,
                published=0,
                started_at=now,
            )
        report = PullReport(source.object_name, run_id, checkpoint.full, skipped_workflows=skipped)
        window = Window(checkpoint.since, checkpoint.until)
        cursor = (
            Cursor(checkpoint.after_recordno, checkpoint.after_whenmodified)
            if checkpoint.after_recordno is not None
            else None
        )
        pull = ChangePull(self.intacct, source.object_name, source.fields, window, pagesize=self.pagesize)
        pulled_at = self.clock()
        while True:
            page = pull.page(cursor)
            report.fetched += len(page.records)
            projects = self._projects_of(page.records) if source is TASKS and workflows else {}
            messages = []
            for record in page.records:
                project = projects.get(str(record.get("PROJECTID")))
                messages.extend(self._messages(source, workflows, record, report, run_id, pulled_at, project))
            if messages:
                self.publisher.publish(messages)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
            checkpoint = PullCheckpoint(
                full=checkpoint.full,
                since=checkpoint.since,
                until=checkpoint.until,
                after_recordno=cursor.recordno,
                after_whenmodified=cursor.whenmodified,
                published=checkpoint.published + len(messages),
                started_at=checkpoint.started_at,
            )
            # Saved only after the page's messages are on the queue: a crash re-publishes at most one page,
            # which the upsert absorbs by content hash.
            self.state.put_checkpoint(source.object_name, checkpoint)
            if time_left_s is not None and time_left_s() < safety_s:
                logger.info("pull of %s paused at RECORDNO %s to continue later", source.object_name, cursor.recordno)
                return report
        self.state.set_watermark(source.object_name, window.until)
        self.state.clear_checkpoint(source.object_name)
        report.complete = True
        report.watermark = window.until
        return report

    def run(self, entity: str, *, full: bool = False, time_left_s: Callable[[], float] | None = None) -> PullReport:
        """Pull what a schedule names: a workflow (`workers`), an Intacct object (`EMPLOYEE`) or `deletions`."""
        if entity.lower() == "deletions" or entity.upper() == DELETIONS:
            return self.pull_deletions()
        feeding = sources_for([entity])
        source = feeding[0] if feeding else source_named(entity)
        return self.pull(source.object_name, full=full, time_left_s=time_left_s)

    def pull_deletions(self) -> PullReport:
        """One AUDITHISTORY query for every source: deleted records become deactivations."""
        run_id = uuid.uuid4().hex
        now = self.clock()
        watermark = self.state.get_watermark(DELETIONS)
        report = PullReport(DELETIONS, run_id, full=False)
        if watermark is None:
            # Nothing synced can have been deleted before the first run: start watching from now.
            self.state.set_watermark(DELETIONS, now)
            report.complete, report.watermark = True, now
            return report
        window = Window.incremental(watermark, self.config.lookback, now)
        by_object = {s.object_name: s for s in SOURCES}
        messages = []
        for deleted in deletions(self.intacct, list(by_object), window):
            report.fetched += 1
            integration_id = integration_id_for(deleted.object_name, deleted.recordno)
            for workflow in by_object[deleted.object_name].workflows:
                if not self.config.enabled(workflow):
                    continue
                messages.append(
                    SyncMessage.deactivate(
                        workflow,
                        integration_id,
                        "deleted in Intacct",
                        run_id=run_id,
                        pulled_at=now,
                    )
                )
                report.deactivations[workflow] = report.deactivations.get(workflow, 0) + 1
        if messages:
            self.publisher.publish(messages)
        self.state.set_watermark(DELETIONS, window.until)
        report.complete, report.watermark = True, window.until
        return report

    def _runnable(self, source: IntacctSource) -> tuple[list[WorkflowName], dict[str, str]]:
        runnable: list[WorkflowName] = []
        skipped: dict[str, str] = {}
        for workflow in source.workflows:
            if not self.config.enabled(workflow):
                skipped[workflow] = "disabled in the configuration"
            elif missing := self.config.missing(workflow):
                skipped[workflow] = f"set {', '.join(missing)} in the configuration"
            else:
                runnable.append(workflow)
        return runnable, skipped

    def _messages(
        self,
        source: IntacctSource,
        workflows: Sequence[WorkflowName],
        record: Record,
        report: PullReport,
        run_id: str,
        pulled_at: datetime,
        project: ProjectRecord | None = None,
    ) -> list[SyncMessage]:
        messages = []
        for workflow in workflows:
            try:
                normalized = normalize(workflow, record, self.config, project=project)
            except MappingError as exc:
                # A record Intacct holds but we cannot map (a missing date, a bad value): reported with the
                # reason; the records around it still go through. Fixing it in Intacct re-sends it.
                report.problems.append(
                    RecordProblem(
                        workflow,
                        source.object_name,
                        record.get("RECORDNO"),
                        _source_id(source, record),
                        str(exc),
                    )
                )
                logger.warning("Intacct record not mapped", extra={"workflow": workflow, "problem": str(exc)})
                continue
            messages.append(SyncMessage.upsert(normalized, run_id=run_id, pulled_at=pulled_at))
            counter = report.published if normalized.active else report.deactivations
            counter[workflow] = counter.get(workflow, 0) + 1
        return messages

    def _projects_of(self, tasks: Sequence[Record]) -> dict[str, ProjectRecord]:
        """The projects of a page of tasks, in one query: a work order takes its project's dates and status.

        Costs one Intacct transaction per page of changed tasks, and nothing on a run where no task changed.
        """
        project_ids = sorted({str(t["PROJECTID"]) for t in tasks if t.get("PROJECTID")})
        found: dict[str, ProjectRecord] = {}
        for start in range(0, len(project_ids), 1000):  # <in> takes at most 1000 values
            result = self.intacct.query(
                PROJECTS.object_name,
                PROJECTS.fields,
                filter=in_("PROJECTID", project_ids[start : start + 1000]),
                orderby=[("RECORDNO", True)],
            )
            for raw in result.records:
                try:
                    project = normalize("projects", raw, self.config)
                except MappingError:
                    continue  # reported when the project itself is pulled; its tasks fall back to their own dates
                found[project.source_id] = project
        return found


def _source_id(source: IntacctSource, record: Record) -> str | None:
    id_field = source.fields[1]  # the ID follows RECORDNO in every source's field list
    value = record.get(id_field)
    return value if isinstance(value, str) else None
