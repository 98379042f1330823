"""Push consumer: posts each queued timesheet to Intacct exactly once, reporting partial batch failures.

No Powertools idempotency here: the timesheet ledger is the idempotency record (it also knows a timesheet
re-approved with new content from a duplicate delivery). A record that must wait (another worker holds the
timesheet, Intacct's answer was lost) fails alone and comes back after the visibility timeout. Each batch is one
"time" run in the run history.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.observability import logger, metrics
from intacct_assignar.run_entries import PushBatch, RunMeter
from intacct_assignar.runtime import Runtime

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord, batch: PushBatch) -> dict[str, Any] | None:
    runtime = Runtime.current()
    try:
        result = runtime.push_consumer.handle(
            record.body,
            receive_count=int(record.attributes.approximate_receive_count),
            max_receives=runtime.settings.max_receives,
        )
    except Exception as error:
        batch.retrying(record.body, error)
        raise
    batch.handled(result)
    if result is None:
        return None
    runtime.metrics_log.timesheet_posted(result)
    logger.info("timesheet handled", extra=result.as_dict())
    return result.as_dict()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    runtime = Runtime.current()
    batch = PushBatch(RunMeter(intacct=runtime.intacct.counters, assignar=runtime.assignar.calls))
    runtime.push_consumer.prefetch(record.get("body", "") for record in event.get("Records", []))
    handler = partial(record_handler, batch=batch)
    answer = process_partial_response(event=event, record_handler=handler, processor=processor, context=context)
    runtime.run_log.record(batch.entry())
    return answer
