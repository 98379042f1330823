"""The timesheet webhook event we define for Assignar deliveries (Assignar publishes no format of its own)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

TIMESHEET_APPROVED: Final = "timesheet.approved"


class TimesheetEvent(BaseModel):
    """`{"event": "timesheet.approved", "timesheet_id": 123, "occurred_at": "2026-11-25T21:00:00Z"}`.

    Only names the timesheet: receivers read the timesheet itself from the API and never trust the body for data.
    """

    model_config = ConfigDict(extra="ignore")

    event: Literal["timesheet.approved"] = TIMESHEET_APPROVED
    timesheet_id: int = Field(gt=0)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def to_body(self) -> bytes:
        return self.model_dump_json().encode()
