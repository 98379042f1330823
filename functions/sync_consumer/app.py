"""Upsert consumer: applies each sync message from the queue to Assignar, reporting partial batch failures.

A message is processed once per content (Powertools idempotency on its business key); one whose dependency
is not in Assignar yet fails alone and comes back later; a bad one is parked with its reason.
"""

from __future__ import annotations

import os
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
from intacct_assignar.inbound.messages import MessageError, SyncMessage
from intacct_assignar.inbound.upsert import DependencyNotReady, UpsertRefused
from intacct_assignar.observability import logger
from intacct_assignar.runtime import Runtime

# A batch that fails whole still answers with its failures (not an error), so Lambda retries each alone.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
idempotency = IdempotencyConfig(event_key_jmespath="business_key", expires_after_seconds=3600)
persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE", "idempotency"))
# The queue's maxReceiveCount: on the last delivery a record still waiting for a dependency is parked with
# the reason instead of reaching the dead-letter queue without one.
MAX_RECEIVES = int(os.environ.get("MAX_RECEIVES", "5"))


@idempotent_function(  # type: ignore[untyped-decorator]  # Powertools' decorator is not typed
    data_keyword_argument="work", config=idempotency, persistence_store=persistence
)
def apply_once(work: dict[str, str]) -> dict[str, Any]:
    # Raises for what must not be remembered as done: a refusal (parked below, and replayable from the DLQ)
    # or a record still waiting for a dependency.
    return Runtime.current().sync_consumer.upsert.apply(SyncMessage.from_body(work["body"])).__dict__


def record_handler(record: SQSRecord) -> dict[str, Any]:
    consumer = Runtime.current().sync_consumer
    try:
        message = SyncMessage.from_body(record.body)
    except MessageError as refused:
        return consumer.park(record.body, str(refused)).__dict__
    try:
        outcome: dict[str, Any] = apply_once(work={"business_key": message.business_key, "body": record.body})
    except UpsertRefused as refused:
        return consumer.park(record.body, f"{message.workflow} {message.integration_id}: {refused}").__dict__
    except DependencyNotReady as waiting:
        if int(record.attributes.approximate_receive_count) < MAX_RECEIVES:
            raise
        return consumer.park(record.body, f"gave up after {MAX_RECEIVES} tries: {waiting}").__dict__
    return outcome


def _readable(event: dict[str, Any]) -> list[SyncMessage]:
    """The batch's valid messages, to look their Assignar records up together (bad ones are handled alone)."""
    messages = []
    for record in event.get("Records", []):
        try:
            messages.append(SyncMessage.from_body(record.get("body", "")))
        except MessageError:
            continue
    return messages


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    try:
        Runtime.current().sync_consumer.upsert.prefetch(_readable(event))
    except Exception:
        logger.warning("prefetch of Assignar records failed; records will be looked up one by one", exc_info=True)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
