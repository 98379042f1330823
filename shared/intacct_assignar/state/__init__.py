"""The integration's state behind one interface: DynamoDB in AWS, an embedded SQLite file for the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..lazy_exports import lazy_exports
from .base import (
    LEDGER_STATES,
    CachedDefinition,
    LeaseLostError,
    LedgerEntry,
    LedgerState,
    NaiveDatetimeError,
    ParkedRecord,
    PullCheckpoint,
    StateError,
    StateLocationError,
    StateSchemaError,
    StateStore,
    StateUnavailableError,
    SyncedRecord,
)
from .history import StateRunLog

if TYPE_CHECKING:
    from .dynamodb import TABLE_DEFINITION, DynamoStateStore, create_table
    from .sqlite import SqliteStateStore
else:
    # The two stores' drivers (boto3, sqlite3): imported when first asked for, so a function that only names the
    # state's types and errors does not load them, and none loads SQLite (lazy_exports.py).
    __getattr__ = lazy_exports(
        globals(),
        {
            ".dynamodb": ("TABLE_DEFINITION", "DynamoStateStore", "create_table"),
            ".sqlite": ("SqliteStateStore",),
        },
    )

__all__ = [
    "LEDGER_STATES",
    "TABLE_DEFINITION",
    "CachedDefinition",
    "DynamoStateStore",
    "LeaseLostError",
    "LedgerEntry",
    "LedgerState",
    "NaiveDatetimeError",
    "ParkedRecord",
    "PullCheckpoint",
    "SqliteStateStore",
    "StateError",
    "StateLocationError",
    "StateRunLog",
    "StateSchemaError",
    "StateStore",
    "StateUnavailableError",
    "SyncedRecord",
    "create_table",
    "open_state",
]


def open_state(location: str) -> StateStore:
    """Open the store a `--state` / STATE_LOCATION value names.

    `dynamodb://TABLE` is the tenant's table in AWS. `sqlite:///abs/path.db` (file-URL style: three slashes
    before an absolute path), a plain path (`state.db`, `~/x/state.db`) or `:memory:` is a SQLite file. Any
    other `scheme://` is refused rather than becoming a file with an odd name.
    """
    if location.startswith("dynamodb://"):
        table = location.removeprefix("dynamodb://").strip("/")
        if not table:
            raise StateLocationError(f"state location {location!r} names no table; write dynamodb://TABLE_NAME")
        from .dynamodb import DynamoStateStore

        return DynamoStateStore(table)
    from .sqlite import SqliteStateStore

    if location.startswith("sqlite://"):
        path = location.removeprefix("sqlite://")
        if path in {"", "/:memory:", ":memory:"}:
            return SqliteStateStore(":memory:")
        if not path.startswith("/"):
            raise StateLocationError(
                f"state location {location!r} is not a sqlite URL; write sqlite:///absolute/path.db "
                "or give the path on its own"
            )
        return SqliteStateStore(path)
    if "://" in location:
        scheme = location.split("://", 1)[0]
        raise StateLocationError(
            f"state location {location!r} uses {scheme}:// which is not a state store; "
            "use dynamodb://TABLE_NAME, sqlite:///path.db or a plain file path"
        )
    if not location.strip():
        raise StateLocationError("state location is empty; use dynamodb://TABLE_NAME or a SQLite file path")
    return SqliteStateStore(location if location == ":memory:" else Path(location).expanduser())
