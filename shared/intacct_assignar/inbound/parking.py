"""Records the command line's `sync` could not write, parked in the state store with their reason until a replay
or a later sync gets them through (in AWS the upsert dead-letter queue holds them), and how a parked record is
named in the admin's words.

A parked body is one of four things: a sync message (replayed through the upsert), the pull's description of a
record it could not map (`"kind": "unmapped"`: the fix is in Intacct, and the next pull reads it again), a Smart
Event notice the targeted puller gave up on (`"kind": "smart_event"`: the next scheduled pull reads the record
anyway), or none of these (named by its digest, so it can still be listed and removed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from ..config import WorkflowName
from ..sources import SOURCES
from ..state import ParkedRecord, StateStore
from .events import EventMessageError, RecordEvent
from .messages import MessageError, SyncMessage
from .records import integration_id_for
from .upsert import UpsertResult


class UnmappedRecord(BaseModel):
    """What the pull parks for an Intacct record it could not map (`PullService`, `RecordProblem.as_dict`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["unmapped"]
    workflow: WorkflowName
    object_name: str
    recordno: str | int | None = None
    source_id: str | None = None
    reason: str

    @property
    def integration_id(self) -> str | None:
        recordno = str(self.recordno) if self.recordno is not None else ""
        return integration_id_for(self.object_name, int(recordno)) if recordno.isdigit() else None

    @classmethod
    def from_body(cls, body: str) -> UnmappedRecord | None:
        try:
            return cls.model_validate_json(body)
        except ValidationError:
            return None


RecordBody = Literal["message", "unmapped", "smart_event", "unreadable"]


@dataclass(frozen=True)
class RecordKey:
    """The name of the record a parked body is about: `key` as the admin reads and types it (`workers:E-0042`),
    `aliases` every name the same record goes by (its Intacct ID and its integration id), `body` what it is."""

    key: str
    workflow: str | None
    aliases: frozenset[str]
    body: RecordBody


def record_key(body: str) -> RecordKey:
    """`<workflow>:<Intacct ID>`, or `<workflow>:<integration id>` for a deletion (which names no Intacct ID); a
    body that is not about a record is named `body:<digest>`."""
    try:
        message = SyncMessage.from_body(body)
    except MessageError:
        pass
    else:
        source_id = message.record.source_id if message.record is not None else None
        return _named(message.workflow, source_id, message.integration_id, "message")
    unmapped = UnmappedRecord.from_body(body)
    if unmapped is not None:
        return _named(unmapped.workflow, unmapped.source_id, unmapped.integration_id, "unmapped")
    event = event_of(body)
    if event is not None:
        workflow, integration_id = event_names(event)
        return _named(workflow, None, integration_id, "smart_event")
    digest = f"body:{hashlib.sha256(body.encode()).hexdigest()[:12]}"
    return RecordKey(digest, None, frozenset({digest}), "unreadable")


def event_of(body: str) -> RecordEvent | None:
    """The Smart Event notice a parked body is, or None."""
    try:
        return RecordEvent.from_body(body)
    except EventMessageError:
        return None


def event_names(event: RecordEvent) -> tuple[str, str]:
    """(the first workflow its object feeds, its record's integration id): how a parked notice is named."""
    workflow = next((s.workflows[0] for s in SOURCES if s.object_name == event.object_name), event.object_name.lower())
    return workflow, integration_id_for(event.object_name, int(event.recordno))


def _named(workflow: str, source_id: str | None, integration_id: str | None, body: RecordBody) -> RecordKey:
    names = [f"{workflow}:{name}" for name in (source_id, integration_id) if name]
    if not names:  # an unmapped record with neither: still one record, named by what the pull said of it
        names = [f"{workflow}:?"]
    return RecordKey(names[0], workflow, frozenset(names), body)


def result_names(result: UpsertResult) -> set[str]:
    """Every name of the record an upsert result is about, as `record_key` gives them."""
    return {f"{result.workflow}:{name}" for name in (result.source_id, result.integration_id) if name}


class StoreParking:
    """`Parking` for the command line: a refused record is kept in the state store under its name, replacing
    what was parked under that name before; `went_through` forgets the ones a later run got through."""

    def __init__(self, store: StateStore, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.clock = clock

    def park(self, body: str, reason: str) -> None:
        named = record_key(body)
        self.store.park_record(ParkedRecord(named.key, named.workflow, body, reason, self.clock()))

    def went_through(self, results: Iterable[UpsertResult]) -> None:
        """Forget the parked records these results wrote (or found already right, or skipped as older)."""
        parked = {each.key: record_key(each.body).aliases | {each.key} for each in self.store.iter_parked_records()}
        if not parked:  # the usual case: no call per record of a run
            return
        done: set[str] = set()
        for result in results:
            done |= result_names(result)
        for key, names in parked.items():
            if names & done:
                self.store.delete_parked_record(key)


__all__ = ["RecordKey", "StoreParking", "UnmappedRecord", "record_key", "result_names"]
