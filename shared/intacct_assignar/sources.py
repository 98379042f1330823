"""What the integration reads from Intacct: one source per Intacct object, and the workflows each one feeds.

Roles and assets are both ITEMs (told apart by GL group), so six objects feed the seven inbound workflows and
a scheduled run costs one query per object. Sources carry no status or group filter: a record that turns
inactive or leaves a workflow's filter must still be read, so that it can be deactivated in Assignar.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import WorkflowName


def _address(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.MAILADDRESS.{name}" for name in ("ADDRESS1", "ADDRESS2", "CITY", "STATE", "ZIP", "COUNTRY"))


@dataclass(frozen=True)
class IntacctSource:
    object_name: str
    fields: tuple[str, ...]
    workflows: tuple[WorkflowName, ...]


CUSTOMERS = IntacctSource(
    "CUSTOMER",
    (
        "RECORDNO",
        "CUSTOMERID",
        "NAME",
        "STATUS",
        "DISPLAYCONTACT.COMPANYNAME",
        "DISPLAYCONTACT.EMAIL1",
        "DISPLAYCONTACT.PHONE1",
        "DISPLAYCONTACT.CELLPHONE",
        *_address("DISPLAYCONTACT"),
        "WHENMODIFIED",
    ),
    ("clients",),
)

PROJECTS = IntacctSource(
    "PROJECT",
    (
        "RECORDNO",
        "PROJECTID",
        "NAME",
        "CUSTOMERID",
        "STATUS",
        "BEGINDATE",
        "ENDDATE",
        "DEPARTMENTID",
        "LOCATIONID",
        # Job-site address from the project's ship-to contact [inf: confirm with `lookup PROJECT` on a sandbox].
        *_address("SHIPTO"),
        "WHENMODIFIED",
    ),
    ("projects",),
)

TASKS = IntacctSource(
    "TASK",
    (
        "RECORDNO",
        "TASKID",
        "NAME",
        "PROJECTID",
        "STANDARDTASKID",
        "TASKSTATUS",
        "STATUS",
        "PBEGINDATE",
        "PENDDATE",
        "WHENMODIFIED",
    ),
    ("work_orders",),
)

STANDARD_TASKS = IntacctSource(
    "STANDARDTASK",
    ("RECORDNO", "STANDARDTASKID", "NAME", "DESCRIPTION", "STATUS", "WHENMODIFIED"),
    ("activities",),
)

ITEMS = IntacctSource(
    "ITEM",
    ("RECORDNO", "ITEMID", "NAME", "EXTENDED_DESCRIPTION", "ITEMTYPE", "GLGROUP", "STATUS", "WHENMODIFIED"),
    ("roles", "assets"),
)

EMPLOYEES = IntacctSource(
    "EMPLOYEE",
    (
        "RECORDNO",
        "EMPLOYEEID",
        "CONTACT.FIRSTNAME",
        "CONTACT.LASTNAME",
        "CONTACT.EMAIL1",
        "CONTACT.PHONE1",
        "CONTACT.CELLPHONE",
        *_address("CONTACT"),
        "BIRTHDATE",
        "STARTDATE",
        "ENDDATE",
        "DEPARTMENTID",
        "LOCATIONID",
        "EMPLOYEETYPE",
        "EMPPOSITIONID",
        "EARNINGTYPENAME",
        "STATUS",
        "WHENMODIFIED",
    ),
    ("workers",),
)

SOURCES: tuple[IntacctSource, ...] = (CUSTOMERS, PROJECTS, TASKS, STANDARD_TASKS, ITEMS, EMPLOYEES)


def source_for(workflow: WorkflowName) -> IntacctSource:
    for source in SOURCES:
        if workflow in source.workflows:
            return source
    raise KeyError(f"no Intacct source feeds the workflow {workflow!r}")
