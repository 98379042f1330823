"""Sage Intacct XML gateway: the client, its error taxonomy, value formats and change pulls."""

from typing import TYPE_CHECKING

from ..lazy_exports import lazy_exports
from ..retry import RetryPolicy
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

if TYPE_CHECKING:
    from .client import (
        IntacctClient,
        IntacctCounters,
        MemorySessionCache,
        Session,
        SessionCache,
        WriteResult,
    )
    from .definitions import ObjectDefinition, Relationship
    from .protocol import QuerySpec
    from .pull import ChangePull, Cursor, Deletion, Page, Window, deletions
    from .writes import Write
else:
    # The client (httpx) and what parses its XML (xmltodict): imported when first asked for, so a function that only
    # tells Intacct's errors apart does not load them (lazy_exports.py).
    __getattr__ = lazy_exports(
        globals(),
        {
            ".client": (
                "IntacctClient",
                "IntacctCounters",
                "MemorySessionCache",
                "Session",
                "SessionCache",
                "WriteResult",
            ),
            ".definitions": ("ObjectDefinition", "Relationship"),
            ".protocol": ("QuerySpec",),
            ".pull": ("ChangePull", "Cursor", "Deletion", "Page", "Window", "deletions"),
            ".writes": ("Write",),
        },
    )

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
    "Write",
    "WriteResult",
    "deletions",
]
