"""In-memory fakes of the inbound ports (`inbound/ports.py`): Assignar's records and Intacct's objects in dicts.

Each keeps the few rules of the real system that the pull and the upsert meet (Assignar hands out ids, keeps
`integration_id` unique and changes only the fields a PUT carries; Intacct pages by its filters and order) and
records what was asked of it. The clients themselves are tested over HTTP (tests/unit/assignar, .../intacct).
"""

from __future__ import annotations

import builtins
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from intacct_assignar.assignar.errors import NotFoundError, UniqueConstraintError, ValidationError
from intacct_assignar.assignar.models import (
    Activity,
    Asset,
    AssignarRecord,
    Client,
    EmploymentType,
    Project,
    Role,
    UserType,
    Worker,
    WorkOrder,
)
from intacct_assignar.intacct.definitions import ObjectDefinition
from intacct_assignar.intacct.filters import Compare, Filter, In, Logical
from intacct_assignar.intacct.protocol import MAX_QUERY_PAGESIZE, Record, Result
from intacct_assignar.intacct.values import parse_timestamp
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.sources import DELETION_LOG, SITE_CONTACTS, SOURCES
from pydantic import SecretStr

R = TypeVar("R", bound=AssignarRecord)

# --- Assignar ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One write Assignar accepted: which resource, create or update, the record's id and what was sent."""

    resource: str
    kind: Literal["create", "update"]
    record_id: int
    payload: dict[str, object]


class InMemoryResource(Generic[R]):
    """One kind of Assignar record, held as Assignar would answer it.

    `refusal`, while set, refuses every write in those words (a 400); `before_create` runs once, just before
    the next create is stored (another consumer getting there first). `reads` counts the lookups asked of it.
    """

    def __init__(self, name: str, model: type[R], writes: list[Write], ids: Iterator[int]) -> None:
        self.name = name
        self.model = model
        self.rows: dict[int, dict[str, object]] = {}
        self.refusal: str | None = None
        self.before_create: Callable[[], object] | None = None
        self.reads = 0
        self._writes = writes
        self._ids = ids

    def seed(self, **fields: object) -> R:
        """A record already in Assignar (typed by hand, or by another integration): not counted as a write."""
        record_id = next(self._ids)
        self.rows[record_id] = {**fields, "id": record_id}
        return self._record(record_id)

    def list(self) -> list[R]:
        self.reads += 1
        return self._all()

    def index_by(self, key: str, values: Iterable[str] | None = None) -> dict[str, R]:
        self.reads += 1
        return self._index(key, None if values is None else set(values))

    def find_by(self, key: str, value: str) -> R | None:
        self.reads += 1
        return self._index(key, {value}).get(value)

    def get(self, record_id: int) -> R:
        self.reads += 1
        return self._existing(record_id)

    def _all(self) -> builtins.list[R]:
        return [self._record(record_id) for record_id in sorted(self.rows)]

    def _index(self, key: str, wanted: set[str] | None) -> dict[str, R]:
        index: dict[str, R] = {}
        for record in self._all():  # in id order: the oldest of those sharing a value is kept, as the client does
            value = getattr(record, key, None)
            if value is None or value == "" or (wanted is not None and str(value) not in wanted):
                continue
            index.setdefault(str(value), record)
        return index

    def _existing(self, record_id: int) -> R:
        if record_id not in self.rows:
            raise NotFoundError(
                f"[404] Object Not Found - {self.name} (id:{record_id})",
                method="GET",
                path=f"{self.name}/{record_id}",
                status=404,
            )
        return self._record(record_id)

    def create(self, payload: Mapping[str, object]) -> R:
        self._refuse_if_asked("POST", self.name)
        if self.before_create is not None:
            before, self.before_create = self.before_create, None
            before()
        integration_id = payload.get("integration_id")
        if integration_id and self._index("integration_id", {str(integration_id)}):
            raise UniqueConstraintError(
                "integration_id must be unique", field="integration_id", method="POST", path=self.name, status=400
            )
        record_id = next(self._ids)
        self.rows[record_id] = {**payload, "id": record_id}
        self._writes.append(Write(self.name, "create", record_id, dict(payload)))
        return self._record(record_id)

    def update(self, record_id: int, payload: Mapping[str, object]) -> None:
        self._refuse_if_asked("PUT", f"{self.name}/{record_id}")
        self._existing(record_id)
        self.rows[record_id].update(payload)
        self._writes.append(Write(self.name, "update", record_id, dict(payload)))

    def _refuse_if_asked(self, method: str, path: str) -> None:
        if self.refusal is not None:
            raise ValidationError(
                f"[400] {self.refusal}", method=method, path=path, status=400, assignar_message=self.refusal
            )

    def _record(self, record_id: int) -> R:
        return self.model.model_validate(self.rows[record_id])


class InMemoryAssignar:
    """An Assignar account for the upsert: each workflow's records, and the one user type and employment type
    the default tenant names ("worker", "Full Time"). `writes` lists every write, in order, across resources."""

    def __init__(self) -> None:
        self.writes: list[Write] = []
        ids = itertools.count(1)
        self.clients = InMemoryResource("clients", Client, self.writes, ids)
        self.projects = InMemoryResource("projects", Project, self.writes, ids)
        self.work_orders = InMemoryResource("work_orders", WorkOrder, self.writes, ids)
        self.activities = InMemoryResource("activities", Activity, self.writes, ids)
        self.roles = InMemoryResource("roles", Role, self.writes, ids)
        self.assets = InMemoryResource("assets", Asset, self.writes, ids)
        self.workers = InMemoryResource("workers", Worker, self.writes, ids)
        self.user_types = InMemoryResource("user_types", UserType, self.writes, ids)
        self.employment_types = InMemoryResource("employment_types", EmploymentType, self.writes, ids)
        self.user_types.seed(user_type="mobile_user", label="Worker")
        self.employment_types.seed(name="Full Time")


# --- Intacct ----------------------------------------------------------------------------------------------

# Compared as numbers, and as times in the company's zone; every other field as text.
_NUMBERS = frozenset({"RECORDNO", "ID"})
_TIMES = frozenset({"WHENMODIFIED", "ACCESSTIME"})
_COMPARE: dict[str, Callable[[str, str], bool]] = {
    "equalto": lambda a, b: a == b,
    "notequalto": lambda a, b: a != b,
    "lessthan": lambda a, b: a < b,
    "lessthanorequalto": lambda a, b: a <= b,
    "greaterthan": lambda a, b: a > b,
    "greaterthanorequalto": lambda a, b: a >= b,
}


def _like(pattern: str) -> re.Pattern[str]:
    """Intacct's `like` as a regular expression: `%` any run of characters, `_` any one (filters.like)."""
    parts = ("." if char == "_" else ".*" if char == "%" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.DOTALL)


class InMemoryIntacct:
    """An Intacct company for the pull: records per object, every field the sources read offered, and
    `query` answered in pages by `<filter>` (comparisons, `like`, `<in>`, `<and>`/`<or>`) and `<orderby>`.

    `queries` names each object queried, in order.
    """

    def __init__(self, records: Mapping[str, Sequence[Record]], *, timezone: str = "America/Denver") -> None:
        self.records = {name.upper(): [dict(record) for record in rows] for name, rows in records.items()}
        self.zone = ZoneInfo(timezone)
        self.settings = IntacctSettings.model_validate(
            {
                "INTACCT_SENDER_ID": "fake-sender",
                "INTACCT_SENDER_PASSWORD": SecretStr("fake"),
                "INTACCT_COMPANY_ID": "fake-company",
                "INTACCT_USER_ID": "fake-user",
                "INTACCT_USER_PASSWORD": SecretStr("fake"),
            }
        )
        self.queries: list[str] = []
        self.connected = False

    def connect(self) -> None:
        self.connected = True

    def lookup(self, object_name: str) -> ObjectDefinition:
        name = object_name.upper()
        sources = (*SOURCES, SITE_CONTACTS, DELETION_LOG)
        fields = {field for source in sources if source.object_name == name for field in source.fields}
        return ObjectDefinition(
            name, frozenset(fields | {field for row in self.records.get(name, []) for field in row})
        )

    def query(
        self,
        object_name: str,
        select: Sequence[str],
        *,
        filter: Filter | None = None,
        orderby: Sequence[tuple[str, bool]] = (),
        pagesize: int = MAX_QUERY_PAGESIZE,
    ) -> Result:
        self.queries.append(object_name)
        rows = [row for row in self.records.get(object_name.upper(), []) if self._matches(filter, row)]
        for field, ascending in reversed(orderby):  # stable sorts, the last key first
            rows.sort(key=self._order(field), reverse=not ascending)
        page = rows[:pagesize]
        return Result(
            status="success",
            function="query",
            controlid="fake",
            records=[{field: row.get(field) for field in select} for row in page],
            count=len(page),
            totalcount=len(rows),
            numremaining=len(rows) - len(page),
        )

    def _matches(self, where: Filter | None, row: Record) -> bool:
        if where is None:
            return True
        if isinstance(where, Logical):
            found = (self._matches(child, row) for child in where.children)
            return all(found) if where.operator == "and" else any(found)
        if isinstance(where, In):
            return (row.get(where.field) in where.values) != where.negate
        if isinstance(where, Compare) and where.operator in ("like", "notlike"):
            have = row.get(where.field)
            if have is None:
                return False
            return (_like(where.value).fullmatch(str(have)) is not None) != (where.operator == "notlike")
        if isinstance(where, Compare) and where.operator in _COMPARE:
            have = row.get(where.field)
            if have is None:
                return False
            return _COMPARE[where.operator](self._value(where.field, have), self._value(where.field, where.value))
        raise AssertionError(f"the fake does not filter by {where!r}")

    def _order(self, field: str) -> Callable[[Record], str]:
        return lambda row: self._value(field, row.get(field))

    def _value(self, field: str, text: object) -> str:
        """The field's value spelled so that text order is Intacct's order: numbers padded, times in UTC."""
        if field in _NUMBERS:
            return f"{int(str(text)):020d}"
        moment = parse_timestamp(str(text), self.zone) if field in _TIMES and text is not None else None
        if moment is not None:
            return moment.astimezone(UTC).isoformat()
        return "" if text is None else str(text)
