"""How reconcile reads Intacct (`IntacctPostedTime`), on a small in-memory company that answers `query` two
records a page and lists in `lookup` only what it is told to: keyset paging, `<in>` on the documents' keys, the
marker on a header or on the lines, the field naming an entry's timesheet discovered (and a refused one dropped),
and each piece of equipment it cannot read said in a sentence while the labor is still read."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from intacct_assignar.catalog import FieldCatalog
from intacct_assignar.config import Timesheets, parse_config
from intacct_assignar.intacct import (
    IntacctErrorDetail,
    IntacctInvalidFieldsError,
    ObjectDefinition,
    QuerySpec,
    Relationship,
)
from intacct_assignar.intacct.filters import Between, Compare, Filter, In, Logical
from intacct_assignar.intacct.protocol import Record, Result
from intacct_assignar.intacct.values import IntacctValueError, parse_date
from intacct_assignar.outbound.reconcile import CannotReconcileError, IntacctPostedTime, PostedRead

FIRST, LAST = date(2026, 11, 15), date(2026, 11, 21)
PAGE = 2

OFFERED: dict[str, set[str]] = {
    "TIMESHEET": {"RECORDNO", "DESCRIPTION", "EMPLOYEEID", "BEGINDATE", "STATE"},
    "TIMESHEETENTRY": {"RECORDNO", "TIMESHEETKEY", "QTY", "ENTRYDATE", "NOTES", "STATE"},
    "PODOCUMENT": {"RECORDNO", "DOCID", "DOCPARID", "MESSAGE", "PONUMBER", "WHENCREATED"},
    "PODOCUMENTENTRY": {"RECORDNO", "DOCHDRNO", "DOCHDRID", "QUANTITY", "MEMO"},
}


def mark(timesheet_id: int, revision: str = "abc123") -> str:
    return f"Assignar timesheet {timesheet_id} (rev {revision})"


class Company:
    """Records as Intacct answers them (text), `query` in pages of `PAGE` by filter and RECORDNO order, `lookup`
    of what `offered` lists. A dotted field (`TIMESHEET.RECORDNO`) is answered from `dotted` when its relationship
    is listed; `refused` fields are listed by lookup but refused by query, as Intacct refuses what a user may not
    walk. `asked` records each query: object and fields."""

    def __init__(
        self,
        offered: Mapping[str, set[str]] | None = None,
        *,
        relationships: Mapping[str, tuple[Relationship, ...]] | None = None,
        dotted: Mapping[str, str] | None = None,
        refused: frozenset[str] = frozenset(),
        refuse_objects: frozenset[str] = frozenset(),
    ) -> None:
        self.offered = {name: set(fields) for name, fields in (offered or OFFERED).items()}
        self.relationships = relationships or {}
        self.dotted = dotted or {}
        self.refused = refused
        self.refuse_objects = refuse_objects
        self.records: dict[str, list[Record]] = {name: [] for name in self.offered}
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def add(self, object_name: str, **fields: Any) -> Record:
        record = {name: str(value) for name, value in fields.items()}
        self.records[object_name].append(record)
        return record

    def lookup(self, object_name: str) -> ObjectDefinition:
        return ObjectDefinition(
            object_name, frozenset(self.offered[object_name]), relationships=self.relationships.get(object_name, ())
        )

    def query(
        self,
        object_name: str,
        select: Sequence[str],
        *,
        filter: Filter | None = None,
        orderby: Sequence[tuple[str, bool]] = (),
        docparid: str | None = None,
    ) -> Result:
        self.asked.append((object_name, tuple(select)))
        if object_name in self.refuse_objects:
            detail = IntacctErrorDetail(
                "Permission Denied", f"You do not have permission for API query on {object_name}"
            )
            raise Result(status="failure", function="query", controlid="fake", errors=[detail]).error()
        for field in select:
            if field in self.refused or (field not in self.offered[object_name] and field not in self.dotted):
                detail = IntacctErrorDetail("DL02000001", f"Invalid fields list {field} for object {object_name}")
                raise Result(status="failure", function="query", controlid="fake", errors=[detail]).error()
        assert orderby == (("RECORDNO", True),), "reconcile pages in RECORDNO order"
        rows = [
            row
            for row in self.records[object_name]
            if self._matches(filter, row) and (docparid is None or row.get("DOCPARID") == docparid)
        ]
        rows.sort(key=lambda row: int(row["RECORDNO"] or 0))
        page = rows[:PAGE]
        return Result(
            status="success",
            function="query",
            controlid="fake",
            records=[{field: self._value(row, field) for field in select} for row in page],
            numremaining=len(rows) - len(page),
        )

    def query_batch(self, queries: Sequence[QuerySpec]) -> list[Result]:
        raise AssertionError("reconcile reads page by page")

    def _value(self, row: Record, field: str) -> Any:
        return row.get(self.dotted.get(field, field))

    def _matches(self, where: Filter | None, row: Record) -> bool:
        if where is None:
            return True
        if isinstance(where, Logical):
            assert where.operator == "and"
            return all(self._matches(child, row) for child in where.children)
        if isinstance(where, In):
            return str(self._value(row, where.field)) in where.values
        if isinstance(where, Between):
            day = parse_date(self._value(row, where.field))
            low, high = parse_date(where.low), parse_date(where.high)
            return day is not None and low is not None and high is not None and low <= day <= high
        if isinstance(where, Compare) and where.operator == "like":
            pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in where.value)
            return re.fullmatch(pattern, str(self._value(row, where.field) or ""), re.DOTALL) is not None
        if isinstance(where, Compare) and where.operator == "greaterthan":
            return int(self._value(row, where.field)) > int(where.value)
        raise AssertionError(f"reconcile does not filter by {where!r}")


def timesheet(
    company: Company, recordno: int, timesheet_id: int | None, *entries: tuple[str, str], **more: Any
) -> None:
    """A TIMESHEET (carrying `timesheet_id`'s marker) with entries of (QTY, NOTES), dated Wednesday."""
    fields = {"BEGINDATE": "11/15/2026", "EMPLOYEEID": "E-1", **more}
    description = mark(timesheet_id) if timesheet_id is not None else "typed by hand"
    company.add("TIMESHEET", RECORDNO=recordno, DESCRIPTION=description, **fields)
    for number, (quantity, notes) in enumerate(entries):
        company.add(
            "TIMESHEETENTRY",
            RECORDNO=recordno * 10 + number,
            TIMESHEETKEY=recordno,
            QTY=quantity,
            ENTRYDATE="11/18/2026",
            NOTES=notes,
        )


def transaction(
    company: Company,
    recordno: int,
    *quantities: str,
    message: str = "",
    memo: str = "",
    dated: str = "11/18/2026",
    definition: str = "Equipment Usage",
) -> None:
    docid = f"{definition}-{recordno:05d}"
    company.add("PODOCUMENT", RECORDNO=recordno, DOCID=docid, DOCPARID=definition, MESSAGE=message, WHENCREATED=dated)
    for number, quantity in enumerate(quantities):
        company.add(
            "PODOCUMENTENTRY",
            RECORDNO=recordno * 10 + number,
            DOCHDRNO=recordno,
            DOCHDRID=docid,
            QUANTITY=quantity,
            MEMO=memo,
        )


def reader(
    company: Company, *, proven: Sequence[tuple[str, str]] = (("PODOCUMENT", "MESSAGE"),), **settings: Any
) -> IntacctPostedTime:
    catalog = FieldCatalog(company, None, scope="test", clock=lambda: datetime(2026, 11, 22, tzinfo=UTC))
    for obj, field in proven:
        catalog.record_proof(obj, field, holds=True)
    timesheets: Timesheets = parse_config({"timesheets": settings}).timesheets
    return IntacctPostedTime(company, catalog, timesheets)


def hours(read: PostedRead) -> dict[int, tuple[Decimal, Decimal]]:
    return {timesheet_id: (time.labor, time.equipment) for timesheet_id, time in read.posted.items()}


def test_timesheets_are_read_by_their_marker_page_by_page_with_their_entries() -> None:
    # Given: five of ours (three pages at two a page), one typed by hand, one from an earlier week
    company = Company()
    for number in range(5):
        timesheet(company, 100 + number, 500 + number, ("4", "Activity: Formwork"), ("3.33", ""))
    timesheet(company, 200, None, ("8", ""))
    timesheet(company, 300, 900, ("8", ""), BEGINDATE="11/08/2026")

    # When
    read = reader(company).marked(FIRST, LAST)

    # Then
    assert hours(read) == {500 + n: (Decimal("7.33"), Decimal(0)) for n in range(5)}
    first = read.posted[500]
    assert (first.keys, first.employee_id, first.week, first.dates) == (
        {"timesheet": ["100"]},
        "E-1",
        date(2026, 11, 15),
        {date(2026, 11, 18)},
    )
    asked = [name for name, _ in company.asked]
    assert asked.count("TIMESHEET") == 3 and asked.count("TIMESHEETENTRY") == 5  # 10 entries, 2 a page


def test_equipment_lines_on_a_timesheet_are_told_by_the_note_the_push_writes() -> None:
    company = Company()
    timesheet(company, 100, 500, ("8", "Activity: Pour"), ("1.5", "Equipment: Excavator"))
    read = reader(company, equipment_mode="timesheet").marked(FIRST, LAST)
    assert hours(read) == {500: (Decimal("8"), Decimal("1.5"))}
    assert not any(name.startswith("PODOCUMENT") for name, _ in company.asked)


def test_transactions_are_read_by_the_marker_proven_on_their_header() -> None:
    # Given: ours in the range, ours the week before, one without a marker, one of another definition
    company = Company()
    timesheet(company, 100, 500, ("8", ""))
    transaction(company, 1, "2", "1.25", message=f"Equipment time from {mark(500)}")
    transaction(company, 2, "3", message=f"Equipment time from {mark(501)}", dated="11/10/2026")
    transaction(company, 3, "9", message="bought by hand")
    transaction(company, 4, "5", message=f"Equipment time from {mark(502)}", definition="Purchase Order")

    # When
    read = reader(company).marked(FIRST, LAST)

    # Then
    assert hours(read) == {500: (Decimal("8"), Decimal("3.25"))}
    assert read.posted[500].keys == {"timesheet": ["100"], "equipment": ["Equipment Usage-00001"]}
    assert read.equipment_read and read.notes == []


def test_transactions_are_read_by_the_marker_proven_on_their_lines() -> None:
    company = Company()
    transaction(company, 1, "2", "1", memo=f"Excavator, Ana; {mark(500)}")
    transaction(company, 2, "7", memo="typed by hand")
    read = reader(company, proven=(("PODOCUMENTENTRY", "MEMO"),)).marked(FIRST, LAST)
    assert hours(read) == {500: (Decimal(0), Decimal("3"))}
    assert read.posted[500].dates == {date(2026, 11, 18)}


def test_a_transaction_with_no_field_proven_to_hold_the_marker_is_not_compared_and_the_labor_still_is() -> None:
    company = Company()
    timesheet(company, 100, 500, ("8", ""))
    transaction(company, 1, "2", message=f"Equipment time from {mark(500)}")
    read = reader(company, proven=()).marked(FIRST, LAST)
    assert hours(read) == {500: (Decimal("8"), Decimal(0))}
    assert not read.equipment_read
    [note] = read.notes
    assert note.startswith("equipment hours not compared: none of the fields a purchasing transaction could carry")


@pytest.mark.parametrize(
    ("hidden", "said"),
    [
        (("PODOCUMENT", "WHENCREATED"), "lookup PODOCUMENT lists no WHENCREATED"),
        (("PODOCUMENTENTRY", "QUANTITY"), "lookup lists neither PODOCUMENTENTRY.QUANTITY nor PODOCUMENTENTRY.UIQTY"),
    ],
)
def test_a_purchasing_field_lookup_does_not_list_is_said_and_not_guessed(hidden: tuple[str, str], said: str) -> None:
    offered = {name: set(fields) for name, fields in OFFERED.items()}
    offered[hidden[0]].discard(hidden[1])
    company = Company(offered)
    timesheet(company, 100, 500, ("8", ""))
    read = reader(company).marked(FIRST, LAST)
    assert hours(read) == {500: (Decimal("8"), Decimal(0))}
    assert not read.equipment_read and said in read.notes[0]


def test_a_line_quantity_listed_as_uiqty_is_read() -> None:
    offered = {name: set(fields) for name, fields in OFFERED.items()}
    offered["PODOCUMENTENTRY"] = (offered["PODOCUMENTENTRY"] - {"QUANTITY"}) | {"UIQTY"}
    company = Company(offered)
    company.add(
        "PODOCUMENT",
        RECORDNO=1,
        DOCID="Equipment Usage-1",
        DOCPARID="Equipment Usage",
        MESSAGE=mark(500),
        WHENCREATED="11/18/2026",
    )
    company.add("PODOCUMENTENTRY", RECORDNO=10, DOCHDRNO=1, UIQTY="2.5")
    assert hours(reader(company).marked(FIRST, LAST)) == {500: (Decimal(0), Decimal("2.5"))}


def test_lines_intacct_refuses_to_list_leave_the_labor_compared() -> None:
    company = Company(refuse_objects=frozenset({"PODOCUMENTENTRY"}))
    timesheet(company, 100, 500, ("8", ""))
    transaction(company, 1, "2", message=mark(500))
    read = reader(company).marked(FIRST, LAST)
    assert read.posted[500].labor == Decimal("8") and not read.equipment_read
    assert "Intacct refused to list purchasing transaction lines" in read.notes[0]


def test_documents_are_found_by_the_ledgers_keys_whatever_their_texts_say() -> None:
    # Given: a timesheet whose description was edited, a transaction by DOCID, another by RECORDNO with no lines
    company = Company()
    timesheet(company, 100, None, ("6", ""))
    transaction(company, 1, "2", message="edited")
    transaction(company, 2)

    # When
    read = reader(company).by_keys(
        {
            500: {"timesheet": "100", "equipment": "Equipment Usage-00001"},
            501: {"equipment": "2"},
            502: {"timesheet": "999"},
        }
    )

    # Then: each is there (the transaction without lines too: there, with no hours), marked unmarked where the
    # marker is gone; the key Intacct no longer has is simply absent
    assert hours(read) == {500: (Decimal("6"), Decimal("2")), 501: (Decimal(0), Decimal(0))}
    assert read.posted[500].unmarked == {"timesheet", "equipment"}
    assert read.posted[501].keys == {"equipment": ["Equipment Usage-00002"]}


def test_an_entry_reaches_its_timesheet_by_the_relationship_lookup_lists() -> None:
    relationships = {"TIMESHEETENTRY": (Relationship("TIMESHEET", "TIMESHEET"),)}
    company = Company(relationships=relationships, dotted={"TIMESHEET.RECORDNO": "TIMESHEETKEY"})
    timesheet(company, 100, 500, ("8", ""))
    assert hours(reader(company).marked(FIRST, LAST)) == {500: (Decimal("8"), Decimal(0))}
    assert any("TIMESHEET.RECORDNO" in fields for name, fields in company.asked if name == "TIMESHEETENTRY")


def test_a_relationship_listed_but_refused_falls_back_to_timesheetkey() -> None:
    relationships = {"TIMESHEETENTRY": (Relationship("TIMESHEET", "TIMESHEET"),)}
    company = Company(relationships=relationships, refused=frozenset({"TIMESHEET.RECORDNO"}))
    timesheet(company, 100, 500, ("8", ""))
    assert hours(reader(company).marked(FIRST, LAST)) == {500: (Decimal("8"), Decimal(0))}


def test_no_field_naming_an_entrys_timesheet_stops_the_read_with_what_to_fix() -> None:
    offered = {name: set(fields) for name, fields in OFFERED.items()}
    offered["TIMESHEETENTRY"].discard("TIMESHEETKEY")
    company = Company(offered)
    timesheet(company, 100, 500, ("8", ""))
    with pytest.raises(CannotReconcileError, match="give the Web Services user permission to list timesheets"):
        reader(company).marked(FIRST, LAST)


def test_values_intacct_sends_unreadable_are_that_timesheets_problem() -> None:
    company = Company()
    timesheet(company, 100, 500, ("eight", ""), ("2", ""))
    company.records["TIMESHEETENTRY"][1]["ENTRYDATE"] = "2026-11-18"
    read = reader(company, equipment_mode="off").marked(FIRST, LAST)
    posted = read.posted[500]
    assert posted.labor == Decimal("2")
    assert posted.problems == [
        "Intacct sent timesheet 100's entry QTY as 'eight', not a number of hours",
        "Intacct sent timesheet 100's entry ENTRYDATE as '2026-11-18', not a date",
    ]


def test_an_answer_with_a_record_intacct_sent_no_recordno_for_stops_the_read() -> None:
    # Taken as absent, its timesheet would be posted again by a repair: the read stops instead.
    company = Company()
    timesheet(company, 100, 500, ("8", ""))
    company.records["TIMESHEET"][0]["RECORDNO"] = ""
    with pytest.raises(IntacctValueError, match="without a usable RECORDNO"):
        reader(company).marked(FIRST, LAST)


def test_invalid_fields_error_is_what_the_fake_raises() -> None:
    # The fake's refusal is the client's: the reader's fallback relies on its type.
    company = Company(refused=frozenset({"QTY"}))
    with pytest.raises(IntacctInvalidFieldsError):
        company.query("TIMESHEETENTRY", ("QTY",), orderby=(("RECORDNO", True),))
