"""The emulated Assignar tenant's records and the rules the published API enforces on them.

Required fields, unique keys, links, partial updates, Assignar-style errors, timesheets and their status rules.
"""

from __future__ import annotations

import collections
import copy
import itertools
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from intacct_assignar.assignar.models import APPROVED_STATUSES

from intacct_assignar_dev.emulators.assignar.query import parse_query

Record = dict[str, Any]

# The approved statuses are the client's vocabulary; the emulator speaks the same one.
TIMESHEET_STATUSES = ("STARTED", "PENDING_SUBMISSION", "SUBMITTED", *APPROVED_STATUSES)
API_USER = "api-client"
API_USER_ID = 1
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ApiError(Exception):
    """An answer other than success, in Assignar's shape: HTTP status and `{"message": "[status] ..."}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Link:
    """A field holding the id of a record in another table (`many`: a list of `{key: id}` objects)."""

    table: str
    many_key: str | None = None


@dataclass(frozen=True)
class Table:
    """One resource: its writable fields and types, rules, and the HTTP statuses its operations answer with."""

    name: str
    label: str  # as Assignar names it in "[404] Object Not Found - <label> (id:N)"
    fields: Mapping[str, type | tuple[type, ...]]
    required: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    links: Mapping[str, Link] = field(default_factory=dict)
    system: tuple[str, ...] = ("id", "modified_by", "modified_time")
    create_status: int = 201
    update_status: int = 204  # 200 means a `{"status": 204}` body, as the spec shows for users and assets
    defaults: Mapping[str, Any] = field(default_factory=dict)
    writable: bool = True
    write_only: tuple[str, ...] = ()

    @property
    def top_level(self) -> frozenset[str]:
        """The fields GET shows, hence the ones a list can be filtered and sorted by."""
        return (frozenset(self.fields) - frozenset(self.write_only)) | frozenset(self.system)


_TYPES: dict[str, type] = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict}


def _typed(spec: str) -> dict[str, type | tuple[type, ...]]:
    """`"name:str active:bool integration_id:str?"` as field types; `?` also allows null."""
    fields: dict[str, type | tuple[type, ...]] = {}
    for item in spec.split():
        name, _, kind = item.partition(":")
        base = _TYPES[kind.rstrip("?")]
        fields[name] = (base, type(None)) if kind.endswith("?") else base
    return fields


TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        Table(
            "users",
            "User",
            _typed(
                "user_type_id:int employee_id:str integration_id:str? first_name:str last_name:str dob:str "
                "address:str address_geo:dict suburb:str state:str postcode:str email:str contact:str "
                "employment_type:int emergency_contact:str emergency_contact_name:str password:str active:bool "
                "comments:str user_pic:str eula:int usi:str tags:list tasks:list suppliers:list?"
            ),
            required=("user_type_id", "first_name", "last_name"),
            unique=("integration_id",),
            links={
                "user_type_id": Link("user-types"),
                "employment_type": Link("employment-types"),
                "tasks": Link("tasks", "task_id"),
            },
            system=("id", "modified_by", "modified_time", "username", "full_name"),
            write_only=("password",),  # deprecated in the spec, accepted, never shown
            create_status=200,
            update_status=200,
            defaults={"active": True},
        ),
        Table(
            "user-types",
            "UserType",
            _typed("user_type:str label:str"),
            system=("id", "modified_by", "modified_time"),
            writable=False,
        ),
        Table("employment-types", "EmploymentType", _typed("name:str"), required=("name",), system=("id",)),
        Table(
            "clients",
            "Client",
            _typed(
                "name:str company_name:str abn:str email:str office_phone:str mobile:str address_1:str address_2:str "
                "city:str postcode:str state:str comments:str external_id:str active:bool integration_id:str?"
            ),
            required=("name", "company_name"),
            unique=("external_id", "integration_id"),
            defaults={"active": True},
        ),
        Table(
            "projects",
            "Project",
            _typed(
                "client_id:int name:str email:str address:str address_geo:dict suburb:str state:str postcode:str "
                "external_id:str integration_id:str? active:bool parent_id:int charge_code_id:int tags:list "
                "activities:list"
            ),
            # The spec marks nothing required on projects; a project without a name is not one Assignar shows.
            required=("name",),
            unique=("external_id", "integration_id"),
            links={
                "client_id": Link("clients"),
                "parent_id": Link("projects"),
                "activities": Link("activities", "activity_id"),
            },
            create_status=200,
            defaults={"active": True},
        ),
        Table(
            "orders",
            "Order",
            _typed(
                "active:bool job_number:str po_number:str client_id:int order_owner:int project_id:int location:str "
                "location2:str job_description:str start_time:str shift_duration:str start_date:str end_date:str "
                "comments:str status_id:int type_id:int supplier_id:int integration_id:str? tags:list"
            ),
            required=("client_id", "order_owner", "start_date", "end_date"),
            unique=("integration_id",),
            links={"client_id": Link("clients"), "order_owner": Link("users"), "project_id": Link("projects")},
            system=("id", "modified_by", "modified_time", "date_created"),
            defaults={"active": True, "status_id": 1, "type_id": 1},
        ),
        Table(
            "activities",
            "Activity",
            _typed(
                "name:str rule:int billable:int active:bool sortorder:int type_id:int is_payable:bool external_id:str "
                "uom_code:str? integration_id:str?"
            ),
            required=("name",),
            unique=("external_id", "integration_id"),
            system=("id", "modified_by", "date_added", "date_modified"),
            defaults={"active": True, "sortorder": 0},
        ),
        Table(
            "tasks",
            "Task",
            _typed(
                "name:str external_id:str active:bool req_machines:bool pay_level:str payroll_acc:str "
                "charge_code_id:int supervisor:bool integration_id:str?"
            ),
            required=("name",),
            unique=("external_id", "integration_id"),
            defaults={"active": True, "req_machines": False, "supervisor": False},
        ),
        Table(
            "assets",
            "Asset",
            _typed(
                "name:str description:str rego_number:str active:bool year:str make:str model:str serial_number:str "
                "charge_rate:int number_reading:int external_id:str integration_id:str? asset_class_id:int? tags:list "
                "attachments:list?"
            ),
            required=("name",),
            unique=("external_id", "integration_id"),
            links={"asset_class_id": Link("asset-classes")},
            create_status=200,
            update_status=200,
            defaults={"active": True},
        ),
    )
}

TIMESHEET_FIELDS = frozenset(
    {
        "id",
        "client_id",
        "user_id",
        "project_id",
        "task_id",
        "order_id",
        "supplier_id",
        "location",
        "job_number",
        "start_time",
        "start_datetime",
        "end_time",
        "end_datetime",
        "total_time",
        "comments",
        "submitted_date",
        "date_of_creation",
        "created_by_id",
        "modified_time",
        "modified_by",
        "submitted_by",
        "completed_at",
        "completed_by_id",
        "processed_at",
        "processed_by_id",
        "deleted_time",
        "integration_id",
        "status",
    }
)


@dataclass(frozen=True)
class LaborEntry:
    """Time a worker spent on one activity (cost code)."""

    activity_id: int
    minutes: int


@dataclass(frozen=True)
class EquipmentEntry:
    """Time a piece of equipment (asset) was used."""

    asset_id: int
    minutes: int
    uses_whole_shift: bool = False


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _span(started: datetime, activity_entries: Iterable[Record]) -> Record:
    """The end and total of a shift: the labor entries back to back from its start, or a standard 8 hours."""
    worked = sum(entry["duration"] for entry in activity_entries) or 8 * 60
    finished = started + timedelta(minutes=worked)
    return {"end_time": finished.strftime("%H:%M"), "end_datetime": _iso(finished), "total_time": _hhmm(worked)}


def _without_nulls(record: Record) -> Record:
    """Drop null fields: most fields in the published schemas are not nullable, and absent is always valid."""
    return {key: _pruned(value) for key, value in record.items() if value is not None}


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        return _without_nulls(value)
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


class TenantState:
    """All records of one emulated tenant. Every public method takes the lock; records leave as copies."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.RLock()
        self._now = clock or (lambda: datetime.now(UTC))
        self._rows: dict[str, dict[int, Record]] = {name: {} for name in (*TABLES, "asset-classes")}
        self._ids: dict[str, itertools.count[int]] = {}
        self._timesheets: dict[int, Record] = {}
        self._keys: collections.defaultdict[tuple[str, str], dict[Any, int]] = collections.defaultdict(dict)
        self._entry_ids = itertools.count(1)
        for user_type_id, kind, label in ((1, "dashboard", "Office User"), (2, "mobile", "Worker")):
            self._rows["user-types"][user_type_id] = {"id": user_type_id, "user_type": kind, "label": label}
        for employment_type_id, name in enumerate(("Full Time", "Part Time", "Casual"), start=1):
            self._rows["employment-types"][employment_type_id] = {"id": employment_type_id, "name": name}

    # --- the API -----------------------------------------------------------------------------------------

    def query(self, table_name: str, params: Mapping[str, str], *, max_page_size: int) -> tuple[list[Record], int]:
        table = TABLES[table_name]
        query = parse_query(params, table.top_level, max_page_size=max_page_size)
        with self._lock:
            rows, total = query.apply(self._rows[table_name].values())
            rendered = [self._render(table_name, row) for row in rows]
        return [_select(row, query.fields) for row in rendered], total

    def get(self, table_name: str, record_id: int) -> Record:
        with self._lock:
            return self._render(table_name, self._row(table_name, record_id))

    def create(self, table_name: str, payload: Any) -> Record:
        """Validate and store a new record; the answer holds what was sent plus id, defaults and audit fields."""
        table = TABLES[table_name]
        body = _payload(payload)
        with self._lock:
            self._check_fields(table, body)
            missing = [name for name in table.required if body.get(name) in (None, "")]
            if missing:
                raise ApiError(400, f"[400] Missing required field: {', '.join(missing)}")
            record: Record = {**table.defaults, **copy.deepcopy(body)}
            self._check_rules(table, record, record_id=None)
            record_id = self._next_id(table_name)
            record["id"] = record_id
            self._stamp(table_name, record, created=True)
            self._rows[table_name][record_id] = record
            self._index_keys(table, record_id, {}, record)
            return _without_nulls(_created_view(table_name, record, body))

    def update(self, table_name: str, record_id: int, payload: Any) -> None:
        """Partial update: only the fields sent change."""
        table = TABLES[table_name]
        body = _payload(payload)
        with self._lock:
            current = self._row(table_name, record_id)
            self._check_fields(table, body)
            cleared = [name for name in table.required if name in body and body[name] in (None, "")]
            if cleared:
                raise ApiError(400, f"[400] Missing required field: {', '.join(cleared)}")
            merged = {**current, **copy.deepcopy(body)}
            self._check_rules(table, merged, record_id=record_id)
            self._stamp(table_name, merged, created=False)
            self._rows[table_name][record_id] = merged
            self._index_keys(table, record_id, current, merged)

    def query_timesheets(self, params: Mapping[str, str], *, max_page_size: int) -> tuple[list[Record], int]:
        query = parse_query(params, TIMESHEET_FIELDS, max_page_size=max_page_size)
        with self._lock:
            rows, total = query.apply(self._timesheets.values())
            rendered = [self._render_timesheet(row) for row in rows]
        return [_select(row, query.fields) for row in rendered], total

    def get_timesheet(self, timesheet_id: int) -> Record:
        with self._lock:
            return self._render_timesheet(self._timesheet(timesheet_id))

    def process_timesheet(self, timesheet_id: int) -> None:
        """Mark processed; Assignar refuses one not yet approved or already processed."""
        with self._lock:
            timesheet = self._timesheet(timesheet_id)
            if timesheet["status"] not in APPROVED_STATUSES:
                raise ApiError(400, "[400] Timesheet must be completed before processing")
            if timesheet.get("processed_at"):
                raise ApiError(400, "[400] Timesheet already processed")
            now = _iso(self._now())
            timesheet.update(processed_at=now, processed_by_id=API_USER_ID, modified_time=now)

    # --- the admin side ------------------------------------------------------------------------------------

    def seed(self, table_name: str, payload: Mapping[str, Any]) -> Record:
        """Create a record as an Assignar user would in the dashboard: same rules, full record returned."""
        created = self.create(table_name, dict(payload))
        return self.get(table_name, created["id"])

    def seed_asset_class(self, name: str) -> int:
        with self._lock:
            class_id = self._next_id("asset-classes")
            self._rows["asset-classes"][class_id] = {"id": class_id, "name": name}
            return class_id

    def records(self, table_name: str) -> list[Record]:
        with self._lock:
            return [self._render(table_name, row) for row in self._rows[table_name].values()]

    def create_timesheet(
        self,
        *,
        worker_id: int,
        project_id: int,
        work_date: date,
        role_id: int | None = None,
        work_order_id: int | None = None,
        start: str = "07:00",
        labor: Iterable[LaborEntry] = (),
        equipment: Iterable[EquipmentEntry] = (),
        status: str = "SUBMITTED",
        comments: str | None = None,
    ) -> int:
        if status not in TIMESHEET_STATUSES:
            raise ValueError(f"unknown timesheet status {status!r}; one of {TIMESHEET_STATUSES}")
        with self._lock:
            self._row("users", worker_id)
            project = self._row("projects", project_id)
            if role_id is not None:
                self._row("tasks", role_id)
            if work_order_id is not None:
                self._row("orders", work_order_id)
            started = datetime.combine(work_date, datetime.strptime(start, "%H:%M").time(), tzinfo=UTC)
            activity_entries = self._activity_entries(started, labor)
            asset_entries = self._asset_entries(started, equipment)
            now = _iso(self._now())
            timesheet_id = self._next_id("timesheets")
            self._timesheets[timesheet_id] = {
                "id": timesheet_id,
                "user_id": worker_id,
                "project_id": project_id,
                "client_id": project.get("client_id"),
                "task_id": role_id,
                "order_id": work_order_id,
                "status": status,
                "start_time": start,
                "start_datetime": _iso(started),
                **_span(started, activity_entries),
                "comments": comments,
                "date_of_creation": now,
                "submitted_date": self._now().date().isoformat() if status != "STARTED" else None,
                "created_by_id": worker_id,
                "modified_time": now,
                "modified_by": API_USER,
                "completed_at": now if status in APPROVED_STATUSES else None,
                "processed_at": None,
                "processed_by_id": None,
                "integration_id": None,
                "activity_entries": activity_entries,
                "asset_entries": asset_entries,
            }
            return timesheet_id

    def reopen_timesheet(
        self,
        timesheet_id: int,
        *,
        labor: Iterable[LaborEntry] | None = None,
        equipment: Iterable[EquipmentEntry] | None = None,
        status: str = "SUBMITTED",
    ) -> None:
        """An admin reverses processing and edits the timesheet: processing is cleared, `status` set, and the
        labor and/or equipment entries given replace the old ones (new entry ids); re-approve it afterwards.
        """
        if status not in TIMESHEET_STATUSES:
            raise ValueError(f"unknown timesheet status {status!r}; one of {TIMESHEET_STATUSES}")
        with self._lock:
            timesheet = self._timesheet(timesheet_id)
            started = datetime.fromisoformat(timesheet["start_datetime"])
            # Built before anything changes, so an unknown activity or asset leaves the timesheet as it was.
            activity_entries = (
                timesheet["activity_entries"] if labor is None else self._activity_entries(started, labor)
            )
            asset_entries = timesheet["asset_entries"] if equipment is None else self._asset_entries(started, equipment)
            now = _iso(self._now())
            approved = status in APPROVED_STATUSES
            timesheet.update(
                status=status,
                activity_entries=activity_entries,
                asset_entries=asset_entries,
                **_span(started, activity_entries),
                processed_at=None,
                processed_by_id=None,
                # [inf] Completion and submission follow the new status as on create: reopened unapproved, it is
                # no longer completed, and a resubmitted one counts as submitted today.
                completed_at=now if approved else None,
                completed_by_id=API_USER_ID if approved else None,
                submitted_date=self._now().date().isoformat() if status != "STARTED" else None,
                modified_time=now,
                modified_by=API_USER,
            )

    def set_timesheet_status(self, timesheet_id: int, status: str) -> None:
        if status not in TIMESHEET_STATUSES:
            raise ValueError(f"unknown timesheet status {status!r}; one of {TIMESHEET_STATUSES}")
        with self._lock:
            timesheet = self._timesheet(timesheet_id)
            if timesheet.get("processed_at"):
                raise ApiError(400, "[400] Timesheet already processed")
            now = _iso(self._now())
            timesheet.update(status=status, modified_time=now)
            if status in APPROVED_STATUSES:
                timesheet.update(completed_at=now, completed_by_id=API_USER_ID)

    def timesheet_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._timesheets)

    # --- rules ---------------------------------------------------------------------------------------------

    def _check_fields(self, table: Table, body: Mapping[str, Any]) -> None:
        if not table.writable:
            raise ApiError(405, "[405] Method Not Allowed")
        if not body:
            raise ApiError(400, "[400] Missing payload.")
        for name, value in body.items():
            expected = table.fields.get(name)
            if expected is None:
                raise ApiError(400, f"[400] Unknown field: {name}")
            if isinstance(value, bool) and expected is not bool and bool not in _as_tuple(expected):
                raise ApiError(400, f"[400] Invalid value for {name}")
            if not isinstance(value, expected):
                raise ApiError(400, f"[400] Invalid value for {name}")
            if name in ("start_date", "end_date") and not _DATE.match(str(value)):
                raise ApiError(400, f"[400] {name} must be in YYYY-MM-DD format")

    def _check_rules(self, table: Table, record: Mapping[str, Any], *, record_id: int | None) -> None:
        for name in table.unique:
            value = record.get(name)
            holder = self._keys[(table.name, name)].get(value) if value not in (None, "") else None
            if holder is not None and holder != record_id:
                raise ApiError(400, f"[400] Unique Constraint Error - {name}")
        if table.name == "users" and record.get("email") and record.get("active", True):
            # The spec: an email must be unique within the same user type across all active users.
            others = (row for row_id, row in self._rows[table.name].items() if row_id != record_id)
            for row in others:
                if (
                    row.get("active", True)
                    and row.get("user_type_id") == record.get("user_type_id")
                    and str(row.get("email", "")).lower() == str(record["email"]).lower()
                ):
                    raise ApiError(400, "[400] Unique Constraint Error - email")
        for name, link in table.links.items():
            value = record.get(name)
            if value is None:
                continue
            if link.many_key and not all(isinstance(item, dict) for item in value):
                raise ApiError(400, f"[400] Invalid value for {name}")
            ids = [item.get(link.many_key) for item in value] if link.many_key else [value]
            if any(not isinstance(i, int) or i not in self._rows[link.table] for i in ids):
                raise ApiError(400, "[400] Foreign Key Constraint Error")

    # --- storage helpers -----------------------------------------------------------------------------------

    def _index_keys(self, table: Table, record_id: int, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Keep the unique-key indexes current, so constraint checks stay cheap with thousands of records."""
        for name in table.unique:
            index = self._keys[(table.name, name)]
            before, after = old.get(name), new.get(name)
            if before not in (None, "") and index.get(before) == record_id:
                del index[before]
            if after not in (None, ""):
                index[after] = record_id

    def _next_id(self, table_name: str) -> int:
        # Ids per table start at different bases so a test cannot pass by mixing a client id with a project id.
        if table_name not in self._ids:
            base = {
                "users": 100,
                "clients": 300,
                "projects": 500,
                "orders": 700,
                "activities": 900,
                "tasks": 1100,
                "assets": 1300,
                "timesheets": 5000,
            }.get(table_name, 1)
            start = max([base, *[row_id + 1 for row_id in self._rows.get(table_name, {})]])
            self._ids[table_name] = itertools.count(start)
        return next(self._ids[table_name])

    def _activity_entries(self, started: datetime, labor: Iterable[LaborEntry]) -> list[Record]:
        """Labor entries back to back from the shift start, in the order given; each activity must exist."""
        entries: list[Record] = []
        cursor = started
        for entry in labor:
            self._row("activities", entry.activity_id)
            finish = cursor + timedelta(minutes=entry.minutes)
            entries.append(
                {
                    "id": next(self._entry_ids),
                    "activity_id": entry.activity_id,
                    "duration": entry.minutes,
                    "start_at": cursor,
                    "end_at": finish,
                }
            )
            cursor = finish
        return entries

    def _asset_entries(self, started: datetime, equipment: Iterable[EquipmentEntry]) -> list[Record]:
        """Equipment entries, each from the shift start (machines run alongside the labor); each asset must exist."""
        entries: list[Record] = []
        for item in equipment:
            self._row("assets", item.asset_id)
            entries.append(
                {
                    "id": next(self._entry_ids),
                    "asset_id": item.asset_id,
                    "duration": item.minutes,
                    "start_at": started,
                    "end_at": started + timedelta(minutes=item.minutes),
                    "uses_whole_shift": item.uses_whole_shift,
                }
            )
        return entries

    def _row(self, table_name: str, record_id: int) -> Record:
        row = self._rows[table_name].get(record_id)
        if row is None:
            raise ApiError(404, f"[404] Object Not Found - {TABLES[table_name].label} (id:{record_id})")
        return row

    def _timesheet(self, timesheet_id: int) -> Record:
        timesheet = self._timesheets.get(timesheet_id)
        if timesheet is None:
            raise ApiError(404, f"[404] Object Not Found - Timesheet (id:{timesheet_id})")
        return timesheet

    def _stamp(self, table_name: str, record: Record, *, created: bool) -> None:
        now = _iso(self._now())
        if table_name == "activities":
            record["modified_by"] = API_USER_ID
            record["date_modified"] = now
            if created:
                record["date_added"] = now
            return
        if table_name == "employment-types":
            return
        record["modified_by"] = API_USER
        record["modified_time"] = now
        if table_name == "orders" and created:
            record["date_created"] = now
        if table_name == "users":
            record["full_name"] = f"{record.get('first_name', '')} {record.get('last_name', '')}".strip()
            if created:
                record["username"] = record.get("email") or f"user{record['id']}"

    # --- what GET shows ------------------------------------------------------------------------------------

    def _render(self, table_name: str, row: Record) -> Record:
        view = copy.deepcopy(row)
        view.pop("password", None)
        if table_name == "users":
            view["tags"] = []
            view["suppliers"] = []
            view["tasks"] = [
                {"task_id": str(link["task_id"]), **self._brief("tasks", link["task_id"])}
                for link in row.get("tasks", [])
            ]
        elif table_name == "projects":
            if row.get("client_id") is not None:
                view["client"] = {"id": row["client_id"], **self._brief("clients", row["client_id"])}
            view["activities"] = [
                {"id": link["activity_id"], **self._brief("activities", link["activity_id"])}
                for link in row.get("activities", [])
            ]
            view["tags"] = []
        elif table_name == "assets":
            view["tags"] = []
            view["attachments"] = []
        elif table_name == "orders":
            view["tags"] = []
        return _without_nulls(view)

    def _brief(self, table_name: str, record_id: int) -> Record:
        row = self._rows[table_name].get(record_id, {})
        return {"name": row.get("name"), "external_id": row.get("external_id")}

    def _render_timesheet(self, row: Record) -> Record:
        view = {k: v for k, v in row.items() if k not in ("activity_entries", "asset_entries")}
        user = self._rows["users"].get(row["user_id"], {})
        view["user"] = {
            "user_id": row["user_id"],
            "username": user.get("username"),
            "full_name": user.get("full_name"),
            "first_name": user.get("first_name"),
            "last_name": user.get("last_name"),
            "employee_id": user.get("employee_id"),
            "employment_type_id": user.get("employment_type"),
            "email": user.get("email"),
        }
        if row.get("client_id") is not None:
            view["client"] = self._brief("clients", row["client_id"])
        view["project"] = self._brief("projects", row["project_id"])
        if row.get("task_id") is not None:
            view["task"] = self._brief("tasks", row["task_id"])
        if row.get("order_id") is not None:
            order = self._rows["orders"].get(row["order_id"], {})
            view["order"] = {
                "id": row["order_id"],
                "job_number": order.get("job_number"),
                "job_description": order.get("job_description"),
            }
            view["job_number"] = order.get("job_number")
        view["activity_entries"] = [self._render_entry(entry, "activities") for entry in row["activity_entries"]]
        view["asset_entries"] = [self._render_entry(entry, "assets") for entry in row["asset_entries"]]
        view["leave_request_entries"] = []
        view["allowances"] = []
        return _without_nulls(view)

    def _render_entry(self, entry: Record, table_name: str) -> Record:
        start, end = entry["start_at"], entry["end_at"]
        view: Record = {
            "id": entry["id"],
            "start_at": _iso(start),
            "start_at_tz": "UTC",
            "end_at": _iso(end),
            "end_at_tz": "UTC",
            "start_at_naive": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "end_at_naive": end.strftime("%Y-%m-%dT%H:%M:%S"),
            "is_naive_datetime": False,
            "duration": entry["duration"],
        }
        if table_name == "activities":
            row = self._rows["activities"].get(entry["activity_id"], {})
            view["activity"] = {
                "id": entry["activity_id"],
                "name": row.get("name"),
                "external_id": row.get("external_id"),
                "is_payable": row.get("is_payable"),
            }
            view["related_asset_entries"] = []
        else:
            row = self._rows["assets"].get(entry["asset_id"], {})
            view["uses_whole_shift"] = entry["uses_whole_shift"]
            view["asset"] = {
                "id": entry["asset_id"],
                **{k: row.get(k) for k in ("name", "external_id", "description", "make", "model", "year")},
            }
        return view


def _as_tuple(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def _payload(payload: Any) -> Record:
    if payload is None:
        raise ApiError(400, "[400] Missing payload.")
    if not isinstance(payload, dict):
        raise ApiError(400, "[400] Payload must be a JSON object")
    return payload


def _select(row: Record, fields: tuple[str, ...] | None) -> Record:
    return row if fields is None else {k: v for k, v in row.items() if k in fields}


def _created_view(table_name: str, record: Record, body: Mapping[str, Any]) -> Record:
    """What a create answers: the fields sent, the id, defaults and audit values; no related objects."""
    view = {k: copy.deepcopy(v) for k, v in record.items() if k != "password"}
    if table_name == "users" and "tasks" in body:
        view["tasks"] = [{"task_id": link["task_id"]} for link in body["tasks"]]
    return view
