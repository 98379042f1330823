"""Assignar public API v2: client, typed records and errors."""

from typing import TYPE_CHECKING

from intacct_assignar.assignar.errors import (
    AssignarError,
    AuthenticationError,
    ForeignKeyConstraintError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TimesheetNotApprovedError,
    TransportError,
    UniqueConstraintError,
    ValidationError,
)
from intacct_assignar.assignar.resilience import CallCounter, RateLimiter, RetryPolicy

from ..lazy_exports import lazy_exports

if TYPE_CHECKING:
    from intacct_assignar.assignar.auth import ASSIGNAR_SCOPE, TokenProvider
    from intacct_assignar.assignar.client import AssignarClient
    from intacct_assignar.assignar.models import (
        APPROVED_STATUSES,
        Activity,
        Asset,
        Client,
        EmploymentType,
        Project,
        Role,
        Timesheet,
        UserType,
        Worker,
        WorkOrder,
    )
    from intacct_assignar.assignar.requestor import Requestor
    from intacct_assignar.assignar.resources import RESOURCES, Resource, Timesheets
    from intacct_assignar.assignar.webhooks import TIMESHEET_APPROVED, TimesheetEvent
else:
    # The client, its transport (httpx) and the records' pydantic models: imported when first asked for, so the
    # webhook receiver, which only needs the event names, does not load them (lazy_exports.py).
    __getattr__ = lazy_exports(
        globals(),
        {
            ".auth": ("ASSIGNAR_SCOPE", "TokenProvider"),
            ".client": ("AssignarClient",),
            ".models": (
                "APPROVED_STATUSES",
                "Activity",
                "Asset",
                "Client",
                "EmploymentType",
                "Project",
                "Role",
                "Timesheet",
                "UserType",
                "Worker",
                "WorkOrder",
            ),
            ".requestor": ("Requestor",),
            ".resources": ("RESOURCES", "Resource", "Timesheets"),
            ".webhooks": ("TIMESHEET_APPROVED", "TimesheetEvent"),
        },
    )

__all__ = [
    "APPROVED_STATUSES",
    "ASSIGNAR_SCOPE",
    "RESOURCES",
    "TIMESHEET_APPROVED",
    "Activity",
    "Asset",
    "AssignarClient",
    "AssignarError",
    "AuthenticationError",
    "CallCounter",
    "Client",
    "EmploymentType",
    "ForeignKeyConstraintError",
    "NotFoundError",
    "OutcomeUnknownError",
    "Project",
    "RateLimitedError",
    "RateLimiter",
    "Requestor",
    "Resource",
    "RetryPolicy",
    "Role",
    "ServerError",
    "Timesheet",
    "TimesheetEvent",
    "TimesheetNotApprovedError",
    "Timesheets",
    "TokenProvider",
    "TransportError",
    "UniqueConstraintError",
    "UserType",
    "ValidationError",
    "WorkOrder",
    "Worker",
]
