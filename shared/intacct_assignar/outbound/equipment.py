"""Equipment time in Intacct as a purchasing transaction (`create_potransaction`): written once, never updated,
and found again only in a field a create read back was seen to fill with its marker (the proofs)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..catalog import FieldCatalog
from ..intacct import IntacctError, QuerySpec
from ..intacct.filters import eq, like
from ..intacct.writes import Write
from .document_kinds import Action, CannotLook, Found, only_found, text_of
from .documents import Document, controlid, marker, revision_of
from .ports import IntacctWrites
from .results import PostingIncompleteError

if TYPE_CHECKING:
    from ..intacct import WriteResult

logger = logging.getLogger(__name__)

# Where a purchasing transaction may keep the marker, in order of preference: fields named as the create element
# that wrote it (`message`, `referenceno`, the lines' `memo`). Which field holds `<referenceno>` is not documented
# (reference §5.3; PONUMBER is a guess), nor is it that MESSAGE or MEMO hold the elements of their names, so a
# field is searched only once a create read back showed it holding the marker (`FieldCatalog.record_proof`).
EQUIPMENT_MARK_FIELDS = (("PODOCUMENT", "MESSAGE"), ("PODOCUMENT", "REFERENCENO"), ("PODOCUMENTENTRY", "MEMO"))


NO_MARKER_FIELD = (
    "none of the fields a purchasing transaction could carry its marker in ("
    + ", ".join(f"{obj}.{name}" for obj, name in EQUIPMENT_MARK_FIELDS)
    + ") has been seen to hold it in this company (each is checked after a transaction is created)"
)


def marker_field(catalog: FieldCatalog) -> tuple[str, str] | None:
    """The field our purchasing transactions are searched by: the first a create read back showed holding the
    marker (`EquipmentTransactions.prove_if_due`), or None while none has."""
    return next(((obj, name) for obj, name in EQUIPMENT_MARK_FIELDS if catalog.holds(obj, name)), None)


def key_field_of(key: str) -> str:
    """The PODOCUMENT field a key the ledger keeps is: its RECORDNO, or the DOCID a create answered with."""
    return "RECORDNO" if key.isdigit() else "DOCID"


class EquipmentTransactions:
    name = "equipment"
    what = "equipment"
    label = "Intacct purchasing transaction"

    def __init__(self, intacct: IntacctWrites, transaction: str, catalog: FieldCatalog) -> None:
        self._intacct = intacct
        self._transaction = transaction
        self._catalog = catalog

    def find(self, timesheet_id: int) -> Found | None:
        proven = marker_field(self._catalog)
        if proven is None:
            raise CannotLook(NO_MARKER_FIELD)
        obj, text_field = proven
        spec, key_field = self._search(obj, text_field, timesheet_id)
        result = self._intacct.query(spec.object_name, spec.select, filter=spec.filter, docparid=spec.docparid)
        return only_found(timesheet_id, result.records, key_field, text_field, self.label)

    def can_find(self) -> bool:
        return marker_field(self._catalog) is not None

    def recheck(self, timesheet_id: int, known: Found) -> Found | None:
        # By its key, never its texts (an accountant may edit a message or a memo), and in any transaction
        # definition: the tenant may have changed `equipment_transaction` since (a DOCID names its own).
        key_field = key_field_of(known.key)
        result = self._intacct.query("PODOCUMENT", (key_field,), filter=eq(key_field, known.key))
        return known if result.records else None

    def write(self, timesheet_id: int, action: Action, document: Document, generation: int, key: str | None) -> Write:
        if action != "create":
            raise AssertionError("purchasing transactions are never updated (see cannot_update)")
        tag = controlid(timesheet_id, "equipment", document.revision, generation)
        return Write.legacy("create_potransaction", document.fields, controlid=tag)

    def written(
        self, timesheet_id: int, action: Action, document: Document, key: str | None, answer: WriteResult
    ) -> Found:
        created = answer.key or answer.recordno
        if created is None:
            raise PostingIncompleteError(f"Intacct created timesheet {timesheet_id}'s equipment usage but sent no key")
        return Found(created, document.revision)

    def describe(self, document: Document) -> str:
        """How a person finds the transaction in Intacct without its marker: definition, vendor, date, lines."""
        fields = document.fields
        created = fields.get("datecreated", {})
        items = fields.get("potransitems", {}).get("potransitem", [])
        lines = ", ".join(f"{item.get('itemid')} {item.get('quantity')}" for item in items)
        return (
            f"a {fields.get('transactiontype')} transaction for vendor {fields.get('vendorid')} dated "
            f"{created.get('year')}-{created.get('month')}-{created.get('day')} with {lines}"
        )

    def prove_if_due(self, timesheet_id: int, found: Found) -> None:
        """Which fields hold the marker of a transaction this timesheet posted: one request, at most daily.

        Run after the posting is recorded, so its cost or failure touches nothing of it; a field not proven is
        not searched (a lost answer is then handed to a person rather than risk a second transaction)."""
        try:
            self._prove(timesheet_id, found)
        except Exception:
            logger.warning("purchasing fields not checked", exc_info=True)

    def _search(self, obj: str, text_field: str, timesheet_id: int) -> tuple[QuerySpec, str]:
        """The query finding this timesheet's documents by `text_field`, and the field naming the document."""
        if obj == "PODOCUMENT":
            key_field = "DOCID" if self._catalog.offers(obj, "DOCID") else "RECORDNO"
        else:
            # A line names its document by DOCHDRNO, the document's RECORDNO (reference: purchasing lines).
            key_field = "DOCHDRID" if self._catalog.offers(obj, "DOCHDRID") else "DOCHDRNO"
        anywhere = like(text_field, f"%{marker(timesheet_id)}%")
        return QuerySpec(obj, (key_field, text_field), filter=anywhere, docparid=self._transaction), key_field

    def _prove(self, timesheet_id: int, found: Found) -> None:
        due = []
        for obj, text_field in EQUIPMENT_MARK_FIELDS:
            if not self._catalog.proof_due(obj, text_field):
                continue
            try:
                offered = self._catalog.offers(obj, text_field)
            except IntacctError as exc:
                logger.warning("purchasing fields not checked", extra={"error": str(exc)})
                return
            if offered:
                due.append((obj, text_field))
            else:
                self._catalog.record_proof(obj, text_field, holds=False)
        if not due:
            return
        searches = [self._search(obj, text_field, timesheet_id) for obj, text_field in due]
        try:
            results = self._intacct.query_batch([spec for spec, _ in searches])
        except IntacctError as exc:
            logger.warning("purchasing fields not checked", extra={"error": str(exc)})
            return
        for (obj, text_field), (_, key_field), result in zip(due, searches, results, strict=True):
            try:
                records = result.raise_for_status().records
            except IntacctError:
                # Refused though listed: not searchable for now; what was seen before stands.
                self._catalog.refuse(obj, text_field)
                continue
            same_form = found.key.isdigit() == (key_field in ("RECORDNO", "DOCHDRNO"))
            holds = any(
                revision_of(timesheet_id, text_of(record.get(text_field))) == found.revision
                and (not same_form or str(record.get(key_field)) == found.key)
                for record in records
            )
            self._catalog.record_proof(obj, text_field, holds=holds)

    def cannot_update(self, found: Found) -> str | None:
        # Purchasing transactions move on (received, converted, invoiced) in the accountants' hands; rewriting
        # one from here could undo their work, so a change is handed to a person.
        return (
            f"it was re-approved with changed equipment time, but purchasing transaction {found.key} already holds "
            "the earlier hours; delete that transaction in Intacct and replay this timesheet to post the new hours, "
            "or correct the transaction by hand"
        )

    def refused(self, action: str, key: str | None, details: str) -> str:
        return f"Intacct refused the equipment purchasing transaction: {details}"
