"""What the integration reads from Intacct: one source per Intacct object, the fields it needs, the workflows it feeds.

Roles and assets are both ITEMs (told apart by GL group), so six objects feed the seven inbound workflows and
a scheduled run costs one query per object. Sources carry no status or group filter: a record that turns
inactive or leaves a workflow's filter must still be read, so that it can be deactivated in Assignar.

Each field is required (the workflow cannot run without it: missing, the workflow fails and says which field)
or optional (missing, records sync without it and the run lists it once). Which fields a company offers is
asked of Intacct (`FieldCatalog`), never assumed: editions, modules and user permissions differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .config import TenantConfig, WorkflowName

if TYPE_CHECKING:
    # Only named here: the Smart Event receiver reads the sources and must not load the catalog's XML parsing.
    from .catalog import FieldCatalog


@dataclass(frozen=True)
class FieldNeed:
    """One field a source reads and why, in the words the run summary uses.

    `required_when` names a setting (dotted, as in the tenant document) that makes an optional field required
    when it is set: a department filter cannot be applied without DEPARTMENTID.
    """

    name: str
    purpose: str
    required: bool = False
    required_when: str | None = None

    def is_required(self, config: TenantConfig) -> bool:
        return self.required or (self.required_when is not None and bool(_setting(config, self.required_when)))


def _needs(purpose: str, *names: str) -> tuple[FieldNeed, ...]:
    return tuple(FieldNeed(name, purpose, required=True) for name in names)


def _optional(purpose: str, *names: str, required_when: str | None = None) -> tuple[FieldNeed, ...]:
    return tuple(FieldNeed(name, purpose, required_when=required_when) for name in names)


MAILADDRESS = ("ADDRESS1", "ADDRESS2", "CITY", "STATE", "ZIP", "COUNTRY")


def _address(prefix: str, purpose: str, parts: Sequence[str] = MAILADDRESS) -> tuple[FieldNeed, ...]:
    return _optional(purpose, *(f"{prefix}.MAILADDRESS.{part}" for part in parts))


# Every object's record key (its `integration_id` is built from it) and version. RECORDNO, not the object's own ID
# field, is what a record is read by one at a time: TASKID is unique only within its project (reference §4).
RECORD_KEY = "RECORDNO"
WHENMODIFIED = "WHENMODIFIED"


# What every synced record is keyed, named and versioned by (the pull keys its pages on RECORDNO/WHENMODIFIED).
def _keys(id_field: str) -> tuple[FieldNeed, ...]:
    return _needs("the record's keys, status and version", RECORD_KEY, id_field, "STATUS", WHENMODIFIED)


NAME = _needs("the record's name", "NAME")


@dataclass(frozen=True)
class IntacctSource:
    object_name: str
    needs: tuple[FieldNeed, ...]
    workflows: tuple[WorkflowName, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field this source can use (what a company offering all of them is asked for)."""
        return tuple(need.name for need in self.needs)


CUSTOMERS = IntacctSource(
    "CUSTOMER",
    (
        *_keys("CUSTOMERID"),
        *NAME,
        *_optional("the client's email", "DISPLAYCONTACT.EMAIL1"),
        *_optional("the client's office phone", "DISPLAYCONTACT.PHONE1"),
        *_optional("the client's mobile", "DISPLAYCONTACT.CELLPHONE"),
        *_address("DISPLAYCONTACT", "the client's address", MAILADDRESS[:-1]),
    ),
    ("clients",),
)

PROJECTS = IntacctSource(
    "PROJECT",
    (
        *_keys("PROJECTID"),
        *NAME,
        *_needs("the project's client", "CUSTOMERID"),
        *_optional("the project's dates (its work orders' fallback dates)", "BEGINDATE", "ENDDATE"),
        # The job-site address is the ship-to contact's, read from CONTACT (see SITE_CONTACTS): PROJECT itself
        # documents only the contact's name (reference §4).
        *_optional("the job-site address, from the project's ship-to contact", "SHIPTO.CONTACTNAME"),
    ),
    ("projects",),
)

# The contacts projects name as their ship-to: read by CONTACTNAME, one query per page of projects.
SITE_CONTACTS = IntacctSource(
    "CONTACT",
    (
        *_needs("the ship-to contact's name", "CONTACTNAME"),
        *_optional(
            "the job-site address, from the project's ship-to contact", *(f"MAILADDRESS.{p}" for p in MAILADDRESS)
        ),
    ),
    (),
)

TASKS = IntacctSource(
    "TASK",
    (
        *_keys("TASKID"),
        *NAME,
        *_needs("the work order's project", "PROJECTID"),
        *_optional("the work order's planned dates", "PBEGINDATE", "PENDDATE"),
    ),
    ("work_orders",),
)

# What a work order takes from its project: status, dates and customer (not the job-site address).
TASK_PROJECTS = IntacctSource(
    "PROJECT",
    tuple(need for need in PROJECTS.needs if not need.name.startswith("SHIPTO.")),
    (),
)

STANDARD_TASKS = IntacctSource("STANDARDTASK", (*_keys("STANDARDTASKID"), *NAME), ("activities",))

ITEMS = IntacctSource(
    "ITEM",
    (
        *_keys("ITEMID"),
        *NAME,
        *_needs("the item's GL group (labor or equipment)", "GLGROUP"),
        *_optional("the asset's description", "EXTENDED_DESCRIPTION"),
    ),
    ("roles", "assets"),
)

EMPLOYEES = IntacctSource(
    "EMPLOYEE",
    (
        *_keys("EMPLOYEEID"),
        # Assignar requires both names; Intacct only the last.
        *_needs("the worker's name", "CONTACT.FIRSTNAME", "CONTACT.LASTNAME"),
        *_optional("the worker's email", "CONTACT.EMAIL1"),
        *_optional("the worker's phone", "CONTACT.PHONE1"),
        *_optional("the worker's mobile", "CONTACT.CELLPHONE"),
        *_address("CONTACT", "the worker's address", MAILADDRESS[:-1]),
        *_optional("the worker's birth date", "BIRTHDATE"),
        *_optional("the worker's role", "EMPPOSITIONID", required_when="workflows.workers.position_roles"),
        *_optional("the department filter", "DEPARTMENTID", required_when="workflows.workers.departments"),
        *_optional("the earning type filter", "EARNINGTYPENAME", required_when="workflows.workers.earning_types"),
        *_optional("the employee type filter", "EMPLOYEETYPE", required_when="workflows.workers.employee_types"),
    ),
    ("workers",),
)

SOURCES: tuple[IntacctSource, ...] = (CUSTOMERS, PROJECTS, TASKS, STANDARD_TASKS, ITEMS, EMPLOYEES)

# Deleted records, for every source at once (reference §6.5).
DELETION_LOG = IntacctSource(
    "AUDITHISTORY",
    _needs("detecting records deleted in Intacct", "ID", "OBJECTTYPE", "OBJECTKEY", "ACCESSMODE", "ACCESSTIME"),
    (),
)


def source_for(workflow: WorkflowName) -> IntacctSource:
    for source in SOURCES:
        if workflow in source.workflows:
            return source
    raise KeyError(f"no Intacct source feeds the workflow {workflow!r}")


# --- choosing what to select ------------------------------------------------------------------------------


class FieldsUnavailableError(Exception):
    """The company does not offer a field a workflow cannot do without: that workflow cannot run."""

    def __init__(self, object_name: str, missing: Sequence[FieldNeed], config: TenantConfig) -> None:
        self.object_name = object_name
        self.missing = tuple(missing)
        names = ", ".join(f"{object_name}.{need.name} ({need.purpose})" for need in missing)
        settings = sorted({need.required_when for need in missing if not need.required and need.required_when})
        fix = "give the Web Services user permission to see them in Intacct (or add the module that has them)"
        if settings:
            fix += f", or remove {', '.join(settings)} from the tenant document"
        super().__init__(f"Intacct does not offer {names} to this integration: {fix}, then sync again")


@dataclass(frozen=True)
class Selection:
    """The fields to ask one object for, and the optional ones this company does not offer."""

    object_name: str
    fields: tuple[str, ...]
    missing: tuple[FieldNeed, ...] = field(default=())

    def describe_missing(self) -> list[str]:
        """`OBJECT.FIELD (purpose)` for the run summary, one line per purpose: the parts of one address read
        `EMPLOYEE.CONTACT.MAILADDRESS.ADDRESS1, ADDRESS2, CITY (the worker's address)`."""
        by_purpose: dict[str, list[str]] = {}
        for need in self.missing:
            by_purpose.setdefault(need.purpose, []).append(need.name)
        lines = []
        for purpose, names in by_purpose.items():
            first = names[0]
            prefix = first.rsplit(".", 1)[0] + "." if "." in first else ""
            rest = [name.removeprefix(prefix) if prefix and name.startswith(prefix) else name for name in names[1:]]
            lines.append(f"{self.object_name}.{', '.join([first, *rest])} ({purpose})")
        return lines


def select(source: IntacctSource, catalog: FieldCatalog, config: TenantConfig) -> Selection:
    """The offered fields of `source`; `FieldsUnavailableError` when a required one is not offered."""
    chosen: list[str] = []
    missing: list[FieldNeed] = []
    unavailable: list[FieldNeed] = []
    for need in source.needs:
        if catalog.offers(source.object_name, need.name):
            chosen.append(need.name)
        elif need.is_required(config):
            unavailable.append(need)
        else:
            missing.append(need)
    if unavailable:
        raise FieldsUnavailableError(source.object_name, unavailable, config)
    return Selection(source.object_name, tuple(dict.fromkeys(chosen)), tuple(missing))


def _setting(config: TenantConfig, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value
