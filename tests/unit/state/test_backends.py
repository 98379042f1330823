"""What only one backend, or the factory, has to get right: throttling, missing tables, schema, locations."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from intacct_assignar.retry import RetryPolicy
from intacct_assignar.runs import RUN_RETENTION, RunEntry
from intacct_assignar.state import (
    TABLE_DEFINITION,
    CachedDefinition,
    DynamoStateStore,
    SqliteStateStore,
    StateError,
    StateLocationError,
    StateSchemaError,
    StateUnavailableError,
    SyncedRecord,
    open_state,
)
from intacct_assignar.state.sqlite import SCHEMA_VERSION

from .conftest import REGION, TABLE, dynamo_client

NOW = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)

# The schema of the second release (user_version 2), as it shipped: what a version-2 file on disk holds.
VERSION_2_SCHEMA = """
CREATE TABLE IF NOT EXISTS watermark (
    source TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoint (
    source TEXT PRIMARY KEY,
    full_pull INTEGER NOT NULL,
    since TEXT,
    until TEXT NOT NULL,
    after_recordno INTEGER,
    after_whenmodified TEXT,
    published INTEGER NOT NULL,
    started_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS synced (
    workflow TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    assignar_id INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    synced_at TEXT NOT NULL,
    modified_at TEXT,
    PRIMARY KEY (workflow, integration_id)
);
CREATE INDEX IF NOT EXISTS synced_by_source ON synced (workflow, source_id);
CREATE TABLE IF NOT EXISTS ledger (
    timesheet_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'posted', 'parked')),
    content_hash TEXT NOT NULL,
    intacct_keys TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL,
    lease_until TEXT,
    updated_at TEXT NOT NULL,
    source_version TEXT
);
CREATE INDEX IF NOT EXISTS ledger_by_state ON ledger (state, timesheet_id);
"""


def version_2_file(path: Path) -> None:
    """A state file written by the second release: a watermark, a posted timesheet, no definitions table."""
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
        raw.executescript(VERSION_2_SCHEMA)
        raw.executescript(
            "INSERT INTO watermark VALUES ('EMPLOYEE', '2026-11-25T22:00:00.000000+00:00');"
            "INSERT INTO ledger VALUES (7, 'posted', 'h', '{\"timesheet\": \"41\"}', NULL, 1, NULL,"
            " '2026-11-25T22:00:00.000000+00:00', '2026-11-25T10:00:00.000Z');"
            "PRAGMA user_version = 2;"
        )


class ThrottlingClient:
    """The moto client, except that BatchGetItem leaves all but `serve` keys unprocessed, as DynamoDB may."""

    def __init__(self, client: Any, serve: int, times: int) -> None:
        self._client = client
        self._serve = serve
        self._times = times
        self.batch_sizes: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        (table, request), *_ = RequestItems.items()
        self.batch_sizes.append(len(request["Keys"]))
        if self._times <= 0:
            return dict(self._client.batch_get_item(RequestItems=RequestItems))
        self._times -= 1
        served, left = request["Keys"][: self._serve], request["Keys"][self._serve :]
        answer: dict[str, Any] = {"Responses": {table: []}}
        if served:
            answer = dict(self._client.batch_get_item(RequestItems={table: {**request, "Keys": served}}))
        answer["UnprocessedKeys"] = {table: {**request, "Keys": left}} if left else {}
        return answer


def record(number: int) -> SyncedRecord:
    return SyncedRecord("workers", f"W{number}", f"E-{number}", number, "h", True, NOW)


@pytest.mark.usefixtures("fake_aws")
def test_dynamodb_retries_unprocessed_keys_until_every_record_is_read() -> None:
    # Given 120 synced records and a table that serves only 30 keys per call for the first three calls
    client = dynamo_client()
    writer = DynamoStateStore(TABLE, client=client)
    for number in range(120):
        writer.put_synced(record(number))
    throttling = ThrottlingClient(client, serve=30, times=3)
    slept: list[float] = []
    store = DynamoStateStore(TABLE, client=throttling, sleep=slept.append)  # type: ignore[arg-type]  # duck-typed stand-in

    # When all of them are read
    found = store.get_synced("workers", [f"W{number}" for number in range(120)])

    # Then every record arrives: 100 asked first, the unprocessed rest asked again after a backoff, then 20
    assert set(found) == {f"W{number}" for number in range(120)}
    assert throttling.batch_sizes == [100, 70, 40, 10, 20]
    assert len(slept) == 3


@pytest.mark.usefixtures("fake_aws")
def test_dynamodb_gives_up_with_a_typed_error_when_throttling_does_not_end() -> None:
    # Given a table that serves no keys at all
    client = dynamo_client()
    DynamoStateStore(TABLE, client=client).put_synced(record(1))
    DynamoStateStore(TABLE, client=client).put_synced(record(2))
    throttling = ThrottlingClient(client, serve=0, times=1_000)
    store = DynamoStateStore(
        TABLE,
        client=throttling,  # type: ignore[arg-type]  # duck-typed stand-in
        retry=RetryPolicy(max_attempts=3, base_delay_s=0),
        sleep=lambda _: None,
    )

    # When records are read
    # Then the caller gets a typed error saying what happened, after the policy's attempts
    with pytest.raises(StateUnavailableError, match=r"left 2 keys unprocessed after 3 attempts"):
        store.get_synced("workers", ["W1", "W2"])


@pytest.mark.usefixtures("fake_aws")
def test_dynamodb_names_the_missing_table_and_how_to_create_it() -> None:
    # Given no table at all
    store = DynamoStateStore("no-such-table", client=boto3.client("dynamodb", region_name=REGION))

    # When the store is used
    # Then the error says which table is missing and what to do
    with pytest.raises(StateSchemaError, match=r"no-such-table does not exist.*create_table"):
        store.get_watermark("EMPLOYEE")


@pytest.mark.usefixtures("fake_aws")
def test_dynamodb_refuses_a_definition_larger_than_an_item_with_a_readable_reason() -> None:
    # Given a definition just under DynamoDB's item limit, and one just over it
    store = DynamoStateStore(TABLE, client=dynamo_client())
    fits = CachedDefinition("PROJECT|C|E|U", "x" * 399_000, NOW)
    too_large = CachedDefinition("EMPLOYEE|C|E|U", "x" * 401_000, NOW)

    # When both are cached
    store.put_definition(fits)
    with pytest.raises(StateError, match=r"'EMPLOYEE\|C\|E\|U' is 401,\d{3} bytes as a DynamoDB item") as refused:
        store.put_definition(too_large)

    # Then the one that fits is kept; the other is refused with our error (not botocore's), and nothing stored
    assert store.get_definition("PROJECT|C|E|U") == fits
    assert store.get_definition("EMPLOYEE|C|E|U") is None
    assert type(refused.value) is StateError and refused.value.__cause__ is None


def test_the_table_definition_is_on_demand_with_string_keys_and_a_ledger_index() -> None:
    # Given the one table definition the template and tests share
    # Then it is on demand, keyed pk/sk, with the ledger's sparse state index
    assert TABLE_DEFINITION["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in TABLE_DEFINITION["KeySchema"]] == ["pk", "sk"]
    assert [i["IndexName"] for i in TABLE_DEFINITION["GlobalSecondaryIndexes"]] == ["ledger_by_state"]


def test_sqlite_keeps_state_across_reopening_the_file(tmp_path: Path) -> None:
    # Given a watermark written by one CLI run
    path = tmp_path / "nested" / "state.db"
    with SqliteStateStore(path) as first_run:
        first_run.set_watermark("EMPLOYEE", NOW)

    # When the next run opens the same file
    with SqliteStateStore(path) as second_run:
        # Then the watermark is there, and the file is in WAL mode
        assert second_run.get_watermark("EMPLOYEE") == NOW
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_upgrades_a_version_1_file_keeping_its_ledger(tmp_path: Path) -> None:
    # Given a state file written by the first release (no source_version in the ledger)
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as raw:
        raw.executescript(
            "CREATE TABLE ledger (timesheet_id INTEGER PRIMARY KEY, state TEXT NOT NULL, content_hash TEXT NOT NULL,"
            " intacct_keys TEXT NOT NULL, reason TEXT, attempts INTEGER NOT NULL, lease_until TEXT,"
            " updated_at TEXT NOT NULL);"
            "INSERT INTO ledger VALUES (7, 'posted', 'h', '{\"timesheet\": \"41\"}', NULL, 1, NULL,"
            " '2026-11-25T22:00:00.000000+00:00');"
            "PRAGMA user_version = 1;"
        )

    # When this version opens it
    with SqliteStateStore(path) as store:
        entry = store.get_ledger(7)
        claim = store.claim_timesheet(7, "h2", 60, NOW, source_version="2026-11-25T10:00:00.000Z")

    # Then the entry is read as before and the new column works
    assert entry is not None and (entry.state, entry.intacct_keys, entry.source_version) == (
        "posted",
        {"timesheet": "41"},
        None,
    )
    assert claim is not None and claim.source_version == "2026-11-25T10:00:00.000Z"
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with SqliteStateStore(path) as store:
        store.put_definition(CachedDefinition("PROJECT|C|E|U", "{}", NOW))
        assert store.get_definition("PROJECT|C|E|U") is not None
        # and the tables later versions added are there too
        store.record_run(RunEntry(workflow="time", kind="sweep", started_at=NOW, ended_at=NOW, outcome="ok"))
        assert len(store.recent_runs("time")) == 1


def test_sqlite_upgrades_a_version_2_file_in_place_keeping_what_it_holds(tmp_path: Path) -> None:
    # Given a state file written by the second release (no definitions table)
    path = tmp_path / "state.db"
    version_2_file(path)

    # When this version opens it and caches a definition
    with SqliteStateStore(path) as store:
        watermark = store.get_watermark("EMPLOYEE")
        entry = store.get_ledger(7)
        store.put_definition(CachedDefinition("PROJECT|C|E|U", '{"Type": {}}', NOW))

    # Then what it held reads as before, the definition is kept, and the file says version 3 (still WAL)
    assert watermark == NOW
    assert entry is not None and (entry.state, entry.source_version) == ("posted", "2026-11-25T10:00:00.000Z")
    with SqliteStateStore(path) as reopened:
        assert reopened.get_definition("PROJECT|C|E|U") == CachedDefinition("PROJECT|C|E|U", '{"Type": {}}', NOW)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_opens_a_current_file_without_waiting_for_another_processes_write(tmp_path: Path) -> None:
    # Given a current state file, and another process in the middle of a long write to it
    path = tmp_path / "state.db"
    with SqliteStateStore(path) as first_run:
        first_run.set_watermark("EMPLOYEE", NOW)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    # When a second run opens it with almost no patience for locks
    # Then it opens and reads (nothing to migrate, so no write lock is needed); only a write has to wait
    try:
        with SqliteStateStore(path, busy_timeout_s=0.05) as second_run:
            assert second_run.get_watermark("EMPLOYEE") == NOW
            with pytest.raises(StateUnavailableError, match="locked by another process"):
                second_run.set_watermark("EMPLOYEE", NOW)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_sqlite_waits_for_another_processes_write_before_migrating_a_file(tmp_path: Path) -> None:
    # Given a version-2 file that another process is writing to for a moment
    path = tmp_path / "state.db"
    version_2_file(path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO watermark VALUES ('PROJECT', '2026-11-25T22:00:00.000000+00:00')")
    released = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    released.start()

    # When this version opens it (the migration needs the write lock)
    try:
        with SqliteStateStore(path, busy_timeout_s=10) as store:
            # Then it waited for the other write instead of failing, migrated, and sees that write
            assert store.get_watermark("PROJECT") == NOW
    finally:
        released.join()
        other.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_sqlite_refuses_a_file_written_by_a_newer_version(tmp_path: Path) -> None:
    # Given a state file with a schema version from the future
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")

    # When it is opened
    # Then the error says why and what to do
    with pytest.raises(StateSchemaError, match=r"schema version 99.*upgrade intacct-assignar"):
        SqliteStateStore(path)


def test_sqlite_refuses_a_file_that_is_not_a_state_file(tmp_path: Path) -> None:
    # Given the tenant's TOML passed as --state by mistake
    path = tmp_path / "tenant.toml"
    path.write_text("[workflows.workers]\nenabled = true\n" * 100)

    # When it is opened as state
    # Then the error names the file, and the file is left alone
    with pytest.raises(StateSchemaError, match=r"tenant.toml is not an intacct-assignar state file"):
        SqliteStateStore(path)
    assert path.read_text().startswith("[workflows.workers]")


def test_sqlite_reports_a_file_locked_by_another_process_as_unavailable(tmp_path: Path) -> None:
    # Given another process in the middle of a write to the same state file
    path = tmp_path / "state.db"
    store = SqliteStateStore(path, busy_timeout_s=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    # When we try to claim a timesheet
    # Then we get a typed error that says what is going on, and the store works once the other is done
    with pytest.raises(StateUnavailableError, match="locked by another process"):
        store.claim_timesheet(1, "h", 60, NOW)
    other.execute("ROLLBACK")
    other.close()
    assert store.claim_timesheet(1, "h", 60, NOW) is not None
    store.close()


@pytest.mark.usefixtures("fake_aws")
def test_open_state_picks_the_backend_from_the_location(tmp_path: Path) -> None:
    # Given fake AWS credentials and region, so a DynamoDB client can be built without touching AWS
    # When locations of each kind are opened
    dynamo = open_state("dynamodb://tenant-a-state")
    by_url = open_state(f"sqlite://{tmp_path}/url.db")
    by_path = open_state(str(tmp_path / "plain.db"))
    in_memory = open_state(":memory:")

    # Then each is the backend it names
    assert isinstance(dynamo, DynamoStateStore) and dynamo.table_name == "tenant-a-state"
    assert isinstance(by_url, SqliteStateStore) and by_url.path == f"{tmp_path}/url.db"
    assert isinstance(by_path, SqliteStateStore) and by_path.path == str(tmp_path / "plain.db")
    assert isinstance(in_memory, SqliteStateStore) and in_memory.path == ":memory:"
    for store in (by_url, by_path, in_memory):
        store.close()


@pytest.mark.parametrize(
    ("location", "complaint"),
    [
        ("dynamodb://", "names no table"),
        ("s3://bucket/state.db", "s3:// which is not a state store"),
        ("sqlite://relative.db", "not a sqlite URL"),
        ("  ", "state location is empty"),
    ],
)
def test_open_state_refuses_locations_it_cannot_open(location: str, complaint: str) -> None:
    # Given a mistyped location
    # When it is opened
    # Then the error quotes it and says what would work
    with pytest.raises(StateLocationError, match=complaint):
        open_state(location)


def test_sqlite_drops_runs_older_than_the_retention_when_it_writes(tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)

    def entry(ended: datetime, run_id: str) -> RunEntry:
        return RunEntry(workflow="time", kind="sweep", started_at=ended, ended_at=ended, outcome="ok", run_id=run_id)

    with SqliteStateStore(tmp_path / "state.db") as store:
        store.record_run(entry(now - RUN_RETENTION - timedelta(seconds=1), "too-old"))
        store.record_run(entry(now - RUN_RETENTION + timedelta(hours=1), "kept"))
        store.record_run(entry(now, "new"))
        assert [e.run_id for e in store.recent_runs("time")] == ["new", "kept"]
