"""The integration's state behind one interface: watermarks, pull checkpoints, synced records, timesheet ledger,
and the Intacct object definitions `lookup` answered.

`StateStore` is the port; `DynamoStateStore` (AWS) and `SqliteStateStore` (CLI) are its adapters. Everything
time-like crosses this interface as an aware `datetime` and is stored as fixed-width ISO 8601 UTC text, so that
text order is time order in both backends (the DynamoDB lease check compares the text).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Final, Literal, Self

from ..outcomes import RetryLater
from ..runs import RunEntry

LedgerState = Literal["claimed", "posted", "parked"]
LEDGER_STATES: Final[tuple[LedgerState, ...]] = ("claimed", "posted", "parked")


class StateError(Exception):
    """Base of every state failure."""


class NaiveDatetimeError(StateError, ValueError):
    """A datetime without a time zone: stored as UTC it would silently shift by the host's offset."""

    def __init__(self, what: str, value: datetime) -> None:
        self.what = what
        self.value = value
        super().__init__(
            f"{what} must be timezone-aware, got naive {value.isoformat()}; "
            "pass e.g. datetime.now(UTC) or attach the Intacct company's time zone"
        )


class StateLocationError(StateError, ValueError):
    """A `--state` / STATE_LOCATION value that names no store we know how to open."""


class StateSchemaError(StateError):
    """The store on disk or in AWS is not one this version can use (newer schema, missing table)."""


class LeaseLostError(StateError, RetryLater):
    """This worker's claim on a timesheet ran out and another took it: stop before writing anything more."""

    def __init__(self, timesheet_id: int, attempt: int) -> None:
        self.timesheet_id = timesheet_id
        self.attempt = attempt
        super().__init__(f"timesheet {timesheet_id}: claim {attempt} is no longer held (its lease ran out)")


class StateUnavailableError(StateError, RetryLater):
    """The store did not answer in time (e.g. DynamoDB kept throttling after our retries); safe to retry later."""


def require_aware(what: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(what, value)
    return value


def to_stored_time(what: str, value: datetime) -> str:
    """Aware datetime -> '2026-11-25T22:42:43.000000+00:00' (always microseconds, so the text sorts as time)."""
    return require_aware(what, value).astimezone(UTC).isoformat(timespec="microseconds")


def from_stored_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True)
class PullCheckpoint:
    """Where an unfinished pull stopped, so a follow-up Lambda invocation continues instead of starting over.

    `until` is fixed when the pull starts and becomes the watermark when it finishes; a continuation keeps it, so
    records changed meanwhile wait for the next pull instead of being half-seen by this one.
    `after_recordno`/`after_whenmodified` are the keyset position of the last published record, the latter in
    Intacct's own text so it goes back into the next query unchanged.
    """

    full: bool
    since: datetime | None
    until: datetime
    after_recordno: int | None
    after_whenmodified: str | None
    published: int
    started_at: datetime

    def __post_init__(self) -> None:
        if self.since is not None:
            require_aware("PullCheckpoint.since", self.since)
        require_aware("PullCheckpoint.until", self.until)
        require_aware("PullCheckpoint.started_at", self.started_at)
        if self.published < 0:
            raise ValueError(f"PullCheckpoint.published cannot be negative, got {self.published}")


@dataclass(frozen=True)
class SyncedRecord:
    """What we last wrote to Assignar for one Intacct record of one workflow (e.g. "workers").

    `integration_id` is the key we stamp on the Assignar record; `source_id` is the Intacct ID other records
    link by (a project's CUSTOMERID names a client), which is why it is looked up too.
    """

    workflow: str
    integration_id: str
    source_id: str
    assignar_id: int
    content_hash: str
    active: bool
    synced_at: datetime
    # The Intacct version written (WHENMODIFIED): an older one arriving later (SQS keeps no order) is dropped.
    modified_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware("SyncedRecord.synced_at", self.synced_at)
        if self.modified_at is not None:
            require_aware("SyncedRecord.modified_at", self.modified_at)


@dataclass(frozen=True)
class LedgerEntry:
    """One Assignar timesheet's way into Intacct: the ledger is what makes posting exactly once.

    `intacct_keys` survive a re-claim, so a re-approval with changed content can update what was posted; they
    also hold the progress of a claim (a write whose answer was lost), saved with `renew_claim`.
    `source_version` is the newest Assignar version (its modified_time) claimed so far: an older read of the
    timesheet, arriving late, must not overwrite what a newer one posted.
    """

    timesheet_id: int
    state: LedgerState
    content_hash: str
    intacct_keys: dict[str, str] = field(hash=False)
    reason: str | None
    attempts: int
    lease_until: datetime | None
    updated_at: datetime
    source_version: str | None = None

    def __post_init__(self) -> None:
        if self.state not in LEDGER_STATES:
            raise ValueError(f"ledger state must be one of {', '.join(LEDGER_STATES)}, got {self.state!r}")
        if self.lease_until is not None:
            require_aware("LedgerEntry.lease_until", self.lease_until)
        elif self.state == "claimed":
            raise ValueError(f"a claimed ledger entry needs a lease_until (timesheet {self.timesheet_id})")
        require_aware("LedgerEntry.updated_at", self.updated_at)


@dataclass(frozen=True)
class CachedDefinition:
    """An Intacct object's definition as `lookup` answered it, kept so a scheduled run need not ask again.

    `key` says who asked about what (e.g. "PROJECT|COMPANY-ID|ENTITY|USER": fields differ by company, entity and
    the user's permissions); `body` is JSON text. Both are opaque to the store; whether `fetched_at` is recent
    enough is for the caller to judge.
    """

    key: str
    body: str
    fetched_at: datetime

    def __post_init__(self) -> None:
        require_aware("CachedDefinition.fetched_at", self.fetched_at)


@dataclass(frozen=True)
class ParkedRecord:
    """An Intacct record the command line's `sync` could not write, kept for `parked list` and `parked replay`.

    In AWS the dead-letter queue holds these; on the command line the state store does. `key` names the record
    in the admin's words (`workers:E-0042`, see `inbound.parking.record_key`): a record parked again replaces its
    earlier entry. `body` is what replaying it sends back through the upsert (a sync message, or the pull's
    description of a record it could not map); `workflow` is None for a body that names none.
    """

    key: str
    workflow: str | None
    body: str
    reason: str
    parked_at: datetime

    def __post_init__(self) -> None:
        require_aware("ParkedRecord.parked_at", self.parked_at)
        if not self.key:
            raise ValueError("a parked record needs a key")


def may_claim(
    existing: LedgerEntry | None,
    content_hash: str,
    now: datetime,
    *,
    retry_parked: bool = False,
    source_version: str | None = None,
) -> bool:
    """The claim rule, written once for SQLite; DynamoDB states the same rule as its ConditionExpression.

    Free when nobody has it, when the holder's lease ran out (it crashed or timed out), or when the content was
    re-approved with changes after it was posted or parked. Posted or parked with the same content stays put:
    re-sending it would double the hours in Intacct, and re-trying a parked one would fail the same way, unless
    a person asks for the retry (`retry_parked`) after fixing what it was parked for. A read of the timesheet
    older than one already claimed never wins.
    """
    if existing is None:
        return True
    if is_older(source_version, existing.source_version):
        return False
    if existing.state == "claimed":
        return existing.lease_until is not None and existing.lease_until <= now
    if retry_parked and existing.state == "parked":
        return True
    return existing.content_hash != content_hash


def is_older(version: str | None, than: str | None) -> bool:
    # Assignar's modified_time is ISO 8601 in one format, so text order is time order.
    return version is not None and than is not None and version < than


def newest(version: str | None, other: str | None) -> str | None:
    if version is None or other is None:
        return version or other
    return max(version, other)


def lease_until(now: datetime, lease_s: float) -> datetime:
    require_aware("now", now)
    if lease_s <= 0:
        raise ValueError(f"a timesheet lease must last a positive number of seconds, got {lease_s}")
    return now + timedelta(seconds=lease_s)


def claimed_entry(
    existing: LedgerEntry | None,
    timesheet_id: int,
    content_hash: str,
    lease_s: float,
    now: datetime,
    source_version: str | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        timesheet_id=timesheet_id,
        state="claimed",
        content_hash=content_hash,
        intacct_keys=dict(existing.intacct_keys) if existing else {},
        reason=None,
        attempts=(existing.attempts if existing else 0) + 1,
        lease_until=lease_until(now, lease_s),
        updated_at=now,
        source_version=newest(source_version, existing.source_version if existing else None),
    )


class StateStore(ABC):
    """The integration's durable state. Implementations are safe to share between threads of one process."""

    # Watermarks: per Intacct source object ("EMPLOYEE"), the WHENMODIFIED up to which everything was published.

    @abstractmethod
    def get_watermark(self, source: str) -> datetime | None:
        """The stored watermark in UTC, or None before the first complete pull."""

    @abstractmethod
    def set_watermark(self, source: str, at: datetime) -> None:
        """Raises `NaiveDatetimeError` for a datetime without a time zone."""

    # Pull checkpoints: one unfinished pull per source.

    @abstractmethod
    def get_checkpoint(self, source: str) -> PullCheckpoint | None: ...

    @abstractmethod
    def put_checkpoint(self, source: str, checkpoint: PullCheckpoint) -> None: ...

    @abstractmethod
    def clear_checkpoint(self, source: str) -> None:
        """Forget the checkpoint; clearing one that is not there is fine."""

    # Synced records.

    @abstractmethod
    def get_synced(self, workflow: str, integration_ids: Collection[str]) -> dict[str, SyncedRecord]:
        """The records we know of, keyed by integration_id; unknown ids are simply absent."""

    @abstractmethod
    def get_synced_by_source(self, workflow: str, source_ids: Collection[str]) -> dict[str, SyncedRecord]:
        """The records we know of, keyed by their Intacct ID (how links between records are resolved)."""

    @abstractmethod
    def put_synced(self, record: SyncedRecord) -> None: ...

    @abstractmethod
    def iter_synced(self, workflow: str) -> Iterator[SyncedRecord]: ...

    # Timesheet ledger.

    @abstractmethod
    def get_ledger(self, timesheet_id: int) -> LedgerEntry | None: ...

    @abstractmethod
    def claim_timesheet(
        self,
        timesheet_id: int,
        content_hash: str,
        lease_s: float,
        now: datetime,
        *,
        retry_parked: bool = False,
        source_version: str | None = None,
    ) -> LedgerEntry | None:
        """Atomically take the timesheet for `lease_s` seconds; see `may_claim` for when that is allowed.

        Returns the claimed entry (attempts counted up by one), or None when someone else holds a live lease or
        this content was already posted or parked.
        """

    @abstractmethod
    def renew_claim(
        self, timesheet_id: int, attempt: int, intacct_keys: Mapping[str, str], lease_s: float, now: datetime
    ) -> None:
        """Save a claim's progress and extend its lease, if claim `attempt` still holds the timesheet.

        Raises `LeaseLostError` when it does not: the holder must stop before its next Intacct write.
        """

    @abstractmethod
    def record_posted(
        self,
        timesheet_id: int,
        content_hash: str,
        intacct_keys: Mapping[str, str],
        now: datetime,
        attempt: int | None = None,
    ) -> None:
        """Intacct has the timesheet: keep its keys and release the lease.

        With `attempt`, only while that claim still holds it (else `LeaseLostError`)."""

    @abstractmethod
    def record_parked(
        self,
        timesheet_id: int,
        content_hash: str,
        reason: str,
        now: datetime,
        intacct_keys: Mapping[str, str] | None = None,
        attempt: int | None = None,
    ) -> None:
        """A person must act (unknown employee, closed period, ...): keep the reason and release the lease.

        `intacct_keys`: what is in Intacct now (the labor timesheet posted before its equipment was refused);
        None keeps the keys already recorded."""

    @abstractmethod
    def iter_ledger(self, state: LedgerState | None = None) -> Iterator[LedgerEntry]:
        """Every entry, or those in one state (e.g. "parked", to show people what needs them); no set order."""

    # Intacct object definitions (`lookup` answers), cached between runs.

    @abstractmethod
    def get_definition(self, key: str) -> CachedDefinition | None:
        """The definition stored under `key` (fetched_at in UTC), or None if none was stored."""

    @abstractmethod
    def put_definition(self, definition: CachedDefinition) -> None:
        """Store the definition under its key, replacing any stored before.

        Raises `StateError` when the store cannot hold a body that large (DynamoDB's item limit)."""

    # Run history (`runs.RunEntry`): what ran, when and how it ended, for `status`.

    @abstractmethod
    def record_run(self, entry: RunEntry) -> None:
        """Keep one run's entry for `runs.RUN_RETENTION`; older entries are dropped (TTL, or on write)."""

    @abstractmethod
    def recent_runs(self, workflow: str, *, limit: int = 20, since: datetime | None = None) -> list[RunEntry]:
        """The workflow's runs that ended at or after `since`, newest first, at most `limit` of them."""

    # Parked records: what the command line's sync could not write, until a replay gets it through.

    @abstractmethod
    def park_record(self, record: ParkedRecord) -> None:
        """Keep the record under its key, replacing what was parked under that key before."""

    @abstractmethod
    def iter_parked_records(self) -> Iterator[ParkedRecord]:
        """Every parked record (parked_at in UTC), in key order."""

    @abstractmethod
    def delete_parked_record(self, key: str) -> None:
        """Forget the record parked under `key` (it went through); deleting one that is not there is fine."""

    def close(self) -> None:  # noqa: B027 - a no-op by design: stores without connections have nothing to release
        """Release connections; the store is unusable afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
