"""The one place that knows each inbound field mapping: Intacct record -> normalized record -> Assignar payload.

`normalize` reads an Intacct record (field name -> text, as the client returns it) into its workflow's record;
a record that is inactive, outside the tenant's filter or in the wrong GL group comes back `active=False`
with the reason, never dropped. `links_needed` says which Assignar ids must be found before writing, and
`to_assignar` builds the write payload from the record and those ids.

Rules PRODUCT.md leaves open, decided here:
- An ITEM feeds roles and assets: `records_from` always yields both, the one outside its GL group inactive.
  Inactive records exist to deactivate what was synced before; the upsert should not create them.
- Text that is empty in Intacct is sent as "" so that clearing a field in Intacct clears it in Assignar;
  dates that are empty are left out (Assignar would refuse "" as a date).
- A deactivation never waits on a dependency: every link of an inactive record is optional.
- A worker's role guessed from EMPPOSITIONID (office positions name no labor item) is an optional link; a role
  named in `position_roles` is required.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Literal, overload

from pydantic import BaseModel, ConfigDict

from ..assignar.models import (
    ActivityFields,
    AssetFields,
    ClientFields,
    ProjectFields,
    RoleFields,
    WorkerFields,
    WorkOrderFields,
)
from ..config import TenantConfig, WorkflowName
from ..intacct.protocol import Record
from ..intacct.values import IntacctValueError, parse_date, parse_timestamp
from ..sources import IntacctSource, source_for
from .records import (
    ActivityRecord,
    Address,
    AssetRecord,
    ClientRecord,
    InboundRecord,
    NormalizedRecord,
    ProjectRecord,
    RecordRef,
    RoleRecord,
    WorkerRecord,
    WorkOrderRecord,
    integration_id_for,
    parse_integration_id,
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

# The Assignar field that holds that Intacct ID (users call it employee_id; orders hold only the integration_id),
# by which a record typed into Assignar by hand is adopted.
EXTERNAL_KEY: dict[WorkflowName, str | None] = {
    "clients": "external_id",
    "projects": "external_id",
    "work_orders": None,
    "activities": "external_id",
    "roles": "external_id",
    "assets": "external_id",
    "workers": "employee_id",
}


class MappingError(ValueError):
    """A record cannot be mapped: `record` names it (object, RECORDNO, ID), `field` the field or config key."""

    def __init__(self, record: str, field: str, problem: str) -> None:
        self.record = record
        self.field = field
        self.problem = problem
        super().__init__(f"{record}: {field}: {problem}")

    @classmethod
    def of(cls, record: InboundRecord, field: str, problem: str) -> MappingError:
        try:
            object_name, recordno = parse_integration_id(record.integration_id)
        except ValueError:
            return cls(f"{record.workflow} {record.source_id}", field, problem)
        return cls(f"{object_name} {recordno} ({record.source_id})", field, problem)


class UnresolvedLinkError(MappingError):
    """A required link was not resolved to an Assignar id: the dependency is not in Assignar (yet)."""


LinkTarget = Literal[
    "clients", "projects", "work_orders", "activities", "roles", "assets", "workers", "user_types", "employment_types"
]


class LinkSpec(BaseModel):
    """One Assignar id to find before writing: the `target` record whose `key` is given, put in payload `field`.

    `key` is the target record's source_id for workflows, or the name for `user_types`/`employment_types`.
    `attribute` is read from the found Assignar record: `id`, or `client_id` for a work order's client via its
    project. The resolved id goes into `links[field]`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    target: LinkTarget
    key: str
    attribute: str = "id"
    required: bool = True


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
        if value is None and "." in field:
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

    def address(self, prefix: str, *, country: bool = False) -> Address:
        """The mailing address; the country only where Assignar has a place for it (a project's full address)."""

        def part(name: str) -> str | None:
            return self.text(_address_field(prefix, name))

        return Address(
            line1=part("ADDRESS1"),
            line2=part("ADDRESS2"),
            city=part("CITY"),
            state=part("STATE"),
            postcode=part("ZIP"),
            country=part("COUNTRY") if country else None,
        )

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


def _not_offered(reader: _Reader, workflow: WorkflowName) -> dict[str, object]:
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


# --- links ------------------------------------------------------------------------------------------------


def links_needed(record: InboundRecord) -> list[LinkSpec]:
    """The Assignar ids to resolve before `to_assignar`; with none required missing, the record can be written."""
    specs: list[LinkSpec] = []

    def link(field: str, ref: RecordRef, attribute: str = "id") -> None:
        required = ref.required and record.active
        specs.append(
            LinkSpec(field=field, target=ref.workflow, key=ref.source_id, attribute=attribute, required=required)
        )

    if isinstance(record, ProjectRecord) and record.client is not None:
        link("client_id", record.client)
    elif isinstance(record, WorkOrderRecord):
        link("project_id", record.project)
        # Assignar orders need the client too: the project's customer when known, else whatever client the
        # (synced) project already points at in Assignar.
        if record.client is not None:
            link("client_id", record.client)
        else:
            link("client_id", record.project, attribute="client_id")
    elif isinstance(record, WorkerRecord):
        lookups = (
            ("user_type_id", "user_types", record.user_type),
            ("employment_type", "employment_types", record.employment_type),
        )
        for field, target, name in lookups:
            specs.append(LinkSpec(field=field, target=target, key=name, required=record.active))
        if record.role is not None:
            link("task_id", record.role)
    return specs


def _check_links(record: InboundRecord, links: Mapping[str, int]) -> None:
    for spec in links_needed(record):
        if spec.required and spec.field not in links:
            if spec.attribute == "id":
                problem = f"{spec.target} {spec.key} is not in Assignar yet"
            else:
                problem = f"{spec.target} {spec.key} has no {spec.attribute} in Assignar (yet)"
            raise UnresolvedLinkError.of(record, spec.field, problem)


# --- to_assignar: record -> payload -----------------------------------------------------------------------


def _client_payload(record: ClientRecord, links: Mapping[str, int]) -> ClientFields:
    address = record.address
    return {
        "name": record.name,
        "company_name": record.name,
        "email": record.email or "",
        "office_phone": record.office_phone or "",
        "mobile": record.mobile or "",
        "address_1": address.line1 or "",
        "address_2": address.line2 or "",
        "city": address.city or "",
        "state": address.state or "",
        "postcode": address.postcode or "",
        "external_id": record.source_id,
        "integration_id": record.integration_id,
        "active": record.active,
    }


def _project_payload(record: ProjectRecord, links: Mapping[str, int]) -> ProjectFields:
    address = record.address
    payload: ProjectFields = {
        "name": record.name,
        "address": address.one_line or "",
        "suburb": address.city or "",
        "state": address.state or "",
        "postcode": address.postcode or "",
        "external_id": record.source_id,
        "integration_id": record.integration_id,
        "active": record.active,
    }
    if "client_id" in links:
        payload["client_id"] = links["client_id"]
    return payload


def _work_order_payload(record: WorkOrderRecord, links: Mapping[str, int]) -> WorkOrderFields:
    payload: WorkOrderFields = {
        "job_number": record.job_number,
        "job_description": record.job_description,
        "integration_id": record.integration_id,
        "active": record.active,
    }
    if record.owner_user_id is None:
        raise MappingError.of(record, "workflows.work_orders.owner_user_id", "not set: the work-order owner")
    payload["order_owner"] = record.owner_user_id
    if "project_id" in links:
        payload["project_id"] = links["project_id"]
    if "client_id" in links:
        payload["client_id"] = links["client_id"]
    if record.start_date is not None:
        payload["start_date"] = record.start_date.isoformat()
    if record.end_date is not None:
        payload["end_date"] = record.end_date.isoformat()
    # Assignar refuses an order without dates; only a deactivation (an update) may leave them out.
    for day, key, words in (
        (record.start_date, "default_start_date", "start"),
        (record.end_date, "default_end_date", "end"),
    ):
        if day is None and record.active:
            raise MappingError.of(
                record,
                f"workflows.work_orders.{key}",
                f"the task and its project have no {words} date: set this default",
            )
    if record.start_date and record.end_date and record.end_date < record.start_date:
        raise MappingError.of(
            record, "end_date", f"{record.end_date.isoformat()} is before the start {record.start_date.isoformat()}"
        )
    return payload


def _activity_payload(record: ActivityRecord, links: Mapping[str, int]) -> ActivityFields:
    return {
        "name": record.name,
        "external_id": record.source_id,
        "integration_id": record.integration_id,
        "active": record.active,
    }


def _role_payload(record: RoleRecord, links: Mapping[str, int]) -> RoleFields:
    return {
        "name": record.name,
        "external_id": record.source_id,
        "integration_id": record.integration_id,
        "active": record.active,
    }


def _asset_payload(record: AssetRecord, links: Mapping[str, int]) -> AssetFields:
    return {
        "name": record.name,
        "description": record.description or "",
        "external_id": record.source_id,
        "integration_id": record.integration_id,
        "active": record.active,
    }


def _worker_payload(record: WorkerRecord, links: Mapping[str, int]) -> WorkerFields:
    address = record.address
    payload: WorkerFields = {
        "employee_id": record.source_id,
        "integration_id": record.integration_id,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "email": record.email or "",
        "contact": record.phone or "",
        "address": address.street or "",
        "suburb": address.city or "",
        "state": address.state or "",
        "postcode": address.postcode or "",
        "active": record.active,
    }
    if record.birth_date is not None:
        payload["dob"] = record.birth_date.isoformat()
    if "user_type_id" in links:
        payload["user_type_id"] = links["user_type_id"]
    if "employment_type" in links:
        payload["employment_type"] = links["employment_type"]
    if "task_id" in links:
        payload["tasks"] = [{"task_id": links["task_id"]}]
    return payload


AssignarPayload = (
    ClientFields | ProjectFields | WorkOrderFields | ActivityFields | RoleFields | AssetFields | WorkerFields
)


@overload
def to_assignar(record: ClientRecord, links: Mapping[str, int], config: TenantConfig) -> ClientFields: ...
@overload
def to_assignar(record: ProjectRecord, links: Mapping[str, int], config: TenantConfig) -> ProjectFields: ...
@overload
def to_assignar(record: WorkOrderRecord, links: Mapping[str, int], config: TenantConfig) -> WorkOrderFields: ...
@overload
def to_assignar(record: ActivityRecord, links: Mapping[str, int], config: TenantConfig) -> ActivityFields: ...
@overload
def to_assignar(record: RoleRecord, links: Mapping[str, int], config: TenantConfig) -> RoleFields: ...
@overload
def to_assignar(record: AssetRecord, links: Mapping[str, int], config: TenantConfig) -> AssetFields: ...
@overload
def to_assignar(record: WorkerRecord, links: Mapping[str, int], config: TenantConfig) -> WorkerFields: ...
@overload
def to_assignar(record: InboundRecord, links: Mapping[str, int], config: TenantConfig) -> AssignarPayload: ...
def to_assignar(record: InboundRecord, links: Mapping[str, int], config: TenantConfig) -> AssignarPayload:
    """The Assignar write payload; `links` maps each `links_needed` field to the Assignar id found for it.

    Everything else comes from the record (config values were applied by `normalize`, so the content hash
    covers them); `config` is consulted only for keys the workflow cannot run without.
    """
    for key in config.missing(record.workflow):
        raise MappingError.of(record, key, "not set: this workflow cannot write without it")
    _check_links(record, links)
    payload: AssignarPayload
    if isinstance(record, ClientRecord):
        payload = _client_payload(record, links)
    elif isinstance(record, ProjectRecord):
        payload = _project_payload(record, links)
    elif isinstance(record, WorkOrderRecord):
        payload = _work_order_payload(record, links)
    elif isinstance(record, ActivityRecord):
        payload = _activity_payload(record, links)
    elif isinstance(record, RoleRecord):
        payload = _role_payload(record, links)
    elif isinstance(record, AssetRecord):
        payload = _asset_payload(record, links)
    elif isinstance(record, WorkerRecord):
        payload = _worker_payload(record, links)
    else:
        raise TypeError(f"no Assignar mapping for {type(record).__name__}")
    # What the company does not offer is left as it is in Assignar (typed there by hand, perhaps), not cleared.
    for key in record.not_offered or ():
        payload.pop(key, None)  # type: ignore[misc]  # every payload TypedDict is total=False
    return payload
