"""The gateway's functions (query, readByQuery, readMore, read, create, update, delete, create_potransaction…),
each from a parsed function element to an `Outcome`; the envelope, sessions and transactions are the gateway's.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .errors import (
    ErrorDetail,
    IntacctError,
    business,
    invalid_fields_list,
    invalid_select,
    permission_denied,
    query_failed,
    read_more_failed,
)
from .filters import Order, Predicate, compile_condition, condition_from_query_filter, field_of, sort_records
from .readbyquery import parse_read_by_query
from .schema import DataType, FieldDef, ObjectDef
from .store import IntacctStore, Record

QUERY_MAX_PAGESIZE = 2000
READ_BY_QUERY_MAX_PAGESIZE = 1000
DEFAULT_PAGESIZE = 100
AGGREGATES = ("count", "avg", "min", "max", "sum")


@dataclass
class Outcome:
    payload: dict[str, Any] = field(default_factory=dict)
    errors: tuple[ErrorDetail, ...] = ()
    api_transactions: int = 0


@dataclass
class Cursor:
    """What a readByQuery resultId stands for: the matched records as they were, and how far readMore got."""

    result_id: str
    obj: ObjectDef
    fields: list[FieldDef]
    rows: list[Record]
    position: int
    pagesize: int
    owner: str


class Cursors:
    """Open readByQuery results by resultId; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, Cursor] = {}

    def open(self, cursor: Cursor) -> None:
        with self._lock:
            self._open[cursor.result_id] = cursor

    def take(self, result_id: str) -> Cursor | None:
        with self._lock:
            return self._open.get(result_id)

    def latest(self, owner: str, obj: ObjectDef) -> Cursor | None:
        with self._lock:
            matches = [c for c in self._open.values() if c.owner == owner and c.obj.name == obj.name]
            return matches[-1] if matches else None

    def close(self, result_id: str) -> None:
        with self._lock:
            self._open.pop(result_id, None)

    def clear(self) -> None:
        with self._lock:
            self._open.clear()


@dataclass
class Call:
    """Who is calling: the signed-in user and the key that ties readMore to its readByQuery."""

    store: IntacctStore
    cursors: Cursors
    user_id: str
    owner: str


Function = Callable[[Call, Any], Outcome]


# --- reading ---------------------------------------------------------------------------------------------------


def _object(call: Call, name: Any) -> ObjectDef:
    """The object as the caller's company defines it (its profile's fields)."""
    spec = call.store.object_def(str(name or ""))
    if spec is None:
        raise IntacctError(query_failed(f"Object definition {name} not found"))
    return spec


def _readable(call: Call, function: str, name: Any) -> ObjectDef:
    """The object, when the Web Services user may list its records (`lookup` does not ask: it reads metadata)."""
    spec = _object(call, name)
    _check_permission(call, function, spec)
    return spec


def _check_permission(call: Call, function: str, spec: ObjectDef) -> None:
    if not call.store.readable(spec.name):
        raise IntacctError(permission_denied(function, spec.name))


def _element(body: Any, name: str) -> Any:
    return body.get(name) if isinstance(body, Mapping) else None


def _integer(raw: Any, name: str, low: int, high: int, default: int) -> int:
    if raw is None:
        return default
    text = str(raw).strip()
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise IntacctError(query_failed(f"{name} must be a whole number from {low} to {high}, got '{text}'"))
    return int(text)


def _flag(raw: Any) -> bool:
    return str(raw or "").strip().lower() == "true"


def _return_format(raw: Any) -> None:
    # csv/json bodies are a real option; the emulator answers in XML only and says so rather than guessing.
    if raw is not None and str(raw).strip().lower() != "xml":
        raise IntacctError(query_failed(f"returnformat {raw} is not supported by the emulator; use xml"))


def _docparid_filter(obj: ObjectDef, raw: Any) -> Predicate | None:
    if raw is None:
        return None
    if obj.name == "PODOCUMENT":
        return lambda record: record.get("DOCPARID") == raw
    if obj.name == "PODOCUMENTENTRY":
        return lambda record: str(record.get("DOCHDRID") or "").startswith(f"{raw}-")
    raise IntacctError(query_failed(f"docparid applies to transaction documents, not {obj.name}"))


def format_record(fields: list[FieldDef], record: Mapping[str, Any]) -> dict[str, Any]:
    return {spec.name: spec.format(record.get(spec.name)) for spec in fields}


def _selected(obj: ObjectDef, name: Any) -> FieldDef:
    """A select field the company offers; anything else fails the way a real gateway answered it."""
    wanted = str(name or "").strip()
    spec = obj.field(wanted.upper())
    if spec is None:
        raise IntacctError(invalid_select(wanted, obj.name))
    return spec


def query(call: Call, body: Any) -> Outcome:
    obj = _readable(call, "query", _element(body, "object"))
    select = _element(body, "select")
    if not isinstance(select, Mapping):
        raise IntacctError(query_failed("select is required: returning all fields is not supported"))
    columns: list[FieldDef] = [_selected(obj, name) for name in select.get("field") or []]
    aggregates: list[tuple[str, FieldDef]] = [
        (kind, _selected(obj, name)) for kind in AGGREGATES for name in select.get(kind) or []
    ]
    if not columns and not aggregates:
        raise IntacctError(query_failed("select needs at least one field"))
    options = _element(body, "options") or {}
    case_insensitive = _flag(_element(options, "caseinsensitive"))
    _return_format(_element(options, "returnformat"))
    pagesize = _integer(_element(body, "pagesize"), "pagesize", 1, QUERY_MAX_PAGESIZE, DEFAULT_PAGESIZE)
    offset = _integer(_element(body, "offset"), "offset", 0, 2**31, 0)
    tests: list[Predicate] = []
    if (node := _element(body, "filter")) is not None:
        tests.append(compile_condition(condition_from_query_filter(obj, node), case_insensitive=case_insensitive))
    if (by_docparid := _docparid_filter(obj, _element(body, "docparid"))) is not None:
        tests.append(by_docparid)
    rows = [row for row in call.store.rows(obj.name) if all(test(row) for test in tests)]
    orders = _orders(obj, _element(body, "orderby"))
    if aggregates:
        rows = _aggregate(rows, columns, aggregates)
        columns = columns + [
            FieldDef(f"{kind.upper()}.{spec.name}", _aggregate_type(kind, spec)) for kind, spec in aggregates
        ]
    if orders:
        rows = sort_records(rows, orders, case_insensitive=case_insensitive)
    else:
        # Without orderby Intacct's order is undefined (§3.1) and may differ between calls: shuffle, so a client
        # that pages without orderby fails here as it would against the real gateway.
        random.Random(call.store.now().timestamp()).shuffle(rows)
    page = rows[offset : offset + pagesize]
    data: dict[str, Any] = {
        "@listtype": obj.name,
        "@totalcount": str(len(rows)),
        "@offset": str(offset),
        "@count": str(len(page)),
        "@numremaining": str(max(0, len(rows) - offset - len(page))),
    }
    if page:
        data[obj.name] = [format_record(columns, row) for row in page]
    return Outcome({"data": data}, api_transactions=1)


def _orders(obj: ObjectDef, node: Any) -> list[Order]:
    if node is None:
        return []
    orders = []
    for order in _element(node, "order") or []:
        if not isinstance(order, Mapping) or isinstance(order.get("field"), list):
            raise IntacctError(query_failed("each order takes one field"))
        orders.append(Order(field_of(obj, order.get("field")), descending="descending" in order))
    return orders


def _aggregate_type(kind: str, spec: FieldDef) -> DataType:
    if kind == "count":
        return DataType.INTEGER
    return DataType.DECIMAL if kind in ("avg", "sum") else spec.datatype


def _aggregate(rows: list[Record], columns: list[FieldDef], aggregates: list[tuple[str, FieldDef]]) -> list[Record]:
    """Aggregates group by the selected plain fields, as Intacct's query does."""
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(spec.name) for spec in columns), []).append(row)
    if not groups and not columns:
        groups[()] = []
    result = []
    for key, members in groups.items():
        out: Record = {spec.name: value for spec, value in zip(columns, key, strict=True)}
        for kind, spec in aggregates:
            values = [row[spec.name] for row in members if row.get(spec.name) is not None]
            out[f"{kind.upper()}.{spec.name}"] = _reduce(kind, values)
        result.append(out)
    return result


def _reduce(kind: str, values: list[Any]) -> Any:
    if kind == "count":
        return len(values)
    if not values:
        return None
    if kind == "min":
        return min(values)
    if kind == "max":
        return max(values)
    total = sum((Decimal(value) for value in values), Decimal(0))
    return total if kind == "sum" else total / len(values)


def _field_list(obj: ObjectDef, raw: Any) -> list[FieldDef]:
    text = str(raw or "*").strip()
    if text == "*":
        return list(obj.fields.values())
    fields = []
    for name in text.split(","):
        spec = obj.field(name.strip().upper())
        if spec is None:
            # Intacct answers a bad fields list with this errorno alone (reference §2.3).
            raise IntacctError(invalid_fields_list(name.strip()))
        fields.append(spec)
    return fields


def read_by_query(call: Call, body: Any) -> Outcome:
    obj = _readable(call, "readByQuery", _element(body, "object"))
    fields = _field_list(obj, _element(body, "fields"))
    _return_format(_element(body, "returnFormat"))
    pagesize = _integer(_element(body, "pagesize"), "pagesize", 1, READ_BY_QUERY_MAX_PAGESIZE, DEFAULT_PAGESIZE)
    tests: list[Predicate] = []
    if (condition := parse_read_by_query(obj, _element(body, "query"))) is not None:
        tests.append(compile_condition(condition))
    if (by_docparid := _docparid_filter(obj, _element(body, "docparid"))) is not None:
        tests.append(by_docparid)
    rows = [row for row in call.store.rows(obj.name) if all(test(row) for test in tests)]
    # Stored records are never changed in place, so holding them is a consistent snapshot for readMore.
    cursor = Cursor(secrets.token_hex(16), obj, fields, rows, 0, pagesize, call.owner)
    return _next_page(call, cursor)


def _next_page(call: Call, cursor: Cursor) -> Outcome:
    page = cursor.rows[cursor.position : cursor.position + cursor.pagesize]
    cursor.position += len(page)
    remaining = len(cursor.rows) - cursor.position
    if remaining > 0:
        call.cursors.open(cursor)
    else:
        call.cursors.close(cursor.result_id)
    tag = cursor.obj.name.lower()
    data: dict[str, Any] = {
        "@listtype": tag,
        "@count": str(len(page)),
        "@totalcount": str(len(cursor.rows)),
        "@numremaining": str(remaining),
        "@resultId": cursor.result_id if remaining > 0 else "",
    }
    if page:
        data[tag] = [format_record(cursor.fields, row) for row in page]
    return Outcome({"data": data}, api_transactions=1)


def read_more(call: Call, body: Any) -> Outcome:
    result_id = _element(body, "resultId")
    cursor: Cursor | None
    if result_id is not None:
        cursor = call.cursors.take(str(result_id))
    elif (obj_name := _element(body, "object")) is not None:
        cursor = call.cursors.latest(call.owner, _readable(call, "readMore", obj_name))
        result_id = obj_name
    else:
        raise IntacctError(read_more_failed(""))
    if cursor is None:
        raise IntacctError(read_more_failed(str(result_id)))
    _check_permission(call, "readMore", cursor.obj)
    return _next_page(call, cursor)


def _keys(raw: Any) -> list[str]:
    return [key.strip() for key in str(raw or "").split(",") if key.strip()]


def _read_data(
    call: Call, obj: ObjectDef, fields: list[FieldDef], records: list[Record], with_lines: bool
) -> dict[str, Any]:
    data: dict[str, Any] = {"@listtype": obj.name, "@count": str(len(records))}
    if records:
        formatted = []
        for record in records:
            out = format_record(fields, record)
            if with_lines and obj.lines is not None:
                line_spec = call.store.objects[obj.lines.line_object]
                lines = [format_record(list(line_spec.fields.values()), line) for line in record[obj.lines.container]]
                out[obj.lines.container] = {obj.lines.item_tag: lines} if lines else None
            formatted.append(out)
        data[obj.name] = formatted
    return data


def read(call: Call, body: Any) -> Outcome:
    obj = _readable(call, "read", _element(body, "object"))
    fields = _field_list(obj, _element(body, "fields"))
    _return_format(_element(body, "returnFormat"))
    records = []
    for key in _keys(_element(body, "keys")):
        record = call.store.get(obj.name, int(key)) if key.isdigit() else None
        if record is not None:
            records.append(record)
    with_lines = str(_element(body, "fields") or "*").strip() == "*"
    return Outcome({"data": _read_data(call, obj, fields, records, with_lines)}, api_transactions=1)


def read_by_name(call: Call, body: Any) -> Outcome:
    obj = _readable(call, "readByName", _element(body, "object"))
    if obj.id_field is None:
        raise IntacctError(query_failed(f"{obj.name} has no name field to read by"))
    fields = _field_list(obj, _element(body, "fields"))
    wanted = set(_keys(_element(body, "keys")))
    records = [
        record
        for row in call.store.rows(obj.name)
        if str(row.get(obj.id_field)) in wanted and (record := call.store.get(obj.name, row["RECORDNO"]))
    ]
    with_lines = str(_element(body, "fields") or "*").strip() == "*"
    return Outcome({"data": _read_data(call, obj, fields, records, with_lines)}, api_transactions=1)


def lookup(call: Call, body: Any) -> Outcome:
    """The object's fields and relationships as this company defines them, in the shape of the queries page's
    GLBATCH sample (reference §3.1): hidden fields absent, custom ones ISCUSTOM.

    [gap] Answered even for an object the user may not list: lookup reads metadata, and whether Intacct checks
    the object's permission here is undocumented.

    [gap] `docparid` names a transaction definition (reference §3.1: PODOCUMENT/SODOCUMENT take it to include
    the definition's custom fields). What Intacct answers for a definition the company does not have is
    undocumented; the emulator refuses it, in the words of its own `create_potransaction` refusal.
    """
    obj = _object(call, _element(body, "object"))
    if (docparid := _element(body, "docparid")) is not None:
        _check_definition(call, obj, str(docparid))
    fields = []
    for spec in obj.fields.values():
        entry: dict[str, Any] = {
            "ID": spec.name,
            "LABEL": spec.name.replace(".", " ").replace("_", " ").title(),
            "DESCRIPTION": None,
            "REQUIRED": _boolean(spec.name in obj.required),
            "READONLY": _boolean(spec.readonly),
            "DATATYPE": spec.datatype.value,
        }
        if spec.valid_values:
            entry["VALIDVALUES"] = {"VALIDVALUE": list(spec.valid_values)}
        entry["ISCUSTOM"] = _boolean(spec.custom)
        fields.append(entry)
    # One MANY2ONE relationship per reference, related by the referring field (see schema's OBJECTPATH note).
    relationships = [
        {
            "OBJECTPATH": reference.object_path,
            "OBJECTNAME": reference.target,
            "LABEL": None,
            "RELATIONSHIPTYPE": "MANY2ONE",
            "RELATEDBY": reference.field,
        }
        for reference in obj.references
    ]
    definition: dict[str, Any] = {
        "@Name": obj.name,
        "@DocumentType": "",
        "Fields": {"Field": fields},
        "Relationships": {"Relationship": relationships} if relationships else None,
    }
    # Billed like any other read call [inf: the tiers count API calls; nothing exempts lookup].
    return Outcome({"data": {"@listtype": "All", "@count": "1", "Type": definition}}, api_transactions=1)


def _check_definition(call: Call, obj: ObjectDef, docparid: str) -> None:
    if obj.name not in ("PODOCUMENT", "PODOCUMENTENTRY"):
        raise IntacctError(query_failed(f"docparid applies to transaction documents, not {obj.name}"))
    known = call.store.po_transaction_definitions
    if docparid not in known:
        raise IntacctError(
            business(
                f"Invalid transaction definition '{docparid}'.",
                f"Use one of the purchasing transaction definitions: {', '.join(sorted(known))}.",
            )
        )


def _boolean(value: bool) -> str:
    return "true" if value else "false"


# --- writing ---------------------------------------------------------------------------------------------------


def _writable(call: Call, name: str) -> ObjectDef:
    spec = call.store.object_def(name)
    if spec is None:
        raise IntacctError(business(f"Object definition {name} not found"))
    if not spec.writable:
        raise IntacctError(
            business(f"{spec.name} cannot be written with this function.", _WRITE_HINT.get(spec.name, ""))
        )
    return spec


_WRITE_HINT = {
    "PODOCUMENT": "Create purchasing transactions with create_potransaction.",
    "TIMESHEETENTRY": "Write entries inside their TIMESHEET.",
    "PODOCUMENTENTRY": "Write lines inside their purchasing transaction.",
}


def _written(spec: ObjectDef, record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"RECORDNO": str(record["RECORDNO"])}
    if spec.id_field is not None:
        out[spec.id_field] = spec.fields[spec.id_field].format(record.get(spec.id_field))
    return out


def _records(body: Any) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(body, Mapping):
        raise IntacctError(business("Nothing to write: the function holds no objects."))
    items = []
    for tag, values in body.items():
        for value in values if isinstance(values, list) else [values]:
            items.append((tag, value if isinstance(value, Mapping) else {}))
    return items


def _write_all(call: Call, body: Any, write: Callable[[ObjectDef, Mapping[str, Any]], Record]) -> Outcome:
    """Each object on its own: one failing does not stop its siblings, and the ones written are listed."""
    written: dict[str, list[dict[str, Any]]] = {}
    errors: list[ErrorDetail] = []
    count = 0
    for tag, values in _records(body):
        try:
            spec = _writable(call, tag)
            record = write(spec, values)
        except IntacctError as error:
            errors.extend(error.errors)
            continue
        written.setdefault(spec.name.lower(), []).append(_written(spec, record))
        count += 1
    data: dict[str, Any] = {"@listtype": "objects", "@count": str(count), **written}
    return Outcome({"data": data}, tuple(errors), api_transactions=count)


def create(call: Call, body: Any) -> Outcome:
    return _write_all(
        call, body, lambda spec, values: call.store.create(spec.name, values, user_id=call.user_id, source="xml")
    )


def update(call: Call, body: Any) -> Outcome:
    def write(spec: ObjectDef, values: Mapping[str, Any]) -> Record:
        recordno = _recordno_for_update(call.store, spec, values)
        return call.store.update(spec.name, recordno, values, user_id=call.user_id, source="xml")

    return _write_all(call, body, write)


def _recordno_for_update(store: IntacctStore, spec: ObjectDef, values: Mapping[str, Any]) -> int:
    raw = values.get("RECORDNO")
    if raw is not None:
        if not str(raw).strip().isdigit():
            raise IntacctError(business(f"Invalid RECORDNO '{raw}'.", "Use the record's integer RECORDNO."))
        return int(str(raw).strip())
    id_value = values.get(spec.id_field) if spec.id_field else None
    if id_value is None:
        raise IntacctError(
            business(
                f"A {spec.label.lower()} update needs RECORDNO{f' or {spec.id_field}' if spec.id_field else ''}.",
                "Identify the record to update.",
            )
        )
    record = store.find(spec.name, id_value, *(values.get(name) for name in spec.id_scope))
    if record is None:
        raise IntacctError(business(f"Cannot find {spec.label.lower()} with key '{id_value}' to update."))
    return int(record["RECORDNO"])


def delete(call: Call, body: Any) -> Outcome:
    spec = _writable(call, str(_element(body, "object") or ""))
    errors: list[ErrorDetail] = []
    deleted = 0
    for key in _keys(_element(body, "keys")):
        try:
            if not key.isdigit():
                raise IntacctError(business(f"Cannot find {spec.label.lower()} with key '{key}' to delete."))
            call.store.delete(spec.name, int(key), user_id=call.user_id, source="xml")
            deleted += 1
        except IntacctError as error:
            errors.extend(error.errors)
    return Outcome({}, tuple(errors), api_transactions=deleted)


# Legacy create_potransaction element → PODOCUMENT field: the element's own name, upper-cased, except where
# the reference shows another (DOCPARID, DOCNO) and the free texts `<referenceno>`, `<message>` and a line's
# `<memo>`, whose fields are the company profile's guess (`CompanyProfile.po_texts`, [gap] reference §5.3).
# Elements Intacct accepts that the emulator does not model are taken and dropped; anything else is refused so
# a typo does not pass silently. A field the company does not offer keeps nothing a query could read back.
_PO_HEADER: dict[str, str | None] = {
    "transactiontype": "DOCPARID",
    "vendorid": "CUSTVENDID",
    "documentno": "DOCNO",
    "referenceno": None,
    "vendordocno": "VENDORDOCNO",
    "message": None,
    "state": "STATE",
}
_PO_DATES = {"datecreated": "WHENCREATED", "datedue": "WHENDUE"}
_PO_IGNORED = frozenset(
    {"createdfrom", "termname", "shippingmethod", "returnto", "payto", "supdocid", "externalid", "basecurr"}
    | {"currency", "exchratedate", "exchratetype", "exchrate", "customfields", "subtotals"}
)
_PO_LINE = {
    "itemid": "ITEMID",
    "itemdesc": "ITEMDESC",
    "quantity": "QUANTITY",
    "unit": "UNIT",
    "price": "PRICE",
    "locationid": "LOCATIONID",
    "departmentid": "DEPARTMENTID",
    "projectid": "PROJECTID",
    "taskid": "TASKID",
    "costtypeid": "COSTTYPEID",
    "memo": "MEMO",
}
_PO_LINE_IGNORED = frozenset({"warehouseid", "classid", "customerid", "employeeid", "vendorid", "billable"})


def create_potransaction(call: Call, body: Any) -> Outcome:
    if not isinstance(body, Mapping):
        raise IntacctError(business("create_potransaction needs a transaction."))
    header: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []
    offered = call.store.objects["PODOCUMENT"].fields
    offered_lines = call.store.objects["PODOCUMENTENTRY"].fields
    for tag, value in body.items():
        if tag in _PO_HEADER:
            name = call.store.profile.po_field(tag) if tag in ("referenceno", "message") else _PO_HEADER[tag]
            if name is not None and name in offered:
                header[name] = value
        elif tag in _PO_DATES:
            header[_PO_DATES[tag]] = _legacy_date(tag, value)
        elif tag == "potransitems":
            items = _element(value, "potransitem") or []
            memo = call.store.profile.po_field("memo")
            lines = []
            for item in items if isinstance(items, list) else [items]:
                stored = {(memo if name == "MEMO" else name): value for name, value in _po_line(item).items()}
                lines.append(
                    {name: value for name, value in stored.items() if name is not None and name in offered_lines}
                )
        elif tag not in _PO_IGNORED:
            raise IntacctError(business(f"create_potransaction: unknown element <{tag}>."))
    try:
        record = call.store.create("PODOCUMENT", {**header, "ENTRIES": lines}, user_id=call.user_id, source="xml")
    except IntacctError as error:
        return Outcome({}, error.errors)
    # Legacy create_* functions answer with the new record's key rather than a data block.
    return Outcome({"key": record["DOCID"]}, api_transactions=1)


def _legacy_date(tag: str, value: Any) -> date:
    try:
        return date(int(value["year"]), int(value["month"]), int(value["day"]))
    except (TypeError, KeyError, ValueError) as exc:
        raise IntacctError(business(f"<{tag}> needs a valid <year>, <month> and <day>.")) from exc


def _po_line(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise IntacctError(business("Each <potransitem> must hold item fields."))
    line = {}
    for tag, value in item.items():
        if tag in _PO_LINE:
            line[_PO_LINE[tag]] = value
        elif tag not in _PO_LINE_IGNORED:
            raise IntacctError(business(f"create_potransaction: unknown element <{tag}> in <potransitem>."))
    return line


FUNCTIONS: dict[str, Function] = {
    "query": query,
    "readByQuery": read_by_query,
    "readMore": read_more,
    "read": read,
    "readByName": read_by_name,
    "lookup": lookup,
    "create": create,
    "update": update,
    "delete": delete,
    "create_potransaction": create_potransaction,
}
