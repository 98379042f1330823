"""Both state backends behind one fixture: SQLite in a temp dir, DynamoDB under moto (in-process, no sockets)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from intacct_assignar.state import DynamoStateStore, SqliteStateStore, StateStore, create_table
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

TABLE = "intacct-assignar-state"
REGION = "us-east-1"


def make_moto_writes_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each write and its condition atomically; moto checks then writes, unlocked.

    Without this, two threads can both pass moto's condition check, so a concurrency test would be testing
    moto's race rather than our ConditionExpression. One lock around moto's writes restores DynamoDB's promise.
    """
    lock = threading.RLock()  # re-entrant: moto's transact_write_items calls its own put_item
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def atomic(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, atomic)


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Fake credentials and region, so botocore never looks further (instance metadata would need a socket).
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    make_moto_writes_atomic(monkeypatch)
    with mock_aws():
        yield


def dynamo_client() -> DynamoDBClient:
    """A moto DynamoDB client with the state table created from TABLE_DEFINITION (call under `fake_aws`)."""
    client = boto3.client("dynamodb", region_name=REGION)
    create_table(client, TABLE)
    return client


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        with SqliteStateStore(tmp_path / "state.db") as sqlite_store:
            yield sqlite_store
    else:
        request.getfixturevalue("fake_aws")
        yield DynamoStateStore(TABLE, client=dynamo_client())
