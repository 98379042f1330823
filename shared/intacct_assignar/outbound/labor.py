"""Labor time in Intacct: one TIMESHEET per Assignar timesheet, found by the marker in its DESCRIPTION, and
changed only while Intacct's state says it may be."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..intacct.filters import eq, like
from ..intacct.writes import Write
from .document_kinds import Action, Found, only_found, text_of
from .documents import Document, controlid, marker, revision_of
from .ports import IntacctWrites
from .results import PostingIncompleteError

if TYPE_CHECKING:
    from ..intacct import WriteResult

# The TIMESHEET states Intacct lets an update change (reference §5.1: created as Draft or Submitted; approval
# needs Submitted entries); any other (Approved, Partially Approved, Declined…) belongs to the approvers.
UPDATABLE_TIMESHEET_STATES = frozenset({"Draft", "Submitted"})


class LaborTimesheets:
    name = "timesheet"
    what = "labor"
    label = "Intacct timesheet"

    def __init__(self, intacct: IntacctWrites) -> None:
        self._intacct = intacct

    def find(self, timesheet_id: int) -> Found | None:
        # STATE comes with it: whether the timesheet may still be changed is read in the same request.
        result = self._intacct.query(
            "TIMESHEET",
            ("RECORDNO", "DESCRIPTION", "STATE"),
            filter=like("DESCRIPTION", marker(timesheet_id) + "%"),
            orderby=(("RECORDNO", True),),
        )
        return only_found(timesheet_id, result.records, "RECORDNO", "DESCRIPTION", self.label, state_field="STATE")

    def can_find(self) -> bool:
        return True  # by the marker in DESCRIPTION, which Intacct's TIMESHEET reference lists

    def describe(self, document: Document) -> str:
        fields = document.fields
        return f"a timesheet of employee {fields.get('EMPLOYEEID')} for the week of {fields.get('BEGINDATE')}"

    def recheck(self, timesheet_id: int, known: Found) -> Found | None:
        # By its key, never its description (a person may edit it); STATE in the same request.
        result = self._intacct.query(
            "TIMESHEET", ("RECORDNO", "DESCRIPTION", "STATE"), filter=eq("RECORDNO", known.key)
        )
        for record in result.records:
            revision = revision_of(timesheet_id, text_of(record.get("DESCRIPTION")))
            return Found(known.key, revision or known.revision, text_of(record.get("STATE")))
        return None

    def write(self, timesheet_id: int, action: Action, document: Document, generation: int, key: str | None) -> Write:
        if action == "create":
            tag = controlid(timesheet_id, "labor", document.revision, generation)
            return Write.create("TIMESHEET", document.fields, controlid=tag)
        # An update replaces the timesheet and all its entries (reference §5.1); sent only after `cannot_update`.
        tag = controlid(timesheet_id, "labor-update", document.revision, generation)
        return Write.update("TIMESHEET", {"RECORDNO": key, **document.fields}, controlid=tag)

    def written(
        self, timesheet_id: int, action: Action, document: Document, key: str | None, answer: WriteResult
    ) -> Found:
        if action == "update" and key is not None:
            return Found(key, document.revision)
        if answer.recordno is None:
            raise PostingIncompleteError(f"Intacct created timesheet {timesheet_id}'s labor but sent no RECORDNO")
        return Found(answer.recordno, document.revision)

    def cannot_update(self, found: Found) -> str | None:
        if found.state in UPDATABLE_TIMESHEET_STATES:
            return None
        where = f"is {found.state} in Intacct" if found.state else "is in a state Intacct did not say"
        return (
            f"it was re-approved with changed labor time, but Intacct timesheet {found.key} {where}, and only Draft "
            "or Submitted timesheets may be changed; correct that timesheet in Intacct by hand (or reverse its "
            "approval there, and replay this timesheet to update it)"
        )

    def refused(self, action: str, key: str | None, details: str) -> str:
        if action == "update":
            return (
                f"it was re-approved with changed labor time, but Intacct timesheet {key} could not be updated "
                f"({details}); correct that timesheet in Intacct by hand (or delete it, and replay this timesheet "
                "to post it again)"
            )
        return f"Intacct refused the timesheet: {details}"
