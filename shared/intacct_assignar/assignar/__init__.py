"""Assignar public API v2: client, typed records and errors."""

from intacct_assignar.assignar.auth import ASSIGNAR_SCOPE, TokenProvider
from intacct_assignar.assignar.client import AssignarClient
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
from intacct_assignar.assignar.resilience import CallCounter, RateLimiter, RetryPolicy
from intacct_assignar.assignar.resources import RESOURCES, Resource, Timesheets
from intacct_assignar.assignar.webhooks import TIMESHEET_APPROVED, TimesheetEvent

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
