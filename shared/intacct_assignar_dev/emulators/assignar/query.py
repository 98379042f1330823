"""Assignar's list query language as the emulator serves it: `field[__op]=value` filters, `sort`, `page`/`page_size`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

RESERVED = frozenset({"page", "page_size", "sort", "fields"})


class QueryError(ValueError):
    """A query Assignar would refuse with a 400; the message is Assignar-style (`[400] ...`)."""


@dataclass(frozen=True)
class ListQuery:
    filters: tuple[Callable[[Mapping[str, Any]], bool], ...]
    sort: tuple[tuple[str, bool], ...]  # (field, descending)
    page: int | None
    page_size: int | None
    fields: tuple[str, ...] | None

    def apply(self, records: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """The requested page of matching records, and how many matched in all."""
        matched = [record for record in records if all(check(record) for check in self.filters)]
        for field, descending in reversed(self.sort):
            # None sorts first ascending (as SQL NULLS FIRST); Python's stable sort keeps earlier keys' order.
            matched.sort(key=_sort_key_of(field), reverse=descending)
        total = len(matched)
        if self.page_size is not None:
            start = ((self.page or 1) - 1) * self.page_size
            matched = matched[start : start + self.page_size]
        return matched, total


def parse_query(params: Mapping[str, str], fields: frozenset[str], *, max_page_size: int) -> ListQuery:
    """Parse a list query against the resource's top-level `fields`; unknown fields and operators are refused."""
    filters = []
    for name, raw in params.items():
        if name in RESERVED:
            continue
        field, _, operator = name.partition("__")
        if field not in fields:
            raise QueryError(f"[400] Unknown field: {field}")
        filters.append(_filter(field, operator or "eq", raw))
    sort = tuple(_sort_field(part, fields) for part in params.get("sort", "").split(",") if part)
    page = _positive(params, "page")
    page_size = _positive(params, "page_size")
    if page_size is not None and page_size > max_page_size:
        raise QueryError(f"[400] page_size must be at most {max_page_size}")
    selected = tuple(part for part in params.get("fields", "").split(",") if part) or None
    return ListQuery(tuple(filters), sort, page, page_size, selected)


def _positive(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        value = int(params[name])
    except ValueError:
        raise QueryError(f"[400] {name} must be a positive integer") from None
    if value < 1:
        raise QueryError(f"[400] {name} must be a positive integer")
    return value


def _sort_field(part: str, fields: frozenset[str]) -> tuple[str, bool]:
    field = part.lstrip("-")
    if field not in fields:
        raise QueryError(f"[400] Unknown sort field: {field}")
    return field, part.startswith("-")


def _sort_key_of(field: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda record: _sort_key(record.get(field))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value))


def _coerce(raw: str, like: Any) -> Any:
    """The query string value as the type of the record's value, so `active=true` and `id__gt=10` compare right."""
    if raw == "null":
        return None
    if isinstance(like, bool):
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise QueryError(f"[400] Invalid boolean: {raw}")
    if isinstance(like, int | float):
        try:
            return float(raw)
        except ValueError:
            raise QueryError(f"[400] Invalid number: {raw}") from None
    return raw


def _compare(value: Any, raw: str, test: Callable[[Any, Any], bool]) -> bool:
    if value is None:
        return False
    moment = _moment(value)
    if moment is not None:
        # [inf] A date-time field is compared as a point in time, as a database column of timestamps would be, not
        # as text: `modified_time__gte=2026-11-25T22:42:43+00:00` matches "2026-11-25T22:42:43.000Z".
        wanted_moment = _moment(raw) or _date_moment(raw)
        if wanted_moment is None:
            raise QueryError(f"[400] Invalid date: {raw}")
        return test(moment, wanted_moment)
    wanted = _coerce(raw, value)
    if wanted is None:
        return False
    try:
        return test(value, wanted)
    except TypeError:
        return False


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _moment(value: Any) -> datetime | None:
    """A date-time text (Assignar writes them in UTC with a Z) as an aware datetime; None for anything else."""
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _date_moment(raw: str) -> datetime | None:
    """A bare date compared with a date-time: its midnight, UTC."""
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=UTC) if len(raw) == 10 else None
    except ValueError:
        return None


def _filter(field: str, operator: str, raw: str) -> Callable[[Mapping[str, Any]], bool]:
    def get(record: Mapping[str, Any]) -> Any:
        return record.get(field)

    match operator:
        case "eq" | "is":
            return lambda r: _coerce(raw, get(r)) == get(r) if get(r) is not None else raw == "null"
        case "ne" | "not":
            return lambda r: not (_coerce(raw, get(r)) == get(r) if get(r) is not None else raw == "null")
        case "gt":
            return lambda r: _compare(get(r), raw, lambda a, b: a > b)
        case "gte":
            return lambda r: _compare(get(r), raw, lambda a, b: a >= b)
        case "lt":
            return lambda r: _compare(get(r), raw, lambda a, b: a < b)
        case "lte":
            return lambda r: _compare(get(r), raw, lambda a, b: a <= b)
        case "in" | "not_in":
            options = raw.split(",")
            inside = operator == "in"
            # Coerce the options once per value type: an `__in` of hundreds of keys runs over every record.
            coerced: dict[type, set[Any]] = {}

            def member(record: Mapping[str, Any]) -> bool:
                value = get(record)
                if value is None:
                    return False
                kind = type(value)
                if kind not in coerced:
                    coerced[kind] = {_coerce(option, value) for option in options}
                return value in coerced[kind]

            return lambda r: member(r) == inside
        case "substring":
            return lambda r: raw.lower() in str(get(r) or "").lower()
        case "starts_with":
            return lambda r: str(get(r) or "").lower().startswith(raw.lower())
        case "ends_with":
            return lambda r: str(get(r) or "").lower().endswith(raw.lower())
        case "between" | "not_between":
            low, _, high = raw.partition(",")
            if not high:
                raise QueryError(f"[400] {field}__{operator} needs two comma-separated values")
            inside = operator == "between"

            def in_range(record: Mapping[str, Any]) -> bool:
                value = get(record)
                return _compare(value, low, lambda a, b: a >= b) and _compare(value, high, lambda a, b: a <= b)

            return lambda r: get(r) is not None and in_range(r) == inside
        case _:
            raise QueryError(f"[400] Unsupported filter operator: {operator}")
