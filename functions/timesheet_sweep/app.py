"""Scheduled sweep: queues approved timesheets Assignar does not show processed (missed webhooks)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.observability import logger
from intacct_assignar.runtime import Runtime


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return Runtime.current().sweep_service.run().as_dict()
