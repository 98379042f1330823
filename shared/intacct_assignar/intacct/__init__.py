"""Sage Intacct XML gateway: the client, its error taxonomy, value formats and change pulls."""

from ..retry import RetryPolicy
from .client import (
    IntacctClient,
    IntacctCounters,
    MemorySessionCache,
    QuerySpec,
    Session,
    SessionCache,
    WriteResult,
)
from .errors import (
    IntacctAuthenticationError,
    IntacctBusinessError,
    IntacctConfigurationError,
    IntacctDuplicateControlIdError,
    IntacctError,
    IntacctErrorDetail,
    IntacctOutcomeUnknownError,
    IntacctQueryExpiredError,
    IntacctRateLimitError,
    IntacctTransientError,
)
from .pull import ChangePull, Cursor, Deletion, Page, Window, deletions

__all__ = [
    "ChangePull",
    "Cursor",
    "Deletion",
    "IntacctAuthenticationError",
    "IntacctBusinessError",
    "IntacctClient",
    "IntacctConfigurationError",
    "IntacctCounters",
    "IntacctDuplicateControlIdError",
    "IntacctError",
    "IntacctErrorDetail",
    "IntacctOutcomeUnknownError",
    "IntacctQueryExpiredError",
    "IntacctRateLimitError",
    "IntacctTransientError",
    "MemorySessionCache",
    "Page",
    "QuerySpec",
    "RetryPolicy",
    "Session",
    "SessionCache",
    "Window",
    "WriteResult",
    "deletions",
]
