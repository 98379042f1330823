"""Normalized records as Assignar write payloads: the one place that knows which Assignar field each fills.

`links_needed` says which Assignar ids must be found before writing a record, and `to_assignar` builds the
write payload from the record and those ids.

Rules PRODUCT.md leaves open, decided here:
- Text that is empty in Intacct is sent as "" so that clearing a field in Intacct clears it in Assignar;
  dates that are empty are left out (Assignar would refuse "" as a date).
- A deactivation never waits on a dependency: every link of an inactive record is optional.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from .records import (
    ActivityRecord,
    AssetRecord,
    ClientRecord,
    InboundRecord,
    MappingError,
    ProjectRecord,
    RecordRef,
    RoleRecord,
    WorkerRecord,
    WorkOrderRecord,
)

# The Assignar field that holds a record's Intacct ID (`normalize.ID_FIELDS`; users call it employee_id; orders
# hold only the integration_id), by which a record typed into Assignar by hand is adopted.
EXTERNAL_KEY: dict[WorkflowName, str | None] = {
    "clients": "external_id",
    "projects": "external_id",
    "work_orders": None,
    "activities": "external_id",
    "roles": "external_id",
    "assets": "external_id",
    "workers": "employee_id",
}


# --- links ------------------------------------------------------------------------------------------------


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


def _named_payload(record: ActivityRecord | RoleRecord, links: Mapping[str, int]) -> ActivityFields | RoleFields:
    """An activity's or a role's: its name, and the keys that tie it to its Intacct record."""
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
    elif isinstance(record, ActivityRecord | RoleRecord):
        payload = _named_payload(record, links)
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
