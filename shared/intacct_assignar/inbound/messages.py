"""The messages the puller sends to the upsert queue: versioned JSON, validated on receipt.

An `upsert` carries a whole normalized record; a `deactivate` names a record Intacct deleted (all the pull
knows of it then is its object and RECORDNO). A body that does not validate is refused with the reason, so
the consumer can report it instead of retrying it forever.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import WorkflowName
from ..consumer import validation_problems
from ..outcomes import ParkForPerson
from .records import (
    ActivityRecord,
    AssetRecord,
    ClientRecord,
    ProjectRecord,
    RoleRecord,
    WorkerRecord,
    WorkOrderRecord,
)

MESSAGE_VERSION = 1

AnyRecord = Annotated[
    ClientRecord | ProjectRecord | WorkOrderRecord | ActivityRecord | RoleRecord | AssetRecord | WorkerRecord,
    Field(discriminator="workflow"),
]


class MessageError(ParkForPerson, ValueError):
    """A queue message that is not a valid sync message: reported and dropped to the DLQ, never retried."""


class SyncMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1  # MESSAGE_VERSION; bump both when the body changes shape
    kind: Literal["upsert", "deactivate"]
    workflow: WorkflowName
    integration_id: str = Field(min_length=1)
    record: AnyRecord | None = None
    reason: str | None = None
    run_id: str = Field(min_length=1)
    pulled_at: datetime
    # From a full pull: compare with what Assignar holds now (not just with what we last wrote), so hand
    # edits made in Assignar are put right.
    verify: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind == "upsert":
            if self.record is None:
                raise ValueError("an upsert message needs its record")
            if (self.record.workflow, self.record.integration_id) != (self.workflow, self.integration_id):
                raise ValueError("the record does not match the message's workflow and integration_id")
        elif self.record is not None:
            raise ValueError("a deactivate message carries no record")
        if self.pulled_at.tzinfo is None:
            raise ValueError("pulled_at must carry a time zone")
        return self

    @classmethod
    def upsert(cls, record: AnyRecord, *, run_id: str, pulled_at: datetime, verify: bool = False) -> SyncMessage:
        return cls(
            kind="upsert",
            workflow=record.workflow,
            integration_id=record.integration_id,
            record=record,
            run_id=run_id,
            pulled_at=pulled_at,
            verify=verify,
        )

    @classmethod
    def deactivate(
        cls, workflow: WorkflowName, integration_id: str, reason: str, *, run_id: str, pulled_at: datetime
    ) -> SyncMessage:
        return cls(
            kind="deactivate",
            workflow=workflow,
            integration_id=integration_id,
            reason=reason,
            run_id=run_id,
            pulled_at=pulled_at,
        )

    @property
    def business_key(self) -> str:
        """What makes two deliveries the same work: the record, its content and the Intacct version it was read at.

        The version (WHENMODIFIED) keeps an A -> B -> A change from being taken for a repeat of the first A.
        """
        if self.record is None:
            return f"{self.workflow}:{self.integration_id}:deactivate:{self.reason}"
        version = self.record.modified_at.isoformat() if self.record.modified_at else self.pulled_at.isoformat()
        # A verifying delivery is its own work: a repair run must not be taken for the sync it repairs.
        run = f":verify:{self.run_id}" if self.verify else ""
        return f"{self.workflow}:{self.integration_id}:{self.record.content_hash()}:{version}{run}"

    def to_body(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def from_body(cls, body: str | bytes) -> SyncMessage:
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            raise MessageError(
                f"not a valid sync message (version {MESSAGE_VERSION}): {validation_problems(exc)}"
            ) from exc


__all__ = ["MESSAGE_VERSION", "AnyRecord", "MessageError", "SyncMessage"]
