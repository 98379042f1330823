"""The emulated Intacct objects: integration field names, datatypes, keys and references.
Values are held as Python types (str, int, Decimal, date, datetime, bool) and written out the way Intacct does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

DATE_FORMAT = "%m/%d/%Y"
TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"


class DataType(StrEnum):
    TEXT = "TEXT"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"
    BOOLEAN = "BOOLEAN"
    ENUM = "ENUM"


@dataclass(frozen=True)
class FieldDef:
    """One field by its integration name.

    `legacy_codes` maps the codes readByQuery filters use (STATUS 'T'/'F', STATE 'S') to the stored value.
    """

    name: str
    datatype: DataType
    valid_values: tuple[str, ...] = ()
    readonly: bool = False
    legacy_codes: Mapping[str, str] = field(default_factory=dict)

    def parse(self, raw: Any) -> Any:
        """A typed value from request text (or an already typed Python value); ValueError when it does not fit."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        parser = _PARSERS[self.datatype]
        value = parser(raw)
        if self.valid_values and value not in self.valid_values:
            raise ValueError(f"'{value}' is not one of {', '.join(self.valid_values)}")
        return value

    def format(self, value: Any) -> str | None:
        """The value as Intacct writes it in a response; None (an empty element) for null."""
        if value is None:
            return None
        text: str = _FORMATTERS[self.datatype](value)
        return text


def _parse_text(raw: Any) -> str:
    # Integers pass as text (an ID of 1001); other typed values in a text field are a caller's mistake.
    if isinstance(raw, bool | float | Decimal | date):
        raise ValueError(f"expected text, got {type(raw).__name__}")
    return str(raw)


def _parse_integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    if not text.lstrip("-").isdigit():
        raise ValueError(f"'{text}' is not an integer")
    return int(text)


def _parse_decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, int | float):
        return Decimal(str(raw))
    text = str(raw).strip()
    # Intacct wants plain decimals; "1,000.00" is refused rather than guessed at.
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"'{text}' is not a decimal number") from exc
    if not value.is_finite():
        raise ValueError(f"'{text}' is not a decimal number")
    return value


def _parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    try:
        return datetime.strptime(text, DATE_FORMAT).date()
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a date in MM/DD/YYYY format") from exc


def _parse_timestamp(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw.replace(microsecond=0, tzinfo=None)
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day)
    text = str(raw).strip()
    for pattern in (TIMESTAMP_FORMAT, DATE_FORMAT):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a timestamp in MM/DD/YYYY HH:MM:SS format")


_TRUE = frozenset({"true", "t", "1", "yes"})
_FALSE = frozenset({"false", "f", "0", "no"})


def _parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"'{raw}' is not a boolean (true/false)")


def _format_decimal(value: Decimal) -> str:
    # Intacct writes numbers plainly, without trailing zeros ("TOTALDUE 5900", "QTY 7.5").
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


_PARSERS: dict[DataType, Any] = {
    DataType.TEXT: _parse_text,
    DataType.ENUM: _parse_text,
    DataType.INTEGER: _parse_integer,
    DataType.DECIMAL: _parse_decimal,
    DataType.DATE: _parse_date,
    DataType.TIMESTAMP: _parse_timestamp,
    DataType.BOOLEAN: _parse_boolean,
}

_FORMATTERS: dict[DataType, Any] = {
    DataType.TEXT: str,
    DataType.ENUM: str,
    DataType.INTEGER: str,
    DataType.DECIMAL: _format_decimal,
    DataType.DATE: lambda value: value.strftime(DATE_FORMAT),
    DataType.TIMESTAMP: lambda value: value.strftime(TIMESTAMP_FORMAT),
    DataType.BOOLEAN: lambda value: "true" if value else "false",
}


@dataclass(frozen=True)
class Reference:
    """A field that must name an existing record of another object (by that object's ID field)."""

    field: str
    target: str
    must_be_active: bool = False


@dataclass(frozen=True)
class LineSpec:
    """Owned line records written inside their header (TIMESHEET entries, purchasing lines)."""

    container: str
    item_tag: str
    line_object: str
    parent_key: str
    line_no: str


@dataclass(frozen=True)
class ObjectDef:
    name: str
    label: str
    fields: Mapping[str, FieldDef]
    id_field: str | None = None
    # TASKID is unique only within its project.
    id_scope: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    lines: LineSpec | None = None
    # Objects written only by the emulator itself or through their header (AUDITHISTORY, lines).
    writable: bool = True
    audited: bool = True
    # Field names accepted on create/update in place of the stored name (PERSONALINFO.* is CONTACT.*).
    write_aliases: Mapping[str, str] = field(default_factory=dict)

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name)

    def id_key(self, record: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The unique key of a record: its ID (within its scope), or None for objects keyed only by RECORDNO."""
        if self.id_field is None or record.get(self.id_field) is None:
            return None
        return (*(record.get(name) for name in self.id_scope), record[self.id_field])


STATUS_CODES = {"T": "active", "F": "inactive"}
TIMESHEET_STATES = (
    "Draft",
    "Submitted",
    "Approved",
    "Partially Approved",
    "Declined",
    "Partially Declined",
    "Saved",
)
TIMESHEET_STATE_CODES = {
    "S": "Submitted",
    "A": "Approved",
    "X": "Partially Approved",
    "R": "Declined",
    "I": "Draft",
    "E": "Partially Declined",
    "V": "Saved",
}
ITEM_TYPES = ("Inventory", "Non-Inventory", "Non-Inventory (Purchase only)", "Non-Inventory (Sales only)", "Kit")
ITEM_TYPE_CODES = {
    "I": "Inventory",
    "NI": "Non-Inventory",
    "NP": "Non-Inventory (Purchase only)",
    "NS": "Non-Inventory (Sales only)",
    "K": "Kit",
}
ACCESS_MODE_WORDS = {
    "Access": "A",
    "Modify": "M",
    "Create": "C",
    "Delete": "D",
    "Workflow": "W",
    "Activity": "T",
    "User Action": "U",
}

_TEXT, _INT, _DEC, _DATE, _TS, _BOOL, _ENUM = (
    DataType.TEXT,
    DataType.INTEGER,
    DataType.DECIMAL,
    DataType.DATE,
    DataType.TIMESTAMP,
    DataType.BOOLEAN,
    DataType.ENUM,
)


def _fields(*specs: tuple[str, DataType] | FieldDef, status: bool = True, stamps: bool = True) -> dict[str, FieldDef]:
    """RECORDNO first, then the given fields, then STATUS and the audit stamps every standard object carries."""
    defs = [FieldDef("RECORDNO", _INT, readonly=True)]
    defs += [spec if isinstance(spec, FieldDef) else FieldDef(*spec) for spec in specs]
    if status:
        defs.append(FieldDef("STATUS", _ENUM, ("active", "inactive"), legacy_codes=STATUS_CODES))
    if stamps:
        defs += [FieldDef("WHENCREATED", _TS, readonly=True), FieldDef("WHENMODIFIED", _TS, readonly=True)]
    return {spec.name: spec for spec in defs}


def _contact(prefix: str) -> list[tuple[str, DataType]]:
    names = ["CONTACTNAME", "PRINTAS", "COMPANYNAME", "FIRSTNAME", "LASTNAME", "EMAIL1", "PHONE1", "CELLPHONE"]
    address = ["ADDRESS1", "ADDRESS2", "CITY", "STATE", "ZIP", "COUNTRY"]
    return [(f"{prefix}.{name}", _TEXT) for name in names] + [
        (f"{prefix}.MAILADDRESS.{name}", _TEXT) for name in address
    ]


def _readonly(name: str, datatype: DataType = _TEXT) -> FieldDef:
    return FieldDef(name, datatype, readonly=True)


LOCATION = ObjectDef(
    "LOCATION",
    "Location",
    _fields(("LOCATIONID", _TEXT), ("NAME", _TEXT), ("PARENTID", _TEXT), ("CURRENCY", _TEXT)),
    id_field="LOCATIONID",
    required=("LOCATIONID", "NAME"),
    references=(Reference("PARENTID", "LOCATION"),),
)

DEPARTMENT = ObjectDef(
    "DEPARTMENT",
    "Department",
    _fields(("DEPARTMENTID", _TEXT), ("TITLE", _TEXT), ("PARENTID", _TEXT)),
    id_field="DEPARTMENTID",
    required=("DEPARTMENTID", "TITLE"),
    references=(Reference("PARENTID", "DEPARTMENT"),),
)

CUSTOMER = ObjectDef(
    "CUSTOMER",
    "Customer",
    _fields(
        ("CUSTOMERID", _TEXT), ("NAME", _TEXT), ("PARENTID", _TEXT), ("CUSTTYPE", _TEXT), *_contact("DISPLAYCONTACT")
    ),
    id_field="CUSTOMERID",
    required=("CUSTOMERID", "NAME"),
    references=(Reference("PARENTID", "CUSTOMER"),),
)

VENDOR = ObjectDef(
    "VENDOR",
    "Vendor",
    _fields(("VENDORID", _TEXT), ("NAME", _TEXT), ("VENDTYPE", _TEXT), *_contact("DISPLAYCONTACT")),
    id_field="VENDORID",
    required=("VENDORID", "NAME"),
)

PROJECT = ObjectDef(
    "PROJECT",
    "Project",
    _fields(
        ("PROJECTID", _TEXT),
        ("NAME", _TEXT),
        ("DESCRIPTION", _TEXT),
        FieldDef(
            "PROJECTCATEGORY",
            _ENUM,
            ("Contract", "Capitalized", "Internal Billable", "Internal Non-billable", "Internal"),
        ),
        ("PROJECTSTATUS", _TEXT),
        ("PROJECTTYPE", _TEXT),
        ("CUSTOMERID", _TEXT),
        _readonly("CUSTOMERKEY", _INT),
        _readonly("CUSTOMERNAME"),
        ("PARENTID", _TEXT),
        ("MANAGERID", _TEXT),
        ("BEGINDATE", _DATE),
        ("ENDDATE", _DATE),
        ("LOCATIONID", _TEXT),
        ("DEPARTMENTID", _TEXT),
        ("BUDGETAMOUNT", _DEC),
        # Job-site address; Intacct keeps it on the project's ship-to contact [inf: verify with lookup PROJECT].
        *_contact("SHIPTO"),
    ),
    id_field="PROJECTID",
    required=("PROJECTID", "NAME"),
    references=(
        Reference("CUSTOMERID", "CUSTOMER", must_be_active=True),
        Reference("PARENTID", "PROJECT"),
        Reference("MANAGERID", "EMPLOYEE"),
        Reference("LOCATIONID", "LOCATION"),
        Reference("DEPARTMENTID", "DEPARTMENT"),
    ),
)

TASK = ObjectDef(
    "TASK",
    "Task",
    _fields(
        ("TASKID", _TEXT),
        ("NAME", _TEXT),
        ("DESCRIPTION", _TEXT),
        ("PROJECTID", _TEXT),
        _readonly("PROJECTKEY", _INT),
        _readonly("PROJECTNAME"),
        ("STANDARDTASKID", _TEXT),
        FieldDef("TASKSTATUS", _ENUM, ("Not Started", "Planned", "In Progress", "Completed", "On Hold")),
        ("ITEMID", _TEXT),
        ("BILLABLE", _BOOL),
        ("PARENTKEY", _INT),
        ("TASKNO", _TEXT),
        ("PBEGINDATE", _DATE),
        ("PENDDATE", _DATE),
        ("BUDGETQTY", _DEC),
    ),
    id_field="TASKID",
    id_scope=("PROJECTID",),
    required=("TASKID", "NAME", "PROJECTID"),
    references=(
        Reference("PROJECTID", "PROJECT"),
        Reference("STANDARDTASKID", "STANDARDTASK"),
        Reference("ITEMID", "ITEM"),
    ),
)

STANDARDTASK = ObjectDef(
    "STANDARDTASK",
    "Standard task",
    _fields(("STANDARDTASKID", _TEXT), ("NAME", _TEXT), ("DESCRIPTION", _TEXT), ("ITEMID", _TEXT)),
    id_field="STANDARDTASKID",
    required=("STANDARDTASKID", "NAME"),
    references=(Reference("ITEMID", "ITEM"),),
)

ITEM = ObjectDef(
    "ITEM",
    "Item",
    _fields(
        ("ITEMID", _TEXT),
        ("NAME", _TEXT),
        ("EXTENDED_DESCRIPTION", _TEXT),
        FieldDef("ITEMTYPE", _ENUM, ITEM_TYPES, legacy_codes=ITEM_TYPE_CODES),
        ("GLGROUP", _TEXT),
        ("PRODUCTLINEID", _TEXT),
        ("UOMGRP", _TEXT),
        ("BASEPRICE", _DEC),
        ("STANDARD_COST", _DEC),
    ),
    id_field="ITEMID",
    required=("ITEMID", "NAME", "ITEMTYPE"),
)

EMPLOYEE = ObjectDef(
    "EMPLOYEE",
    "Employee",
    _fields(
        ("EMPLOYEEID", _TEXT),
        ("TITLE", _TEXT),
        *_contact("CONTACT"),
        ("DEPARTMENTID", _TEXT),
        ("LOCATIONID", _TEXT),
        ("SUPERVISORID", _TEXT),
        ("STARTDATE", _DATE),
        ("ENDDATE", _DATE),
        ("BIRTHDATE", _DATE),
        ("EMPLOYEETYPE", _TEXT),
        ("EMPPOSITIONID", _TEXT),
        ("EARNINGTYPENAME", _TEXT),
        FieldDef("GENDER", _ENUM, ("Male", "Female")),
    ),
    id_field="EMPLOYEEID",
    required=("EMPLOYEEID", "CONTACT.LASTNAME"),
    references=(
        Reference("DEPARTMENTID", "DEPARTMENT"),
        Reference("LOCATIONID", "LOCATION"),
        Reference("SUPERVISORID", "EMPLOYEE"),
    ),
    # Intacct's create takes the employee's contact as PERSONALINFO; queries name it CONTACT.
    write_aliases={"PERSONALINFO": "CONTACT"},
)

_TIME_DIMENSIONS: tuple[tuple[str, DataType], ...] = (
    ("CUSTOMERID", _TEXT),
    ("ITEMID", _TEXT),
    ("PROJECTID", _TEXT),
    ("TASKID", _TEXT),
    ("COSTTYPEID", _TEXT),
    ("LOCATIONID", _TEXT),
    ("DEPARTMENTID", _TEXT),
    ("CLASSID", _TEXT),
    ("VENDORID", _TEXT),
)

TIMESHEETENTRY = ObjectDef(
    "TIMESHEETENTRY",
    "Timesheet entry",
    _fields(
        _readonly("TIMESHEETKEY", _INT),
        _readonly("LINENO", _INT),
        _readonly("EMPLOYEEID"),
        ("ENTRYDATE", _DATE),
        ("QTY", _DEC),
        *_TIME_DIMENSIONS,
        _readonly("PROJECTKEY", _INT),
        ("TASKKEY", _INT),
        ("TIMETYPE", _TEXT),
        ("BILLABLE", _BOOL),
        ("EMPPOSITIONID", _TEXT),
        ("LABORCLASSID", _TEXT),
        ("LABORSHIFTID", _TEXT),
        ("LABORUNIONID", _TEXT),
        ("CONTRACTID", _TEXT),
        ("WAREHOUSEID", _TEXT),
        ("DESCRIPTION", _TEXT),
        ("NOTES", _TEXT),
        ("EXTBILLRATE", _DEC),
        ("EXTCOSTRATE", _DEC),
        ("EXTAMOUNT", _DEC),
        ("EXTEMPLOYERTAXES", _DEC),
        ("EXTFRINGES", _DEC),
        ("EXTCASHFRINGES", _DEC),
        FieldDef("STATE", _ENUM, TIMESHEET_STATES, readonly=True, legacy_codes=TIMESHEET_STATE_CODES),
        status=False,
    ),
    required=("ENTRYDATE", "QTY"),
    references=(
        Reference("CUSTOMERID", "CUSTOMER", must_be_active=True),
        Reference("ITEMID", "ITEM", must_be_active=True),
        Reference("PROJECTID", "PROJECT", must_be_active=True),
        Reference("LOCATIONID", "LOCATION"),
        Reference("DEPARTMENTID", "DEPARTMENT"),
        Reference("VENDORID", "VENDOR"),
    ),
    writable=False,
    audited=False,
)

TIMESHEET = ObjectDef(
    "TIMESHEET",
    "Timesheet",
    _fields(
        ("EMPLOYEEID", _TEXT),
        _readonly("EMPLOYEEKEY", _INT),
        _readonly("EMPLOYEENAME"),
        ("BEGINDATE", _DATE),
        _readonly("ENDDATE", _DATE),
        ("GLPOSTDATE", _DATE),
        ("DESCRIPTION", _TEXT),
        ("SUPDOCID", _TEXT),
        FieldDef("STATE", _ENUM, TIMESHEET_STATES, legacy_codes=TIMESHEET_STATE_CODES),
        status=False,
    ),
    required=("EMPLOYEEID", "BEGINDATE"),
    references=(Reference("EMPLOYEEID", "EMPLOYEE", must_be_active=True),),
    lines=LineSpec("TIMESHEETENTRIES", "TIMESHEETENTRY", "TIMESHEETENTRY", "TIMESHEETKEY", "LINENO"),
)

PODOCUMENTENTRY = ObjectDef(
    "PODOCUMENTENTRY",
    "Purchasing transaction line",
    _fields(
        _readonly("DOCHDRNO", _INT),
        _readonly("DOCHDRID"),
        _readonly("LINE_NO", _INT),
        ("ITEMID", _TEXT),
        ("ITEMDESC", _TEXT),
        ("QUANTITY", _DEC),
        ("UNIT", _TEXT),
        ("PRICE", _DEC),
        _readonly("TOTAL", _DEC),
        ("LOCATIONID", _TEXT),
        ("DEPARTMENTID", _TEXT),
        ("PROJECTID", _TEXT),
        ("TASKID", _TEXT),
        ("COSTTYPEID", _TEXT),
        ("MEMO", _TEXT),
        status=False,
    ),
    required=("ITEMID", "QUANTITY"),
    references=(
        Reference("ITEMID", "ITEM", must_be_active=True),
        Reference("PROJECTID", "PROJECT", must_be_active=True),
        Reference("LOCATIONID", "LOCATION"),
        Reference("DEPARTMENTID", "DEPARTMENT"),
    ),
    writable=False,
    audited=False,
)

# Purchasing documents carry the transaction date in WHENCREATED (a DATE) and the audit stamp in
# AUWHENCREATED, unlike list objects [inf: from PODOCUMENT lookups seen in public clients; verify].
PODOCUMENT = ObjectDef(
    "PODOCUMENT",
    "Purchasing transaction",
    _fields(
        _readonly("DOCID"),
        ("DOCNO", _TEXT),
        ("DOCPARID", _TEXT),
        ("PONUMBER", _TEXT),
        ("VENDORDOCNO", _TEXT),
        ("CUSTVENDID", _TEXT),
        _readonly("CUSTVENDNAME"),
        FieldDef("STATE", _ENUM, ("Draft", "Pending", "Partially Converted", "Converted", "Closed")),
        ("MESSAGE", _TEXT),
        ("WHENCREATED", _DATE),
        ("WHENDUE", _DATE),
        _readonly("TOTAL", _DEC),
        _readonly("AUWHENCREATED", _TS),
        _readonly("WHENMODIFIED", _TS),
        status=False,
        stamps=False,
    ),
    id_field="DOCID",
    required=("DOCPARID", "CUSTVENDID", "WHENCREATED"),
    references=(Reference("CUSTVENDID", "VENDOR", must_be_active=True),),
    lines=LineSpec("ENTRIES", "PODOCUMENTENTRY", "PODOCUMENTENTRY", "DOCHDRNO", "LINE_NO"),
    # Written with the legacy create_potransaction function only, as Sage's own Construction Management does.
    writable=False,
)

AUDITHISTORY = ObjectDef(
    "AUDITHISTORY",
    "Audit history",
    _fields(
        _readonly("ID", _INT),
        _readonly("OBJECTTYPE"),
        _readonly("OBJECTKEY"),
        FieldDef("ACCESSMODE", _ENUM, tuple(ACCESS_MODE_WORDS.values()), readonly=True, legacy_codes=ACCESS_MODE_WORDS),
        _readonly("ACCESSTIME", _TS),
        _readonly("USERID"),
        _readonly("SOURCE"),
        status=False,
        stamps=False,
    ),
    id_field="ID",
    writable=False,
    audited=False,
)

OBJECTS: dict[str, ObjectDef] = {
    spec.name: spec
    for spec in (
        LOCATION,
        DEPARTMENT,
        CUSTOMER,
        VENDOR,
        PROJECT,
        TASK,
        STANDARDTASK,
        ITEM,
        EMPLOYEE,
        TIMESHEET,
        TIMESHEETENTRY,
        PODOCUMENT,
        PODOCUMENTENTRY,
        AUDITHISTORY,
    )
}


def object_def(name: str) -> ObjectDef | None:
    """The object by its name as a client spells it (object names are case-insensitive in requests)."""
    return OBJECTS.get(name.strip().upper())
