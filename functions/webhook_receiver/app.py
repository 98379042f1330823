"""Webhook receiver: Assignar's timesheet-approved deliveries, through an API Gateway HTTP API (payload 2.0).

Only turns the HTTP event into raw bytes and headers and the receiver's answer into a response; what is accepted,
refused or ignored is decided in `intacct_assignar.outbound.receiver` (contract: docs/assignar-webhook.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.observability import logger, metrics
from intacct_assignar.runtime import Runtime
from pydantic import ValidationError

if TYPE_CHECKING:
    # Built (and imported) with the runtime's receiver on the first delivery.
    from intacct_assignar.outbound.receiver import WebhookReceiver

UNAVAILABLE = "the receiver is not ready; please retry"


class UnreadableBodyError(ValueError):
    """A body API Gateway handed over in a form that cannot be turned back into the bytes that were sent."""


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
        _log_unavailable(exc)
        return response(503, {"error": UNAVAILABLE})
    answer = webhook.receive(body, text_headers(request))
    return response(answer.status, answer.body)


def text_headers(request: APIGatewayProxyEventV2) -> dict[str, str]:
    """The headers, names lower-cased; a name or value that is not text is left out, so it counts as missing.

    API Gateway only ever sends text, but this is the edge where the event is untyped JSON: a malformed event
    is refused (401, no signature) rather than crashing on it.
    """
    headers = request.get("headers")
    if not isinstance(headers, Mapping):
        return {}
    return {name.lower(): value for name, value in headers.items() if isinstance(name, str) and isinstance(value, str)}


def raw_body(request: APIGatewayProxyEventV2) -> bytes:
    """The body exactly as sent, since the signature covers its bytes (API Gateway base64-encodes binary types)."""
    body: object = request.body
    if body is None:
        return b""
    if not isinstance(body, str):
        raise UnreadableBodyError("the body is not text")
    if request.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError as exc:  # binascii.Error, or non-ASCII characters in the text
            raise UnreadableBodyError("the body is marked base64-encoded but is not valid base64") from exc
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from an escaped, invalid character in the event JSON
        raise UnreadableBodyError("the body is not UTF-8 text") from exc


def response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _log_unavailable(exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        # Without the inputs: a settings field that fails validation may hold a secret's value.
        problems = exc.errors(include_url=False, include_input=False, include_context=False)
        logger.error("webhook receiver unavailable", extra={"error": type(exc).__name__, "problems": problems})
    else:
        logger.exception("webhook receiver unavailable", extra={"error": type(exc).__name__})
