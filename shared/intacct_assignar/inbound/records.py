"""Normalized inbound records: one per workflow, what Intacct says about a client, job or worker in our words.

A record is what the pull publishes and the upsert writes. It holds everything that ends up in Assignar except
the Assignar ids of what it links to (resolved at write time by the other record's workflow and source_id), so
`content_hash` changes exactly when a write would change something.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import WorkflowName

INTEGRATION_PREFIX = "intacct"


def integration_id_for(object_name: str, recordno: int) -> str:
    """The stable key Assignar's `integration_id` holds: RECORDNO never changes, even when the ID is renamed."""
    return f"{INTEGRATION_PREFIX}:{object_name}:{recordno}"


def parse_integration_id(text: str) -> tuple[str, int]:
    """(Intacct object, RECORDNO) from an `integration_id`; ValueError for a key this product did not build."""
    prefix, _, rest = text.partition(":")
    object_name, _, recordno = rest.partition(":")
    if prefix != INTEGRATION_PREFIX or not object_name or not recordno.isdigit():
        raise ValueError(f"not an Intacct integration id: {text!r}")
    return object_name, int(recordno)


class _Frozen(BaseModel):
    # extra="forbid": a message from a newer or older producer with different fields fails loudly on receipt.
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordRef(_Frozen):
    """A link to another synced record, by that record's workflow and Intacct ID."""

    workflow: WorkflowName
    source_id: str
    # False: write without the link when the other record is not in Assignar (a guessed link, not a stated one).
    required: bool = True


class Address(_Frozen):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None

    @property
    def street(self) -> str | None:
        return ", ".join(part for part in (self.line1, self.line2) if part) or None

    @property
    def one_line(self) -> str | None:
        """Street, city, state and postcode, country: how Assignar wants a project's full address."""
        region = " ".join(part for part in (self.state, self.postcode) if part)
        parts = (self.line1, self.line2, self.city, region, self.country)
        return ", ".join(part for part in parts if part) or None


class InboundRecord(_Frozen):
    """What every workflow's record has: its keys, whether it is live in Assignar, and why not."""

    # Fields that say something about the record but are never written to Assignar, so not in the hash.
    not_written: ClassVar[frozenset[str]] = frozenset({"inactive_reason", "modified_at"})

    workflow: WorkflowName
    integration_id: str
    source_id: str
    active: bool
    inactive_reason: str | None = None
    # WHENMODIFIED in the company's zone: lets a consumer drop a version older than one it already wrote.
    modified_at: datetime | None = None
    # The Assignar fields (e.g. "mobile", "postcode") whose Intacct source the company does not offer: left
    # alone in Assignar rather than cleared, since Intacct said nothing about them. Sorted, for the hash; None
    # when the company offers everything, so such records (and their queue messages) look as they always did.
    not_offered: tuple[str, ...] | None = None

    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON of what would be written: same content, same hash, on any Python."""
        exclude = set(self.not_written) | (set() if self.not_offered else {"not_offered"})
        content = self.model_dump(mode="json", exclude=exclude)
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()


class ClientRecord(InboundRecord):
    workflow: Literal["clients"] = "clients"
    name: str
    email: str | None = None
    office_phone: str | None = None
    mobile: str | None = None
    address: Address = Field(default_factory=Address)


class ProjectRecord(InboundRecord):
    # The job's dates only serve as its work orders' fallback dates; Assignar projects have none.
    not_written: ClassVar[frozenset[str]] = InboundRecord.not_written | {"start_date", "end_date"}

    workflow: Literal["projects"] = "projects"
    name: str
    client: RecordRef | None = None  # internal jobs have no customer
    address: Address = Field(default_factory=Address)
    start_date: date | None = None
    end_date: date | None = None


class WorkOrderRecord(InboundRecord):
    """An Intacct project task as an Assignar order; `source_id` is `PROJECTID/TASKID` (TASKID repeats per job)."""

    workflow: Literal["work_orders"] = "work_orders"
    job_number: str
    job_description: str
    project: RecordRef
    # The project's customer, when the pull knew the project: linked directly instead of through an Assignar
    # read of the project (one call per project saved on an initial sync).
    client: RecordRef | None = None
    # Already resolved: the task's, else its project's, else the configured default dates.
    start_date: date | None = None
    end_date: date | None = None
    owner_user_id: int | None = None


class ActivityRecord(InboundRecord):
    workflow: Literal["activities"] = "activities"
    name: str


class RoleRecord(InboundRecord):
    workflow: Literal["roles"] = "roles"
    name: str


class AssetRecord(InboundRecord):
    workflow: Literal["assets"] = "assets"
    name: str
    description: str | None = None


class WorkerRecord(InboundRecord):
    workflow: Literal["workers"] = "workers"
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    address: Address = Field(default_factory=Address)
    role: RecordRef | None = None
    # Assignar's user type and employment type, by name: their ids are looked up in Assignar at write time.
    user_type: str
    employment_type: str


NormalizedRecord = (
    ClientRecord | ProjectRecord | WorkOrderRecord | ActivityRecord | RoleRecord | AssetRecord | WorkerRecord
)
"""Any workflow's record; as a message body, tell them apart with `Field(discriminator="workflow")`."""


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
