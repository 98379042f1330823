"""Reading Intacct records into normalized ones: the one place that knows which Intacct field feeds which.

`normalize` reads an Intacct record (field name -> text, as the client returns it) into its workflow's record;
a record that is inactive, outside the tenant's filter or in the wrong GL group comes back `active=False`
with the reason, never dropped. What Assignar is sent for a record is `payloads.py`'s.

Rules PRODUCT.md leaves open, decided here:
- An ITEM feeds roles and assets: `records_from` always yields both, the one outside its GL group inactive.
  Inactive records exist to deactivate what was synced before; the upsert should not create them.
- A worker's role guessed from EMPPOSITIONID (office positions name no labor item) is an optional link; a role
  named in `position_roles` is required.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from typing import Literal, overload

from ..config import TenantConfig, WorkflowName
from ..intacct.protocol import Record
from ..intacct.values import IntacctValueError, parse_date, parse_timestamp
from ..sources import IntacctSource, source_for
from .records import (
    ActivityRecord,
    AssetRecord,
    ClientRecord,
    MappingError,
    NormalizedRecord,
    ProjectRecord,
    RecordRef,
    RoleRecord,
    WorkerRecord,
    WorkOrderRecord,
    integration_id_for,
)

INACTIVE_IN_INTACCT = "inactive in Intacct"

# The Intacct ID field of each workflow's object (TASK is keyed by PROJECTID/TASKID, see `_work_order`).
ID_FIELDS: dict[WorkflowName, str] = {
    "clients": "CUSTOMERID",
    "projects": "PROJECTID",
    "work_orders": "TASKID",
    "activities": "STANDARDTASKID",
    "roles": "ITEMID",
    "assets": "ITEMID",
    "workers": "EMPLOYEEID",
}


# --- reading Intacct records ------------------------------------------------------------------------------


class _Reader:
    """One raw Intacct record, read so that every error names the record and the field."""

    def __init__(self, object_name: str, record: Record, id_field: str) -> None:
        self.object_name = object_name
        self.record = record
        self.id_field = id_field

    def describe(self) -> str:
        recordno = self.record.get("RECORDNO") or "?"
        source_id = self.record.get(self.id_field)
        return f"{self.object_name} {recordno}" + (f" ({source_id})" if isinstance(source_id, str) else "")

    def error(self, field: str, problem: str) -> MappingError:
        return MappingError(self.describe(), field, problem)

    def offers(self, field: str) -> bool:
        """Whether the record carries the field at all (empty or not): a field the company does not offer is
        never selected, so it is absent, while an empty one comes back as an empty element."""
        if field in self.record:
            return True
        value: object = self.record
        for part in field.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return False
            value = value[part]
        return True

    def not_offered(self, fills: Mapping[str, tuple[tuple[str, ...], bool]]) -> tuple[str, ...] | None:
        """The Assignar fields to leave alone, sorted: those whose Intacct fields the company does not offer
        (every one of them, or any one where all are needed); None when nothing is missing."""
        left = sorted(
            name
            for name, (fields, every) in fills.items()
            if not (all if every else any)(self.offers(field) for field in fields)
        )
        return tuple(left) or None

    def text(self, field: str) -> str | None:
        value = self.record.get(field)
        if type(value) is str:  # nearly every value: text as the page brought it
            return value.strip() or None
        if value is None and "." in field and field[: field.index(".")] in self.record:
            # A client may hand a related part back nested (CONTACT -> MAILADDRESS -> CITY) instead of flat.
            value = self.record
            for part in field.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(field, f"expected text, got {type(value).__name__}")
        return value.strip() or None

    def required(self, field: str) -> str:
        value = self.text(field)
        if value is None:
            raise self.error(field, "is empty")
        return value

    def date(self, field: str) -> date | None:
        try:
            return parse_date(self.text(field))
        except IntacctValueError as exc:
            raise self.error(field, str(exc)) from None

    def recordno(self) -> int:
        text = self.required("RECORDNO")
        if not text.isdigit():
            raise self.error("RECORDNO", f"expected a number, got {text!r}")
        return int(text)

    def active(self) -> bool:
        status = self.required("STATUS")
        if status not in ("active", "inactive"):
            raise self.error("STATUS", f"expected active or inactive, got {status!r}")
        return status == "active"

    def address(self, prefix: str, *, country: bool = False) -> dict[str, str | None]:
        """The mailing address, as the fields of the record's `Address` (validated with the record: cheaper than
        building one first); the country only where Assignar has a place for it (a project's full address)."""
        line1, line2, city, state, postcode, country_field = _address_fields(prefix)
        return {
            "line1": self.text(line1),
            "line2": self.text(line2),
            "city": self.text(city),
            "state": self.text(state),
            "postcode": self.text(postcode),
            "country": self.text(country_field) if country else None,
        }

    def keys(self, config: TenantConfig, source_id: str | None = None) -> dict[str, object]:
        """The fields every record has: integration_id, source_id, active and why not, modified_at."""
        try:
            modified_at = parse_timestamp(self.text("WHENMODIFIED"), config.zone)
        except IntacctValueError as exc:
            raise self.error("WHENMODIFIED", str(exc)) from None
        active = self.active()
        return {
            "integration_id": integration_id_for(self.object_name, self.recordno()),
            "source_id": source_id if source_id is not None else self.required(self.id_field),
            "active": active,
            "inactive_reason": None if active else INACTIVE_IN_INTACCT,
            "modified_at": modified_at,
        }


_ADDRESS_PARTS = ("ADDRESS1", "ADDRESS2", "CITY", "STATE", "ZIP", "COUNTRY")


def _address_field(prefix: str, part: str) -> str:
    return f"{prefix}.MAILADDRESS.{part}"


@cache
def _address_fields(prefix: str) -> tuple[str, ...]:
    # Three prefixes in all (DISPLAYCONTACT, SHIPTO, CONTACT): the names are built once, not once a record.
    return tuple(_address_field(prefix, part) for part in _ADDRESS_PARTS)


# The Assignar fields each workflow fills from optional Intacct fields, and which those are. When the company
# does not offer them, the record says so (`not_offered`) and those Assignar fields are left as they are: a
# field filled from several parts (an address line, a project's one-line address) only when every part is
# offered, else it would be half written; a worker's contact number from the mobile or else the phone.
_Parts = tuple[tuple[str, ...], bool]  # (Intacct fields, whether every one is needed)


def _every(*fields: str) -> _Parts:
    return fields, True


def _either(*fields: str) -> _Parts:
    return fields, False


def _mail(prefix: str, *parts: str) -> _Parts:
    return _every(*(_address_field(prefix, part) for part in parts))


_OPTIONAL_FILLS: dict[WorkflowName, dict[str, _Parts]] = {
    "clients": {
        "email": _every("DISPLAYCONTACT.EMAIL1"),
        "office_phone": _every("DISPLAYCONTACT.PHONE1"),
        "mobile": _every("DISPLAYCONTACT.CELLPHONE"),
        "address_1": _mail("DISPLAYCONTACT", "ADDRESS1"),
        "address_2": _mail("DISPLAYCONTACT", "ADDRESS2"),
        "city": _mail("DISPLAYCONTACT", "CITY"),
        "state": _mail("DISPLAYCONTACT", "STATE"),
        "postcode": _mail("DISPLAYCONTACT", "ZIP"),
    },
    # A project's address is its ship-to contact's, put on the record as SHIPTO.MAILADDRESS.* by the pull; its
    # one-line `address` holds every part.
    "projects": {
        "address": _mail("SHIPTO", *_ADDRESS_PARTS),
        "suburb": _mail("SHIPTO", "CITY"),
        "state": _mail("SHIPTO", "STATE"),
        "postcode": _mail("SHIPTO", "ZIP"),
    },
    "assets": {"description": _every("EXTENDED_DESCRIPTION")},
    "workers": {
        "email": _every("CONTACT.EMAIL1"),
        "contact": _either("CONTACT.CELLPHONE", "CONTACT.PHONE1"),
        "dob": _every("BIRTHDATE"),
        "address": _mail("CONTACT", "ADDRESS1", "ADDRESS2"),
        "suburb": _mail("CONTACT", "CITY"),
        "state": _mail("CONTACT", "STATE"),
        "postcode": _mail("CONTACT", "ZIP"),
    },
}


# Every Intacct field each workflow's optional fills read.
_OPTIONAL_FIELDS: dict[WorkflowName, frozenset[str]] = {
    workflow: frozenset(field for fields, _ in fills.values() for field in fields)
    for workflow, fills in _OPTIONAL_FILLS.items()
}


def _not_offered(reader: _Reader, workflow: WorkflowName) -> dict[str, object]:
    if reader.record.keys() >= _OPTIONAL_FIELDS[workflow]:
        # The usual company offers them all, flat: one set comparison a record instead of a field-by-field walk.
        return {"not_offered": None}
    return {"not_offered": reader.not_offered(_OPTIONAL_FILLS[workflow])}


def _outside(keys: dict[str, object], reason: str | None) -> dict[str, object]:
    """Deactivate for `reason` unless already inactive in Intacct (the first reason is the one that matters)."""
    if reason is not None and keys["active"]:
        return {**keys, "active": False, "inactive_reason": reason}
    return keys


# --- normalize: Intacct -> record -------------------------------------------------------------------------


def _client(reader: _Reader, config: TenantConfig) -> ClientRecord:
    return ClientRecord.model_validate(
        {
            **reader.keys(config),
            "name": reader.required("NAME"),
            "email": reader.text("DISPLAYCONTACT.EMAIL1"),
            "office_phone": reader.text("DISPLAYCONTACT.PHONE1"),
            "mobile": reader.text("DISPLAYCONTACT.CELLPHONE"),
            "address": reader.address("DISPLAYCONTACT"),
            **_not_offered(reader, "clients"),
        }
    )


def _project(reader: _Reader, config: TenantConfig) -> ProjectRecord:
    customer_id = reader.text("CUSTOMERID")
    return ProjectRecord.model_validate(
        {
            **reader.keys(config),
            "name": reader.required("NAME"),
            "client": RecordRef(workflow="clients", source_id=customer_id) if customer_id else None,
            "address": reader.address("SHIPTO", country=True),
            "start_date": reader.date("BEGINDATE"),
            "end_date": reader.date("ENDDATE"),
            **_not_offered(reader, "projects"),
        }
    )


def _work_order(reader: _Reader, config: TenantConfig, project: ProjectRecord | None) -> WorkOrderRecord:
    task_id, project_id = reader.required("TASKID"), reader.required("PROJECTID")
    if project is not None and project.source_id != project_id:
        raise ValueError(f"{reader.describe()} belongs to project {project_id}, not {project.source_id}")
    settings = config.workflows.work_orders
    keys = reader.keys(config, source_id=f"{project_id}/{task_id}")
    if project is not None and not project.active:
        keys = _outside(keys, f"project {project_id} is inactive")
    start, end = reader.date("PBEGINDATE"), reader.date("PENDDATE")
    if project is not None:
        start, end = start or project.start_date, end or project.end_date
    return WorkOrderRecord.model_validate(
        {
            **keys,
            "job_number": task_id,
            "job_description": reader.required("NAME"),
            "project": RecordRef(workflow="projects", source_id=project_id),
            "client": project.client if project is not None else None,
            "start_date": start or settings.default_start_date,
            "end_date": end or settings.default_end_date,
            "owner_user_id": settings.owner_user_id,
        }
    )


def _activity(reader: _Reader, config: TenantConfig) -> ActivityRecord:
    return ActivityRecord.model_validate({**reader.keys(config), "name": reader.required("NAME")})


def _gl_group_reason(reader: _Reader, wanted: str) -> str | None:
    group = reader.text("GLGROUP")
    if group == wanted:
        return None
    return f"GL group {group} is not {wanted}" if group else f"no GL group, not {wanted}"


def _role(reader: _Reader, config: TenantConfig) -> RoleRecord:
    keys = _outside(reader.keys(config), _gl_group_reason(reader, config.workflows.roles.gl_group))
    return RoleRecord.model_validate({**keys, "name": reader.required("NAME")})


def _asset(reader: _Reader, config: TenantConfig) -> AssetRecord:
    keys = _outside(reader.keys(config), _gl_group_reason(reader, config.workflows.assets.gl_group))
    return AssetRecord.model_validate(
        {
            **keys,
            "name": reader.required("NAME"),
            "description": reader.text("EXTENDED_DESCRIPTION"),
            **_not_offered(reader, "assets"),
        }
    )


def _filter_reason(reader: _Reader, config: TenantConfig) -> str | None:
    settings = config.workflows.workers
    rules = (
        ("department", "DEPARTMENTID", settings.departments),
        ("earning type", "EARNINGTYPENAME", settings.earning_types),
        ("employee type", "EMPLOYEETYPE", settings.employee_types),
    )
    for label, field, allowed in rules:
        value = reader.text(field)
        if allowed and value not in allowed:
            return f"left the filter: {label} {value or '(none)'} not in [{', '.join(allowed)}]"
    return None


def _worker(reader: _Reader, config: TenantConfig) -> WorkerRecord:
    settings = config.workflows.workers
    position = reader.text("EMPPOSITIONID")
    role: RecordRef | None = None
    if position is not None and position in settings.position_roles:
        role = RecordRef(workflow="roles", source_id=settings.position_roles[position])
    elif position is not None:
        role = RecordRef(workflow="roles", source_id=position, required=False)
    return WorkerRecord.model_validate(
        {
            **_outside(reader.keys(config), _filter_reason(reader, config)),
            # Assignar requires both names; Intacct only the last.
            "first_name": reader.required("CONTACT.FIRSTNAME"),
            "last_name": reader.required("CONTACT.LASTNAME"),
            "email": reader.text("CONTACT.EMAIL1"),
            # Assignar texts its workers on `contact`: the mobile is the number that reaches them in the field.
            "phone": reader.text("CONTACT.CELLPHONE") or reader.text("CONTACT.PHONE1"),
            "birth_date": reader.date("BIRTHDATE"),
            "address": reader.address("CONTACT"),
            "role": role,
            "user_type": settings.user_type,
            "employment_type": settings.employment_type,
            **_not_offered(reader, "workers"),
        }
    )


_NORMALIZERS: dict[WorkflowName, Callable[[_Reader, TenantConfig], NormalizedRecord]] = {
    "clients": _client,
    "projects": _project,
    "activities": _activity,
    "roles": _role,
    "assets": _asset,
    "workers": _worker,
}


@overload
def normalize(workflow: Literal["clients"], record: Record, config: TenantConfig) -> ClientRecord: ...
@overload
def normalize(workflow: Literal["projects"], record: Record, config: TenantConfig) -> ProjectRecord: ...
@overload
def normalize(
    workflow: Literal["work_orders"], record: Record, config: TenantConfig, *, project: ProjectRecord | None = None
) -> WorkOrderRecord: ...
@overload
def normalize(workflow: Literal["activities"], record: Record, config: TenantConfig) -> ActivityRecord: ...
@overload
def normalize(workflow: Literal["roles"], record: Record, config: TenantConfig) -> RoleRecord: ...
@overload
def normalize(workflow: Literal["assets"], record: Record, config: TenantConfig) -> AssetRecord: ...
@overload
def normalize(workflow: Literal["workers"], record: Record, config: TenantConfig) -> WorkerRecord: ...
@overload
def normalize(
    workflow: WorkflowName, record: Record, config: TenantConfig, *, project: ProjectRecord | None = None
) -> NormalizedRecord: ...
def normalize(
    workflow: WorkflowName, record: Record, config: TenantConfig, *, project: ProjectRecord | None = None
) -> NormalizedRecord:
    """The workflow's record for one Intacct record; MappingError names the record and field that do not fit.

    `project` (work orders only): the task's project as last normalized, so the order takes the project's dates
    when the task has none, and turns inactive with it.
    """
    reader = _Reader(source_for(workflow).object_name, record, ID_FIELDS[workflow])
    if workflow == "work_orders":
        return _work_order(reader, config, project)
    return _NORMALIZERS[workflow](reader, config)


def records_from(
    source: IntacctSource, record: Record, config: TenantConfig, *, project: ProjectRecord | None = None
) -> list[NormalizedRecord]:
    """Every enabled workflow's record for one Intacct record: an ITEM gives a role and an asset, others one."""
    records: list[NormalizedRecord] = []
    for workflow in source.workflows:
        if config.enabled(workflow):
            records.append(normalize(workflow, record, config, project=project))
    return records
