"""The message that asks the push consumer to post one Assignar timesheet to Intacct.

It names the timesheet and nothing else of it: the consumer reads the timesheet from Assignar, so a forged or
replayed message costs one read at most. `retry_parked` is set where a person asked for the retry (a replay
from the parked queue, `push-timesheets --timesheet-id`): only then is a timesheet parked earlier tried again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..consumer import validation_problems
from ..outcomes import ParkForPerson

PUSH_MESSAGE_VERSION = 1

Trigger = Literal["webhook", "sweep", "cli", "replay"]


class PushMessageError(ParkForPerson, ValueError):
    """A queue body that is not a push message: parked with this reason, never retried."""


class PushMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1  # PUSH_MESSAGE_VERSION
    timesheet_id: int = Field(gt=0, strict=True)
    trigger: Trigger
    retry_parked: bool = False
    queued_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("queued_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time zone")
        return value

    def to_body(self) -> str:
        return self.model_dump_json()

    def for_replay(self) -> PushMessage:
        """The copy parked for an admin: re-driving it to the push queue retries the timesheet."""
        return self.model_copy(update={"trigger": "replay", "retry_parked": True})

    @classmethod
    def from_body(cls, body: str | bytes) -> PushMessage:
        try:
            return cls.model_validate_json(body)
        except ValidationError as exc:
            problems = validation_problems(exc)
            raise PushMessageError(f"not a valid push message (version {PUSH_MESSAGE_VERSION}): {problems}") from exc


class PushQueue(Protocol):
    """Where push messages go: the push queue in AWS."""

    def publish(self, messages: Sequence[PushMessage]) -> None: ...
