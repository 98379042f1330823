"""The approval watcher, every minute: queues approved timesheets Assignar does not show processed, looking only
at what changed since its last run, and at everything once a full pass is due (`outbound/sweep.py`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.observability import logger, metrics
from intacct_assignar.runtime import Runtime


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return Runtime.current().sweep_service.run().as_dict()
