"""One error taxonomy for everything the Intacct gateway can answer, each error carrying Intacct's own words.

Callers decide by class: configuration errors need a person; business errors are about one record and are
never retried; rate limits and transient failures are retried for reads; `IntacctOutcomeUnknownError` means a
write may or may not have happened and must be reconciled by a lookup, never blindly re-sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from ..outcomes import RetryLater


@dataclass(frozen=True)
class IntacctErrorDetail:
    """One `<error>` of an `<errormessage>`: Intacct puts the most specific one first."""

    errorno: str
    description: str | None = None
    description2: str | None = None
    correction: str | None = None

    def __str__(self) -> str:
        text = " ".join(part for part in (self.description, self.description2) if part)
        line = f"{self.errorno}: {text}" if text else self.errorno
        return f"{line} (correction: {self.correction})" if self.correction else line


def clean_description(text: str | None) -> str | None:
    """Intacct appends a URL-encoded '[Support ID: ...]'; decode it so people can quote it to Sage support."""
    if text is None:
        return None
    text = text.strip()
    return unquote(text) if "Support ID" in text else text


class IntacctError(Exception):
    """Base of every Intacct failure. `details` are the gateway's errors, most specific first."""

    def __init__(
        self,
        message: str,
        details: Sequence[IntacctErrorDetail] = (),
        *,
        function: str | None = None,
        controlid: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.message = message
        self.details = tuple(details)
        self.function = function
        self.controlid = controlid
        self.http_status = http_status
        # Set by the client when it gives up retrying, so people are told where and how often it tried.
        self.host: str | None = None
        self.attempts: int | None = None
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.function:
            where.append(f"function {self.function}")
        if self.controlid:
            where.append(f"control ID {self.controlid}")
        if self.http_status is not None:
            where.append(f"HTTP {self.http_status}")
        head = f"{self.message} [{', '.join(where)}]" if where else self.message
        if not self.details:
            return head
        return head + ": " + "; ".join(str(detail) for detail in self.details)

    @property
    def errorno(self) -> str | None:
        return self.details[0].errorno if self.details else None

    @property
    def description2(self) -> str | None:
        return self.details[0].description2 if self.details else None

    @property
    def correction(self) -> str | None:
        return next((d.correction for d in self.details if d.correction), None)


class IntacctConfigurationError(IntacctError):
    """The request was refused as a whole (sender, company, XML schema, endpoint): a person must fix settings."""


class IntacctAuthenticationError(IntacctConfigurationError):
    """Sender, login or session refused (XL03000006 and friends).

    `level` is "control" when the Web Services sender was refused, "authentication" when the user login or
    the session was; the client re-logs in once on an "authentication" refusal of a session before raising.
    """

    def __init__(
        self,
        message: str,
        details: Sequence[IntacctErrorDetail] = (),
        *,
        level: str = "authentication",
        http_status: int | None = None,
    ) -> None:
        self.level = level
        super().__init__(message, details, http_status=http_status)


class IntacctBusinessError(IntacctError):
    """Intacct refused one function: a record-level problem (unknown reference, duplicate ID, closed period)."""


class IntacctDuplicateControlIdError(IntacctBusinessError):
    """A write whose function control ID already ran to completion was refused under uniqueid=true.

    The effect of the first attempt is in Intacct: look the record up instead of creating it again.
    """


class IntacctInvalidFieldsError(IntacctBusinessError):
    """A read named a field the company does not offer (for this user): ask `lookup` again, then reselect.

    `field` is the field Intacct named, when its words say which.
    """

    @property
    def field(self) -> str | None:
        for detail in self.details:
            for text in (detail.description, detail.errorno, detail.description2):
                match = _INVALID_FIELD.search(text or "")
                if match:
                    return match.group(1).upper()
        return None


class IntacctQueryExpiredError(IntacctBusinessError):
    """readMore was asked to continue a resultId Intacct no longer knows: restart the query."""


class IntacctRateLimitError(IntacctError, RetryLater):
    """HTTP 429 / GW-0010: too many requests for the company's level of service. Nothing was executed."""

    def __init__(
        self,
        message: str,
        details: Sequence[IntacctErrorDetail] = (),
        *,
        retry_after_s: float | None = None,
        http_status: int | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message, details, http_status=http_status)


class IntacctTransientError(IntacctError, RetryLater):
    """The gateway failed before answering (5xx, an HTML error page, a broken body, a timeout) on a read.

    Safe to retry because reads change nothing (and writes that never reached Intacct).
    """


class IntacctOutcomeUnknownError(IntacctError, RetryLater):
    """A write was sent but no trustworthy answer came back (HTTP 524, 5xx, timeout after sending).

    Intacct may have committed it. Reconcile by looking the record up before any re-send.
    """


# Not documented by Sage (reference §8.1): how a repeated function control ID is refused under uniqueid=true.
# We recognise it by wording rather than by one error number, so a different real code still classifies as a
# plain business error (safe: the caller then looks the record up) instead of being mistaken for success.
_DUPLICATE_CONTROLID_WORDS = ("control id", "controlid")
_DUPLICATE_WORDS = ("already", "duplicate")


def is_duplicate_control_id(details: Sequence[IntacctErrorDetail]) -> bool:
    for detail in details:
        text = " ".join(part for part in (detail.description, detail.description2) if part).lower()
        if any(w in text for w in _DUPLICATE_CONTROLID_WORDS) and any(w in text for w in _DUPLICATE_WORDS):
            return True
    return False


# Intacct answers a field list it does not know with errorno "Invalid fields list x" (reference §2.3); other
# gateways put it in the description ("Invalid fields list SHIPTO.MAILADDRESS.ADDRESS1 for object PROJECT").
_INVALID_FIELD = re.compile(r"invalid fields? list:?\s+'?([A-Za-z0-9_.]+)", re.IGNORECASE)


def is_invalid_fields_list(details: Sequence[IntacctErrorDetail]) -> bool:
    return any(
        "invalid fields list" in " ".join(p for p in (d.errorno, d.description, d.description2) if p).lower()
        for d in details
    )


def is_expired_result_id(details: Sequence[IntacctErrorDetail]) -> bool:
    for detail in details:
        text = " ".join(part for part in (detail.errorno, detail.description, detail.description2) if part).lower()
        if "readmore" in text and ("expired" in text or "invalid" in text):
            return True
    return False
