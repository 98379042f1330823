"""State in one on-demand DynamoDB table per tenant stack (single-table design, string keys `pk`/`sk`).

Items, by key:
- `WATERMARK#<source>` / `WATERMARK` and `CHECKPOINT#<source>` / `CHECKPOINT`: one each per Intacct object.
- `SYNCED#<workflow>` / `<integration_id>`: a synced record; `iter_synced` is one Query of that partition.
- `SYNCED_BY_SOURCE#<workflow>` / `<source_id>`: a full copy of the same record, written in the same
  transaction. A copy rather than a GSI because links are resolved in batches right after the linked record
  was written: a base-table item can be read with BatchGetItem (100 keys a call) and strongly consistently,
  while a GSI can only be queried one key at a time and lags its table.
- `LEDGER#<timesheet_id>` / `LEDGER`: a ledger entry, claimed with a ConditionExpression. The sparse GSI
  `ledger_by_state` (`ledger_state`, `timesheet_id`) lists entries by state without scanning synced records.
- `PARKED_RECORD` / `<key>`: a record the command line's sync parked, with its body and reason.
- `DEFINITION#<key>` / `DEFINITION`: an Intacct object definition (`lookup`'s answer) cached under its key; the
  body must fit in one item (`MAX_ITEM_BYTES`).
- `RUN#<workflow>` / `<ended_at>#<run_id>`: one run's entry as JSON, newest last in its partition, so the latest
  runs are one Query read backwards. `expires_at` (epoch seconds) is the table's TTL attribute: DynamoDB drops
  entries `RUN_RETENTION` after they ended. Nothing else in the table carries it, so nothing else expires.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypedDict, cast

import boto3
from botocore.exceptions import ClientError

from ..retry import RetryPolicy
from ..runs import RunEntry, readable_entries
from .base import (
    LEDGER_STATES,
    CachedDefinition,
    LeaseLostError,
    LedgerEntry,
    LedgerState,
    ParkedRecord,
    PullCheckpoint,
    StateError,
    StateSchemaError,
    StateStore,
    StateUnavailableError,
    SyncedRecord,
    from_stored_time,
    lease_until,
    to_stored_time,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.literals import BillingModeType
    from mypy_boto3_dynamodb.type_defs import (
        AttributeDefinitionTypeDef,
        AttributeValueTypeDef,
        GlobalSecondaryIndexTypeDef,
        KeysAndAttributesTypeDef,
        KeySchemaElementTypeDef,
    )

    Item = dict[str, AttributeValueTypeDef]


class TableDefinition(TypedDict):
    KeySchema: list[KeySchemaElementTypeDef]
    AttributeDefinitions: list[AttributeDefinitionTypeDef]
    GlobalSecondaryIndexes: list[GlobalSecondaryIndexTypeDef]
    BillingMode: BillingModeType


LEDGER_BY_STATE_INDEX: Final = "ledger_by_state"

# The one table definition: the SAM template must declare the same (a template test compares them), and tests
# and the demo create their tables from it.
TABLE_DEFINITION: Final[TableDefinition] = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "ledger_state", "AttributeType": "S"},
        {"AttributeName": "timesheet_id", "AttributeType": "N"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": LEDGER_BY_STATE_INDEX,
            "KeySchema": [
                {"AttributeName": "ledger_state", "KeyType": "HASH"},
                {"AttributeName": "timesheet_id", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

# The attribute the table's time to live reads (the template's TimeToLiveSpecification names the same).
TTL_ATTRIBUTE: Final = "expires_at"

# The partition of the parked records (`park_record`); each record's key is its sort key.
PARKED_RECORDS: Final = "PARKED_RECORD"

# BatchGetItem's own limit per call.
BATCH_GET_LIMIT: Final = 100

# DynamoDB's item limit is "400 KB" counted as the UTF-8 bytes of every attribute name and value; the service
# takes a little more (about 409,600), so checking against 400,000 refuses before DynamoDB would, never after.
MAX_ITEM_BYTES: Final = 400_000


def create_table(client: DynamoDBClient, name: str) -> None:
    """Create the state table from `TABLE_DEFINITION` and wait until it is usable (tests and the demo)."""
    client.create_table(TableName=name, **TABLE_DEFINITION)
    client.get_waiter("table_exists").wait(TableName=name)
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    )


class DynamoStateStore(StateStore):
    """The state in AWS. boto3 clients are thread-safe, so one store serves all threads of an invocation."""

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self._client: DynamoDBClient = client if client is not None else boto3.client("dynamodb")
        # Unprocessed keys are DynamoDB throttling us within a 200 answer; botocore does not retry those.
        self._retry = retry or RetryPolicy(max_attempts=8, base_delay_s=0.05, max_delay_s=2.0)
        self._sleep = sleep

    # Watermarks

    def get_watermark(self, source: str) -> datetime | None:
        item = self._get(f"WATERMARK#{source}", "WATERMARK")
        return from_stored_time(_text(item, "at")) if item else None

    def set_watermark(self, source: str, at: datetime) -> None:
        stored = to_stored_time("watermark", at)
        self._put({**_key(f"WATERMARK#{source}", "WATERMARK"), "source": {"S": source}, "at": {"S": stored}})

    # Checkpoints

    def get_checkpoint(self, source: str) -> PullCheckpoint | None:
        item = self._get(f"CHECKPOINT#{source}", "CHECKPOINT")
        if item is None:
            return None
        since = _optional_text(item, "since")
        return PullCheckpoint(
            full=_bool(item, "full"),
            since=from_stored_time(since) if since is not None else None,
            until=from_stored_time(_text(item, "until")),
            after_recordno=_optional_int(item, "after_recordno"),
            after_whenmodified=_optional_text(item, "after_whenmodified"),
            published=_int(item, "published"),
            started_at=from_stored_time(_text(item, "started_at")),
        )

    def put_checkpoint(self, source: str, checkpoint: PullCheckpoint) -> None:
        item: Item = {
            **_key(f"CHECKPOINT#{source}", "CHECKPOINT"),
            "source": {"S": source},
            "full": {"BOOL": checkpoint.full},
            "until": {"S": to_stored_time("until", checkpoint.until)},
            "published": {"N": str(checkpoint.published)},
            "started_at": {"S": to_stored_time("started_at", checkpoint.started_at)},
        }
        if checkpoint.since is not None:
            item["since"] = {"S": to_stored_time("since", checkpoint.since)}
        if checkpoint.after_recordno is not None:
            item["after_recordno"] = {"N": str(checkpoint.after_recordno)}
        if checkpoint.after_whenmodified is not None:
            item["after_whenmodified"] = {"S": checkpoint.after_whenmodified}
        self._put(item)

    def clear_checkpoint(self, source: str) -> None:
        with _readable_errors(self.table_name):
            self._client.delete_item(TableName=self.table_name, Key=_key(f"CHECKPOINT#{source}", "CHECKPOINT"))

    # Synced records

    def get_synced(self, workflow: str, integration_ids: Collection[str]) -> dict[str, SyncedRecord]:
        items = self._batch_get([_key(f"SYNCED#{workflow}", iid) for iid in dict.fromkeys(integration_ids)])
        return {record.integration_id: record for record in map(_synced_from_item, items)}

    def get_synced_by_source(self, workflow: str, source_ids: Collection[str]) -> dict[str, SyncedRecord]:
        items = self._batch_get([_key(f"SYNCED_BY_SOURCE#{workflow}", sid) for sid in dict.fromkeys(source_ids)])
        return {record.source_id: record for record in map(_synced_from_item, items)}

    def put_synced(self, record: SyncedRecord) -> None:
        attributes: Item = {
            "workflow": {"S": record.workflow},
            "integration_id": {"S": record.integration_id},
            "source_id": {"S": record.source_id},
            "assignar_id": {"N": str(record.assignar_id)},
            "content_hash": {"S": record.content_hash},
            "active": {"BOOL": record.active},
            "synced_at": {"S": to_stored_time("synced_at", record.synced_at)},
        }
        if record.modified_at is not None:
            attributes["modified_at"] = {"S": to_stored_time("modified_at", record.modified_at)}
        previous = self._get(f"SYNCED#{record.workflow}", record.integration_id)
        previous_source_id = _optional_text(previous, "source_id") if previous else None
        with _readable_errors(self.table_name):
            # One transaction, so a lookup by Intacct ID never misses a record that a lookup by key finds.
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {**_key(f"SYNCED#{record.workflow}", record.integration_id), **attributes},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {**_key(f"SYNCED_BY_SOURCE#{record.workflow}", record.source_id), **attributes},
                        }
                    },
                ]
            )
        if previous_source_id is not None and previous_source_id != record.source_id:
            self._forget_renamed_source(record, previous_source_id)

    def _forget_renamed_source(self, record: SyncedRecord, previous_source_id: str) -> None:
        # The record's Intacct ID changed. Deleted outside the transaction and only if still ours: another record
        # may have taken the old ID since, and a failed condition would otherwise cancel every retry of this put.
        try:
            with _readable_errors(self.table_name):
                self._client.delete_item(
                    TableName=self.table_name,
                    Key=_key(f"SYNCED_BY_SOURCE#{record.workflow}", previous_source_id),
                    ConditionExpression="integration_id = :integration_id",
                    ExpressionAttributeValues={":integration_id": {"S": record.integration_id}},
                )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise

    def iter_synced(self, workflow: str) -> Iterator[SyncedRecord]:
        for item in self._query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": f"SYNCED#{workflow}"}}
        ):
            yield _synced_from_item(item)

    # Ledger

    def get_ledger(self, timesheet_id: int) -> LedgerEntry | None:
        item = self._get(f"LEDGER#{timesheet_id}", "LEDGER")
        return _ledger_from_item(item) if item else None

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
        # The same rule as `may_claim`, evaluated by DynamoDB so that two claimers cannot both win.
        condition = (
            "attribute_not_exists(pk)"
            " OR (ledger_state = :claimed AND lease_until <= :now)"
            " OR (ledger_state <> :claimed AND content_hash <> :hash)"
        )
        values: Item = {}
        if retry_parked:
            condition += " OR ledger_state = :parked"
            values[":parked"] = {"S": "parked"}
        version_clause = ""
        if source_version is not None:
            # Never older than a version claimed before (text order is time order for Assignar's stamps).
            condition = f"({condition}) AND (attribute_not_exists(source_version) OR source_version <= :version)"
            version_clause = ", source_version = :version"
            values[":version"] = {"S": source_version}
        try:
            with _readable_errors(self.table_name):
                answer = self._client.update_item(
                    TableName=self.table_name,
                    Key=_key(f"LEDGER#{timesheet_id}", "LEDGER"),
                    UpdateExpression=(
                        "SET ledger_state = :claimed, content_hash = :hash, lease_until = :lease_until, "
                        "updated_at = :now, timesheet_id = :timesheet_id, "
                        "attempts = if_not_exists(attempts, :zero) + :one, "
                        "intacct_keys = if_not_exists(intacct_keys, :no_keys)"
                        f"{version_clause} REMOVE reason"
                    ),
                    ConditionExpression=condition,
                    ExpressionAttributeValues={
                        **values,
                        ":claimed": {"S": "claimed"},
                        ":hash": {"S": content_hash},
                        ":lease_until": {"S": to_stored_time("lease_until", lease_until(now, lease_s))},
                        ":now": {"S": to_stored_time("now", now)},
                        ":timesheet_id": {"N": str(timesheet_id)},
                        ":zero": {"N": "0"},
                        ":one": {"N": "1"},
                        ":no_keys": {"M": {}},
                    },
                    ReturnValues="ALL_NEW",
                )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return _ledger_from_item(answer["Attributes"])

    def renew_claim(
        self, timesheet_id: int, attempt: int, intacct_keys: Mapping[str, str], lease_s: float, now: datetime
    ) -> None:
        try:
            with _readable_errors(self.table_name):
                self._client.update_item(
                    TableName=self.table_name,
                    Key=_key(f"LEDGER#{timesheet_id}", "LEDGER"),
                    UpdateExpression="SET intacct_keys = :keys, lease_until = :lease_until, updated_at = :now",
                    ConditionExpression="ledger_state = :claimed AND attempts = :attempt",
                    ExpressionAttributeValues={
                        ":keys": _keys_item(intacct_keys),
                        ":lease_until": {"S": to_stored_time("lease_until", lease_until(now, lease_s))},
                        ":now": {"S": to_stored_time("now", now)},
                        ":claimed": {"S": "claimed"},
                        ":attempt": {"N": str(attempt)},
                    },
                )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                raise LeaseLostError(timesheet_id, attempt) from error
            raise

    def record_posted(
        self,
        timesheet_id: int,
        content_hash: str,
        intacct_keys: Mapping[str, str],
        now: datetime,
        attempt: int | None = None,
    ) -> None:
        self._record_outcome(
            timesheet_id,
            "posted",
            content_hash,
            now,
            attempt=attempt,
            set_clause="intacct_keys = :keys",
            remove_clause="reason",
            values={":keys": _keys_item(intacct_keys)},
        )

    def record_parked(
        self,
        timesheet_id: int,
        content_hash: str,
        reason: str,
        now: datetime,
        intacct_keys: Mapping[str, str] | None = None,
        attempt: int | None = None,
    ) -> None:
        if intacct_keys is not None:
            keys_clause, keys = "intacct_keys = :keys", {":keys": _keys_item(intacct_keys)}
        else:
            # Parking keeps earlier Intacct keys: a parked re-approval still names what it would have updated.
            keys_clause, keys = "intacct_keys = if_not_exists(intacct_keys, :keys)", {":keys": _keys_item({})}
        self._record_outcome(
            timesheet_id,
            "parked",
            content_hash,
            now,
            set_clause=f"reason = :reason, {keys_clause}",
            remove_clause=None,
            values={":reason": {"S": reason}, **keys},
            attempt=attempt,
        )

    def _record_outcome(
        self,
        timesheet_id: int,
        state: LedgerState,
        content_hash: str,
        now: datetime,
        *,
        set_clause: str,
        remove_clause: str | None,
        values: Item,
        attempt: int | None = None,
    ) -> None:
        remove = f" REMOVE lease_until, {remove_clause}" if remove_clause else " REMOVE lease_until"
        fence: dict[str, Any] = {}
        if attempt is not None:
            # Only the claim that still holds the timesheet may say how it ended.
            fence = {"ConditionExpression": "ledger_state = :claimed AND attempts = :attempt"}
            values = {**values, ":claimed": {"S": "claimed"}, ":attempt": {"N": str(attempt)}}
        try:
            self._update_outcome(timesheet_id, state, content_hash, now, set_clause, remove, values, fence)
        except ClientError as error:
            if attempt is not None and _error_code(error) == "ConditionalCheckFailedException":
                raise LeaseLostError(timesheet_id, attempt) from error
            raise

    def _update_outcome(
        self,
        timesheet_id: int,
        state: LedgerState,
        content_hash: str,
        now: datetime,
        set_clause: str,
        remove: str,
        values: Item,
        fence: dict[str, Any],
    ) -> None:
        with _readable_errors(self.table_name):
            self._client.update_item(
                **fence,
                TableName=self.table_name,
                Key=_key(f"LEDGER#{timesheet_id}", "LEDGER"),
                UpdateExpression=(
                    "SET ledger_state = :state, content_hash = :hash, updated_at = :now, timesheet_id = :timesheet_id, "
                    f"attempts = if_not_exists(attempts, :zero), {set_clause}{remove}"
                ),
                ExpressionAttributeValues={
                    ":state": {"S": state},
                    ":hash": {"S": content_hash},
                    ":now": {"S": to_stored_time("now", now)},
                    ":timesheet_id": {"N": str(timesheet_id)},
                    ":zero": {"N": "0"},
                    **values,
                },
            )

    def iter_ledger(self, state: LedgerState | None = None) -> Iterator[LedgerEntry]:
        for each_state in (state,) if state is not None else LEDGER_STATES:
            for item in self._query(
                IndexName=LEDGER_BY_STATE_INDEX,
                KeyConditionExpression="ledger_state = :state",
                ExpressionAttributeValues={":state": {"S": each_state}},
            ):
                yield _ledger_from_item(item)

    # Intacct object definitions

    def get_definition(self, key: str) -> CachedDefinition | None:
        item = self._get(f"DEFINITION#{key}", "DEFINITION")
        if item is None:
            return None
        return CachedDefinition(
            key=_text(item, "key"), body=_text(item, "body"), fetched_at=from_stored_time(_text(item, "fetched_at"))
        )

    def put_definition(self, definition: CachedDefinition) -> None:
        item: Item = {
            **_key(f"DEFINITION#{definition.key}", "DEFINITION"),
            "key": {"S": definition.key},
            "body": {"S": definition.body},
            "fetched_at": {"S": to_stored_time("fetched_at", definition.fetched_at)},
        }
        # Checked here, so the caller gets a reason rather than a botocore ValidationException after a round trip.
        size = _item_bytes(item)
        if size > MAX_ITEM_BYTES:
            raise StateError(
                f"the Intacct definition {definition.key!r} is {size:,} bytes as a DynamoDB item, more than the "
                f"{MAX_ITEM_BYTES:,} one item can hold; it was not cached (keep fewer of lookup's fields in the body)"
            )
        self._put(item)

    # Run history

    def record_run(self, entry: RunEntry) -> None:
        ended = to_stored_time("RunEntry.ended_at", entry.ended_at)
        self._put(
            {
                **_key(f"RUN#{entry.workflow}", f"{ended}#{entry.run_id}"),
                "entry": {"S": entry.to_json()},
                TTL_ATTRIBUTE: {"N": str(int(entry.expires_at().timestamp()))},
            }
        )

    def recent_runs(self, workflow: str, *, limit: int = 20, since: datetime | None = None) -> list[RunEntry]:
        if limit <= 0:
            return []
        values: Item = {":pk": {"S": f"RUN#{workflow}"}}
        condition = "pk = :pk"
        if since is not None:
            condition += " AND sk >= :since"
            values[":since"] = {"S": to_stored_time("since", since)}
        found: list[RunEntry] = []
        # TTL deletes within a day or two of expiry, not at once: an entry past it may still be read, and is kept
        # out here by `since` when the caller gives one; status only reads the newest few anyway.
        items = self._query(
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=min(limit, 100),
        )
        for entry in readable_entries(_text(item, "entry") for item in items):
            found.append(entry)
            if len(found) >= limit:
                break
        return found

    # Parked records: one partition, so listing them is one Query (the command line parks a handful at most).

    def park_record(self, record: ParkedRecord) -> None:
        item: Item = {
            **_key(PARKED_RECORDS, record.key),
            "key": {"S": record.key},
            "body": {"S": record.body},
            "reason": {"S": record.reason},
            "parked_at": {"S": to_stored_time("parked_at", record.parked_at)},
        }
        if record.workflow is not None:
            item["workflow"] = {"S": record.workflow}
        size = _item_bytes(item)
        if size > MAX_ITEM_BYTES:
            raise StateError(
                f"the parked record {record.key!r} is {size:,} bytes as a DynamoDB item, more than the "
                f"{MAX_ITEM_BYTES:,} one item can hold; it was reported but not kept for replay"
            )
        self._put(item)

    def iter_parked_records(self) -> Iterator[ParkedRecord]:
        for item in self._query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": PARKED_RECORDS}}
        ):
            yield ParkedRecord(
                key=_text(item, "key"),
                workflow=_optional_text(item, "workflow"),
                body=_text(item, "body"),
                reason=_text(item, "reason"),
                parked_at=from_stored_time(_text(item, "parked_at")),
            )

    def delete_parked_record(self, key: str) -> None:
        with _readable_errors(self.table_name):
            self._client.delete_item(TableName=self.table_name, Key=_key(PARKED_RECORDS, key))

    # Plumbing

    def _get(self, pk: str, sk: str) -> Item | None:
        with _readable_errors(self.table_name):
            answer = self._client.get_item(TableName=self.table_name, Key=_key(pk, sk), ConsistentRead=True)
        return answer.get("Item")

    def _put(self, item: Item) -> None:
        with _readable_errors(self.table_name):
            self._client.put_item(TableName=self.table_name, Item=item)

    def _query(self, **query: Any) -> Iterator[Item]:
        start: Item | None = None
        while True:
            page_query = {**query, "ExclusiveStartKey": start} if start else query
            with _readable_errors(self.table_name):
                page = self._client.query(TableName=self.table_name, **page_query)
            yield from page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def _batch_get(self, keys: Sequence[Item]) -> list[Item]:
        found: list[Item] = []
        for first in range(0, len(keys), BATCH_GET_LIMIT):
            pending: KeysAndAttributesTypeDef | None = {
                "Keys": keys[first : first + BATCH_GET_LIMIT],
                # Strongly consistent: a link is often resolved right after the record it points to was written.
                "ConsistentRead": True,
            }
            attempt = 0
            while pending:
                attempt += 1
                with _readable_errors(self.table_name):
                    answer = self._client.batch_get_item(RequestItems={self.table_name: pending})
                found.extend(answer.get("Responses", {}).get(self.table_name, []))
                unprocessed = answer.get("UnprocessedKeys", {}).get(self.table_name)
                pending = cast("KeysAndAttributesTypeDef", unprocessed) if unprocessed else None
                if pending is None:
                    break
                if not self._retry.should_retry(attempt):
                    raise StateUnavailableError(
                        f"DynamoDB table {self.table_name} left {len(pending['Keys'])} keys unprocessed after "
                        f"{attempt} attempts (throttled); the work can be retried later"
                    )
                self._sleep(self._retry.delay_s(attempt))
        return found


@contextmanager
def _readable_errors(table_name: str) -> Iterator[None]:
    """Turn the AWS errors a person must act on into our typed errors; leave the rest to the caller."""
    try:
        yield
    except ClientError as error:
        code = _error_code(error)
        if code == "ResourceNotFoundException":
            raise StateSchemaError(
                f"DynamoDB table {table_name} does not exist (or is not visible with these credentials and "
                "region); deploy the tenant stack, or create it with intacct_assignar.state.dynamodb.create_table"
            ) from error
        if code in {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}:
            raise StateUnavailableError(
                f"DynamoDB table {table_name} is throttling requests even after retries ({code}); "
                "the work can be retried later"
            ) from error
        raise


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _key(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _item_bytes(item: Item) -> int:
    """An item of string attributes as DynamoDB counts it against the item limit: UTF-8 names plus values."""
    return sum(len(name.encode()) + len(value["S"].encode()) for name, value in item.items())


def _text(item: Item, name: str) -> str:
    return item[name]["S"]


def _optional_text(item: Item, name: str) -> str | None:
    value = item.get(name)
    return value["S"] if value is not None else None


def _int(item: Item, name: str) -> int:
    return int(item[name]["N"])


def _optional_int(item: Item, name: str) -> int | None:
    value = item.get(name)
    return int(value["N"]) if value is not None else None


def _bool(item: Item, name: str) -> bool:
    return item[name]["BOOL"]


def _synced_from_item(item: Item) -> SyncedRecord:
    return SyncedRecord(
        workflow=_text(item, "workflow"),
        integration_id=_text(item, "integration_id"),
        source_id=_text(item, "source_id"),
        assignar_id=_int(item, "assignar_id"),
        content_hash=_text(item, "content_hash"),
        active=_bool(item, "active"),
        synced_at=from_stored_time(_text(item, "synced_at")),
        modified_at=from_stored_time(modified) if (modified := _optional_text(item, "modified_at")) else None,
    )


def _keys_item(keys: Mapping[str, str]) -> AttributeValueTypeDef:
    return {"M": {name: {"S": value} for name, value in keys.items()}}


def _ledger_from_item(item: Item) -> LedgerEntry:
    lease = _optional_text(item, "lease_until")
    state = _text(item, "ledger_state")
    return LedgerEntry(
        timesheet_id=_int(item, "timesheet_id"),
        state=cast("LedgerState", state),  # checked against LEDGER_STATES by LedgerEntry itself
        content_hash=_text(item, "content_hash"),
        intacct_keys={name: value["S"] for name, value in item.get("intacct_keys", {"M": {}})["M"].items()},
        reason=_optional_text(item, "reason"),
        attempts=_int(item, "attempts"),
        lease_until=from_stored_time(lease) if lease is not None else None,
        updated_at=from_stored_time(_text(item, "updated_at")),
        source_version=_optional_text(item, "source_version"),
    )
