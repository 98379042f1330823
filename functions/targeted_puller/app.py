"""Targeted puller: reads the Intacct records that Smart Event notices name and queues them for Assignar.

A batch of notices is read together (one query per object); each notice then succeeds, comes back later (its object
could not be read) or is parked with its reason, on its own. Each batch is one "event" run per workflow in the run
history.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.observability import logger, metrics
from intacct_assignar.run_entries import EventBatch, RunMeter
from intacct_assignar.runtime import Runtime

# A batch that fails whole still answers with its failures (not an error), so Lambda retries each alone.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord, batch: EventBatch) -> dict[str, Any]:
    runtime = Runtime.current()
    try:
        outcome = runtime.event_consumer.handle(
            record.body,
            receive_count=int(record.attributes.approximate_receive_count),
            max_receives=runtime.settings.max_receives,
        )
    except Exception as error:
        batch.retrying(record.body, error)
        raise
    batch.handled(outcome)
    return outcome.as_dict()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    runtime = Runtime.current()
    consumer = runtime.event_consumer
    batch = EventBatch(RunMeter(intacct=runtime.intacct.counters))
    # The whole batch is read here, one query per object; each record's handler then only publishes.
    consumer.prefetch(record.get("body", "") for record in event.get("Records", []))
    handler = partial(record_handler, batch=batch)
    answer = process_partial_response(event=event, record_handler=handler, processor=processor, context=context)
    for entry in batch.entries(consumer.targeted.reports):
        runtime.run_log.record(entry)
    return answer
