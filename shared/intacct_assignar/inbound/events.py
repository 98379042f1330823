"""Intacct's Smart Event notices: authenticate one, keep only which record of which object changed, queue it.

Knows nothing of Lambda or API Gateway: it takes the raw body, the headers and the query parameters and answers with a
status and a JSON body. What a notice looks like (and every guess about it) is `smart_events.py`'s. A notice is a
hint, never data: the targeted pull (`targeted.py`) reads the record itself from Intacct, so one that slips through
costs one read at most. Kept light (no Intacct client, no state store): it runs behind an HTTP route.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..config import TenantConfig
from ..consumer import validation_problems
from ..outcomes import ParkForPerson
from ..smart_events import (
    TOKEN_HEADER,
    TOKEN_PARAMETER,
    TOKEN_SETTING,
    NoticeError,
    checked_token,
    modified_at,
    read_notice,
    token_from,
)
from ..smart_events import watched_sources as _watched

logger = logging.getLogger(__name__)

# Our body is under 200 bytes; a limit well above it, checked before anything is parsed or compared.
DEFAULT_MAX_BODY_BYTES = 4096
# How far ahead of the receiver's clock a notice's modified time may be (clocks differ a little).
MAX_AHEAD_S = 300
QUEUE_UNAVAILABLE = "could not queue the notice; please retry"


class EventMessageError(ParkForPerson, ValueError):
    """A queue body that is not a record event: parked with the reason, never retried."""


class RecordEvent(BaseModel):
    """The event queue's message: one record of one object changed in Intacct. Nothing else is carried."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    kind: Literal["smart_event"] = "smart_event"
    object_name: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")
    recordno: str = Field(pattern=r"^[0-9]{1,15}$")
    received_at: datetime

    def to_body(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_body(cls, body: str | bytes) -> RecordEvent:
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            raise EventMessageError(f"not a valid record event: {validation_problems(exc)}") from exc

    @property
    def key(self) -> tuple[str, str]:
        return self.object_name, self.recordno


class EventQueue(Protocol):
    """Where accepted notices go: the event queue in AWS."""

    def publish(self, messages: Sequence[RecordEvent]) -> None: ...


@dataclass(frozen=True)
class EventAnswer:
    """What to answer Intacct: the HTTP status and a JSON-able body (`{"error": ...}` when refused)."""

    status: int
    body: dict[str, Any]


class SmartEventReceiver:
    """Answers one notice. Checks run cheapest and least trusting first: size, token, body, object, age."""

    def __init__(
        self,
        token: SecretStr,
        config: TenantConfig,
        queue: EventQueue,
        *,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        # Whoever built it said where the token came from (`Runtime`, the CLI); this only refuses a bad one.
        checked_token(token.get_secret_value(), TOKEN_SETTING, "put a new one (DEPLOY.md, Smart Events: the token)")
        # Only a digest is kept for comparing: equal-length digests compare in constant time whatever was sent.
        self._digest = hashlib.sha256(token.get_secret_value().encode()).digest()
        self._config = config
        self._queue = queue
        self._clock = clock
        self._max_body_bytes = max_body_bytes
        self._objects = {source.object_name for source in _watched(config)}

    def receive(self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> EventAnswer:
        if len(body) > self._max_body_bytes:
            return _refused(413, f"the body is {len(body)} bytes; the limit is {self._max_body_bytes}")
        if not self._authentic(token_from(query, {name.lower(): value for name, value in headers.items()})):
            return _refused(401, f"missing or wrong token (the {TOKEN_PARAMETER} parameter or {TOKEN_HEADER} header)")
        try:
            notice = read_notice(body)
            modified = modified_at(notice, self._config.zone)
        except NoticeError as exc:
            return _refused(400, str(exc))
        if notice.object_name not in self._objects:
            watched = ", ".join(sorted(self._objects)) or "none"
            return _refused(400, f"no enabled workflow reads {notice.object_name} (watched: {watched})")
        # A time in the hour repeated when clocks go back reads two ways: the one nearest the clock is the change.
        now = self._clock()
        age = min((now - modified.replace(fold=fold).timestamp() for fold in (0, 1)), key=abs)
        limit = self._config.smart_events.max_age_minutes * 60
        if age > limit:
            return _refused(
                401,
                f"stale notice: the record was modified {math.ceil(age / 60)} min ago; the limit is"
                f" {self._config.smart_events.max_age_minutes} min (smart_events.max_age_minutes)",
            )
        if -age > MAX_AHEAD_S:
            return _refused(401, f"the notice's modified time is {math.ceil(-age)} s ahead of the receiver's clock")
        event = RecordEvent(
            object_name=notice.object_name,
            recordno=notice.recordno,
            received_at=datetime.fromtimestamp(self._clock(), UTC),
        )
        return self._enqueue(event)

    def _authentic(self, presented: str | None) -> bool:
        if not presented:
            return False
        try:
            digest = hashlib.sha256(presented.encode()).digest()
        except UnicodeEncodeError:  # a lone surrogate from an escaped, invalid character
            return False
        return hmac.compare_digest(digest, self._digest)

    def _enqueue(self, event: RecordEvent) -> EventAnswer:
        named = {"object": event.object_name, "recordno": event.recordno}
        try:
            self._queue.publish([event])
        except Exception as exc:
            # Only the type: Intacct may retry, and the scheduled pull reads the record anyway.
            logger.warning("Smart Event notice not queued", extra={**named, "error": type(exc).__name__, "status": 503})
            return EventAnswer(503, {"error": QUEUE_UNAVAILABLE})
        logger.info("Smart Event notice accepted", extra={**named, "status": 202})
        return EventAnswer(202, {"accepted": True, **named})


def _refused(status: int, reason: str) -> EventAnswer:
    logger.info("Smart Event notice refused", extra={"status": status, "reason": reason})
    return EventAnswer(status, {"error": reason})
