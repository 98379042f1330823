"""Webhook receiver: Assignar's timesheet-approved deliveries, through an API Gateway HTTP API (payload 2.0).

Only turns the HTTP event into raw bytes and headers and the receiver's answer into a response; what is accepted,
refused or ignored is decided in `intacct_assignar.outbound.receiver` (contract: docs/assignar-webhook.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.aws.http_api import UnreadableBodyError, log_unavailable, raw_body, response, text_headers
from intacct_assignar.observability import logger, metrics
from intacct_assignar.runtime import Runtime

if TYPE_CHECKING:
    # Built (and imported) with the runtime's receiver on the first delivery.
    from intacct_assignar.outbound.receiver import WebhookReceiver

UNAVAILABLE = "the receiver is not ready; please retry"


def receiver() -> WebhookReceiver:
    """This container's receiver (a seam: tests put their own in its place)."""
    return Runtime.current().webhook_receiver


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # log_event stays off: the event carries the signature header, which must not reach the logs.
    request = APIGatewayProxyEventV2(event)
    try:
        body = raw_body(request)
    except UnreadableBodyError as exc:
        # No sender could have signed bytes that cannot be rebuilt: not authentic, whatever its headers say.
        return response(401, {"error": f"the delivery cannot be authenticated: {exc}"})
    try:
        webhook = receiver()
    except Exception as exc:
        # The secret could not be read (or the function lacks a setting): a 5xx makes the sender retry later,
        # and the sweep finds the timesheet if it never gets through.
        log_unavailable(logger, "webhook receiver", exc)
        return response(503, {"error": UNAVAILABLE})
    answer = webhook.receive(body, text_headers(request))
    return response(answer.status, answer.body)
