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
from .definitions import ObjectDefinition, Relationship
from .errors import (
    IntacctAuthenticationError,
    IntacctBusinessError,
    IntacctConfigurationError,
    IntacctDuplicateControlIdError,
    IntacctError,
    IntacctErrorDetail,
    IntacctInvalidFieldsError,
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
    "IntacctInvalidFieldsError",
    "IntacctOutcomeUnknownError",
    "IntacctQueryExpiredError",
    "IntacctRateLimitError",
    "IntacctTransientError",
    "MemorySessionCache",
    "ObjectDefinition",
    "Page",
    "QuerySpec",
    "Relationship",
    "RetryPolicy",
    "Session",
    "SessionCache",
    "Window",
    "WriteResult",
    "deletions",
]
