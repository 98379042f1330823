"""The one place that says what an expected failure means and what to do about it, in a sentence or two.

The command line prints it with its exit status (the traceback only with --debug); the Lambda functions log it
as one structured ERROR line with Intacct's errorno; `sync` puts it on the workflow that failed. Messages carry
Intacct's and Assignar's own words and the setting to fix, never a secret.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import ValidationError

from .assignar.errors import (
    AssignarError,
    AuthenticationError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from .aws.errors import AwsSetupError
from .config import ConfigError
from .intacct.errors import (
    IntacctAuthenticationError,
    IntacctBusinessError,
    IntacctConfigurationError,
    IntacctError,
    IntacctOutcomeUnknownError,
    IntacctRateLimitError,
    IntacctTransientError,
)
from .sources import FieldsUnavailableError
from .state import StateLocationError, StateSchemaError, StateUnavailableError

# Exit statuses (README "The command line").
FAILED = 1  # the run finished, but something did not go through
SETTINGS = 2  # bad usage, settings, credentials or configuration: the key to fix is named


@dataclass(frozen=True)
class Problem:
    """What happened and what to do (`message`), how the CLI exits, and Intacct's errorno when it gave one.

    `expected` is False for a failure nobody foresaw (a bug): its traceback is worth a look (--debug).
    """

    message: str
    exit_code: int = FAILED
    errorno: str | None = None
    expected: bool = True
    # Intacct or Assignar refused our credentials: nothing else in the run can get through either, so it stops.
    stops_run: bool = False
    # The service gave no usable answer after the client's tries (down, rate limiting, broken answers).
    unavailable: bool = False

    def as_dict(self) -> dict[str, str | None]:
        return {"errorno": self.errorno, "message": self.message}


def explain(error: BaseException) -> Problem:
    """The problem an exception stands for; anything not foreseen says so and points at --debug."""
    if isinstance(error, IntacctError):
        return _intacct(error)
    if isinstance(error, AssignarError):
        return _assignar(error)
    if isinstance(error, ValidationError):
        return Problem(
            f"missing or invalid settings ({error.title}): {', '.join(settings_keys(error))}; set them in the "
            "environment, a .env file or the stack's secret",
            SETTINGS,
        )
    if isinstance(error, FieldsUnavailableError):
        return Problem(str(error))
    if isinstance(error, (ConfigError, StateLocationError, StateSchemaError, AwsSetupError)):
        return Problem(str(error), SETTINGS)
    if isinstance(error, StateUnavailableError):
        return Problem(str(error))
    if isinstance(error, UnicodeDecodeError):
        return Problem(f"a file is not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8", SETTINGS)
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return Problem(f"a port is already in use ({error.strerror}): choose another port", SETTINGS)
    if isinstance(error, OSError) and error.filename is not None:
        return Problem(f"cannot use {error.filename}: {error.strerror}", SETTINGS)
    return Problem(
        f"unexpected error ({type(error).__name__}: {error}); run again with --debug to see where it happened "
        "(in AWS, the function's log has the traceback)",
        expected=False,
    )


def settings_keys(error: ValidationError) -> list[str]:
    """The settings a validation error is about, never their values (pydantic would print the whole input,
    passwords included)."""
    return sorted({".".join(str(p) for p in e["loc"]) or "(all)" for e in error.errors(include_input=False)})


def _intacct(error: IntacctError) -> Problem:
    said = _intacct_words(error)
    errorno = error.errorno
    if isinstance(error, IntacctAuthenticationError):
        text = said.lower()
        if error.level == "control" or error.http_status == 401 or "sender" in text or "web services auth" in text:
            fix = (
                "check INTACCT_SENDER_ID and INTACCT_SENDER_PASSWORD, and that the company INTACCT_COMPANY_ID "
                "lists this sender under its Web Services authorizations"
            )
            return Problem(
                f"Intacct refused the Web Services sender ({said}): {fix}", SETTINGS, errorno, stops_run=True
            )
        if "entity" in text or "location" in text:
            return Problem(
                f"Intacct refused the entity ({said}): check INTACCT_ENTITY_ID", SETTINGS, errorno, stops_run=True
            )
        fix = (
            "check INTACCT_USER_ID, INTACCT_USER_PASSWORD and INTACCT_COMPANY_ID (a Web Services user of that company)"
        )
        return Problem(f"Intacct refused the sign-in ({said}): {fix}", SETTINGS, errorno, stops_run=True)
    if isinstance(error, (IntacctRateLimitError, IntacctTransientError)):
        where = f"Intacct at {error.host}" if error.host else "Intacct"
        tries = f" after {error.attempts} tries" if error.attempts else ""
        return Problem(
            f"{where} did not answer usably{tries} ({said}); try again later", FAILED, errorno, unavailable=True
        )
    if isinstance(error, IntacctOutcomeUnknownError):
        return Problem(f"Intacct's answer was lost ({said}); the write is looked up before anything is sent again")
    if isinstance(error, IntacctConfigurationError):
        return Problem(f"Intacct refused the request: {said}", SETTINGS, errorno)
    if isinstance(error, IntacctBusinessError):
        function = f" {error.function}" if error.function else ""
        return Problem(f"Intacct refused{function}: {said}", FAILED, errorno)
    return Problem(f"Intacct: {said}", FAILED, errorno)


def _intacct_words(error: IntacctError) -> str:
    """Intacct's own errors, most specific first, with its correction; our message when it said nothing."""
    if not error.details:
        return error.message
    return "; ".join(str(detail) for detail in error.details)


def _assignar(error: AssignarError) -> Problem:
    if isinstance(error, AuthenticationError):
        if error.path.startswith(("http://", "https://")):
            # The token endpoint refused: nothing can be read or written with these credentials.
            return Problem(str(error), SETTINGS, str(error.status) if error.status else None, stops_run=True)
        return Problem(
            f"{error}; check that the Assignar API client (ASSIGNAR_CLIENT_ID) may use {error.path}",
            SETTINGS,
            str(error.status) if error.status else None,
        )
    if isinstance(error, (TransportError, ServerError, RateLimitedError)):
        host = error.host or (urlsplit(error.path).hostname if error.path.startswith("http") else None)
        where = f"Assignar at {host}" if host else "Assignar"
        tries = f" after {error.attempts} tries" if error.attempts else ""
        return Problem(f"{where} did not answer usably{tries} ({error}); try again later", unavailable=True)
    return Problem(f"Assignar: {error}", FAILED, str(error.status) if error.status else None)
