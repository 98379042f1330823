"""What we read from and write to Assignar, in the users' words: workers, roles, work orders, timesheets.

Read models follow the published response schemas; write payloads are TypedDicts of the writable fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field


class AssignarRecord(BaseModel):
    """Common config: Assignar adds fields over time, and sends numbers where the spec says strings."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)

    id: int


# --- reads -------------------------------------------------------------------------------------------


class RoleLink(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    task_id: int | None = None
    name: str | None = None
    external_id: str | None = None


class Worker(AssignarRecord):
    """An Assignar user (a field worker when `user_type_id` is the mobile-user type). Intacct key: `employee_id`."""

    user_type_id: int | None = None
    employee_id: str | None = None
    integration_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    email: str | None = None
    contact: str | None = None
    dob: str | None = None
    address: str | None = None
    suburb: str | None = None
    state: str | None = None
    postcode: str | None = None
    employment_type: int | None = None
    active: bool | None = None
    tasks: list[RoleLink] = Field(default_factory=list)
    modified_time: str | None = None


class UserType(AssignarRecord):
    user_type: str | None = None
    label: str | None = None


class EmploymentType(AssignarRecord):
    name: str | None = None


class Client(AssignarRecord):
    name: str | None = None
    company_name: str | None = None
    email: str | None = None
    office_phone: str | None = None
    mobile: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    postcode: str | None = None
    state: str | None = None
    external_id: str | None = None
    integration_id: str | None = None
    active: bool | None = None
    modified_time: str | None = None


class Project(AssignarRecord):
    client_id: int | None = None
    name: str | None = None
    email: str | None = None
    address: str | None = None
    suburb: str | None = None
    state: str | None = None
    postcode: str | None = None
    external_id: str | None = None
    integration_id: str | None = None
    active: bool | None = None
    parent_id: int | None = None
    modified_time: str | None = None


class WorkOrder(AssignarRecord):
    """An Assignar order. The Intacct task id travels in `job_number`; orders have no `external_id`."""

    client_id: int | None = None
    project_id: int | None = None
    order_owner: int | None = None
    job_number: str | None = None
    po_number: str | None = None
    job_description: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    status_id: int | None = None
    type_id: int | None = None
    integration_id: str | None = None
    active: bool | None = None
    modified_time: str | None = None


class Activity(AssignarRecord):
    name: str | None = None
    external_id: str | None = None
    integration_id: str | None = None
    active: bool | None = None
    is_payable: bool | None = None
    uom_code: str | None = None


class Role(AssignarRecord):
    """What Assignar's API calls a task (`/tasks`) and its dashboard a role; Intacct's labor item."""

    name: str | None = None
    external_id: str | None = None
    integration_id: str | None = None
    active: bool | None = None
    pay_level: str | None = None
    payroll_acc: str | None = None


class Asset(AssignarRecord):
    """A piece of equipment; Intacct's equipment item."""

    name: str | None = None
    description: str | None = None
    external_id: str | None = None
    integration_id: str | None = None
    active: bool | None = None
    make: str | None = None
    model: str | None = None
    year: str | None = None


class NamedRef(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: int | None = None
    name: str | None = None
    external_id: str | None = None


class TimesheetWorker(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    user_id: int | None = None
    username: str | None = None
    full_name: str | None = None
    employee_id: str | None = None
    email: str | None = None


class TimesheetOrder(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: int | None = None
    job_number: str | None = None
    job_description: str | None = None


class ActivityEntry(BaseModel):
    """Labor time on one activity (cost code); `duration` in minutes."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: int | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    start_at_naive: str | None = None
    duration: int = 0
    activity: NamedRef | None = None


class AssetEntry(BaseModel):
    """Equipment time on one asset; `duration` in minutes."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: int | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    start_at_naive: str | None = None
    duration: int = 0
    uses_whole_shift: bool | None = None
    asset: NamedRef | None = None


class Timesheet(AssignarRecord):
    """A timesheet as `/timesheets-expanded` shows it, with its labor and equipment entries."""

    status: str | None = None
    user_id: int | None = None
    client_id: int | None = None
    project_id: int | None = None
    task_id: int | None = None
    order_id: int | None = None
    start_time: str | None = None
    end_time: str | None = None
    start_datetime: datetime | None = None
    end_datetime: datetime | None = None
    total_time: str | None = None
    comments: str | None = None
    submitted_date: str | None = None
    completed_at: str | None = None
    processed_at: str | None = None
    processed_by_id: int | None = None
    modified_time: str | None = None
    integration_id: str | None = None
    user: TimesheetWorker | None = None
    client: NamedRef | None = None
    project: NamedRef | None = None
    task: NamedRef | None = None
    order: TimesheetOrder | None = None
    activity_entries: list[ActivityEntry] = Field(default_factory=list)
    asset_entries: list[AssetEntry] = Field(default_factory=list)

    @property
    def is_approved(self) -> bool:
        return is_approved_status(self.status)

    @property
    def is_processed(self) -> bool:
        return self.processed_at is not None

    @property
    def approved_at(self) -> datetime | None:
        """When this timesheet was approved, as near as the API tells; None unless it is approved and unprocessed.

        [guess] Assignar publishes no approval timestamp (reference assignar.md §2.8), so this is `modified_time`
        while the timesheet is approved and not yet processed: an approved timesheet cannot be edited in Assignar's
        UI (same section), so its last change is its approval; marking it processed changes it again. A field
        Assignar may fill at approval, `completed_at`, is not documented as such. Approval-to-Intacct seconds and
        the oldest unposted approval are measured from this, and only from this.
        """
        if not self.is_approved or self.is_processed:
            return None
        return parse_assignar_time(self.modified_time)


def parse_assignar_time(text: str | None) -> datetime | None:
    """An Assignar timestamp ('2026-08-25T02:14:07.000Z') as an aware datetime; None when absent or unreadable.

    Assignar writes its times in UTC with a Z (every date-time example in the published spec); one without a
    zone is read as UTC too.
    """
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def assignar_time(moment: datetime) -> str:
    """An aware datetime written as Assignar writes its own times (UTC, milliseconds, Z), for filters on them."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"an Assignar time filter needs a timezone-aware datetime, got {moment.isoformat()}")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# Assignar shows these statuses in its dashboard; the API spells them in capitals with underscores
# (only APPROVED_WITH_PAY_AND_CHARGE_RATES appears in the spec; the rest follow the same pattern).
APPROVED_STATUSES = (
    "APPROVED",
    "APPROVED_WITH_PAY_RATES",
    "APPROVED_WITH_CHARGE_RATES",
    "APPROVED_WITH_PAY_AND_CHARGE_RATES",
)


def is_approved_status(status: str | None) -> bool:
    return status in APPROVED_STATUSES


# --- writes ------------------------------------------------------------------------------------------


class TaskLink(TypedDict):
    task_id: int


class WorkerFields(TypedDict, total=False):
    user_type_id: int
    employee_id: str
    integration_id: str | None
    first_name: str
    last_name: str
    dob: str
    address: str
    suburb: str
    state: str
    postcode: str
    email: str
    contact: str
    employment_type: int
    active: bool
    comments: str
    tasks: list[TaskLink]


class EmploymentTypeFields(TypedDict, total=False):
    name: str


class ClientFields(TypedDict, total=False):
    name: str
    company_name: str
    abn: str
    email: str
    office_phone: str
    mobile: str
    address_1: str
    address_2: str
    city: str
    postcode: str
    state: str
    comments: str
    external_id: str
    active: bool
    integration_id: str | None


class ProjectFields(TypedDict, total=False):
    client_id: int
    name: str
    email: str
    address: str
    suburb: str
    state: str
    postcode: str
    external_id: str
    integration_id: str | None
    active: bool
    parent_id: int


class WorkOrderFields(TypedDict, total=False):
    client_id: int
    order_owner: int
    project_id: int
    start_date: str
    end_date: str
    active: bool
    job_number: str
    po_number: str
    location: str
    job_description: str
    start_time: str
    shift_duration: str
    comments: str
    status_id: int
    type_id: int
    integration_id: str | None


class ActivityFields(TypedDict, total=False):
    name: str
    rule: int
    billable: int
    active: bool
    sortorder: int
    type_id: int
    is_payable: bool
    external_id: str
    uom_code: str | None
    integration_id: str | None


class RoleFields(TypedDict, total=False):
    name: str
    external_id: str
    active: bool
    req_machines: bool
    pay_level: str
    payroll_acc: str
    supervisor: bool
    integration_id: str | None


class AssetFields(TypedDict, total=False):
    name: str
    description: str
    rego_number: str
    active: bool
    year: str
    make: str
    model: str
    serial_number: str
    charge_rate: int
    number_reading: int
    external_id: str
    integration_id: str | None
