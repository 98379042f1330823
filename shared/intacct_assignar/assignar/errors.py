"""The one taxonomy of Assignar API failures, typed from Assignar's own messages (`[400] Unique Constraint ...`)."""

from __future__ import annotations

import json
import re
from typing import Any

from ..outcomes import RetryLater

_UNIQUE = re.compile(r"Unique Constraint Error(?:\s*-\s*(?P<field>[\w.]+))?", re.IGNORECASE)
_FOREIGN_KEY = re.compile(r"Foreign Key Constraint Error(?:\s*-\s*(?P<field>[\w.]+))?", re.IGNORECASE)
_NOT_FOUND = re.compile(r"Object Not Found", re.IGNORECASE)


class AssignarError(Exception):
    """Anything that went wrong talking to Assignar. Carries the call and Assignar's own message, never secrets."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        assignar_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.assignar_message = assignar_message
        # Set by the client when it gives up retrying, so people are told where and how often it tried.
        self.host: str | None = None
        self.attempts: int | None = None

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        parts = [super().__str__()]
        if where:
            parts.append(f"({where}{f' -> HTTP {self.status}' if self.status else ''})")
        if self.assignar_message and self.assignar_message not in parts[0]:
            parts.append(f"Assignar said: {self.assignar_message}")
        return " ".join(parts)


class AuthenticationError(AssignarError):
    """The token endpoint refused the client credentials or scope, or the API refused the token (401/403).

    Fix: check ASSIGNAR_CLIENT_ID / ASSIGNAR_CLIENT_SECRET (dashboard, Settings > API Access) and the token URL.
    """


class NotFoundError(AssignarError):
    """The record does not exist (404), e.g. `[404] Object Not Found - Client (id:975)`."""


class ValidationError(AssignarError):
    """Assignar refused the payload (400): a missing or malformed field, or a broken business rule."""


class UniqueConstraintError(ValidationError):
    """Another record already holds this value of a unique field (`field`: external_id, integration_id, email...)."""

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field = field


class ForeignKeyConstraintError(ValidationError):
    """The payload links to a record that does not exist (a client_id, project_id, user_type_id...)."""

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field = field


class TimesheetNotApprovedError(ValidationError):
    """Assignar refused to mark a timesheet processed because it is not approved; `timesheet_status` says what it is.

    Fix: approve the timesheet in Assignar first (only approved time is posted).
    """

    def __init__(self, message: str, *, timesheet_id: int, timesheet_status: str | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.timesheet_id = timesheet_id
        self.timesheet_status = timesheet_status


class RateLimitedError(AssignarError, RetryLater):
    """Assignar answered 429 and the retries ran out. `retry_after_s` is Assignar's hint, when it sent one."""

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class ServerError(AssignarError, RetryLater):
    """Assignar failed (5xx) and the retries ran out, or it answered with something that is not its envelope."""


class TransportError(AssignarError, RetryLater):
    """No usable answer: connection refused, timeout, connection dropped.

    `may_have_landed` says whether Assignar may have received (and acted on) the request anyway.
    """

    def __init__(self, message: str, *, may_have_landed: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.may_have_landed = may_have_landed


class OutcomeUnknownError(AssignarError):
    """A create may have landed in Assignar but the payload has no key to look it up by, so it was not re-sent.

    Fix: give the record an integration_id (or external_id / employee_id) so a lost answer can be checked.
    """


def assignar_message(body: bytes) -> str | None:
    """Assignar's error text from either of its error shapes: `{"message"}` or `{"errorType", "errorMessage"}`."""
    try:
        parsed = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return text[:500] or None
    if isinstance(parsed, dict):
        for key in ("message", "errorMessage", "error_description", "error"):
            value = parsed.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def error_for_response(
    status: int, body: bytes, *, method: str, path: str, retry_after_s: float | None = None
) -> AssignarError:
    """The typed error for a non-2xx answer, named from Assignar's message where it has one."""
    said = assignar_message(body)
    context: dict[str, Any] = {"method": method, "path": path, "status": status, "assignar_message": said}
    text = said or f"HTTP {status}"
    if status in (401, 403):
        return AuthenticationError(
            "Assignar refused the access token; check the client credentials and their API access", **context
        )
    if status == 404 or (said and _NOT_FOUND.search(said)):
        return NotFoundError(text, **context)
    if status == 429:
        return RateLimitedError("Assignar rate limit hit", retry_after_s=retry_after_s, **context)
    if status >= 500:
        return ServerError(f"Assignar server error: {text}", **context)
    if said and (match := _UNIQUE.search(said)):
        field = match.group("field")
        return UniqueConstraintError(f"another record already has this {field or 'value'}", field=field, **context)
    if said and (match := _FOREIGN_KEY.search(said)):
        field = match.group("field")
        return ForeignKeyConstraintError(
            f"the payload links to a record that does not exist{f' ({field})' if field else ''}",
            field=field,
            **context,
        )
    return ValidationError(text, **context)
