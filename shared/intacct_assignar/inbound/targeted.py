"""The targeted pull: the records Smart Event notices name, read from Intacct and sent to the upsert queue.

A batch of notices is read together, one query per object (`RECORDNO in (...)`, `PullService.pull_records`): the same
fields, normalising, filters and related reads as the scheduled pull, so the upsert, its content hashes and adoption
see exactly what a scheduled pull would have sent, minutes earlier. Each notice is then done, retried or parked on
its own (`consumer.py`'s rules): an object Intacct would not read costs that object's notices, never the batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ..config import TenantConfig
from ..consumer import Parking, QueueConsumer, QueueWork
from ..state import StateStore
from .events import RecordEvent
from .messages import SyncMessage
from .ports import IntacctReader
from .pull import Publisher, PullReport, PullService, source_named
from .records import integration_id_for

logger = logging.getLogger(__name__)

EventOutcome = Literal["published", "unchanged", "not_found", "skipped"]


@dataclass
class EventResult:
    """What one notice came to: its record's messages sent (`published`, deactivations included), nothing to send
    (`unchanged`), no such record in Intacct (`not_found`), or no enabled workflow reads the object (`skipped`)."""

    object_name: str
    recordno: str
    outcome: EventOutcome
    published: int = 0
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": self.object_name,
            "recordno": self.recordno,
            "outcome": self.outcome,
            "published": self.published,
            "reason": self.reason,
        }


class _Collected:
    """The publisher the batch's pull writes to: its messages are held until each notice is applied."""

    def __init__(self) -> None:
        self.messages: list[SyncMessage] = []

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        self.messages.extend(messages)


@dataclass
class _Read:
    """One object's part of a batch: its messages by record, those of related records, or why it was not read."""

    report: PullReport | None = None
    by_record: dict[str, list[SyncMessage]] = field(default_factory=dict)
    related: list[SyncMessage] = field(default_factory=list)  # a changed project's work orders
    asked: set[str] = field(default_factory=set)  # the RECORDNOs this read asked for
    skipped: str | None = None  # no enabled workflow reads the object: nothing was read
    failure: Exception | None = None


class TargetedPull:
    """Reads what a batch of notices names (`prefetch`) and publishes each notice's record (`apply`)."""

    def __init__(
        self,
        intacct: IntacctReader,
        state: StateStore,
        publisher: Publisher,
        config: TenantConfig,
        *,
        parking: Parking | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.publisher = publisher
        self._collected = _Collected()
        # The scheduled pull's own service, writing to the collector: one place knows how a record is read.
        self.pull = PullService(intacct, state, self._collected, config, clock=clock, parking=parking)
        self._reads: dict[str, _Read] = {}
        self.reports: list[PullReport] = []  # this batch's reads, for its run entries

    def prefetch(self, events: Sequence[RecordEvent]) -> None:
        """Begin a batch: read every record it names, one query per object (and its related reads), not one per
        notice. What the previous batch read is forgotten (a warm container handles many)."""
        self._reads.clear()
        self.reports = []
        wanted: dict[str, set[str]] = {}
        for event in events:
            wanted.setdefault(event.object_name, set()).add(event.recordno)
        for object_name, recordnos in wanted.items():
            self._read(object_name, recordnos)

    def apply(self, event: RecordEvent) -> EventResult:
        """Publish the notice's record; raises what reading its object raised (the queue brings the notice back)."""
        read = self._reads.get(event.object_name)
        if read is None or event.recordno not in read.asked:
            read = self._read(event.object_name, {event.recordno})  # not in the batch's read: read alone
        if read.failure is not None:
            raise read.failure
        if read.skipped is not None:
            return EventResult(event.object_name, event.recordno, "skipped", reason=read.skipped)
        assert read.report is not None  # set whenever the object was read
        # A changed project's work orders go with the first of its notices applied.
        messages = [*read.by_record.pop(event.recordno, []), *read.related]
        read.related = []
        if messages:
            self.publisher.publish(messages)
        if event.recordno not in read.report.found:
            reason = "Intacct returned no such record (deleted, or out of the integration's sight)"
            return EventResult(event.object_name, event.recordno, "not_found", len(messages), reason)
        return EventResult(event.object_name, event.recordno, "published" if messages else "unchanged", len(messages))

    def _read(self, object_name: str, recordnos: set[str]) -> _Read:
        read = _Read(asked=set(recordnos))
        self._reads[object_name] = read
        try:
            source = source_named(object_name)
        except ValueError:
            read.skipped = f"no workflow reads {object_name}"
            return read
        self._collected.messages = []
        try:
            report = self.pull.pull_records(source.object_name, sorted(recordnos))
        except Exception as exc:
            # This object's notices fail (and come back); the batch's other objects go on.
            logger.warning("targeted pull could not read %s", object_name, extra={"error": str(exc)})
            read.failure = exc
            return read
        if report.skipped_workflows.keys() | report.cannot_run.keys() >= set(source.workflows):
            why = {**report.skipped_workflows, **report.cannot_run}
            read.skipped = "; ".join(f"{workflow}: {reason}" for workflow, reason in why.items())
        read.report = report
        self.reports.append(report)
        wanted = {integration_id_for(source.object_name, int(n)): n for n in recordnos}
        for message in self._collected.messages:
            recordno = wanted.get(message.integration_id)
            if recordno is None:
                read.related.append(message)
            else:
                read.by_record.setdefault(recordno, []).append(message)
        self._collected.messages = []
        return read


class EventWork(QueueWork[RecordEvent, EventResult]):
    what = "Smart Event notice"

    def __init__(self, targeted: TargetedPull) -> None:
        self.targeted = targeted

    def read(self, body: str) -> RecordEvent:
        return RecordEvent.from_body(body)

    def prefetch(self, messages: Sequence[RecordEvent]) -> None:
        self.targeted.prefetch(messages)

    def apply(self, message: RecordEvent, body: str) -> EventResult:
        return self.targeted.apply(message)

    def about(self, message: RecordEvent) -> str:
        return f"{message.object_name} {message.recordno}"

    def log_fields(self, message: RecordEvent) -> dict[str, Any]:
        return {"object": message.object_name, "recordno": message.recordno}


class EventConsumer(QueueConsumer[RecordEvent, EventResult]):
    def __init__(self, targeted: TargetedPull, parking: Parking) -> None:
        super().__init__(EventWork(targeted), parking)
        self.targeted = targeted
