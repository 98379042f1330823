"""The `query` function's filter tree, built in Python and rendered in the element form Intacct expects.

`and_(...)`/`or_(...)` drop missing parts and collapse a single child, because Intacct requires at least
two children under `<and>`/`<or>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_COMPARISONS = frozenset(
    {
        "equalto",
        "notequalto",
        "lessthan",
        "lessthanorequalto",
        "greaterthan",
        "greaterthanorequalto",
        "like",
        "notlike",
    }
)
MAX_IN_VALUES = 1000  # the query function accepts 1-1000 values under <in>/<notin>


class Filter:
    """A node of the filter tree."""

    def to_xml(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Compare(Filter):
    operator: str
    field: str
    value: str

    def __post_init__(self) -> None:
        if self.operator not in _COMPARISONS:
            raise ValueError(f"unknown filter operator {self.operator!r}")

    def to_xml(self) -> dict[str, Any]:
        return {self.operator: {"field": self.field, "value": self.value}}


@dataclass(frozen=True)
class Between(Filter):
    field: str
    low: str
    high: str

    def to_xml(self) -> dict[str, Any]:
        return {"between": {"field": self.field, "value": [self.low, self.high]}}


@dataclass(frozen=True)
class In(Filter):
    field: str
    values: tuple[str, ...]
    negate: bool = False

    def __post_init__(self) -> None:
        if not 1 <= len(self.values) <= MAX_IN_VALUES:
            raise ValueError(f"<in> takes 1 to {MAX_IN_VALUES} values, got {len(self.values)}")

    def to_xml(self) -> dict[str, Any]:
        return {"notin" if self.negate else "in": {"field": self.field, "value": list(self.values)}}


@dataclass(frozen=True)
class Null(Filter):
    field: str
    negate: bool = False

    def to_xml(self) -> dict[str, Any]:
        return {"isnotnull" if self.negate else "isnull": {"field": self.field}}


@dataclass(frozen=True)
class Logical(Filter):
    operator: str  # "and" | "or"
    children: tuple[Filter, ...]

    def to_xml(self) -> dict[str, Any]:
        # Several children of one operator type must render as a list under that tag, in order.
        grouped: dict[str, list[Any]] = {}
        for child in self.children:
            ((tag, body),) = child.to_xml().items()
            grouped.setdefault(tag, []).append(body)
        return {self.operator: {tag: bodies[0] if len(bodies) == 1 else bodies for tag, bodies in grouped.items()}}


def eq(field: str, value: str) -> Filter:
    return Compare("equalto", field, value)


def gt(field: str, value: str) -> Filter:
    return Compare("greaterthan", field, value)


def ge(field: str, value: str) -> Filter:
    return Compare("greaterthanorequalto", field, value)


def le(field: str, value: str) -> Filter:
    return Compare("lessthanorequalto", field, value)


def like(field: str, pattern: str) -> Filter:
    """`%` matches any run of characters and `_` any one character, as in SQL."""
    return Compare("like", field, pattern)


def in_(field: str, values: Iterable[str]) -> Filter:
    return In(field, tuple(values))


def _combine(operator: str, parts: Sequence[Filter | None]) -> Filter | None:
    children = tuple(part for part in parts if part is not None)
    if not children:
        return None
    if len(children) == 1:
        return children[0]
    return Logical(operator, children)


def and_(*parts: Filter | None) -> Filter | None:
    return _combine("and", parts)


def or_(*parts: Filter | None) -> Filter | None:
    return _combine("or", parts)
