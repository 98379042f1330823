"""What Intacct holds from this integration in a date range, read with as few queries as its API allows.

The documents are found as the push finds them after a lost answer: a TIMESHEET by the marker its DESCRIPTION
starts with (`labor.LaborTimesheets.find`), a purchasing transaction by the field a create read back showed
holding it (`equipment.marker_field`). Never one call per timesheet: each object is read by `query` (2,000
records a page, paged by RECORDNO), its lines by `<in>` on their document's key, 1,000 documents a query. For a
week of 1,000 workers that is about a dozen queries (BENCHMARKS.md).

Where the reference is silent, the field is asked of `lookup` (the catalog) before it is used, and each guess is
one constant below, saying what would confirm it. What cannot be read of the equipment is said in one sentence
and leaves the labor compared.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ...catalog import FieldCatalog
from ...config import Timesheets
from ...intacct import IntacctBusinessError, IntacctInvalidFieldsError
from ...intacct.filters import MAX_IN_VALUES, Between, Filter, and_, gt, in_, like
from ...intacct.protocol import Record
from ...intacct.values import IntacctValueError, format_date, parse_date
from ..document_kinds import text_of
from ..documents import EQUIPMENT_NOTE, MARKER_WORDS, marked_timesheet, week_start
from ..equipment import NO_MARKER_FIELD, key_field_of, marker_field
from ..ports import IntacctReads
from .model import ZERO, PostedRead, PostedTime

logger = logging.getLogger(__name__)

TIMESHEET_FIELDS = ("RECORDNO", "DESCRIPTION", "EMPLOYEEID", "BEGINDATE")  # documented: Create Timesheet
ENTRY_FIELDS = ("RECORDNO", "QTY", "ENTRYDATE", "NOTES")  # documented: Create Timesheet, TIMESHEETENTRY
# [guess] Which TIMESHEETENTRY field names its timesheet. Intacct's reference walks `TIMESHEETENTRY.TIMESHEET.
# RECORDNO` from TIMESHEETAPPROVAL (Timesheets, "Query and List Timesheet Approval History"), so an entry reaches
# its timesheet by the relationship TIMESHEET; failing that, TIMESHEETKEY, as Intacct pairs a key with an ID
# (TASKID/TASKKEY). The first `lookup TIMESHEETENTRY` offers is used; that lookup in a sandbox confirms which.
ENTRY_TIMESHEET_FIELDS = ("TIMESHEET.RECORDNO", "TIMESHEETKEY")
# [guess] A purchasing transaction's document date (create_potransaction's <datecreated>) is queried as
# PODOCUMENT.WHENCREATED, and a line's quantity as PODOCUMENTENTRY.QUANTITY (else UIQTY); the reference lists
# neither. Used only where `lookup` lists them; confirm with `lookup PODOCUMENT` / `lookup PODOCUMENTENTRY`.
DOCUMENT_DATE_FIELD = "WHENCREATED"
LINE_QUANTITY_FIELDS = ("QUANTITY", "UIQTY")
LINE_HEADER_FIELD = "DOCHDRNO"  # documented: a line's PODOCUMENT RECORDNO (Query and List Purchasing Transaction Lines)


class CannotReconcileError(Exception):
    """Intacct offers this integration no way to read what it posted; the message says what to fix."""


@dataclass(frozen=True)
class _Header:
    """A document found, and whose time it holds."""

    timesheet_id: int
    key: str  # as people see it: a TIMESHEET's RECORDNO, a transaction's DOCID
    unmarked: bool  # found by the ledger's key, without our marker


@dataclass(frozen=True)
class _Transaction:
    """A purchasing transaction found: its key as people see it (DOCID), its date, and whose time it holds when
    its header says (else its lines' memos do)."""

    key: str
    dated: date | None
    owner: int | None
    unmarked: bool


class IntacctPostedTime:
    """Reads TIMESHEETs, their entries and (by `equipment_mode`) purchasing transactions and their lines."""

    def __init__(self, intacct: IntacctReads, catalog: FieldCatalog, settings: Timesheets) -> None:
        self._intacct = intacct
        self._catalog = catalog
        self._settings = settings

    # --- PostedTimeReader ------------------------------------------------------------------------------------

    def marked(self, first: date, last: date) -> PostedRead:
        read = PostedRead()
        # A timesheet's BEGINDATE is the first day of the week holding its entries: a week begun before `first`
        # may hold days in the range (an entry outside it is told apart by its ENTRYDATE).
        where = and_(
            like("DESCRIPTION", MARKER_WORDS + "%"),
            Between("BEGINDATE", format_date(week_start(first, self._settings.week_start)), format_date(last)),
        )
        headers = {}
        for record in self._all("TIMESHEET", TIMESHEET_FIELDS, where):
            marked = marked_timesheet(text_of(record.get("DESCRIPTION")))
            key = text_of(record.get("RECORDNO"))
            if marked is not None and key is not None:
                headers[key] = (_Header(marked[0], key, False), record)
        self._timesheets(headers, read)
        if self._settings.equipment_mode == "purchasing":
            self._transactions_in(first, last, read)
        return read

    def by_keys(self, keys: Mapping[int, Mapping[str, str]]) -> PostedRead:
        read = PostedRead()
        timesheets = {key: owner for owner, documents in keys.items() if (key := documents.get("timesheet"))}
        headers = {}
        for chunk in _chunks(sorted(k for k in timesheets if k.isdigit())):
            for record in self._all("TIMESHEET", TIMESHEET_FIELDS, in_("RECORDNO", chunk)):
                key = str(record.get("RECORDNO"))
                owner = timesheets.get(key)
                if owner is None:
                    continue  # not one asked for
                marked = marked_timesheet(text_of(record.get("DESCRIPTION")))
                headers[key] = (_Header(owner, key, marked is None or marked[0] != owner), record)
        self._timesheets(headers, read)
        transactions = {key: owner for owner, documents in keys.items() if (key := documents.get("equipment"))}
        if transactions:
            self._transactions_by_key(transactions, read)
        return read

    # --- timesheets --------------------------------------------------------------------------------------------

    def _timesheets(self, headers: Mapping[str, tuple[_Header, Record]], read: PostedRead) -> None:
        for header, record in headers.values():
            posted = read.time_of(header.timesheet_id)
            posted.holds("timesheet", header.key)
            posted.employee_id = posted.employee_id or text_of(record.get("EMPLOYEEID"))
            posted.week = posted.week or self._date(record.get("BEGINDATE"), posted, "its BEGINDATE")
            if header.unmarked:
                posted.unmarked.add("timesheet")
        if not headers:
            return
        while True:
            link = self._entry_link()
            try:
                entries = [
                    entry
                    for chunk in _chunks(sorted(headers))
                    for entry in self._all("TIMESHEETENTRY", (*ENTRY_FIELDS, link), in_(link, chunk))
                ]
                break
            except IntacctInvalidFieldsError:
                # Listed by lookup, refused by query (a relationship this user may not walk): the next one.
                self._catalog.refuse("TIMESHEETENTRY", link)
        for entry in entries:
            found = headers.get(str(entry.get(link)))
            if found is None:
                continue
            header = found[0]
            posted = read.time_of(header.timesheet_id)
            day = self._date(entry.get("ENTRYDATE"), posted, f"timesheet {header.key}'s entry ENTRYDATE")
            if day is not None:
                posted.dates.add(day)
            quantity = self._hours(entry.get("QTY"), posted, f"timesheet {header.key}'s entry QTY")
            # Equipment lines on the labor TIMESHEET (equipment_mode "timesheet") are told by the note the push
            # writes them with; an accountant rewriting it moves their hours to labor, which then shows.
            if (text_of(entry.get("NOTES")) or "").startswith(EQUIPMENT_NOTE):
                posted.equipment += quantity
            else:
                posted.labor += quantity

    def _entry_link(self) -> str:
        for name in ENTRY_TIMESHEET_FIELDS:
            if self._catalog.offers("TIMESHEETENTRY", name):
                return name
        raise CannotReconcileError(
            "Intacct's TIMESHEETENTRY offers this integration no field naming its timesheet (lookup lists neither "
            f"{' nor '.join(ENTRY_TIMESHEET_FIELDS)}), so the hours on its timesheets cannot be read: give the Web "
            "Services user permission to list timesheets and their entries in Intacct, then reconcile again"
        )

    # --- purchasing transactions -----------------------------------------------------------------------------

    def _transactions_in(self, first: date, last: date, read: PostedRead) -> None:
        proven = marker_field(self._catalog)
        if proven is None:
            self._cannot(read, f"{NO_MARKER_FIELD}; post one equipment timesheet, then reconcile again")
            return
        if not self._catalog.offers("PODOCUMENT", DOCUMENT_DATE_FIELD):
            self._cannot(
                read, f"lookup PODOCUMENT lists no {DOCUMENT_DATE_FIELD} to choose the range's transactions by"
            )
            return
        if self._quantity_field() is None:
            self._cannot(read, self._no_quantity())
            return
        obj, text_field = proven
        on_header = obj == "PODOCUMENT"
        where = and_(
            Between(DOCUMENT_DATE_FIELD, format_date(first), format_date(last)),
            like(text_field, f"%{MARKER_WORDS}%") if on_header else None,
        )
        documents: dict[str, _Transaction] = {}
        for record in self._all(
            "PODOCUMENT",
            self._header_fields(text_field if on_header else None),
            where,
            docparid=self._settings.equipment_transaction,
        ):
            marked = marked_timesheet(text_of(record.get(text_field))) if on_header else None
            if on_header and marked is None:
                continue
            recordno = str(record["RECORDNO"])  # checked by `_all`
            documents[recordno] = _Transaction(
                text_of(record.get("DOCID")) or recordno,
                _quiet_date(record.get(DOCUMENT_DATE_FIELD)),
                marked[0] if marked else None,
                unmarked=False,
            )
        self._lines(documents, None if on_header else text_field, read)

    def _transactions_by_key(self, transactions: Mapping[str, int], read: PostedRead) -> None:
        proven = marker_field(self._catalog)
        text_field = proven[1] if proven and proven[0] == "PODOCUMENT" else None
        documents: dict[str, _Transaction] = {}
        for key_field in ("RECORDNO", "DOCID"):
            keys = sorted(key for key in transactions if key_field_of(key) == key_field)
            for chunk in _chunks(keys):
                # In any transaction definition: the tenant may have changed `equipment_transaction` since.
                fields = tuple(dict.fromkeys((*self._header_fields(text_field), key_field)))
                for record in self._all("PODOCUMENT", fields, in_(key_field, chunk)):
                    owner = transactions.get(str(record.get(key_field)))
                    if owner is None:
                        continue
                    marked = marked_timesheet(text_of(record.get(text_field))) if text_field else None
                    recordno = str(record["RECORDNO"])  # checked by `_all`
                    documents[recordno] = _Transaction(
                        text_of(record.get("DOCID")) or recordno,
                        _quiet_date(record.get(DOCUMENT_DATE_FIELD)),
                        owner,
                        # Without a proven field on the header, its marker is not read: its key is enough.
                        unmarked=text_field is not None and (marked is None or marked[0] != owner),
                    )
        self._lines(documents, None, read)

    def _header_fields(self, text_field: str | None) -> tuple[str, ...]:
        fields = ["RECORDNO"]
        for name in ("DOCID", DOCUMENT_DATE_FIELD):
            if self._catalog.offers("PODOCUMENT", name):
                fields.append(name)
        if text_field:
            fields.append(text_field)
        return tuple(fields)

    def _quantity_field(self) -> str | None:
        return next((name for name in LINE_QUANTITY_FIELDS if self._catalog.offers("PODOCUMENTENTRY", name)), None)

    def _no_quantity(self) -> str:
        fields = " nor ".join(f"PODOCUMENTENTRY.{name}" for name in LINE_QUANTITY_FIELDS)
        return f"lookup lists neither {fields}, so no line's hours can be read"

    def _lines(self, documents: Mapping[str, _Transaction], memo_field: str | None, read: PostedRead) -> None:
        """The transactions whose header names their timesheet count as there, hours or not (a transaction
        whose lines were all deleted is there with none); each line adds its quantity to the timesheet its
        header names, else (the marker being proven on the lines) to the one its own memo names. A line naming
        none is not ours."""
        if not documents:
            return
        for document in documents.values():
            if document.owner is not None:
                self._holds(read.time_of(document.owner), document)
        quantity = self._quantity_field()
        if quantity is None:
            self._cannot(read, self._no_quantity())
            return
        select = ("RECORDNO", LINE_HEADER_FIELD, quantity, *((memo_field,) if memo_field else ()))
        try:
            lines = [
                line
                for chunk in _chunks(sorted(documents))
                for line in self._all("PODOCUMENTENTRY", select, in_(LINE_HEADER_FIELD, chunk))
            ]
        except IntacctBusinessError as refused:
            # The labor is still compared: only the equipment waits for the permission or field to be fixed.
            self._cannot(read, f"Intacct refused to list purchasing transaction lines ({refused})")
            return
        for line in lines:
            holding = documents.get(str(line.get(LINE_HEADER_FIELD)))
            if holding is None:
                continue
            owner = holding.owner
            if owner is None and memo_field is not None:
                marked = marked_timesheet(text_of(line.get(memo_field)))
                owner = marked[0] if marked else None
            if owner is None:
                continue
            posted = read.time_of(owner)
            self._holds(posted, holding)
            posted.equipment += self._hours(line.get(quantity), posted, f"transaction {holding.key}'s {quantity}")

    def _holds(self, posted: PostedTime, document: _Transaction) -> None:
        posted.holds("equipment", document.key)
        if document.unmarked:
            posted.unmarked.add("equipment")
        if document.dated is not None:
            posted.dates.add(document.dated)

    def _cannot(self, read: PostedRead, why: str) -> None:
        read.equipment_read = False
        read.notes.append(f"equipment hours not compared: {why}")
        logger.warning("equipment hours not compared", extra={"why": why})

    # --- reading --------------------------------------------------------------------------------------------

    def _all(
        self, object_name: str, select: Sequence[str], where: Filter | None, *, docparid: str | None = None
    ) -> list[Record]:
        """Every record matching, page by page in RECORDNO order, each page starting after the last one's (an
        offset would be a new query, which may miss records: reference §3.1)."""
        records: list[Record] = []
        after: str | None = None
        while True:
            result = self._intacct.query(
                object_name,
                select,
                filter=and_(where, gt("RECORDNO", after) if after is not None else None),
                orderby=(("RECORDNO", True),),
                docparid=docparid,
            )
            # A record without its RECORDNO cannot be told apart: taken as absent, its time would be posted twice
            # by a repair, so such an answer stops the read.
            keys = [str(record.get("RECORDNO", "")) for record in result.records]
            if not all(key.isdigit() for key in keys) or (keys and keys[-1] == after):
                raise IntacctValueError(f"Intacct sent {object_name} records without a usable RECORDNO ({keys[:3]!r})")
            records += result.records
            if not result.records or not result.numremaining:
                return records
            after = keys[-1]

    def _date(self, value: Any, posted: PostedTime, what: str) -> date | None:
        try:
            return parse_date(text_of(value))
        except IntacctValueError:
            posted.problems.append(f"Intacct sent {what} as {value!r}, not a date")
            return None

    def _hours(self, value: Any, posted: PostedTime, what: str) -> Decimal:
        try:
            quantity = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            quantity = Decimal("NaN")
        if not quantity.is_finite():
            posted.problems.append(f"Intacct sent {what} as {value!r}, not a number of hours")
            return ZERO
        return quantity


def _quiet_date(value: Any) -> date | None:
    try:
        return parse_date(text_of(value))
    except IntacctValueError:
        return None


def _chunks(keys: Sequence[str]) -> list[list[str]]:
    """At most `MAX_IN_VALUES` keys a query: `<in>` takes 1 to 1,000 values."""
    return [list(keys[start : start + MAX_IN_VALUES]) for start in range(0, len(keys), MAX_IN_VALUES)]
