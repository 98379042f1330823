"""Smart Event receiver: Intacct's notices that a record was added or changed, through the stack's HTTP API.

Only turns the HTTP event into the raw body, headers and query parameters, and the receiver's answer into a
response; what is accepted, refused or queued is decided in `intacct_assignar.inbound.events` (the notice's format:
`intacct_assignar.smart_events`, DEPLOY.md "Smart Events").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.aws.http_api import (
    UnreadableBodyError,
    log_unavailable,
    query_parameters,
    raw_body,
    response,
    text_headers,
)
from intacct_assignar.observability import logger, metrics
from intacct_assignar.runtime import Runtime

if TYPE_CHECKING:
    # Built (and imported) with the runtime's receiver on the first notice.
    from intacct_assignar.inbound.events import SmartEventReceiver

UNAVAILABLE = "the receiver is not ready; please retry"


def receiver() -> SmartEventReceiver:
    """This container's receiver (a seam: tests put their own in its place)."""
    return Runtime.current().smart_event_receiver


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # log_event stays off: the event carries the token (in the query string or a header).
    request = APIGatewayProxyEventV2(event)
    try:
        body = raw_body(request)
    except UnreadableBodyError as exc:
        return response(400, {"error": f"the notice cannot be read: {exc}"})
    try:
        notices = receiver()
    except Exception as exc:
        # The secret could not be read (or a setting is missing): the scheduled pull carries the change meanwhile.
        log_unavailable(logger, "Smart Event receiver", exc)
        return response(503, {"error": UNAVAILABLE})
    answer = notices.receive(body, text_headers(request), query_parameters(request))
    return response(answer.status, answer.body)
