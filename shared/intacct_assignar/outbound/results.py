"""What posting a timesheet comes back with (`PushResult`), or raises when it must be tried again later."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ..outcomes import RetryLater

Outcome = Literal["posted", "already_posted", "parked", "skipped", "failed", "dry_run"]


class TimesheetBusyError(RetryLater):
    """Another worker holds this timesheet's lease: try again after it finishes (or its lease runs out)."""


class PostingIncompleteError(RetryLater):
    """Intacct's answer was lost and the document cannot be found yet: try again later; the lease protects it."""


@dataclass
class PushResult:
    timesheet_id: int
    outcome: Outcome
    reason: str | None = None
    intacct_keys: dict[str, str] = field(default_factory=dict)
    # Dry runs: the documents that would be written, and the reference problems found.
    documents: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    # Parked by an earlier delivery (a duplicate webhook, the sweep): already reported, not to report again.
    earlier: bool = False
    # Posted by this call: when Assignar's timesheet was approved (`Timesheet.approved_at`, as the push read it)
    # and when the ledger recorded it posted. The functions' approval-to-Intacct metric is their difference.
    approved_at: datetime | None = None
    posted_at: datetime | None = None

    @property
    def approval_to_intacct_s(self) -> float | None:
        if self.outcome != "posted" or self.approved_at is None or self.posted_at is None:
            return None
        # Assignar's clock and ours may differ by a little: a posting never precedes its approval.
        return max(0.0, (self.posted_at - self.approved_at).total_seconds())

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"timesheet_id": self.timesheet_id, "outcome": self.outcome}
        if self.reason:
            data["reason"] = self.reason
        if self.intacct_keys:
            data["intacct"] = self.intacct_keys
        if self.documents is not None:
            data["documents"] = self.documents
        if self.problems:
            data["problems"] = self.problems
        if self.earlier:
            data["earlier"] = True
        return data
