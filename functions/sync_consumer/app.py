"""Upsert consumer: applies each sync message from the queue to Assignar, reporting partial batch failures.

A message is processed once per content (Powertools idempotency on its business key); one whose dependency
is not in Assignar yet fails alone and comes back later; a bad one is parked with its reason. Each batch is one
run per workflow in the run history.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.upsert import UpsertResult
from intacct_assignar.observability import logger, metrics
from intacct_assignar.run_entries import RunMeter, UpsertBatch
from intacct_assignar.runtime import FunctionSettings, Runtime, aws_session

# A batch that fails whole still answers with its failures (not an error), so Lambda retries each alone.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
idempotency = IdempotencyConfig(event_key_jmespath="business_key", expires_after_seconds=3600)
# Read at import, as Powertools' decorator needs its store: the table never changes for a container. On the session
# the function's other clients use, so botocore's data is loaded once (runtime.aws_session).
persistence = DynamoDBPersistenceLayer(table_name=FunctionSettings().idempotency_table, boto3_session=aws_session())


@idempotent_function(  # type: ignore[untyped-decorator]  # Powertools' decorator is not typed
    data_keyword_argument="work", config=idempotency, persistence_store=persistence
)
def apply_once(work: dict[str, str]) -> dict[str, Any]:
    # Raises for what must not be remembered as done: a refusal or a record still waiting for a dependency.
    return Runtime.current().sync_consumer.upsert.apply(SyncMessage.from_body(work["body"])).as_dict()


def _apply_once(message: SyncMessage, body: str) -> UpsertResult:
    return UpsertResult(**apply_once(work={"business_key": message.business_key, "body": body}))


def record_handler(record: SQSRecord, batch: UpsertBatch) -> dict[str, Any]:
    runtime = Runtime.current()
    try:
        outcome = runtime.sync_consumer.handle(
            record.body,
            receive_count=int(record.attributes.approximate_receive_count),
            max_receives=runtime.settings.max_receives,
            apply=_apply_once,
        )
    except Exception as error:
        batch.retrying(record.body, error)
        raise
    batch.handled(outcome)
    return outcome.as_dict()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    runtime = Runtime.current()
    batch = UpsertBatch(RunMeter(assignar=runtime.assignar.calls))
    runtime.sync_consumer.prefetch(record.get("body", "") for record in event.get("Records", []))
    handler = partial(record_handler, batch=batch)
    answer = process_partial_response(event=event, record_handler=handler, processor=processor, context=context)
    for entry in batch.entries():
        runtime.run_log.record(entry)
    return answer
