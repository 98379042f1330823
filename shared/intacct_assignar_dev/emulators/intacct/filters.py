"""Record filters and ordering: one condition tree that `query` filters and readByQuery strings both compile to.
Values compare by the field's datatype; null matches only isnull/isnotnull, as in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from .errors import IntacctError, query_failed
from .schema import DataType, FieldDef, ObjectDef

Record = Mapping[str, Any]
R = TypeVar("R", bound=Mapping[str, Any])
Predicate = Callable[[Record], bool]

COMPARISONS = frozenset(
    {
        "equalto",
        "notequalto",
        "lessthan",
        "lessthanorequalto",
        "greaterthan",
        "greaterthanorequalto",
        "between",
        "in",
        "notin",
        "like",
        "notlike",
        "isnull",
        "isnotnull",
    }
)
JUNCTIONS = frozenset({"and", "or"})
MAX_IN_VALUES = 1000
_TEXTUAL = (DataType.TEXT, DataType.ENUM)


@dataclass(frozen=True)
class Comparison:
    field: FieldDef
    operator: str
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Junction:
    kind: Literal["and", "or"]
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    part: Condition


Condition = Comparison | Junction | Negation


def field_of(obj: ObjectDef, name: str | None) -> FieldDef:
    spec = obj.field((name or "").strip().upper())
    if spec is None:
        raise IntacctError(query_failed(f"Invalid field '{name}' for object {obj.name}"))
    return spec


def typed_value(spec: FieldDef, raw: Any, *, legacy: bool = False) -> Any:
    """A filter operand as the field's type; readByQuery (`legacy`) also takes the field's codes ('T', 'S')."""
    if legacy and isinstance(raw, str) and raw in spec.legacy_codes:
        return spec.legacy_codes[raw]
    if raw is None:
        raise IntacctError(query_failed(f"A value is required to compare {spec.name}"))
    try:
        value = spec.parse(raw)
    except ValueError as exc:
        raise IntacctError(query_failed(f"Invalid value for {spec.name}: {exc}")) from exc
    if value is None and spec.datatype in _TEXTUAL:
        return ""
    return value


def compile_condition(condition: Condition, *, case_insensitive: bool = False) -> Predicate:
    """A fast predicate over stored records."""
    if isinstance(condition, Junction):
        parts = [compile_condition(part, case_insensitive=case_insensitive) for part in condition.parts]
        if condition.kind == "and":
            return lambda record: all(part(record) for part in parts)
        return lambda record: any(part(record) for part in parts)
    if isinstance(condition, Negation):
        inner = compile_condition(condition.part, case_insensitive=case_insensitive)
        return lambda record: not inner(record)
    return _compile_comparison(condition, case_insensitive)


def _compile_comparison(comparison: Comparison, case_insensitive: bool) -> Predicate:
    spec, operator = comparison.field, comparison.operator
    name = spec.name
    fold = case_insensitive and spec.datatype in _TEXTUAL

    def norm(value: Any) -> Any:
        return value.casefold() if fold and isinstance(value, str) else value

    if operator == "isnull":
        return lambda record: record.get(name) is None
    if operator == "isnotnull":
        return lambda record: record.get(name) is not None
    if operator in ("like", "notlike"):
        pattern = _like_pattern(str(comparison.values[0]), case_insensitive)
        positive = operator == "like"

        def like(record: Record) -> bool:
            value = record.get(name)
            if value is None:
                return False
            return (pattern.fullmatch(spec.format(value) or "") is not None) == positive

        return like
    values = tuple(norm(value) for value in comparison.values)
    if operator in ("in", "notin"):
        members = frozenset(values)
        positive = operator == "in"
        return lambda record: (value := record.get(name)) is not None and (norm(value) in members) == positive
    if operator == "between":
        low, high = values
        return lambda record: (value := record.get(name)) is not None and low <= norm(value) <= high
    target = values[0]
    test = _ORDERINGS[operator]
    return lambda record: (value := record.get(name)) is not None and test(norm(value), target)


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "equalto": lambda a, b: a == b,
    "notequalto": lambda a, b: a != b,
    "lessthan": lambda a, b: a < b,
    "lessthanorequalto": lambda a, b: a <= b,
    "greaterthan": lambda a, b: a > b,
    "greaterthanorequalto": lambda a, b: a >= b,
}


def _like_pattern(like: str, case_insensitive: bool) -> re.Pattern[str]:
    parts = [".*" if char == "%" else "." if char == "_" else re.escape(char) for char in like]
    return re.compile("".join(parts), (re.IGNORECASE | re.DOTALL) if case_insensitive else re.DOTALL)


def comparison(
    obj: ObjectDef, field_name: str, operator: str, raw_values: Sequence[Any], *, legacy: bool
) -> Comparison:
    """Check operand counts for the operator and type the operands."""
    spec = field_of(obj, field_name)
    if operator in ("isnull", "isnotnull"):
        return Comparison(spec, operator)
    expected = {"between": (2, 2), "in": (1, MAX_IN_VALUES), "notin": (1, MAX_IN_VALUES)}.get(operator, (1, 1))
    if not expected[0] <= len(raw_values) <= expected[1]:
        raise IntacctError(query_failed(f"Operator {operator} on {spec.name} takes {expected[0]}-{expected[1]} values"))
    if operator in ("like", "notlike"):
        return Comparison(spec, operator, (_legacy_code(spec, raw_values[0]) if legacy else raw_values[0],))
    return Comparison(spec, operator, tuple(typed_value(spec, raw, legacy=legacy) for raw in raw_values))


def _legacy_code(spec: FieldDef, raw: Any) -> Any:
    return spec.legacy_codes.get(raw, raw) if isinstance(raw, str) else raw


def condition_from_query_filter(obj: ObjectDef, node: Any) -> Condition:
    """The condition of a `query` `<filter>` (parsed XML): exactly one top-level operator."""
    children = _operator_children(node)
    if len(children) != 1:
        raise IntacctError(query_failed("filter takes exactly one top-level operator"))
    return _condition_from_element(obj, *children[0])


def _operator_children(node: Any) -> list[tuple[str, Any]]:
    if not isinstance(node, Mapping):
        raise IntacctError(query_failed("filter operators must be elements"))
    children: list[tuple[str, Any]] = []
    for tag, value in node.items():
        if tag.startswith("@"):
            continue
        for item in value if isinstance(value, list) else [value]:
            children.append((tag, item))
    return children


def _condition_from_element(obj: ObjectDef, tag: str, node: Any) -> Condition:
    operator = tag.lower()
    if operator in JUNCTIONS:
        children = _operator_children(node)
        if len(children) < 2:
            raise IntacctError(query_failed(f"'{operator}' needs at least two filter conditions"))
        kind: Literal["and", "or"] = "and" if operator == "and" else "or"
        return Junction(kind, tuple(_condition_from_element(obj, *child) for child in children))
    if operator not in COMPARISONS:
        raise IntacctError(query_failed(f"Unknown filter operator '{tag}'"))
    if not isinstance(node, Mapping):
        raise IntacctError(query_failed(f"'{operator}' needs a field"))
    field_name = node.get("field")
    if isinstance(field_name, list):
        raise IntacctError(query_failed(f"'{operator}' takes one field"))
    raw_values = node.get("value", [])
    if not isinstance(raw_values, list):
        raw_values = [raw_values]
    return comparison(obj, str(field_name or ""), operator, raw_values, legacy=False)


@dataclass(frozen=True)
class Order:
    field: FieldDef
    descending: bool = False


def sort_records(records: Sequence[R], orders: Iterable[Order], *, case_insensitive: bool = False) -> list[R]:
    """Sorted by several fields; nulls last ascending and first descending, as Oracle orders them."""
    result = list(records)
    for order in reversed(list(orders)):
        name = order.field.name
        fold = case_insensitive and order.field.datatype in _TEXTUAL

        def key(record: Record, name: str = name, fold: bool = fold) -> tuple[bool, Any]:
            value = record.get(name)
            if value is None:
                return (True, 0)
            return (False, value.casefold() if fold else value)

        result.sort(key=key, reverse=order.descending)
    return result
