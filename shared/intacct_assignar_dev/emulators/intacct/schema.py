"""The emulated Intacct objects, from one table of fields that each carry their evidence (documented or inferred).
Values are held as Python types (str, int, Decimal, date, datetime, bool) and written out the way Intacct does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal

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

    `legacy_codes` maps the codes readByQuery filters use (STATUS 'T'/'F', STATE 'S') to the stored value;
    `custom` marks a field a company added (lookup's ISCUSTOM).
    """

    name: str
    datatype: DataType
    valid_values: tuple[str, ...] = ()
    readonly: bool = False
    legacy_codes: Mapping[str, str] = field(default_factory=dict)
    custom: bool = False

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


# --- the field table: every field of every object, with its evidence ------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """Why the emulator offers a field: `doc` (Intacct's reference lists it; `note` says where) or `inf` (an
    inference; `note` says from what, and what would confirm it). A wrong `inf` is a one-row change here."""

    kind: Literal["doc", "inf"]
    note: str


@dataclass(frozen=True)
class Row:
    """One field of the table and its evidence."""

    field: FieldDef
    evidence: Evidence


def doc(
    name: str,
    datatype: DataType,
    where: str,
    *,
    valid_values: tuple[str, ...] = (),
    readonly: bool = False,
    legacy_codes: Mapping[str, str] | None = None,
) -> Row:
    return Row(FieldDef(name, datatype, valid_values, readonly, legacy_codes or {}), Evidence("doc", where))


def inf(
    name: str,
    datatype: DataType,
    why: str,
    *,
    valid_values: tuple[str, ...] = (),
    readonly: bool = False,
    legacy_codes: Mapping[str, str] | None = None,
) -> Row:
    return Row(FieldDef(name, datatype, valid_values, readonly, legacy_codes or {}), Evidence("inf", why))


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
TASK_STATES = ("Not Started", "Planned", "In Progress", "Completed", "On Hold")
TASK_STATE_CODES = {"N": "Not Started", "L": "Planned", "P": "In Progress", "C": "Completed", "H": "On Hold"}
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

# Intacct's reference pages (developer.intacct.com/api/<page>/); a `doc` note names the page and its section.
# [inf] Datatypes follow each field's documented format (mm/dd/yyyy → DATE, currency → DECIMAL); lookup's own
# DATATYPE names are documented only in the queries page's GLBATCH sample.
_LOCATIONS = "company-console/locations"
_CONTACTS = "company-console/contacts"
_AUDIT = "company-console/audit-trails"
_CUSTOMERS = "accounts-receivable/customers"
_VENDORS = "accounts-payable/vendors"
_PROJECTS = "project-resource-mgmt/projects"
_TASKS = "project-resource-mgmt/tasks"
_TIMESHEETS = "project-resource-mgmt/timesheets"
_STANDARD_TASKS = "construction/standard-tasks"
_ITEMS = "inventory-control/items"
_EMPLOYEES = "employee-expenses/employees"
_PURCHASING = "purchasing/purchasing-transactions"
# [inf] COSTTYPE's fields are the reference's §4 row (from a public connector's field list, not Sage's own page);
# cost types belong to a project's task (Construction subscription). Confirm: lookup COSTTYPE.
_COST_TYPE_WHY = "reference §4 COSTTYPE row (a connector's field list). Confirm: lookup COSTTYPE"

# One place per guess: each function below is one inference applied to several fields.


def _recordno(where: str) -> Row:
    return doc("RECORDNO", _INT, f"{where}: read takes RECORDNO keys", readonly=True)


def _status(where: str) -> Row:
    # The T/F readByQuery codes are documented for EMPLOYEE, LOCATION and VENDOR; elsewhere by analogy.
    return doc(
        "STATUS", _ENUM, f"{where}: create STATUS", valid_values=("active", "inactive"), legacy_codes=STATUS_CODES
    )


def _stamps() -> tuple[Row, Row]:
    why = (
        "audit stamps every standard object carries, read-only so absent from create references; public clients "
        "sync on WHENMODIFIED (reference §3.3). Confirm: lookup of the object"
    )
    return inf("WHENCREATED", _TS, why, readonly=True), inf("WHENMODIFIED", _TS, why, readonly=True)


CONTACT_NAME_FIELDS = (
    "CONTACTNAME",
    "PRINTAS",
    "COMPANYNAME",
    "FIRSTNAME",
    "LASTNAME",
    "EMAIL1",
    "PHONE1",
    "CELLPHONE",
)
MAIL_ADDRESS_FIELDS = ("ADDRESS1", "ADDRESS2", "CITY", "STATE", "ZIP", "COUNTRY")


def _joined_contact(path: str, why: str, documented: Mapping[str, str] | None = None) -> tuple[Row, ...]:
    """A contact an object holds (CUSTOMER's DISPLAYCONTACT, EMPLOYEE's CONTACT) as flat dotted query names.

    [inf] The names are the create element path joined with dots, as public clients select them and real
    lookups list them; `documented` names a query page shows are `doc`.
    """
    documented = documented or {}
    names = [*CONTACT_NAME_FIELDS, *(f"MAILADDRESS.{part}" for part in MAIL_ADDRESS_FIELDS)]
    return tuple(
        doc(f"{path}.{name}", _TEXT, documented[name]) if name in documented else inf(f"{path}.{name}", _TEXT, why)
        for name in names
    )


def _display_contact(page: str, obj: str) -> tuple[Row, ...]:
    return _joined_contact(
        "DISPLAYCONTACT",
        f"{page}: create element DISPLAYCONTACT (MAILADDRESS inside), selected dotted as reference §4 and public "
        f"clients do. Confirm: lookup {obj}",
    )


def _contact_reference(element: str) -> Row:
    """PROJECT's CONTACTINFO, BILLTO and SHIPTO: the name of a CONTACT record, nothing else (no address).

    [inf] The create/update reference documents only `<ELEMENT><CONTACTNAME>`; the query name ELEMENT.CONTACTNAME
    is by analogy. CUSTOMER's query sample selects its ship-to as SHIPTOCONTACT.CONTACTNAME and VENDOR's pay-to
    as PAYTOCONTACT.CONTACTNAME, so PROJECT may name them so too. Confirm: lookup PROJECT.
    """
    return inf(
        f"{element}.CONTACTNAME",
        _TEXT,
        f"{_PROJECTS}: create {element}/CONTACTNAME; query name by analogy (CUSTOMER selects "
        "SHIPTOCONTACT.CONTACTNAME). Confirm: lookup PROJECT",
    )


def _key_of(name: str, target: str, obj: str) -> Row:
    return inf(
        name,
        _INT,
        f"the {target}'s RECORDNO beside its ID, as Intacct pairs TASKID/TASKKEY. Confirm: lookup {obj}",
        readonly=True,
    )


def _name_of(name: str, target: str, obj: str) -> Row:
    return inf(
        name, _TEXT, f"the {target}'s name, joined for reading (reference §4). Confirm: lookup {obj}", readonly=True
    )


_DEPARTMENT_WHY = (
    "departments reference not at hand; names as public clients use them (reference §4). Confirm: lookup DEPARTMENT"
)
_PO_LINE_WHY = "query name of create_potransaction's potransitem element, upper-cased. Confirm: lookup PODOCUMENTENTRY"
_PO_HEADER_WHY = "query name of create_potransaction's element (reference §5.3 [gap]). Confirm: lookup PODOCUMENT"


FIELD_TABLE: dict[str, tuple[Row, ...]] = {
    "LOCATION": (
        _recordno(_LOCATIONS),
        doc("LOCATIONID", _TEXT, f"{_LOCATIONS}: Create Location"),
        doc("NAME", _TEXT, f"{_LOCATIONS}: Create Location"),
        doc("PARENTID", _TEXT, f"{_LOCATIONS}: Create Location"),
        inf("CURRENCY", _TEXT, "an entity's base currency; not on Create Location. Confirm: lookup LOCATION"),
        _status(_LOCATIONS),
        *_stamps(),
    ),
    "DEPARTMENT": (
        inf("RECORDNO", _INT, _DEPARTMENT_WHY, readonly=True),
        inf("DEPARTMENTID", _TEXT, _DEPARTMENT_WHY),
        inf("TITLE", _TEXT, _DEPARTMENT_WHY),
        inf("PARENTID", _TEXT, _DEPARTMENT_WHY),
        inf("STATUS", _ENUM, _DEPARTMENT_WHY, valid_values=("active", "inactive"), legacy_codes=STATUS_CODES),
        *_stamps(),
    ),
    "CUSTOMER": (
        _recordno(_CUSTOMERS),
        doc("CUSTOMERID", _TEXT, f"{_CUSTOMERS}: Create Customer"),
        doc("NAME", _TEXT, f"{_CUSTOMERS}: Create Customer"),
        doc("PARENTID", _TEXT, f"{_CUSTOMERS}: Create Customer"),
        doc("CUSTTYPE", _TEXT, f"{_CUSTOMERS}: Create Customer"),
        *_display_contact(_CUSTOMERS, "CUSTOMER"),
        _status(_CUSTOMERS),
        *_stamps(),
    ),
    "VENDOR": (
        _recordno(_VENDORS),
        doc("VENDORID", _TEXT, f"{_VENDORS}: Create Vendor"),
        doc("NAME", _TEXT, f"{_VENDORS}: Create Vendor"),
        doc("VENDTYPE", _TEXT, f"{_VENDORS}: Create Vendor"),
        *_display_contact(_VENDORS, "VENDOR"),
        _status(_VENDORS),
        *_stamps(),
    ),
    "CONTACT": (
        doc("RECORDNO", _INT, f"{_CONTACTS}: Query and List Contacts", readonly=True),
        doc("CONTACTNAME", _TEXT, f"{_CONTACTS}: Query and List Contacts; Create Contact"),
        doc("PRINTAS", _TEXT, f"{_CONTACTS}: Create Contact"),
        doc("COMPANYNAME", _TEXT, f"{_CONTACTS}: Create Contact"),
        doc("FIRSTNAME", _TEXT, f"{_CONTACTS}: Create Contact"),
        doc("LASTNAME", _TEXT, f"{_CONTACTS}: Create Contact"),
        doc("EMAIL1", _TEXT, f"{_CONTACTS}: Create Contact"),
        doc("EMAIL2", _TEXT, f"{_CONTACTS}: Create Contact"),
        doc("PHONE1", _TEXT, f"{_CONTACTS}: Create Contact"),
        doc("CELLPHONE", _TEXT, f"{_CONTACTS}: Create Contact"),
        # [inf] Create nests MAILADDRESS/ADDRESS1; the queries page reaches VENDOR's PAYTOCONTACT.MAILADDRESS.ZIP,
        # so CONTACT itself is taken to list MAILADDRESS.ZIP and its siblings. Confirm: lookup CONTACT.
        *(
            inf(
                f"MAILADDRESS.{part}",
                _TEXT,
                f"{_CONTACTS}: create MAILADDRESS/{part}, dotted as in PAYTOCONTACT.MAILADDRESS.ZIP "
                "(web-services/queries). Confirm: lookup CONTACT",
            )
            for part in MAIL_ADDRESS_FIELDS
        ),
        _status(_CONTACTS),
        *_stamps(),
    ),
    "PROJECT": (
        _recordno(_PROJECTS),
        doc("PROJECTID", _TEXT, f"{_PROJECTS}: Create Project"),
        doc("NAME", _TEXT, f"{_PROJECTS}: Create Project"),
        doc("DESCRIPTION", _TEXT, f"{_PROJECTS}: Create Project"),
        doc(
            "PROJECTCATEGORY",
            _ENUM,
            f"{_PROJECTS}: Create Project (its values are the UI's categories [inf])",
            valid_values=("Contract", "Capitalized", "Internal Billable", "Internal Non-billable", "Internal"),
        ),
        doc("PROJECTSTATUS", _TEXT, f"{_PROJECTS}: Create Project"),
        doc("PROJECTTYPE", _TEXT, f"{_PROJECTS}: Create Project"),
        doc("CUSTOMERID", _TEXT, f"{_PROJECTS}: Create Project"),
        _key_of("CUSTOMERKEY", "customer", "PROJECT"),
        _name_of("CUSTOMERNAME", "customer", "PROJECT"),
        doc("PARENTID", _TEXT, f"{_PROJECTS}: Create Project"),
        doc("MANAGERID", _TEXT, f"{_PROJECTS}: Create Project"),
        doc("BEGINDATE", _DATE, f"{_PROJECTS}: Create Project"),
        doc("ENDDATE", _DATE, f"{_PROJECTS}: Create Project"),
        doc("LOCATIONID", _TEXT, f"{_PROJECTS}: Create Project"),
        doc("DEPARTMENTID", _TEXT, f"{_PROJECTS}: Create Project"),
        doc("BUDGETAMOUNT", _DEC, f"{_PROJECTS}: Create Project"),
        # No address on PROJECT: its contacts are CONTACT records by name (the job-site address is the ship-to's).
        _contact_reference("CONTACTINFO"),
        _contact_reference("BILLTO"),
        _contact_reference("SHIPTO"),
        _status(_PROJECTS),
        *_stamps(),
    ),
    "TASK": (
        doc("RECORDNO", _INT, f"{_TASKS}: Update Task RECORDNO", readonly=True),
        doc("TASKID", _TEXT, f"{_TASKS}: Create Task"),
        doc("NAME", _TEXT, f"{_TASKS}: Create Task"),
        doc("DESCRIPTION", _TEXT, f"{_TASKS}: Create Task"),
        doc("PROJECTID", _TEXT, f"{_TASKS}: Create Task; Query and List Tasks"),
        _key_of("PROJECTKEY", "project", "TASK"),
        _name_of("PROJECTNAME", "project", "TASK"),
        doc("STANDARDTASKID", _TEXT, f"{_TASKS}: Create Task"),
        doc(
            "TASKSTATUS",
            _ENUM,
            f"{_TASKS}: Create Task; readByQuery codes N/L/P/C/H",
            valid_values=TASK_STATES,
            legacy_codes=TASK_STATE_CODES,
        ),
        doc("ITEMID", _TEXT, f"{_TASKS}: Create Task"),
        doc("BILLABLE", _BOOL, f"{_TASKS}: Create Task"),
        doc("PARENTKEY", _INT, f"{_TASKS}: Create Task"),
        doc("TASKNO", _TEXT, f"{_TASKS}: Create Task"),
        doc("PBEGINDATE", _DATE, f"{_TASKS}: Create Task"),
        doc("PENDDATE", _DATE, f"{_TASKS}: Create Task"),
        doc("BUDGETQTY", _DEC, f"{_TASKS}: Create Task"),
        _status(_TASKS),
        *_stamps(),
    ),
    "COSTTYPE": (
        inf("RECORDNO", _INT, _COST_TYPE_WHY, readonly=True),
        inf("COSTTYPEID", _TEXT, _COST_TYPE_WHY),
        inf("NAME", _TEXT, _COST_TYPE_WHY),
        inf("PROJECTID", _TEXT, _COST_TYPE_WHY),
        inf("TASKID", _TEXT, _COST_TYPE_WHY),
        inf("STANDARDCOSTTYPEID", _TEXT, _COST_TYPE_WHY),
        inf("STATUS", _ENUM, _COST_TYPE_WHY, valid_values=("active", "inactive"), legacy_codes=STATUS_CODES),
        *_stamps(),
    ),
    "STANDARDTASK": (
        _recordno(_STANDARD_TASKS),
        doc("STANDARDTASKID", _TEXT, f"{_STANDARD_TASKS}: Create Standard Task"),
        doc("NAME", _TEXT, f"{_STANDARD_TASKS}: Create Standard Task"),
        doc("DESCRIPTION", _TEXT, f"{_STANDARD_TASKS}: Create Standard Task"),
        doc("ITEMID", _TEXT, f"{_STANDARD_TASKS}: Create Standard Task"),
        _status(_STANDARD_TASKS),
        *_stamps(),
    ),
    "ITEM": (
        _recordno(_ITEMS),
        doc("ITEMID", _TEXT, f"{_ITEMS}: Create Item"),
        doc("NAME", _TEXT, f"{_ITEMS}: Create Item"),
        inf(
            "EXTENDED_DESCRIPTION",
            _TEXT,
            "not on Create Item (PODESCRIPTION/SODESCRIPTION are); public clients read it. Confirm: lookup ITEM",
        ),
        doc(
            "ITEMTYPE",
            _ENUM,
            f"{_ITEMS}: Create Item; readByQuery codes I/NI/NP/NS/K",
            valid_values=ITEM_TYPES,
            legacy_codes=ITEM_TYPE_CODES,
        ),
        doc("GLGROUP", _TEXT, f"{_ITEMS}: Create Item"),
        doc("PRODUCTLINEID", _TEXT, f"{_ITEMS}: Create Item"),
        doc("UOMGRP", _TEXT, f"{_ITEMS}: Create Item"),
        doc("BASEPRICE", _DEC, f"{_ITEMS}: Create Item"),
        inf("STANDARD_COST", _DEC, "not on Create Item; standard-cost companies carry it. Confirm: lookup ITEM"),
        _status(_ITEMS),
        *_stamps(),
    ),
    "EMPLOYEE": (
        doc("RECORDNO", _INT, f"{_EMPLOYEES}: Query and List Employees", readonly=True),
        doc("EMPLOYEEID", _TEXT, f"{_EMPLOYEES}: Create Employee"),
        doc("TITLE", _TEXT, f"{_EMPLOYEES}: Create Employee"),
        *_joined_contact(
            "CONTACT",
            f"the employee's contact (PERSONALINFO on create) by CONTACT's field names ({_CONTACTS}), like the "
            "documented CONTACT.FIRSTNAME; public clients select CONTACT.* (reference §4). Confirm: lookup EMPLOYEE",
            {
                "FIRSTNAME": f"{_EMPLOYEES}: Query and List Employees filter",
                "LASTNAME": f"{_EMPLOYEES}: Query and List Employees filter",
            },
        ),
        doc("DEPARTMENTID", _TEXT, f"{_EMPLOYEES}: Create Employee"),
        doc("LOCATIONID", _TEXT, f"{_EMPLOYEES}: Create Employee"),
        doc("SUPERVISORID", _TEXT, f"{_EMPLOYEES}: Create Employee"),
        doc("STARTDATE", _DATE, f"{_EMPLOYEES}: Create Employee"),
        doc("ENDDATE", _DATE, f"{_EMPLOYEES}: Create Employee"),
        doc("BIRTHDATE", _DATE, f"{_EMPLOYEES}: Create Employee"),
        doc("EMPLOYEETYPE", _TEXT, f"{_EMPLOYEES}: Create Employee"),
        doc("EMPPOSITIONID", _TEXT, f"{_EMPLOYEES}: Create Employee"),
        doc("EARNINGTYPENAME", _TEXT, f"{_EMPLOYEES}: Create Employee"),
        doc("GENDER", _ENUM, f"{_EMPLOYEES}: Create Employee (values [inf])", valid_values=("Male", "Female")),
        _status(_EMPLOYEES),
        *_stamps(),
    ),
    "TIMESHEET": (
        doc("RECORDNO", _INT, f"{_TIMESHEETS}: Query and List Timesheets", readonly=True),
        doc("EMPLOYEEID", _TEXT, f"{_TIMESHEETS}: Create Timesheet"),
        _key_of("EMPLOYEEKEY", "employee", "TIMESHEET"),
        _name_of("EMPLOYEENAME", "employee", "TIMESHEET"),
        doc("BEGINDATE", _DATE, f"{_TIMESHEETS}: Create Timesheet"),
        inf("ENDDATE", _DATE, "the week's last day, BEGINDATE + 6. Confirm: lookup TIMESHEET", readonly=True),
        doc("GLPOSTDATE", _DATE, f"{_TIMESHEETS}: Create Timesheet"),
        doc("DESCRIPTION", _TEXT, f"{_TIMESHEETS}: Create Timesheet"),
        doc("SUPDOCID", _TEXT, f"{_TIMESHEETS}: Create Timesheet"),
        doc(
            "STATE",
            _ENUM,
            f"{_TIMESHEETS}: Create Timesheet; readByQuery codes",
            valid_values=TIMESHEET_STATES,
            legacy_codes=TIMESHEET_STATE_CODES,
        ),
        *_stamps(),
    ),
    "TIMESHEETENTRY": (
        doc("RECORDNO", _INT, f"{_TIMESHEETS}: Query and List Timesheet Entries", readonly=True),
        _key_of("TIMESHEETKEY", "timesheet", "TIMESHEETENTRY"),
        doc("LINENO", _INT, f"{_TIMESHEETS}: Create Timesheet entry (numbered by the emulator)", readonly=True),
        inf("EMPLOYEEID", _TEXT, "the timesheet's employee. Confirm: lookup TIMESHEETENTRY", readonly=True),
        doc("ENTRYDATE", _DATE, f"{_TIMESHEETS}: Create Timesheet entry"),
        doc("QTY", _DEC, f"{_TIMESHEETS}: Create Timesheet entry"),
        *(
            doc(name, _TEXT, f"{_TIMESHEETS}: Create Timesheet entry")
            for name in (
                "CUSTOMERID",
                "ITEMID",
                "PROJECTID",
                "TASKID",
                "COSTTYPEID",
                "LOCATIONID",
                "DEPARTMENTID",
                "CLASSID",
                "VENDORID",
            )
        ),
        _key_of("PROJECTKEY", "project", "TIMESHEETENTRY"),
        doc("TASKKEY", _INT, f"{_TIMESHEETS}: Create Timesheet entry"),
        doc("TIMETYPE", _TEXT, f"{_TIMESHEETS}: Create Timesheet entry"),
        doc("BILLABLE", _BOOL, f"{_TIMESHEETS}: Create Timesheet entry"),
        *(
            doc(name, _TEXT, f"{_TIMESHEETS}: Create Timesheet entry")
            for name in (
                "EMPPOSITIONID",
                "LABORCLASSID",
                "LABORSHIFTID",
                "LABORUNIONID",
                "CONTRACTID",
                "WAREHOUSEID",
                "DESCRIPTION",
                "NOTES",
            )
        ),
        *(
            doc(name, _DEC, f"{_TIMESHEETS}: Create Timesheet entry")
            for name in ("EXTBILLRATE", "EXTCOSTRATE", "EXTAMOUNT", "EXTEMPLOYERTAXES", "EXTFRINGES", "EXTCASHFRINGES")
        ),
        inf(
            "STATE",
            _ENUM,
            "each entry's approval state (approve takes ENTRYKEYS), copied from its timesheet. Confirm: lookup "
            "TIMESHEETENTRY",
            valid_values=TIMESHEET_STATES,
            readonly=True,
            legacy_codes=TIMESHEET_STATE_CODES,
        ),
        *_stamps(),
    ),
    "PODOCUMENT": (
        doc("RECORDNO", _INT, f"{_PURCHASING}: Query and List Purchasing Transactions", readonly=True),
        doc("DOCID", _TEXT, f"{_PURCHASING}: Approve Purchasing Transactions DOCID", readonly=True),
        doc("DOCNO", _TEXT, f"{_PURCHASING}: Query and List Purchasing Transactions"),
        doc("DOCPARID", _TEXT, f"{_PURCHASING}: Query and List Purchasing Transactions"),
        inf("PONUMBER", _TEXT, _PO_HEADER_WHY),
        inf("VENDORDOCNO", _TEXT, _PO_HEADER_WHY),
        inf("CUSTVENDID", _TEXT, _PO_HEADER_WHY),
        inf("CUSTVENDNAME", _TEXT, _PO_HEADER_WHY, readonly=True),
        doc(
            "STATE",
            _ENUM,
            f"{_PURCHASING}: readByQuery STATE (its values [inf])",
            valid_values=("Draft", "Pending", "Partially Converted", "Converted", "Closed"),
        ),
        inf("MESSAGE", _TEXT, _PO_HEADER_WHY),
        # [inf] Purchasing documents carry the transaction date in WHENCREATED (a DATE) and the audit stamp in
        # AUWHENCREATED, unlike list objects (PODOCUMENT lookups seen in public clients). Confirm: lookup PODOCUMENT.
        inf("WHENCREATED", _DATE, "the document date, unlike list objects. Confirm: lookup PODOCUMENT"),
        inf("WHENDUE", _DATE, _PO_HEADER_WHY),
        inf("TOTAL", _DEC, "sum of the lines. Confirm: lookup PODOCUMENT", readonly=True),
        inf(
            "AUWHENCREATED", _TS, "the audit stamp beside the document date. Confirm: lookup PODOCUMENT", readonly=True
        ),
        _stamps()[1],
    ),
    "PODOCUMENTENTRY": (
        doc("RECORDNO", _INT, f"{_PURCHASING}: Query and List Purchasing Transaction Lines", readonly=True),
        doc("DOCHDRNO", _INT, f"{_PURCHASING}: Query and List Purchasing Transaction Lines", readonly=True),
        inf("DOCHDRID", _TEXT, "the header's DOCID. Confirm: lookup PODOCUMENTENTRY", readonly=True),
        inf("LINE_NO", _INT, "the line's number. Confirm: lookup PODOCUMENTENTRY", readonly=True),
        doc("ITEMID", _TEXT, f"{_PURCHASING}: Query and List Purchasing Transaction Lines"),
        inf("ITEMDESC", _TEXT, _PO_LINE_WHY),
        inf("QUANTITY", _DEC, _PO_LINE_WHY),
        inf("UNIT", _TEXT, _PO_LINE_WHY),
        inf("PRICE", _DEC, _PO_LINE_WHY),
        inf("TOTAL", _DEC, "QUANTITY times PRICE. Confirm: lookup PODOCUMENTENTRY", readonly=True),
        *(
            inf(name, _TEXT, _PO_LINE_WHY)
            for name in ("LOCATIONID", "DEPARTMENTID", "PROJECTID", "TASKID", "COSTTYPEID", "MEMO")
        ),
        *_stamps(),
    ),
    "AUDITHISTORY": (
        inf("RECORDNO", _INT, "every object's record number. Confirm: lookup AUDITHISTORY", readonly=True),
        inf("ID", _INT, "estuary's connector selects and pages by it (reference §6.5)", readonly=True),
        doc("OBJECTTYPE", _TEXT, f"{_AUDIT}: query fields", readonly=True),
        doc("OBJECTKEY", _TEXT, f"{_AUDIT}: query fields", readonly=True),
        doc(
            "ACCESSMODE",
            _ENUM,
            f"{_AUDIT}: query fields (codes; readByQuery uses words)",
            valid_values=tuple(ACCESS_MODE_WORDS.values()),
            readonly=True,
            legacy_codes=ACCESS_MODE_WORDS,
        ),
        doc("ACCESSTIME", _TS, f"{_AUDIT}: query fields", readonly=True),
        doc("USERID", _TEXT, f"{_AUDIT}: query fields", readonly=True),
        doc("SOURCE", _TEXT, f"{_AUDIT}: query fields", readonly=True),
    ),
}


def _fields(obj: str) -> dict[str, FieldDef]:
    return {row.field.name: row.field for row in FIELD_TABLE[obj]}


# --- objects ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A field that must name an existing record of another object (by that object's ID field).

    `path` is the OBJECTPATH lookup lists for the relationship (the target's name when not given).
    """

    field: str
    target: str
    must_be_active: bool = False
    path: str | None = None

    @property
    def object_path(self) -> str:
        return self.path or self.target


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


# [inf] Relationship OBJECTPATHs: the target's name, PARENT for a hierarchy (queries page: CUSTOMER.PARENT.NAME)
# and the create element for a contact (SHIPTO). Only GLBATCH's JOURNAL, CUSTOMER's PARENT and EMPLOYEE's
# LOCATION (LOCATION.LOCATIONID) are documented; the rest is by analogy. Confirm: lookup of the object.
LOCATION = ObjectDef(
    "LOCATION",
    "Location",
    _fields("LOCATION"),
    id_field="LOCATIONID",
    required=("LOCATIONID", "NAME"),
    references=(Reference("PARENTID", "LOCATION", path="PARENT"),),
)

DEPARTMENT = ObjectDef(
    "DEPARTMENT",
    "Department",
    _fields("DEPARTMENT"),
    id_field="DEPARTMENTID",
    required=("DEPARTMENTID", "TITLE"),
    references=(Reference("PARENTID", "DEPARTMENT", path="PARENT"),),
)

CUSTOMER = ObjectDef(
    "CUSTOMER",
    "Customer",
    _fields("CUSTOMER"),
    id_field="CUSTOMERID",
    required=("CUSTOMERID", "NAME"),
    references=(Reference("PARENTID", "CUSTOMER", path="PARENT"),),
)

VENDOR = ObjectDef("VENDOR", "Vendor", _fields("VENDOR"), id_field="VENDORID", required=("VENDORID", "NAME"))

# Contacts "are shared across the entire system" and named by CONTACTNAME (readByName keys); create requires
# CONTACTNAME and PRINTAS [doc: company-console/contacts].
CONTACT = ObjectDef(
    "CONTACT", "Contact", _fields("CONTACT"), id_field="CONTACTNAME", required=("CONTACTNAME", "PRINTAS")
)

PROJECT = ObjectDef(
    "PROJECT",
    "Project",
    _fields("PROJECT"),
    id_field="PROJECTID",
    required=("PROJECTID", "NAME"),
    references=(
        Reference("CUSTOMERID", "CUSTOMER", must_be_active=True),
        Reference("PARENTID", "PROJECT", path="PARENT"),
        Reference("MANAGERID", "EMPLOYEE", path="MANAGER"),
        Reference("LOCATIONID", "LOCATION"),
        Reference("DEPARTMENTID", "DEPARTMENT"),
        Reference("CONTACTINFO.CONTACTNAME", "CONTACT", path="CONTACTINFO"),
        Reference("BILLTO.CONTACTNAME", "CONTACT", path="BILLTO"),
        Reference("SHIPTO.CONTACTNAME", "CONTACT", path="SHIPTO"),
    ),
)

TASK = ObjectDef(
    "TASK",
    "Task",
    _fields("TASK"),
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
    _fields("STANDARDTASK"),
    id_field="STANDARDTASKID",
    required=("STANDARDTASKID", "NAME"),
    references=(Reference("ITEMID", "ITEM"),),
)

ITEM = ObjectDef("ITEM", "Item", _fields("ITEM"), id_field="ITEMID", required=("ITEMID", "NAME", "ITEMTYPE"))

EMPLOYEE = ObjectDef(
    "EMPLOYEE",
    "Employee",
    _fields("EMPLOYEE"),
    id_field="EMPLOYEEID",
    required=("EMPLOYEEID", "CONTACT.LASTNAME"),
    references=(
        Reference("DEPARTMENTID", "DEPARTMENT"),
        Reference("LOCATIONID", "LOCATION"),
        Reference("SUPERVISORID", "EMPLOYEE", path="SUPERVISOR"),
    ),
    # Intacct's create takes the employee's contact as PERSONALINFO; queries name it CONTACT.
    write_aliases={"PERSONALINFO": "CONTACT"},
)

TIMESHEETENTRY = ObjectDef(
    "TIMESHEETENTRY",
    "Timesheet entry",
    _fields("TIMESHEETENTRY"),
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
    _fields("TIMESHEET"),
    required=("EMPLOYEEID", "BEGINDATE"),
    references=(Reference("EMPLOYEEID", "EMPLOYEE", must_be_active=True),),
    lines=LineSpec("TIMESHEETENTRIES", "TIMESHEETENTRY", "TIMESHEETENTRY", "TIMESHEETKEY", "LINENO"),
)

PODOCUMENTENTRY = ObjectDef(
    "PODOCUMENTENTRY",
    "Purchasing transaction line",
    _fields("PODOCUMENTENTRY"),
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

PODOCUMENT = ObjectDef(
    "PODOCUMENT",
    "Purchasing transaction",
    _fields("PODOCUMENT"),
    id_field="DOCID",
    required=("DOCPARID", "CUSTVENDID", "WHENCREATED"),
    references=(Reference("CUSTVENDID", "VENDOR", must_be_active=True),),
    lines=LineSpec("ENTRIES", "PODOCUMENTENTRY", "PODOCUMENTENTRY", "DOCHDRNO", "LINE_NO"),
    # Written with the legacy create_potransaction function only, as Sage's own Construction Management does.
    writable=False,
)

# "Each cost type is associated with a task, which in turn is associated with a project" (reference §4).
COSTTYPE = ObjectDef(
    "COSTTYPE",
    "Cost type",
    _fields("COSTTYPE"),
    id_field="COSTTYPEID",
    id_scope=("PROJECTID", "TASKID"),
    required=("COSTTYPEID", "NAME", "PROJECTID", "TASKID"),
    references=(Reference("PROJECTID", "PROJECT"),),
)

AUDITHISTORY = ObjectDef(
    "AUDITHISTORY", "Audit history", _fields("AUDITHISTORY"), id_field="ID", writable=False, audited=False
)

# The standard company's objects. CONTACT and COSTTYPE come last so the RECORDNO ranges of the others (by
# position) stay put.
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
        CONTACT,
        COSTTYPE,
    )
}


def object_def(name: str) -> ObjectDef | None:
    """The standard company's object by its name as a client spells it (object names are case-insensitive)."""
    return OBJECTS.get(name.strip().upper())
