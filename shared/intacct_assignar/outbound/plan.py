"""What a timesheet becomes in Intacct before anything is written: its documents or why it cannot be posted, the
hash the ledger keys it by, and what a dry run reports."""

from __future__ import annotations

import hashlib
from typing import Any

from ..assignar.models import Timesheet
from ..config import Timesheets
from ..state import LedgerEntry
from .claim import public_keys
from .documents import TimesheetPosting, UnpostableError, build_posting
from .references import ReferenceChecker
from .results import PushResult


def plan(
    timesheet: Timesheet, settings: Timesheets, entity_id: str | None
) -> tuple[TimesheetPosting | None, UnpostableError | None]:
    """The documents for a timesheet, or why it cannot be posted as it stands."""
    try:
        posting = build_posting(timesheet, settings, entity_id=entity_id)
    except UnpostableError as error:
        return None, error
    except ValueError as error:  # a value Assignar sent that cannot be read (a malformed date)
        return None, UnpostableError(timesheet.id, f"it holds a value that cannot be read: {error}")
    if posting.is_empty:
        return None, UnpostableError(timesheet.id, "it has no labor or equipment time to post")
    return posting, None


def ledger_hash(timesheet: Timesheet, posting: TimesheetPosting | None, unpostable: UnpostableError | None) -> str:
    """What the ledger keys a timesheet's content by: its documents, or (unpostable) the approval it came from."""
    if posting is not None:
        return posting.content_hash
    # Unpostable as approved: re-approving it changed (modified_time moves) is what makes it worth another try.
    text = f"unpostable|{timesheet.id}|{timesheet.modified_time}|{unpostable.reason if unpostable else ''}"
    return hashlib.sha256(text.encode()).hexdigest()


def content_hash(timesheet: Timesheet, settings: Timesheets, entity_id: str | None) -> str:
    """The ledger's hash for this timesheet as it stands (what the sweep compares a parked entry with)."""
    return ledger_hash(timesheet, *plan(timesheet, settings, entity_id))


def preview(
    timesheet: Timesheet,
    posting: TimesheetPosting | None,
    unpostable: UnpostableError | None,
    *,
    entry: LedgerEntry | None,
    settings: Timesheets,
    references: ReferenceChecker,
) -> PushResult:
    """A dry run's result: the documents that would be written and the reference problems, or why it would park."""
    if posting is None:
        assert unpostable is not None
        return PushResult(timesheet.id, "dry_run", reason=f"would be parked: {unpostable.reason}")
    documents: dict[str, Any] = {}
    if posting.labor is not None:
        documents["TIMESHEET"] = posting.labor.fields
    if posting.equipment is not None and settings.equipment_mode == "purchasing":
        documents["create_potransaction"] = posting.equipment.fields
    already = entry is not None and entry.state == "posted" and entry.content_hash == posting.content_hash
    return PushResult(
        timesheet.id,
        "dry_run",
        reason="already posted with this content" if already or timesheet.is_processed else None,
        intacct_keys=public_keys(entry.intacct_keys) if entry else {},
        documents=documents,
        problems=references.problems(posting.references),
    )
