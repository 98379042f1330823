"""The pull: read what changed in one Intacct object, normalize it, and publish one message per record.

Incremental by watermark with the configured lookback (full on request, or when there is no watermark yet).
The watermark only moves to the window's end once every page up to it was published; until then a
checkpoint after each published page lets a pull that runs out of time continue in a follow-up invocation.
Deletions come from one AUDITHISTORY query for all objects (`pull_deletions`), so a scheduled cycle costs one
Intacct query per object plus one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from ..catalog import FieldCatalog, definition_scope
from ..config import TenantConfig, WorkflowName
from ..consumer import Parking
from ..intacct import ChangePull, Cursor, Page, Window, deletions
from ..intacct.errors import IntacctBusinessError, IntacctError, IntacctInvalidFieldsError
from ..intacct.filters import Filter, and_, gt, in_
from ..intacct.protocol import Record, Result
from ..sources import (
    DELETION_LOG,
    MAILADDRESS,
    PROJECTS,
    RECORD_KEY,
    SITE_CONTACTS,
    SOURCES,
    TASK_PROJECTS,
    TASKS,
    FieldsUnavailableError,
    IntacctSource,
    Selection,
    select,
)
from ..state import PullCheckpoint, StateStore
from .messages import SyncMessage
from .normalize import ID_FIELDS, normalize
from .ports import IntacctReader
from .records import MappingError, ProjectRecord, integration_id_for

logger = logging.getLogger(__name__)
T = TypeVar("T")

DELETIONS = "AUDITHISTORY"
# Stop starting new pages this long before the invocation's deadline: a page of 2,000 records needs time
# to be fetched, normalized and published.
DEFAULT_SAFETY_S = 60.0
# Records normalized and published together: a multiple of SQS's batch of ten and of DynamoDB's reads of 100 keys
# (`_drop_unchanged`), so slicing a page costs no extra call.
PUBLISH_SLICE = 200


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "object_name": self.object_name,
            "recordno": self.recordno,
            "source_id": self.source_id,
            "reason": self.reason,
        }


@dataclass
class PullReport:
    source: str
    run_id: str
    full: bool
    fetched: int = 0
    published: dict[str, int] = field(default_factory=dict)  # messages per workflow
    deactivations: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)  # read again, already in Assignar as they are
    problems: list[RecordProblem] = field(default_factory=list)
    skipped_workflows: dict[str, str] = field(default_factory=dict)  # workflow -> why it did not run (disabled)
    # Enabled workflows refused for a missing setting -> `TenantConfig.cannot_run`'s sentence: a failure to report.
    cannot_run: dict[str, str] = field(default_factory=dict)
    complete: bool = False  # False: stopped at a checkpoint, to be continued
    watermark: datetime | None = None
    progress_key: str = ""  # the name its watermark and checkpoint are kept under
    # Optional fields the company does not offer, as "OBJECT.FIELD (what it is for)": synced without them.
    missing_fields: list[str] = field(default_factory=list)
    # When the pull began: a pull continued from a checkpoint began in the invocation that first started it.
    started_at: datetime | None = None
    # The RECORDNOs a targeted pull (`pull_records`) found in Intacct: a record missing here was not returned.
    found: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """What the puller reports of a run (its log line and answer)."""
        return {
            "source": self.source,
            "complete": self.complete,
            "fetched": self.fetched,
            "published": self.published,
            "deactivations": self.deactivations,
            "problems": [problem.as_dict() for problem in self.problems],
            "skipped_workflows": self.skipped_workflows,
            "cannot_run": self.cannot_run,
            "missing_fields": self.missing_fields,
        }


def source_named(name: str) -> IntacctSource:
    for source in SOURCES:
        if source.object_name == name.upper():
            return source
    known = ", ".join(s.object_name for s in SOURCES)
    raise ValueError(f"no Intacct source named {name!r} (known: {known}, {DELETIONS})")


def progress_key(source: IntacctSource, config: TenantConfig, selection: Selection | None = None) -> str:
    """`PullService.progress_key`, for readers of the watermarks that hold no pull service (`status`)."""
    settings: dict[str, object] = {
        workflow: {
            "enabled": config.enabled(workflow),
            "missing": config.missing(workflow),
            "section": config.workflows.get(workflow).model_dump(mode="json"),
        }
        for workflow in source.workflows
    }
    if selection is not None and selection.missing:
        settings["~not offered"] = sorted(need.name for need in selection.missing)
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return f"{source.object_name}#{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


def sources_for(workflows: Sequence[str]) -> list[IntacctSource]:
    """The sources feeding these workflows, each once, in dependency order."""
    return [s for s in SOURCES if any(w in s.workflows for w in workflows)]


class PullService:
    """Pulls one Intacct source into messages (from the client, or any other `IntacctReader`); knows nothing of
    Lambda or SQS."""

    def __init__(
        self,
        intacct: IntacctReader,
        state: StateStore,
        publisher: Publisher,
        config: TenantConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pagesize: int = 2000,
        persist_progress: bool = True,
        parking: Parking | None = None,
        catalog: FieldCatalog | None = None,
    ) -> None:
        self.intacct = intacct
        self.state = state
        self.publisher = publisher
        self.config = config
        self.clock = clock
        self.pagesize = pagesize
        # False when the publisher is not durable (the CLI's in-memory queue): then no checkpoint is kept and
        # the caller moves the watermark (`commit`) only once the published records were applied.
        self.persist_progress = persist_progress
        # Where records that cannot be mapped are parked with their reason (the dead-letter queue in AWS), so
        # an admin sees them beside the ones Assignar refused; the CLI reports them instead.
        self.parking = parking
        # Which fields this company offers, asked of Intacct (`lookup`) and kept in the state store a day.
        self.catalog = catalog or FieldCatalog(intacct, state, scope=definition_scope(intacct.settings), clock=clock)

    def progress_key(self, source: IntacctSource, selection: Selection | None = None) -> str:
        """The watermark's and checkpoint's name: the object and a fingerprint of the workflow settings it serves
        and of the optional fields the company does not offer.

        Enabling a workflow, setting a key it lacked or changing a filter or GL group changes the fingerprint,
        so the next pull of that object starts from scratch: records outside the old settings are (re)sent and
        records now outside the filter are deactivated, instead of waiting for their next edit in Intacct. So
        does a field the company starts (or stops) offering: a mobile number the Web Services user may now see
        reaches every worker, not only those edited since. A company offering every field keeps the key it had.
        Without `selection`, the key of the settings alone (it never asks Intacct).
        """
        return progress_key(source, self.config, selection)

    def commit(self, report: PullReport) -> None:
        """Move the watermark to where a complete pull read up to (for callers that defer it)."""
        if report.complete and report.watermark is not None:
            self.state.set_watermark(report.progress_key, report.watermark)

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
        workflows, skipped, cannot_run = self._runnable(source)
        key = self.progress_key(source)
        if not workflows:
            # Nothing would be written: no read either. Enabling a workflow changes `key`, so its first pull
            # then starts from the beginning.
            return PullReport(
                source.object_name,
                run_id,
                full,
                skipped_workflows=skipped,
                cannot_run=cannot_run,
                progress_key=key,
                complete=True,
                started_at=self.clock(),
            )
        # Raises before anything is read when the company lacks a field the workflows cannot do without.
        selection = select(source, self.catalog, self.config)
        key = self.progress_key(source, selection)
        checkpoint = self.state.get_checkpoint(key) if self.persist_progress else None
        if checkpoint is not None and full and not checkpoint.full:
            checkpoint = None  # a full pull asked for while an incremental one was paused: start the full one
        # A checkpoint is resumed whatever was asked: a continuation repeats its request, `full` included.
        if checkpoint is None:
            now = self.clock()
            watermark = None if full else self.state.get_watermark(key)
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
        report = PullReport(
            source.object_name,
            run_id,
            checkpoint.full,
            skipped_workflows=skipped,
            cannot_run=cannot_run,
            progress_key=key,
            started_at=checkpoint.started_at,
        )
        window = Window(checkpoint.since, checkpoint.until)
        cursor = (
            Cursor(checkpoint.after_recordno, checkpoint.after_whenmodified)
            if checkpoint.after_recordno is not None
            else None
        )
        pull = ChangePull(self.intacct, source.object_name, selection.fields, window, pagesize=self.pagesize)
        pulled_at = self.clock()
        sites = _SiteAddresses(self) if source is PROJECTS else None
        while True:
            page, selection = self._page(pull, cursor, source)
            report.fetched += len(page.records)
            published = self._publish(page.records, source, workflows, selection, sites, report, run_id, pulled_at)
            report.missing_fields = selection.describe_missing() + (sites.missing if sites is not None else [])
            # Let go of the page (and, with `_publish` returned, of its messages) before the next is read: a pull
            # then holds one page at a time, whatever the company's size.
            next_cursor = page.next_cursor
            del page
            if next_cursor is None:
                break
            cursor = next_cursor
            checkpoint = PullCheckpoint(
                full=checkpoint.full,
                since=checkpoint.since,
                until=checkpoint.until,
                after_recordno=cursor.recordno,
                after_whenmodified=cursor.whenmodified,
                published=checkpoint.published + published,
                started_at=checkpoint.started_at,
            )
            if not self.persist_progress:
                continue
            # Saved only after the page's messages are on the queue: a crash re-publishes at most one page,
            # which the upsert absorbs by content hash.
            self.state.put_checkpoint(key, checkpoint)
            if time_left_s is not None and time_left_s() < safety_s:
                logger.info("pull of %s paused at RECORDNO %s to continue later", source.object_name, cursor.recordno)
                return report
        report.complete = True
        report.watermark = window.until
        if self.persist_progress:
            self.state.set_watermark(key, window.until)
            self.state.clear_checkpoint(key)
        return report

    def _publish(
        self,
        records: list[Record],
        source: IntacctSource,
        workflows: Sequence[WorkflowName],
        selection: Selection,
        sites: _SiteAddresses | None,
        report: PullReport,
        run_id: str,
        pulled_at: datetime,
    ) -> int:
        """Normalize one page and publish its messages; how many were published.

        Published a slice of the page at a time: a page's messages take more than twice the memory of its
        records (about 8 MB for 2,000 workers), and need not all be held at once.
        """
        if sites is not None and "SHIPTO.CONTACTNAME" in selection.fields:
            sites.attach(records)
        projects = self._projects_of(records) if source is TASKS else {}
        published = 0
        for start in range(0, len(records), PUBLISH_SLICE):
            messages = []
            for record in records[start : start + PUBLISH_SLICE]:
                project = projects.get(str(record.get("PROJECTID")))
                messages.extend(self._messages(source, workflows, record, report, run_id, pulled_at, project))
            published += self._send(messages, report)
        if source is PROJECTS and records and not report.full:
            # A work order copies its project's status, dates and customer: changed projects re-send theirs.
            published += self._send(self._work_orders_of(records, report, run_id, pulled_at), report)
        return published

    def _send(self, messages: list[SyncMessage], report: PullReport) -> int:
        """Publish the messages (an incremental pull's, less those already written as they are); how many."""
        if not report.full:
            messages = self._drop_unchanged(messages, report)
        if messages:
            self.publisher.publish(messages)
        return len(messages)

    def run(self, entity: str, *, full: bool = False, time_left_s: Callable[[], float] | None = None) -> PullReport:
        """Pull what a schedule names: a workflow (`workers`), an Intacct object (`EMPLOYEE`) or `deletions`."""
        if entity.lower() == "deletions" or entity.upper() == DELETIONS:
            return self.pull_deletions()
        feeding = sources_for([entity])
        source = feeding[0] if feeding else source_named(entity)
        return self.pull(source.object_name, full=full, time_left_s=time_left_s)

    def pull_records(self, source_name: str, recordnos: Sequence[str]) -> PullReport:
        """Read these records of one source by RECORDNO and publish them as a scheduled pull would (a Smart Event's
        targeted pull): the same fields, normalising and filters (a record outside a workflow's filter, or inactive,
        becomes a deactivation), the same related reads and the same check for records already written as they are.

        One query per 1,000 records, plus what the scheduled pull adds per page (a project's ship-to contacts and
        work orders, a task's projects). Watermarks and checkpoints are left alone: the scheduled pull still reads
        these records in its window and finds them unchanged. A record Intacct no longer returns (deleted, or out
        of the Web Services user's sight) publishes nothing, as it would not appear in a scheduled pull either: a
        deletion reaches Assignar through the deletions pull.
        """
        source = source_named(source_name)
        workflows, skipped, cannot_run = self._runnable(source)
        now = self.clock()
        report = PullReport(
            source.object_name,
            uuid.uuid4().hex,
            False,
            skipped_workflows=skipped,
            cannot_run=cannot_run,
            complete=True,
            started_at=now,
        )
        if not workflows:
            return report
        keys = sorted(set(recordnos), key=int)
        sites = _SiteAddresses(self) if source is PROJECTS else None
        for start in range(0, len(keys), 1000):  # <in> takes at most 1000 values, and a page holds 2,000 records
            result, selection = self._query(source, in_(RECORD_KEY, keys[start : start + 1000]))
            report.fetched += len(result.records)
            report.found.update(str(record.get(RECORD_KEY)) for record in result.records)
            self._publish(result.records, source, workflows, selection, sites, report, report.run_id, now)
            report.missing_fields = selection.describe_missing() + (sites.missing if sites is not None else [])
        return report

    def pull_deletions(self) -> PullReport:
        """One AUDITHISTORY query for every source: deleted records become deactivations."""
        run_id = uuid.uuid4().hex
        now = self.clock()
        # Every field of the audit trail is required: a company without them fails here, on the first run.
        select(DELETION_LOG, self.catalog, self.config)
        watermark = self.state.get_watermark(DELETIONS)
        report = PullReport(DELETIONS, run_id, full=False, progress_key=DELETIONS, started_at=now)
        if watermark is None:
            # First run: watch from the start of the earliest pull that already ran (a record deleted after it
            # was pulled must still be deactivated); with none yet, from now.
            keys = [self.progress_key(s, self._known_selection(s)) for s in SOURCES if self._runnable(s)[0]]
            started = [w for w in map(self.state.get_watermark, keys) if w is not None]
            if not started:
                report.complete, report.watermark = True, now
                if self.persist_progress:
                    self.state.set_watermark(DELETIONS, now)
                return report
            watermark = min(started) - self.config.lookback
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
        report.complete, report.watermark = True, window.until
        if self.persist_progress:
            self.state.set_watermark(DELETIONS, window.until)
        return report

    def _page(self, pull: ChangePull, cursor: Cursor | None, source: IntacctSource) -> tuple[Page, Selection]:
        """The next page, selecting again when Intacct refuses the field list (see `_read`)."""

        def read(selection: Selection) -> Page:
            pull.reselect(selection.fields)
            return pull.page(cursor)

        return self._read(source, read)

    def _query(self, source: IntacctSource, where: Filter, *, after: int = 0) -> tuple[Result, Selection]:
        """One page (by RECORDNO) of a related read, with the same field discovery and refusal handling."""

        def read(selection: Selection) -> Result:
            return self.intacct.query(
                source.object_name,
                selection.fields,
                filter=and_(where, gt("RECORDNO", str(after)) if after else None),
                orderby=[("RECORDNO", True)],
                pagesize=self.pagesize,
            )

        return self._read(source, read)

    def _read(self, source: IntacctSource, read: Callable[[Selection], T]) -> tuple[T, Selection]:
        """`read` with the fields to select, tried again when Intacct refuses the field list.

        The first refusal means the cached definition is stale (a custom field dropped, a permission taken
        away): it is asked for again at once, not a day later. A field Intacct still refuses though `lookup`
        lists it (one reached through a relationship, say) is left out (`FieldCatalog.refuse`); refused fields
        the workflow cannot do without fail it, in Intacct's words or ours.
        """
        selection = select(source, self.catalog, self.config)
        refreshed = False
        while True:
            try:
                return read(selection), selection
            except IntacctInvalidFieldsError as refused:
                logger.warning(
                    "Intacct refused a field list",
                    extra={"object": source.object_name, "field": refused.field, "error": str(refused)},
                )
                named = refused.field if refused.field in selection.fields else None
                if refreshed and named is None:
                    raise  # nothing left to learn or leave out
                if not refreshed:
                    refreshed = True
                    self.catalog.refresh(source.object_name, related=True)
                    selection = select(source, self.catalog, self.config)
                if named is not None and named in selection.fields:
                    self.catalog.refuse(source.object_name, named)
                selection = select(source, self.catalog, self.config)

    def _known_selection(self, source: IntacctSource) -> Selection | None:
        """The selection, when Intacct has answered what it needs (else None, and nothing raised)."""
        try:
            return select(source, self.catalog, self.config)
        except (IntacctError, FieldsUnavailableError):
            return None

    def _runnable(self, source: IntacctSource) -> tuple[list[WorkflowName], dict[str, str], dict[str, str]]:
        """The workflows to run; those disabled, with why; those enabled but refused, with `cannot_run`'s words."""
        runnable: list[WorkflowName] = []
        skipped: dict[str, str] = {}
        cannot_run: dict[str, str] = {}
        for workflow in source.workflows:
            if not self.config.enabled(workflow):
                skipped[workflow] = "disabled in the configuration"
            elif reason := self.config.cannot_run(workflow):
                cannot_run[workflow] = reason
            else:
                runnable.append(workflow)
        return runnable, skipped, cannot_run

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
                        _source_id(workflow, record),
                        str(exc),
                    )
                )
                logger.warning("Intacct record not mapped", extra={"workflow": workflow, "problem": str(exc)})
                if self.parking is not None:
                    problem = report.problems[-1]
                    self.parking.park(json.dumps({"kind": "unmapped", **problem.as_dict()}), str(exc))
                continue
            messages.append(SyncMessage.upsert(normalized, run_id=run_id, pulled_at=pulled_at, verify=report.full))
            counter = report.published if normalized.active else report.deactivations
            counter[workflow] = counter.get(workflow, 0) + 1
        return messages

    def _drop_unchanged(self, messages: list[SyncMessage], report: PullReport) -> list[SyncMessage]:
        """Leave out records already written with this exact content: the lookback re-reads the last two hours
        on every run, and those would otherwise travel through the queue only to be found unchanged there.
        Full pulls send everything (they are how an admin re-sends)."""
        by_workflow: dict[str, list[str]] = {}
        for message in messages:
            if message.record is not None:
                by_workflow.setdefault(message.workflow, []).append(message.integration_id)
        written = {
            (workflow, key): synced.content_hash
            for workflow, keys in by_workflow.items()
            for key, synced in self.state.get_synced(workflow, keys).items()
        }
        kept = []
        for message in messages:
            if (
                message.record is not None
                and written.get((message.workflow, message.integration_id)) == message.record.content_hash()
            ):
                report.unchanged[message.workflow] = report.unchanged.get(message.workflow, 0) + 1
                continue
            kept.append(message)
        return kept

    def _work_orders_of(
        self, projects: Sequence[Record], report: PullReport, run_id: str, pulled_at: datetime
    ) -> list[SyncMessage]:
        """The work orders of changed projects, re-normalized with the project as it is now.

        Costs one Intacct query per page of changed projects (2,000 tasks a page), nothing when none changed;
        unchanged orders then cost nothing in Assignar, their content hash being the same.
        """
        workflows = [w for w in TASKS.workflows if self.config.enabled(w) and not self.config.missing(w)]
        if not workflows:
            return []
        normalized: dict[str, ProjectRecord] = {}
        for raw in projects:
            try:
                project = normalize("projects", raw, self.config)
            except MappingError:
                continue
            normalized[project.source_id] = project
        messages: list[SyncMessage] = []
        ids = sorted(normalized)
        try:
            for start in range(0, len(ids), 1000):  # <in> takes at most 1000 values
                after = 0
                while True:
                    result, _ = self._query(TASKS, in_("PROJECTID", ids[start : start + 1000]), after=after)
                    for task in result.records:
                        owner = normalized.get(str(task.get("PROJECTID")))
                        messages.extend(self._messages(TASKS, workflows, task, report, run_id, pulled_at, owner))
                    if not result.records or not result.numremaining:
                        break
                    after = int(result.records[-1]["RECORDNO"])
        except (IntacctBusinessError, FieldsUnavailableError) as exc:
            # The work orders' own pull reports why TASK cannot be read; the projects still go through, and
            # their orders follow when TASK is readable again (their next edit, or `sync --full`).
            logger.warning("work orders of changed projects not re-sent", extra={"error": str(exc)})
        return messages

    def _projects_of(self, tasks: Sequence[Record]) -> dict[str, ProjectRecord]:
        """The projects of a page of tasks, in one query: a work order takes its project's dates and status.

        Costs one Intacct transaction per page of changed tasks, and nothing on a run where no task changed.
        """
        project_ids = sorted({str(t["PROJECTID"]) for t in tasks if t.get("PROJECTID")})
        found: dict[str, ProjectRecord] = {}
        try:
            for start in range(0, len(project_ids), 1000):  # <in> takes at most 1000 values
                result, _ = self._query(TASK_PROJECTS, in_("PROJECTID", project_ids[start : start + 1000]))
                for raw in result.records:
                    try:
                        project = normalize("projects", raw, self.config)
                    except MappingError:
                        continue  # reported when the project itself is pulled; its tasks use their own dates
                    found[project.source_id] = project
        except (IntacctBusinessError, FieldsUnavailableError) as exc:
            # The projects' own pull says why; orders then take their task's dates and their client through
            # the project already in Assignar.
            logger.warning("projects of changed tasks not read", extra={"error": str(exc)})
        return found


class _SiteAddresses:
    """Puts each project's job-site address on its record, from the CONTACT its SHIPTO.CONTACTNAME names.

    PROJECT documents only the ship-to contact's name (reference §4), so the address is read from CONTACT: one
    query per page of projects. Its fields are discovered like any other; when CONTACT cannot be read, the
    projects sync without an address (listed once) and Assignar keeps the one it has.
    """

    def __init__(self, pull: PullService) -> None:
        self.pull = pull
        self.unavailable = False
        self.missing: list[str] = []  # what the addresses lack, for the run summary

    def attach(self, projects: Sequence[Record]) -> None:
        if self.unavailable:
            return
        names = sorted({str(p["SHIPTO.CONTACTNAME"]) for p in projects if p.get("SHIPTO.CONTACTNAME")})
        contacts: dict[str, Record] = {}
        selection: Selection | None = None
        try:
            for start in range(0, len(names), 1000):  # <in> takes at most 1000 values
                result, selection = self.pull._query(SITE_CONTACTS, in_("CONTACTNAME", names[start : start + 1000]))
                contacts.update({str(c.get("CONTACTNAME")): c for c in result.records})
            if selection is None:
                selection = select(SITE_CONTACTS, self.pull.catalog, self.pull.config)
        except (IntacctBusinessError, FieldsUnavailableError) as exc:
            self.unavailable = True
            self.missing = [f"CONTACT.MAILADDRESS (the job-site address): the ship-to contacts cannot be read: {exc}"]
            logger.warning("job-site addresses not read", extra={"error": str(exc)})
            return
        self.missing = selection.describe_missing()
        offered = [part for part in MAILADDRESS if f"MAILADDRESS.{part}" in selection.fields]
        for project in projects:
            name = project.get("SHIPTO.CONTACTNAME")
            contact = contacts.get(str(name)) if name else {}
            if contact is None:
                # Named but not read (private to another entity, say): Intacct told us nothing, so the address
                # Assignar holds is left alone (the fields stay absent, as if not offered).
                continue
            for part in offered:
                # No ship-to contact: the project has no address in Intacct, and Assignar's is cleared.
                project[f"SHIPTO.MAILADDRESS.{part}"] = contact.get(f"MAILADDRESS.{part}")


def _source_id(workflow: WorkflowName, record: Record) -> str | None:
    value = record.get(ID_FIELDS[workflow])
    return value if isinstance(value, str) else None
