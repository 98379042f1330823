"""State in one embedded SQLite file, for the CLI (`--state`): no AWS needed to run a sync on a laptop."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from ..runs import RUN_RETENTION, RunEntry, readable_entries
from .base import (
    CachedDefinition,
    LeaseLostError,
    LedgerEntry,
    LedgerState,
    ParkedRecord,
    PullCheckpoint,
    StateLocationError,
    StateSchemaError,
    StateStore,
    StateUnavailableError,
    SyncedRecord,
    claimed_entry,
    from_stored_time,
    lease_until,
    may_claim,
    to_stored_time,
)

SCHEMA_VERSION: Final = 5

# The current schema. IF NOT EXISTS: a file at an older version gets the tables it lacks (version 3 added
# `definition`, 4 `run`, 5 `parked_record`) from the same statements; columns added to existing tables are in
# `_ADDED_COLUMNS`.
_SCHEMA: Final[tuple[str, ...]] = (
    """CREATE TABLE IF NOT EXISTS watermark (
    source TEXT PRIMARY KEY,
    at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS checkpoint (
    source TEXT PRIMARY KEY,
    full_pull INTEGER NOT NULL,
    since TEXT,
    until TEXT NOT NULL,
    after_recordno INTEGER,
    after_whenmodified TEXT,
    published INTEGER NOT NULL,
    started_at TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS synced (
    workflow TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    assignar_id INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    synced_at TEXT NOT NULL,
    modified_at TEXT,
    PRIMARY KEY (workflow, integration_id)
)""",
    "CREATE INDEX IF NOT EXISTS synced_by_source ON synced (workflow, source_id)",
    """CREATE TABLE IF NOT EXISTS ledger (
    timesheet_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'posted', 'parked')),
    content_hash TEXT NOT NULL,
    intacct_keys TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL,
    lease_until TEXT,
    updated_at TEXT NOT NULL,
    source_version TEXT
)""",
    "CREATE INDEX IF NOT EXISTS ledger_by_state ON ledger (state, timesheet_id)",
    """CREATE TABLE IF NOT EXISTS definition (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL
)""",
    # One row per run: the entry as JSON (`RunEntry.to_json`), with what it is listed and dropped by.
    """CREATE TABLE IF NOT EXISTS run (
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    entry TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS run_by_workflow ON run (workflow, ended_at)",
    """CREATE TABLE IF NOT EXISTS parked_record (
    key TEXT PRIMARY KEY,
    workflow TEXT,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    parked_at TEXT NOT NULL
)""",
)

# Columns added to tables that already existed, by the version that added them; run for files older than it.
_ADDED_COLUMNS: Final[dict[int, tuple[str, ...]]] = {
    2: ("ALTER TABLE ledger ADD COLUMN source_version TEXT",),
}

# How long to wait between tries of the switch to WAL (see `_use_wal`); jittered, so racers do not collide again.
_WAL_RETRY_S: Final = (0.001, 0.02)

# Id lists travel as one JSON array parameter (json_each): no dynamic SQL, and no cap on bound parameters.
_SYNCED_BY_INTEGRATION_ID: Final = """
SELECT workflow, integration_id, source_id, assignar_id, content_hash, active, synced_at, modified_at
FROM synced
WHERE workflow = ? AND integration_id IN (SELECT value FROM json_each(?))
"""
_SYNCED_BY_SOURCE_ID: Final = """
SELECT workflow, integration_id, source_id, assignar_id, content_hash, active, synced_at, modified_at
FROM synced
WHERE workflow = ? AND source_id IN (SELECT value FROM json_each(?))
"""
_SYNCED_OF_WORKFLOW: Final = """
SELECT workflow, integration_id, source_id, assignar_id, content_hash, active, synced_at, modified_at
FROM synced
WHERE workflow = ? ORDER BY integration_id
"""
_PUT_SYNCED: Final = """
INSERT OR REPLACE INTO synced
    (workflow, integration_id, source_id, assignar_id, content_hash, active, synced_at, modified_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
"""
_LEDGER_ENTRY: Final = """
SELECT timesheet_id, state, content_hash, intacct_keys, reason, attempts, lease_until, updated_at, source_version
FROM ledger
WHERE timesheet_id = ?
"""
_LEDGER_ALL: Final = """
SELECT timesheet_id, state, content_hash, intacct_keys, reason, attempts, lease_until, updated_at, source_version
FROM ledger
ORDER BY timesheet_id
"""
_LEDGER_IN_STATE: Final = """
SELECT timesheet_id, state, content_hash, intacct_keys, reason, attempts, lease_until, updated_at, source_version
FROM ledger
WHERE state = ? ORDER BY timesheet_id
"""
_PUT_LEDGER: Final = """
INSERT OR REPLACE INTO ledger
(timesheet_id, state, content_hash, intacct_keys, reason, attempts, lease_until, updated_at, source_version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_PUT_DEFINITION: Final = """
INSERT INTO definition (key, body, fetched_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at
"""


class SqliteStateStore(StateStore):
    """One SQLite file (or ":memory:"), schema created on open, WAL so readers do not wait for the writer.

    One connection serves all threads behind a lock: the CLI's work is network-bound, so serialising these
    sub-millisecond statements costs nothing, and it keeps ":memory:" one database rather than one per thread.
    Claims and the schema migration run in `BEGIN IMMEDIATE`, which keeps them atomic against another process on
    the same file; every lock is waited for up to `busy_timeout_s` before `StateUnavailableError`.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so a claim's read and write share one transaction.
        # timeout: SQLite's busy timeout, so BEGIN IMMEDIATE waits for another process's write instead of failing.
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
        except sqlite3.OperationalError as error:  # a folder, a path without write permission
            raise StateLocationError(
                f"cannot open state file {self.path} ({error}); give --state a file path you can write to"
            ) from error
        self._lock = threading.RLock()
        try:
            with _readable_errors(self.path):
                self._open_schema(busy_timeout_s)
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise StateSchemaError(
                f"{self.path} is not an intacct-assignar state file ({error}); give --state a new or existing .db path"
            ) from error
        except BaseException:
            self._db.close()
            raise

    def _open_schema(self, busy_timeout_s: float) -> None:
        if self.path != ":memory:":  # an in-memory database has no journal file to speak of
            self._use_wal(busy_timeout_s)
        self._db.execute("PRAGMA synchronous=NORMAL")
        # A file already at this version (every run after the first) takes no write lock at all.
        if self._schema_version() == SCHEMA_VERSION:
            return
        # BEGIN IMMEDIATE takes the write lock before reading the version, waiting for it as long as the busy
        # timeout allows. A deferred BEGIN would read first and then fail at once ("database is locked") when
        # another process wrote in between, since SQLite cannot wait for a lock that the reader itself blocks.
        with self._write_transaction():
            version = self._schema_version()  # again: another process may have migrated while we waited
            if version == SCHEMA_VERSION:
                return
            if version > SCHEMA_VERSION:
                raise StateSchemaError(
                    f"state file {self.path} has schema version {version}, newer than this version of "
                    f"intacct-assignar understands ({SCHEMA_VERSION}); upgrade intacct-assignar to use it"
                )
            # Statement by statement: executescript would COMMIT the transaction that holds the lock first.
            if version > 0:  # a new file gets every column from _SCHEMA
                for added in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _ADDED_COLUMNS.get(added, ()):
                        self._db.execute(statement)
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _use_wal(self, busy_timeout_s: float) -> None:
        """Switch the file to WAL (it stays so), trying again while other processes open it at the same moment.

        The switch needs the file to itself, and SQLite answers "database is locked" at once rather than calling
        the busy handler when it cannot have it (two processes opening a new file together is enough), so the
        waiting is ours, within the same busy timeout.
        """
        deadline = time.monotonic() + busy_timeout_s
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(random.uniform(*_WAL_RETRY_S))

    def _schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _execute(self, sql: str, params: Collection[Any] = ()) -> list[Any]:
        with self._lock, _readable_errors(self.path):
            return self._db.execute(sql, tuple(params)).fetchall()

    # Watermarks

    def get_watermark(self, source: str) -> datetime | None:
        rows = self._execute("SELECT at FROM watermark WHERE source = ?", (source,))
        return from_stored_time(rows[0][0]) if rows else None

    def set_watermark(self, source: str, at: datetime) -> None:
        stored = to_stored_time("watermark", at)
        self._execute(
            "INSERT INTO watermark (source, at) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET at = excluded.at",
            (source, stored),
        )

    # Checkpoints

    def get_checkpoint(self, source: str) -> PullCheckpoint | None:
        rows = self._execute(
            "SELECT full_pull, since, until, after_recordno, after_whenmodified, published, started_at "
            "FROM checkpoint WHERE source = ?",
            (source,),
        )
        if not rows:
            return None
        full, since, until, after_recordno, after_whenmodified, published, started_at = rows[0]
        return PullCheckpoint(
            full=bool(full),
            since=from_stored_time(since) if since is not None else None,
            until=from_stored_time(until),
            after_recordno=after_recordno,
            after_whenmodified=after_whenmodified,
            published=published,
            started_at=from_stored_time(started_at),
        )

    def put_checkpoint(self, source: str, checkpoint: PullCheckpoint) -> None:
        self._execute(
            "INSERT OR REPLACE INTO checkpoint "
            "(source, full_pull, since, until, after_recordno, after_whenmodified, published, started_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                source,
                int(checkpoint.full),
                to_stored_time("since", checkpoint.since) if checkpoint.since is not None else None,
                to_stored_time("until", checkpoint.until),
                checkpoint.after_recordno,
                checkpoint.after_whenmodified,
                checkpoint.published,
                to_stored_time("started_at", checkpoint.started_at),
            ),
        )

    def clear_checkpoint(self, source: str) -> None:
        self._execute("DELETE FROM checkpoint WHERE source = ?", (source,))

    # Synced records

    def get_synced(self, workflow: str, integration_ids: Collection[str]) -> dict[str, SyncedRecord]:
        rows = self._execute(_SYNCED_BY_INTEGRATION_ID, (workflow, json.dumps(list(integration_ids))))
        return {record.integration_id: record for record in map(_synced_from_row, rows)}

    def get_synced_by_source(self, workflow: str, source_ids: Collection[str]) -> dict[str, SyncedRecord]:
        rows = self._execute(_SYNCED_BY_SOURCE_ID, (workflow, json.dumps(list(source_ids))))
        return {record.source_id: record for record in map(_synced_from_row, rows)}

    def put_synced(self, record: SyncedRecord) -> None:
        self._execute(
            _PUT_SYNCED,
            (
                record.workflow,
                record.integration_id,
                record.source_id,
                record.assignar_id,
                record.content_hash,
                int(record.active),
                to_stored_time("synced_at", record.synced_at),
                to_stored_time("modified_at", record.modified_at) if record.modified_at else None,
            ),
        )

    def iter_synced(self, workflow: str) -> Iterator[SyncedRecord]:
        # Materialised under the lock: a cursor left open across yields would hold the connection for others.
        rows = self._execute(_SYNCED_OF_WORKFLOW, (workflow,))
        for row in rows:
            yield _synced_from_row(row)

    # Ledger

    def get_ledger(self, timesheet_id: int) -> LedgerEntry | None:
        with self._lock, _readable_errors(self.path):
            return self._ledger_entry(timesheet_id)

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
        lease_until(now, lease_s)  # refuse bad input before taking the write lock
        with self._write_transaction():
            existing = self._ledger_entry(timesheet_id)
            if not may_claim(existing, content_hash, now, retry_parked=retry_parked, source_version=source_version):
                return None
            entry = claimed_entry(existing, timesheet_id, content_hash, lease_s, now, source_version)
            self._write_ledger(entry)
            return entry

    def renew_claim(
        self, timesheet_id: int, attempt: int, intacct_keys: Mapping[str, str], lease_s: float, now: datetime
    ) -> None:
        until = lease_until(now, lease_s)
        with self._write_transaction():
            existing = self._ledger_entry(timesheet_id)
            if existing is None or not _held(existing, attempt):
                raise LeaseLostError(timesheet_id, attempt)
            self._write_ledger(replace(existing, intacct_keys=dict(intacct_keys), lease_until=until, updated_at=now))

    def record_posted(
        self,
        timesheet_id: int,
        content_hash: str,
        intacct_keys: Mapping[str, str],
        now: datetime,
        attempt: int | None = None,
    ) -> None:
        self._record_outcome(timesheet_id, "posted", content_hash, dict(intacct_keys), None, now, attempt)

    def record_parked(
        self,
        timesheet_id: int,
        content_hash: str,
        reason: str,
        now: datetime,
        intacct_keys: Mapping[str, str] | None = None,
        attempt: int | None = None,
    ) -> None:
        keys = dict(intacct_keys) if intacct_keys is not None else None
        self._record_outcome(timesheet_id, "parked", content_hash, keys, reason, now, attempt)

    def _record_outcome(
        self,
        timesheet_id: int,
        state: LedgerState,
        content_hash: str,
        intacct_keys: dict[str, str] | None,
        reason: str | None,
        now: datetime,
        attempt: int | None = None,
    ) -> None:
        to_stored_time("now", now)
        with self._write_transaction():
            existing = self._ledger_entry(timesheet_id)
            if attempt is not None and (
                existing is None or existing.state != "claimed" or existing.attempts != attempt
            ):
                raise LeaseLostError(timesheet_id, attempt)
            # Parking keeps earlier Intacct keys: a parked re-approval still names what it would have updated.
            keys = intacct_keys if intacct_keys is not None else (existing.intacct_keys if existing else {})
            self._write_ledger(
                LedgerEntry(
                    timesheet_id=timesheet_id,
                    state=state,
                    content_hash=content_hash,
                    intacct_keys=keys,
                    reason=reason,
                    attempts=existing.attempts if existing else 0,
                    lease_until=None,
                    updated_at=now,
                    source_version=existing.source_version if existing else None,
                )
            )

    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        """Read-then-write as one step: the thread lock for this process, BEGIN IMMEDIATE for other processes."""
        with self._lock, _readable_errors(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT leaves it open, and the next BEGIN would fail
                    self._db.execute("ROLLBACK")
                raise

    def _ledger_entry(self, timesheet_id: int) -> LedgerEntry | None:
        rows = self._db.execute(_LEDGER_ENTRY, (timesheet_id,)).fetchall()
        return _ledger_from_row(rows[0]) if rows else None

    def _write_ledger(self, entry: LedgerEntry) -> None:
        self._db.execute(
            _PUT_LEDGER,
            (
                entry.timesheet_id,
                entry.state,
                entry.content_hash,
                json.dumps(entry.intacct_keys, sort_keys=True),
                entry.reason,
                entry.attempts,
                to_stored_time("lease_until", entry.lease_until) if entry.lease_until is not None else None,
                to_stored_time("updated_at", entry.updated_at),
                entry.source_version,
            ),
        )

    def iter_ledger(self, state: LedgerState | None = None) -> Iterator[LedgerEntry]:
        rows = self._execute(_LEDGER_ALL) if state is None else self._execute(_LEDGER_IN_STATE, (state,))
        for row in rows:
            yield _ledger_from_row(row)

    # Intacct object definitions

    def get_definition(self, key: str) -> CachedDefinition | None:
        rows = self._execute("SELECT key, body, fetched_at FROM definition WHERE key = ?", (key,))
        if not rows:
            return None
        stored_key, body, fetched_at = rows[0]
        return CachedDefinition(key=stored_key, body=body, fetched_at=from_stored_time(fetched_at))

    def put_definition(self, definition: CachedDefinition) -> None:
        fetched_at = to_stored_time("fetched_at", definition.fetched_at)
        self._execute(_PUT_DEFINITION, (definition.key, definition.body, fetched_at))

    # Run history

    def record_run(self, entry: RunEntry) -> None:
        ended = to_stored_time("RunEntry.ended_at", entry.ended_at)
        # Dropped on write rather than by a timer: the CLI has none, and a write is when the table grows.
        oldest_kept = to_stored_time("retention", entry.ended_at - RUN_RETENTION)
        with self._write_transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO run (run_id, workflow, ended_at, entry) VALUES (?, ?, ?, ?)",
                (entry.run_id, entry.workflow, ended, entry.to_json()),
            )
            self._db.execute("DELETE FROM run WHERE ended_at < ?", (oldest_kept,))

    def recent_runs(self, workflow: str, *, limit: int = 20, since: datetime | None = None) -> list[RunEntry]:
        floor = to_stored_time("since", since) if since is not None else ""
        rows = self._execute(
            "SELECT entry FROM run WHERE workflow = ? AND ended_at >= ? ORDER BY ended_at DESC, run_id LIMIT ?",
            (workflow, floor, max(limit, 0)),
        )
        return list(readable_entries(row[0] for row in rows))

    # Parked records

    def park_record(self, record: ParkedRecord) -> None:
        self._execute(
            "INSERT OR REPLACE INTO parked_record (key, workflow, body, reason, parked_at) VALUES (?, ?, ?, ?, ?)",
            (record.key, record.workflow, record.body, record.reason, to_stored_time("parked_at", record.parked_at)),
        )

    def iter_parked_records(self) -> Iterator[ParkedRecord]:
        rows = self._execute("SELECT key, workflow, body, reason, parked_at FROM parked_record ORDER BY key")
        for key, workflow, body, reason, parked_at in rows:
            yield ParkedRecord(key, workflow, body, reason, from_stored_time(parked_at))

    def delete_parked_record(self, key: str) -> None:
        self._execute("DELETE FROM parked_record WHERE key = ?", (key,))


def _held(entry: LedgerEntry | None, attempt: int) -> bool:
    """Is the timesheet still claimed by claim number `attempt` (a later claim counts attempts up)?"""
    return entry is not None and entry.state == "claimed" and entry.attempts == attempt


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, with any extended code (SQLITE_BUSY_SNAPSHOT, ...): another holds a lock."""
    # Errors from SQLite itself carry its code; the extended codes keep the primary one in the low byte.
    code: int | None = getattr(error, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


@contextmanager
def _readable_errors(path: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as error:
        # Another process (a second CLI run) held the write lock for longer than the busy timeout.
        if _is_busy(error):
            raise StateUnavailableError(
                f"state file {path} is locked by another process (is another sync running?); try again when it ends"
            ) from error
        raise


def _synced_from_row(row: Collection[Any]) -> SyncedRecord:
    workflow, integration_id, source_id, assignar_id, content_hash, active, synced_at, modified_at = row
    return SyncedRecord(
        workflow=workflow,
        integration_id=integration_id,
        source_id=source_id,
        assignar_id=assignar_id,
        content_hash=content_hash,
        active=bool(active),
        synced_at=from_stored_time(synced_at),
        modified_at=from_stored_time(modified_at) if modified_at else None,
    )


def _ledger_from_row(row: Collection[Any]) -> LedgerEntry:
    timesheet_id, state, content_hash, intacct_keys, reason, attempts, lease_until, updated_at, source_version = row
    return LedgerEntry(
        timesheet_id=timesheet_id,
        state=state,
        content_hash=content_hash,
        intacct_keys=json.loads(intacct_keys),
        reason=reason,
        attempts=attempts,
        lease_until=from_stored_time(lease_until) if lease_until is not None else None,
        updated_at=from_stored_time(updated_at),
        source_version=source_version,
    )
