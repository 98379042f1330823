"""Work parked for a person: listed with its reasons, and replayed through the normal path once the cause is fixed.

Parked work sits in two places. The state store holds the ledger's parked timesheets and the records the command
line's `sync` parked; a deployed stack adds its two dead-letter queues (records the puller and the upsert consumer
parked, timesheets the push parked). `ParkedWork` lists them all, one item per record or timesheet, and replays
a selection:
- a record goes back through the upsert, in this process or on the stack's upsert queue, and leaves the list
  only once it went through (or, for a stack, was queued: the consumer parks it again, with the new reason, if
  it still cannot be written);
- a timesheet goes back through the push with `retry_parked`, exactly as `push-timesheets --timesheet-id` sends
  it: the ledger decides, so a second replay never posts it twice;
- a record the pull could not map is fixed in Intacct, and the next pull reads it again: replaying it only checks
  that it went through since, and forgets it then.

Listing moves nothing: dead-letter messages are held for a moment and given back at once. Knows nothing of SQS:
the queues are the `DeadLetterQueue` and `WorkQueue` ports (`aws.sqs` has their adapters).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Final, Literal, Protocol

from .consumer import Parked
from .inbound.consume import SyncConsumer
from .inbound.parking import UnmappedRecord, event_of, record_key
from .inbound.records import integration_id_for
from .inbound.upsert import UpsertService
from .outbound.messages import PushMessage, PushMessageError
from .outbound.push import PushService
from .outbound.run import retry_timesheet
from .outcomes import NotDone
from .problems import explain
from .sources import SOURCES
from .state import ParkedRecord, StateStore, SyncedRecord

logger = logging.getLogger(__name__)

ParkedKind = Literal["record", "timesheet"]
ReplayOutcome = Literal["replayed", "queued", "still_parked"]

# Where an item was found, as `parked list` says it.
IN_STORE: Final = "state store"
IN_LEDGER: Final = "ledger"

# How long listing holds dead-letter messages (they are given back at once; this only bounds a crash), and how
# long a replay holds them while it sends each back.
LIST_HOLD_S: Final = 30
REPLAY_HOLD_S: Final = 300

# A message SQS moved to the dead-letter queue by itself carries no reason: its function kept failing without
# parking it (a timeout, a crash), and only the function's log says why.
NO_REASON: Final = "moved here by SQS after its last delivery, without a reason: the function's log says why"


@dataclass(frozen=True)
class DeadLetter:
    """One message on a dead-letter queue, as the queue showed it. `receipt` is what deletes it: it stays inside
    the replay that held the message, never printed."""

    body: str
    reason: str | None
    sent_at: datetime | None
    receipt: str = field(repr=False, compare=False)


class DeadLetterQueue(Protocol):
    """A stack's dead-letter queue of records or of timesheets."""

    @property
    def kind(self) -> ParkedKind: ...

    @property
    def where(self) -> str:
        """The queue in the admin's words ("upsert dead-letter queue")."""

    def hold(self, seconds: int) -> list[DeadLetter]:
        """Every message on the queue, each hidden from other readers for `seconds` (or until released)."""

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Give held messages back at once, as they were."""

    def delete(self, letter: DeadLetter) -> None: ...


class QueueBody(Protocol):
    def to_body(self) -> str: ...


class WorkQueue(Protocol):
    """A stack's work queue (upsert or push), where a replay sends what it takes off a dead-letter queue."""

    def publish(self, messages: Sequence[QueueBody]) -> None: ...


@dataclass(frozen=True)
class ParkedItem:
    """One parked record or timesheet, shown once however many places hold it.

    `id` is what `parked replay --id` takes: `<workflow>:<Intacct ID>` for a record (`workers:E-0042`), the
    Assignar timesheet id for a timesheet (`8123`). `where` names every place it was found; `letters` and
    `stored` are what a replay sends back and removes.
    """

    kind: ParkedKind
    id: str
    reason: str
    parked_at: datetime | None
    where: str
    workflow: str | None = None
    letters: tuple[tuple[DeadLetterQueue, DeadLetter], ...] = field(default=(), repr=False, compare=False)
    stored: ParkedRecord | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "id": self.id,
            "reason": self.reason,
            "parked_at": self.parked_at.astimezone(UTC).isoformat() if self.parked_at else None,
            "where": self.where,
        }
        if self.workflow is not None:
            data["workflow"] = self.workflow
        return data


@dataclass(frozen=True)
class Attempt:
    """How one replay ended: went through here ("replayed"), handed to the stack's queue ("queued"), or not."""

    outcome: ReplayOutcome
    reason: str | None = None

    @property
    def through(self) -> bool:
        return self.outcome != "still_parked"


class Replayer(Protocol):
    """Sends parked work back through its normal path: in this process, or on a stack's queues."""

    def record(self, body: str) -> Attempt: ...

    def timesheet(self, timesheet_id: int) -> Attempt: ...


@dataclass(frozen=True)
class Replayed:
    item: ParkedItem
    outcome: ReplayOutcome
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.item.kind, "id": self.item.id, "outcome": self.outcome}
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass
class ReplayReport:
    results: list[Replayed] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # ids asked for that nothing is parked under

    @property
    def ok(self) -> bool:
        return not self.unknown and all(result.outcome != "still_parked" for result in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "replayed": [r.as_dict() for r in self.results], "unknown": self.unknown}


# Named here because `ParkedWork.list` hides the builtin inside the class.
Held = list[tuple[DeadLetterQueue, DeadLetter]]
ParkedItems = list[ParkedItem]


class ParkedWork:
    """Everything parked in one place: a state store, and the dead-letter queues of its stack when there is one."""

    def __init__(
        self,
        store: StateStore,
        dead_letters: Sequence[DeadLetterQueue] = (),
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.clock = clock

    def list(self) -> ParkedItems:
        """Every parked record and timesheet, records first, oldest first; the queues are left as they were."""
        held = self._hold(LIST_HOLD_S)
        try:
            return self._items(held)
        finally:
            self._release(held, deleted=set())

    def replay(self, replayer: Replayer, ids: Collection[str] | None = None) -> ReplayReport:
        """Send the items named by `ids` (None: all) back through their normal path; each item's trouble is its
        own result, never the others'. Dead-letter messages are deleted only once what they held went through."""
        held = self._hold(REPLAY_HOLD_S)
        deleted: set[str] = set()
        report = ReplayReport()
        try:
            items = self._items(held)
            wanted = None if ids is None else set(ids)
            report.unknown = sorted(wanted - {item.id for item in items}) if wanted is not None else []
            for item in items:
                if wanted is None or item.id in wanted:
                    report.results.append(self._replay(item, replayer, deleted))
        finally:
            self._release(held, deleted)
        return report

    # --- listing ------------------------------------------------------------------------------------------

    def _hold(self, seconds: int) -> Held:
        held: Held = []
        try:
            for queue in self.dead_letters:
                held.extend((queue, letter) for letter in queue.hold(seconds))
        except BaseException:
            self._release(held, deleted=set())
            raise
        return held

    def _release(self, held: Held, deleted: set[str]) -> None:
        for queue in self.dead_letters:
            mine = [letter for owner, letter in held if owner is queue and letter.receipt not in deleted]
            if mine:
                queue.release(mine)

    def _items(self, held: Held) -> ParkedItems:
        found = _Found()
        for queue, letter in held:
            if queue.kind == "record":
                named = record_key(letter.body)
                item_id, workflow = named.key, named.workflow
            else:
                item_id, workflow = _timesheet_id(letter.body), None
            found.add(
                ParkedItem(
                    queue.kind,
                    item_id,
                    letter.reason or NO_REASON,
                    letter.sent_at,
                    queue.where,
                    workflow,
                    letters=((queue, letter),),
                )
            )
        for record in self.store.iter_parked_records():
            found.add(
                ParkedItem(
                    "record", record.key, record.reason, record.parked_at, IN_STORE, record.workflow, stored=record
                )
            )
        in_ledger: set[str] = set()
        for entry in self.store.iter_ledger("parked"):
            in_ledger.add(str(entry.timesheet_id))
            reason = entry.reason or "parked without a reason"
            found.add(
                ParkedItem("timesheet", str(entry.timesheet_id), reason, entry.updated_at, IN_LEDGER), current=True
            )
        items = found.items()
        return [
            self._posted_since(item) if item.kind == "timesheet" and item.id not in in_ledger else item
            for item in items
        ]

    def _posted_since(self, item: ParkedItem) -> ParkedItem:
        """A timesheet still on the dead-letter queue that the ledger shows posted since (a person ran
        `push-timesheets --timesheet-id`, or it was re-approved): replaying it only takes it off the queue."""
        if not item.id.isdigit():
            return item
        entry = self.store.get_ledger(int(item.id))
        if entry is None or entry.state != "posted":
            return item
        return replace(item, reason=f"{item.reason} (since posted, the ledger says: replaying it only removes it)")

    # --- replaying ----------------------------------------------------------------------------------------

    def _replay(self, item: ParkedItem, replayer: Replayer, deleted: set[str]) -> Replayed:
        if item.kind == "timesheet":
            if not item.id.isdigit():
                reason = "not a push message (it names no timesheet): read it on the queue, then delete it there"
                return Replayed(item, "still_parked", reason)
            attempt = replayer.timesheet(int(item.id))
            if attempt.through:
                self._delete(item.letters, deleted)
            return Replayed(item, attempt.outcome, attempt.reason)
        # A record: each body it was parked with is its own piece of work (two versions of one record, say), the
        # oldest first, so that in this process the newest is written last (the upsert skips an older one anyway).
        attempts: list[Attempt] = []
        oldest = datetime.min.replace(tzinfo=UTC)
        for queue, letter in sorted(item.letters, key=lambda held: held[1].sent_at or oldest):
            attempt = self._replay_record(letter.body, letter.sent_at, replayer)
            if attempt.through:
                self._delete([(queue, letter)], deleted)
            attempts.append(attempt)
        if item.stored is not None:
            attempt = self._replay_record(item.stored.body, item.stored.parked_at, replayer)
            if attempt.through:
                self.store.delete_parked_record(item.stored.key)
            else:
                # Kept with why it still did not go through, so the next `parked list` says that.
                reason = attempt.reason or item.stored.reason
                self.store.park_record(replace(item.stored, reason=reason, parked_at=self.clock()))
            attempts.append(attempt)
        refused = next((attempt for attempt in attempts if not attempt.through), None)
        if refused is not None:
            return Replayed(item, "still_parked", refused.reason)
        return Replayed(item, "replayed" if all(a.outcome == "replayed" for a in attempts) else "queued")

    def _replay_record(self, body: str, parked_at: datetime | None, replayer: Replayer) -> Attempt:
        named = record_key(body)
        if named.body == "message":
            return replayer.record(body)
        if named.body == "unmapped":
            unmapped = UnmappedRecord.from_body(body)
            assert unmapped is not None  # record_key read it as one
            if self._synced_since(unmapped, parked_at):
                return Attempt("replayed", "went through since it was parked")
            return Attempt(
                "still_parked",
                f"{unmapped.reason}; fix the record in Intacct: the next pull reads it again, and a replay after that "
                "forgets it",
            )
        event = event_of(body) if named.body == "smart_event" else None
        if event is not None:
            # A notice is only a hint: the scheduled pull reads the record in its window whatever became of it.
            # Its change is in Assignar once the record was written after the notice arrived (the change came
            # before it), under whichever workflow took it (an ITEM is a role or an asset, by its GL group).
            integration_id = integration_id_for(event.object_name, int(event.recordno))
            since = min(event.received_at, parked_at) if parked_at is not None else event.received_at
            workflows = next((s.workflows for s in SOURCES if s.object_name == event.object_name), ())
            if any(self._written_since(workflow, integration_id, None, since) for workflow in workflows):
                return Attempt("replayed", "went through since it was parked")
            if self._pulled_past(workflows, event.received_at):
                # The change came before the notice, so a scheduled pull whose window ends after it read the record
                # (and wrote it, or found nothing of ours changed: a field no workflow syncs): nothing is left.
                return Attempt("replayed", "a scheduled pull has read the record since")
            return Attempt(
                "still_parked",
                "a Smart Event notice the targeted pull gave up on: the next scheduled pull reads the record again, "
                "and a replay after that forgets it",
            )
        return Attempt(
            "still_parked", "not a sync message this version can replay: read it on the queue, then delete it there"
        )

    def _pulled_past(self, workflows: Iterable[str], at: datetime) -> bool:
        """A scheduled pull of one of `workflows` completed, its window reaching past `at` (its run entry's
        watermark: a pull that paused or failed records none)."""
        for workflow in workflows:
            for run in self.store.recent_runs(workflow, since=at):
                mark = run.extra.get("watermark")
                if run.kind not in ("pull", "sync") or run.outcome not in ("ok", "parked") or not isinstance(mark, str):
                    continue
                try:
                    reached = datetime.fromisoformat(mark)
                except ValueError:
                    continue
                if reached.tzinfo is not None and reached >= at:
                    return True
        return False

    def _synced_since(self, unmapped: UnmappedRecord, parked_at: datetime | None) -> bool:
        return self._written_since(unmapped.workflow, unmapped.integration_id, unmapped.source_id, parked_at)

    def _written_since(
        self, workflow: str, integration_id: str | None, source_id: str | None, parked_at: datetime | None
    ) -> bool:
        if parked_at is None:
            return False
        written: list[SyncedRecord] = []
        if integration_id is not None:
            written += self.store.get_synced(workflow, [integration_id]).values()
        if source_id is not None:
            written += self.store.get_synced_by_source(workflow, [source_id]).values()
        return any(record.synced_at >= parked_at for record in written)

    @staticmethod
    def _delete(letters: Iterable[tuple[DeadLetterQueue, DeadLetter]], deleted: set[str]) -> None:
        for queue, letter in letters:
            queue.delete(letter)
            deleted.add(letter.receipt)


class _Found:
    """Items gathered from every place, merged by (kind, id): one record or timesheet is one item, whose reason is
    the newest, or the ledger's (the current truth about a timesheet) whatever the queue holds from before."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], ParkedItem] = {}
        self._places: dict[tuple[str, str], list[str]] = {}
        self._current: set[tuple[str, str]] = set()

    def add(self, item: ParkedItem, *, current: bool = False) -> None:
        key = (item.kind, item.id)
        places = self._places.setdefault(key, [])
        if item.where not in places:
            places.append(item.where)
        known = self._items.get(key)
        if known is None:
            self._items[key] = item
        else:
            newer = current or (key not in self._current and _later(item.parked_at, known.parked_at))
            latest = item if newer else known
            self._items[key] = replace(
                latest,
                workflow=known.workflow or item.workflow,
                letters=known.letters + item.letters,
                stored=known.stored or item.stored,
            )
        if current:
            self._current.add(key)

    def items(self) -> list[ParkedItem]:
        oldest = datetime.min.replace(tzinfo=UTC)
        merged = [replace(item, where=", ".join(self._places[key])) for key, item in self._items.items()]
        return sorted(merged, key=lambda item: (item.kind, item.parked_at or oldest, item.id))


def _later(one: datetime | None, other: datetime | None) -> bool:
    return one is not None and (other is None or one > other)


def _timesheet_id(body: str) -> str:
    try:
        return str(PushMessage.from_body(body).timesheet_id)
    except PushMessageError:
        return f"body:{hashlib.sha256(body.encode()).hexdigest()[:12]}"


# --- replayers ----------------------------------------------------------------------------------------------


class _Refusals:
    """The upsert's parking during a replay: `ParkedWork` keeps the record (with the new reason) itself."""

    def park(self, body: str, reason: str) -> None:
        pass


class InProcessReplay:
    """Replays in this process, for a state store without a stack: records through the upsert as `sync` applies
    them, timesheets through the push as `push-timesheets --timesheet-id` posts them. The services are built on
    first use, so a replay of records alone never asks for Intacct's settings, nor one of nothing for any."""

    def __init__(self, upsert: Callable[[], UpsertService], push: Callable[[], PushService]) -> None:
        self._upsert = upsert
        self._push = push

    @cached_property
    def consumer(self) -> SyncConsumer:
        return SyncConsumer(self._upsert(), _Refusals())

    @cached_property
    def push(self) -> PushService:
        return self._push()

    def record(self, body: str) -> Attempt:
        try:
            outcome = self.consumer.handle(body)
        except Exception as error:  # one record's trouble is its own result, never the others'
            return Attempt("still_parked", _reason_or_raise(error))
        if isinstance(outcome, Parked):
            return Attempt("still_parked", outcome.reason)
        return Attempt("replayed")

    def timesheet(self, timesheet_id: int) -> Attempt:
        result = retry_timesheet(self.push, timesheet_id)
        if result.outcome in ("posted", "already_posted"):
            return Attempt("replayed")
        return Attempt("still_parked", result.reason or result.outcome.replace("_", " "))


def _reason_or_raise(error: Exception) -> str:
    """Why a replayed record still did not go through, in one line; what no record can get past (Assignar
    refusing our credentials) is re-raised, so the command stops with it instead."""
    problem = explain(error)
    if problem.stops_run:
        raise error
    if isinstance(error, NotDone):  # waits for a dependency, or refused: its own words say what to do
        return str(error)
    if not problem.expected:
        logger.debug("replay failed", exc_info=error)
    return " ".join(problem.message.split())


@dataclass(frozen=True)
class _Body:
    body: str

    def to_body(self) -> str:
        return self.body


class QueueReplay:
    """Replays through a deployed stack: each record to its upsert queue, each timesheet to its push queue (with
    `retry_parked`), where the stack's functions take them as they take any other. Needs no Intacct or Assignar
    settings here; what still cannot go through is parked again by the stack, with the new reason."""

    def __init__(self, upsert_queue: WorkQueue, push_queue: WorkQueue) -> None:
        self.upsert_queue = upsert_queue
        self.push_queue = push_queue

    def record(self, body: str) -> Attempt:
        return self._send(self.upsert_queue, _Body(body))

    def timesheet(self, timesheet_id: int) -> Attempt:
        return self._send(self.push_queue, PushMessage(timesheet_id=timesheet_id, trigger="replay", retry_parked=True))

    @staticmethod
    def _send(queue: WorkQueue, message: QueueBody) -> Attempt:
        try:
            queue.publish([message])
        except Exception as error:  # left on the dead-letter queue, with why it could not be sent
            return Attempt("still_parked", f"could not be queued: {_reason_or_raise(error)}")
        return Attempt("queued")


__all__ = [
    "Attempt",
    "DeadLetter",
    "DeadLetterQueue",
    "InProcessReplay",
    "ParkedItem",
    "ParkedKind",
    "ParkedWork",
    "QueueReplay",
    "ReplayOutcome",
    "ReplayReport",
    "Replayed",
    "Replayer",
    "WorkQueue",
]
