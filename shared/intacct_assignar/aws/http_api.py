"""Reading an API Gateway HTTP API event (payload 2.0) as the bytes and headers that were sent, and answering one.

The two receivers behind the stack's HTTP API (Assignar's webhook, Intacct's Smart Events) share these, so that a
body is rebuilt, and a malformed event refused, one way. Imports only Powertools' event class and pydantic.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import ValidationError


class UnreadableBodyError(ValueError):
    """A body API Gateway handed over in a form that cannot be turned back into the bytes that were sent."""


def text_headers(request: APIGatewayProxyEventV2) -> dict[str, str]:
    """The headers, names lower-cased; a name or value that is not text is left out, so it counts as missing.

    API Gateway only ever sends text, but this is the edge where the event is untyped JSON: a malformed event
    is refused (401, no signature) rather than crashing on it.
    """
    return _text_pairs(request.get("headers"), lower=True)


def query_parameters(request: APIGatewayProxyEventV2) -> dict[str, str]:
    """The query string's parameters (API Gateway joins a repeated one's values with commas); text only."""
    return _text_pairs(request.get("queryStringParameters"), lower=False)


def raw_body(request: APIGatewayProxyEventV2) -> bytes:
    """The body exactly as sent, since a signature covers its bytes (API Gateway base64-encodes binary types)."""
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


def log_unavailable(logger: logging.Logger | Any, what: str, exc: Exception) -> None:
    """One ERROR line for a receiver that could not be built, never quoting a setting's value."""
    if isinstance(exc, ValidationError):
        # Without the inputs: a settings field that fails validation may hold a secret's value.
        problems = exc.errors(include_url=False, include_input=False, include_context=False)
        logger.error(f"{what} unavailable", extra={"error": type(exc).__name__, "problems": problems})
    else:
        logger.exception(f"{what} unavailable", extra={"error": type(exc).__name__})


def _text_pairs(found: object, *, lower: bool) -> dict[str, str]:
    if not isinstance(found, Mapping):
        return {}
    return {
        (name.lower() if lower else name): value
        for name, value in found.items()
        if isinstance(name, str) and isinstance(value, str)
    }
