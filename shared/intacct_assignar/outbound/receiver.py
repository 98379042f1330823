"""The Assignar approval webhook: authenticate a delivery, read the timesheet id, queue one push message.

Knows nothing of Lambda or API Gateway: it takes the raw body and the headers and answers with a status and a JSON
body, so the same rules hold wherever the delivery arrives from. The contract (body, signature, responses) is
docs/assignar-webhook.md. The body is only a notice: nothing but the timesheet id is taken from it, and the push
consumer reads the timesheet itself from Assignar, so a delivery that slips through costs one read at most.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..assignar.webhooks import TIMESHEET_APPROVED
from ..config import Webhook
from ..webhook_signature import SIGNATURE_SCHEME, UNIX_SECONDS, verify
from .messages import PushMessage, PushQueue

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 16_384
QUEUE_UNAVAILABLE = "could not queue the delivery; please retry"
# The one form a signature takes. Anything else in the header (non-ASCII, NUL, a lone surrogate from an escaped
# invalid character, megabytes of text) is refused on its form, before it would have to be encoded to compare.
_SIGNATURE = re.compile(re.escape(SIGNATURE_SCHEME) + "=[0-9a-f]{64}")
# An unknown event name is quoted back to the sender and into the logs; a sender could make it arbitrarily long.
_QUOTE_LIMIT = 80


@dataclass(frozen=True)
class WebhookAnswer:
    """What to answer the sender: the HTTP status and a JSON-able body (`{"error": ...}` when refused)."""

    status: int
    body: dict[str, Any]
    timesheet_id: int | None = None


class _Notice(BaseModel):
    # Strict: the contract says `timesheet_id` is a JSON number, so "12", true or 12.0 are a sender's mistake to
    # report, not something to coerce into a timesheet we would then push.
    model_config = ConfigDict(extra="ignore", strict=True)

    event: str


class _Approval(_Notice):
    # `occurred_at` is deliberately not read: the consumer takes everything it acts on from Assignar's API.
    timesheet_id: int = Field(gt=0)


class WebhookReceiver:
    """Answers one delivery. Checks run cheapest and least trusting first: size, then signature, then the body."""

    def __init__(
        self,
        secret: SecretStr,
        settings: Webhook,
        queue: PushQueue,
        *,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        # An empty secret would make every signature check raise: fail when the receiver is built (the handler
        # answers 503 and the sender retries) rather than on each delivery.
        if not secret.get_secret_value():
            raise ValueError("the webhook secret is empty; set ASSIGNAR_WEBHOOK_SECRET")
        self._secret = secret
        self._settings = settings
        self._queue = queue
        self._clock = clock
        self._max_body_bytes = max_body_bytes

    def receive(self, body: bytes, headers: Mapping[str, str]) -> WebhookAnswer:
        if len(body) > self._max_body_bytes:
            # Before the HMAC, so an unauthenticated sender cannot make us hash (or parse) a large body.
            return _refused(413, f"the body is {len(body)} bytes; the limit is {self._max_body_bytes}")
        problem = self._authentication_problem(body, {name.lower(): value for name, value in headers.items()})
        if problem:
            return _refused(401, problem)
        return self._accept(body)

    def _authentication_problem(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """Why the delivery is not from the holder of the secret, or None when it is.

        The specific reasons are worked out here so the sender learns what to fix; the decision itself is always
        `verify`'s, the one implementation of the format. No reason ever quotes the expected signature.
        """
        settings = self._settings
        header = headers.get(settings.signature_header.lower())
        if not header:
            return f"missing the {settings.signature_header} header"
        signature = header.strip()
        if "," in signature:
            # API Gateway joins the values of a header sent more than once with commas.
            return f"the {settings.signature_header} header holds more than one value (was it sent twice?)"
        if not _SIGNATURE.fullmatch(signature):
            return f"the {settings.signature_header} header must be {SIGNATURE_SCHEME}=<lowercase hex HMAC-SHA256>"
        timestamp = headers.get(settings.timestamp_header.lower())
        now = self._clock()
        if timestamp is None:
            if not settings.allow_missing_timestamp:
                return f"missing the {settings.timestamp_header} header (the sending time in Unix seconds)"
        elif not UNIX_SECONDS.fullmatch(timestamp):
            return f"the {settings.timestamp_header} header is not a number of Unix seconds"
        else:
            skew = now - int(timestamp)
            if abs(skew) > settings.max_age_seconds:
                direction = "behind" if skew > 0 else "ahead of"
                return (
                    f"the {settings.timestamp_header} header is {math.ceil(abs(skew))} s {direction} the receiver's"
                    f" clock; the limit is {settings.max_age_seconds} s"
                )
        valid = verify(
            body,
            self._secret,
            signature,
            timestamp=timestamp,
            allow_missing_timestamp=settings.allow_missing_timestamp,
            tolerance_s=settings.max_age_seconds,
            now=now,
        )
        if not valid:
            signed_over = "the body" if timestamp is None else "the timestamp and body"
            return f"the {settings.signature_header} header does not match {signed_over} (check the shared secret)"
        return None

    def _accept(self, body: bytes) -> WebhookAnswer:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _refused(400, f"the body is not UTF-8 text (invalid byte at offset {exc.start})")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            return _refused(400, f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        except (ValueError, RecursionError):
            # Valid JSON syntax Python will not load: an integer of thousands of digits, or deep nesting.
            return _refused(400, "the body is not JSON this receiver can read (too deeply nested or a huge number)")
        if not isinstance(document, dict):
            return _refused(400, f"the body must be a JSON object, not {_json_kind(document)}")
        try:
            notice = _Notice.model_validate(document)
        except ValidationError as exc:
            return _refused(400, _describe(exc))
        if notice.event != TIMESHEET_APPROVED:
            # Acknowledged so the sender does not retry it (docs: other values are acknowledged and ignored).
            reason = f"event {_quote(notice.event)} is not handled; only {TIMESHEET_APPROVED} is"
            logger.info("webhook delivery ignored", extra={"reason": reason})
            return WebhookAnswer(202, {"accepted": True, "ignored": reason})
        try:
            approval = _Approval.model_validate(document)
        except ValidationError as exc:
            return _refused(400, _describe(exc))
        return self._enqueue(approval.timesheet_id)

    def _enqueue(self, timesheet_id: int) -> WebhookAnswer:
        try:
            self._queue.publish([PushMessage(timesheet_id=timesheet_id, trigger="webhook")])
        except Exception as exc:
            # Only the type: a queue error is not ours to quote, and the sender just needs to retry (deliveries are
            # idempotent, and the sweep picks the timesheet up anyway if the retries run out).
            logger.warning(
                "webhook delivery not queued",
                extra={"timesheet_id": timesheet_id, "error": type(exc).__name__, "status": 503},
            )
            return WebhookAnswer(503, {"error": QUEUE_UNAVAILABLE}, timesheet_id)
        logger.info("webhook delivery accepted", extra={"timesheet_id": timesheet_id, "status": 202})
        return WebhookAnswer(202, {"accepted": True, "timesheet_id": timesheet_id}, timesheet_id)


def _refused(status: int, reason: str) -> WebhookAnswer:
    logger.info("webhook delivery refused", extra={"status": status, "reason": reason})
    return WebhookAnswer(status, {"error": reason})


def _describe(exc: ValidationError) -> str:
    """Each problem with the field it is in and the JSON type that was sent; strings are never quoted back."""
    problems = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "body"
        problem = f"{where}: {error['msg']}"
        if error["type"] != "missing":
            problem += f" (got {_json_kind(error['input'])})"
        problems.append(problem)
    return "; ".join(problems)


def _json_kind(value: object) -> str:
    # bool before int: in Python True is an int, and "got true" is what a sender needs to see.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        # Small numbers are quoted (0, -1 say exactly what is wrong); huge or non-finite ones are not worth it.
        return f"the number {value}" if abs(value) < 1e18 else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _quote(text: str) -> str:
    return json.dumps(text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "...")
