"""The per-tenant configuration document: which workflows run, their filters and mappings, how time is posted.

Two forms, one validation: a TOML file for the CLI (`--config FILE`, else `intacct-assignar.toml` in the working
folder when present; `--config FILE.json` takes the other form), and the one line of JSON the stack's
`TenantConfig` parameter holds (`stack_parameter` prints it; the functions read it with `parse_config_json`).
Unknown keys (with the nearest valid one) and bad values are refused with every offending key named by its dotted
path, so an admin can fix the file in one pass.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

DEFAULT_CONFIG_FILE = "intacct-assignar.toml"
# template.yaml's TenantConfig MaxLength: Lambda allows 4 KB of environment variables in all.
STACK_PARAMETER_MAX_LENGTH = 3000

WorkflowName = Literal["clients", "projects", "work_orders", "activities", "roles", "assets", "workers"]
# Dependency order: a record is only written once what it links to is in Assignar.
WORKFLOWS: tuple[WorkflowName, ...] = ("clients", "projects", "work_orders", "activities", "roles", "assets", "workers")


def workflow_name(text: str) -> WorkflowName:
    """A workflow's name as typed (`--entity`, a source's list) checked against the seven; KeyError otherwise."""
    for name in WORKFLOWS:
        if name == text:
            return name
    raise KeyError(f"unknown workflow {text!r}: expected one of {', '.join(WORKFLOWS)}")


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class ConfigError(ValueError):
    """The configuration document is unreadable or invalid; `problems` are `dotted.key: what is wrong` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"invalid configuration in {source}:\n" + "\n".join(f"  {p}" for p in problems))


class _Section(BaseModel):
    # A misspelt key must be refused, not silently ignored while its default applies.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Workflow(_Section):
    # strict: "yes" or "false" in quotes is a mistake to name, not something to read as true (every bool is strict).
    enabled: bool = Field(default=True, strict=True)


class ClientsWorkflow(Workflow):
    pass


class ProjectsWorkflow(Workflow):
    pass


class WorkOrdersWorkflow(Workflow):
    # No default: only the tenant knows which Assignar user owns synced work orders.
    # strict: TOML `true` or "12" is a mistake in an id, not something to coerce.
    owner_user_id: int | None = Field(default=None, gt=0, strict=True)
    # Used when neither the task nor its project has dates (Assignar requires both on an order).
    default_start_date: date | None = None
    default_end_date: date | None = None

    @field_validator("default_end_date")
    @classmethod
    def _dates_in_order(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("default_start_date")
        if start is not None and end is not None and end < start:
            raise ValueError(f"must not be before default_start_date ({start.isoformat()})")
        return end


class ActivitiesWorkflow(Workflow):
    pass


class RolesWorkflow(Workflow):
    gl_group: str = Field(default="Labor", min_length=1)


class AssetsWorkflow(Workflow):
    gl_group: str = Field(default="Equipment", min_length=1)


class WorkersWorkflow(Workflow):
    # Empty = every employee; otherwise an employee outside a list is deactivated in Assignar.
    departments: tuple[str, ...] = ()
    earning_types: tuple[str, ...] = ()
    employee_types: tuple[str, ...] = ()
    # EMPPOSITIONID -> labor ITEMID; a position not listed is taken to be the labor ITEMID itself.
    position_roles: dict[str, str] = Field(default_factory=dict)
    # Looked up by name in Assignar at write time (ids differ per Assignar account).
    user_type: str = Field(default="worker", min_length=1)
    employment_type: str = Field(default="Full Time", min_length=1)

    @field_validator("departments", "earning_types", "employee_types")
    @classmethod
    def _no_blank_ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not value.strip() for value in values):
            raise ValueError("must not contain empty names")
        return values

    @field_validator("position_roles")
    @classmethod
    def _no_blank_mappings(cls, values: dict[str, str]) -> dict[str, str]:
        if any(not key.strip() or not value.strip() for key, value in values.items()):
            raise ValueError("positions and items must not be empty")
        return values


class Workflows(_Section):
    clients: ClientsWorkflow = Field(default_factory=ClientsWorkflow)
    projects: ProjectsWorkflow = Field(default_factory=ProjectsWorkflow)
    work_orders: WorkOrdersWorkflow = Field(default_factory=WorkOrdersWorkflow)
    activities: ActivitiesWorkflow = Field(default_factory=ActivitiesWorkflow)
    roles: RolesWorkflow = Field(default_factory=RolesWorkflow)
    assets: AssetsWorkflow = Field(default_factory=AssetsWorkflow)
    workers: WorkersWorkflow = Field(default_factory=WorkersWorkflow)

    def get(self, workflow: WorkflowName) -> Workflow:
        section: Workflow = getattr(self, workflow)
        return section


class Timesheets(_Section):
    """How approved Assignar time is posted to Intacct. Defaults are the values PRODUCT.md shows."""

    week_start: Weekday = "sunday"  # must match Intacct's "week begins on"
    state: Literal["Draft", "Submitted"] = "Submitted"
    labor_cost_type: str = "LAB"
    time_type: str = ""  # empty: Intacct's default time type
    equipment_mode: Literal["purchasing", "timesheet", "off"] = "purchasing"
    equipment_cost_type: str = "EQP"
    equipment_transaction: str = "Equipment Usage"
    equipment_vendor: str = "V-INTERNAL"
    # Fixed dimension values for every entry; None: DEPARTMENTID is not sent, LOCATIONID is the entity.
    department_id: str | None = Field(default=None, min_length=1)
    location_id: str | None = Field(default=None, min_length=1)
    # After Intacct's answer to a write is lost, how long it may still be running it: Intacct's reference §6.1
    # says a synchronous request can run up to 15 minutes after the caller gives up, and its duplicate check
    # covers only writes that completed. A write not found is re-sent only after this, so it is never shorter
    # than those 15 minutes (tests shorten it on the push service itself, with emulated Intacct's late commits).
    doubt_window_seconds: int = Field(default=900, ge=900, le=24 * 3600, strict=True)
    # How long a push worker holds a timesheet without news (each write renews it); a crashed worker's
    # timesheets wait this long. At least a minute, so a worker is rarely overtaken mid-write (one overtaken
    # is fenced off before its next write, and its write in flight is waited for as a lost answer).
    lease_seconds: int = Field(default=300, ge=60, le=3600, strict=True)
    # The approval watcher (the scheduled sweep) reads only the approved timesheets Assignar changed since its last
    # run began, less this overlap: room for a difference between Assignar's clock and ours, and for a change
    # Assignar stamps before it becomes visible to a list.
    sweep_overlap_seconds: int = Field(default=120, ge=0, le=3600, strict=True)
    # At least this often it reads every approved, unprocessed timesheet instead (a full pass), catching whatever
    # an incremental look missed and measuring the oldest approval not yet in Intacct.
    full_sweep_minutes: int = Field(default=15, ge=1, le=24 * 60, strict=True)

    @property
    def sweep_overlap(self) -> timedelta:
        return timedelta(seconds=self.sweep_overlap_seconds)

    @property
    def full_sweep_every(self) -> timedelta:
        return timedelta(minutes=self.full_sweep_minutes)


class Webhook(_Section):
    """How the receiver authenticates Assignar's timesheet deliveries (docs/assignar-webhook.md)."""

    signature_header: str = Field(default="X-Assignar-Signature", min_length=1, pattern=r"^[A-Za-z0-9-]+$")
    timestamp_header: str = Field(default="X-Assignar-Timestamp", min_length=1, pattern=r"^[A-Za-z0-9-]+$")
    # Only for a sender that cannot timestamp: a captured delivery could then be replayed (at most one extra read).
    allow_missing_timestamp: bool = Field(default=False, strict=True)
    # How far a delivery's timestamp may be from the receiver's clock before it is refused as stale.
    max_age_seconds: int = Field(default=300, ge=30, le=3600, strict=True)


class SmartEvents(_Section):
    """How the Smart Event receiver judges a notice from Intacct (`smart_events.py`, DEPLOY.md "Smart Events")."""

    # A notice whose record was last modified longer ago than this is refused as stale (a replay, or a callout
    # Intacct retried long after the change): the scheduled pull reads that record anyway.
    max_age_minutes: int = Field(default=15, ge=1, le=24 * 60, strict=True)


class TenantConfig(_Section):
    # Intacct timestamps carry no zone: this must be the Intacct company's own time zone (UTC only fits a
    # company set to UTC), or incremental pulls read the wrong window.
    timezone: str = "UTC"
    lookback_minutes: int = Field(default=120, ge=0, strict=True)
    workflows: Workflows = Field(default_factory=Workflows)
    timesheets: Timesheets = Field(default_factory=Timesheets)
    webhook: Webhook = Field(default_factory=Webhook)
    smart_events: SmartEvents = Field(default_factory=SmartEvents)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {name!r} (e.g. America/Denver)") from exc
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def lookback(self) -> timedelta:
        return timedelta(minutes=self.lookback_minutes)

    def enabled(self, workflow: WorkflowName) -> bool:
        return self.workflows.get(workflow).enabled

    def missing(self, workflow: WorkflowName) -> list[str]:
        """Dotted keys this workflow needs but the document lacks; the workflow cannot run until they are set."""
        if workflow == "work_orders" and self.workflows.work_orders.owner_user_id is None:
            return ["workflows.work_orders.owner_user_id"]
        return []

    def cannot_run(self, workflow: WorkflowName) -> str | None:
        """Why an enabled workflow cannot run, in the words every command uses (`sync`, the puller, `check`); None
        when it can."""
        missing = self.missing(workflow)
        return f"set {', '.join(missing)} in the configuration" if missing else None


def parse_config(document: Mapping[str, Any], source: str = "configuration") -> TenantConfig:
    """Validate a parsed document; every problem is reported at once, each naming its dotted key."""
    try:
        return TenantConfig.model_validate(dict(document))
    except ValidationError as exc:
        raise ConfigError(source, [_problem(error) for error in exc.errors()]) from None


def parse_config_json(text: str, source: str) -> TenantConfig:
    """The document in its one-line JSON form (the stack's `TenantConfig`, a `.json` file), validated the same way."""
    try:
        document = json.loads(text, object_pairs_hook=_refuse_repeated_keys)
    except json.JSONDecodeError as exc:
        raise ConfigError(source, [f"not valid JSON: {exc}"]) from None
    except _RepeatedKeyError as exc:
        # TOML refuses a key given twice; JSON would keep the last one and silently drop the other.
        raise ConfigError(source, [str(exc)]) from None
    if not isinstance(document, dict):
        raise ConfigError(source, [f"must be a JSON object ({{...}}), not {_given(document)}"])
    return parse_config(document, source)


def load_config(path: Path | None = None) -> TenantConfig:
    """The tenant document from `path` (JSON when it ends in `.json`, else TOML); None: `intacct-assignar.toml` in
    the working folder, else all defaults."""
    if path is None:
        default = Path.cwd() / DEFAULT_CONFIG_FILE
        if not default.is_file():
            return TenantConfig()
        path = default
    form = "JSON" if path.suffix.lower() == ".json" else "TOML"
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), ["no such file"]) from None
    except IsADirectoryError:
        raise ConfigError(str(path), [f"is a folder, not a {form} file"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot be read: {exc.strerror or exc}"]) from None
    try:
        # Both forms are UTF-8 by definition; a file saved as Latin-1 or UTF-16 lands here. An editor's byte-order
        # mark is tolerated on JSON (TOML forbids one).
        text = content.decode("utf-8-sig" if form == "JSON" else "utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"is not UTF-8 text (byte {exc.start}): save it as UTF-8"]) from None
    if form == "JSON":
        return parse_config_json(text, str(path))
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return parse_config(document, str(path))


def stack_parameter(config: TenantConfig, source: str = "configuration") -> str:
    """The document as the stack's `TenantConfig` parameter: one line of JSON holding the keys the document sets
    (the rest keep their defaults, as in the file), to paste between the single quotes of samconfig.toml's
    TenantConfig line (DEPLOY.md).

    Refused (ConfigError) when it could not be passed that way: SAM ends a single-quoted value at a `'` and turns a
    backslash-quote into a bare quote, and TOML reads the backslashes in that line itself, so no string may hold a
    `'` or anything JSON writes with a backslash (`"`, a backslash, a control character); and CloudFormation
    refuses a value longer than the template's MaxLength.
    """
    document = config.model_dump(mode="json", exclude_unset=True)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    problems = []
    for key, value in _strings(document):
        written = json.dumps(value, ensure_ascii=False)
        if "'" in value or "\\" in written:
            problems.append(
                f"{key}: {written} holds a quote, backslash or control character, which samconfig.toml cannot pass "
                "in the single-quoted TenantConfig"
            )
    if len(text) > STACK_PARAMETER_MAX_LENGTH:
        problems.append(
            f"the one-line JSON is {len(text)} characters; the stack's TenantConfig takes at most "
            f"{STACK_PARAMETER_MAX_LENGTH} (leave out keys that repeat a default)"
        )
    if problems:
        raise ConfigError(source, problems)
    return text


def _strings(value: object, key: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a dumped document, keys of mappings included, with the dotted key holding it."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            dotted = f"{key}.{name}" if key else name
            yield dotted, name
            yield from _strings(item, dotted)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{key}[{index}]")


class _RepeatedKeyError(ValueError):
    pass


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise _RepeatedKeyError(f"{name}: given twice in one object")
        document[name] = value
    return document


def _problem(error: ErrorDetails) -> str:
    key = _dotted(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        nearest = _nearest_key(error["loc"])
        return f"{key}: unknown key; did you mean {nearest}?" if nearest else f"{key}: unknown key"
    if kind == "missing":
        return f"{key}: required"
    if kind == "literal_error":
        expected = str(error.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"{key}: must be {expected}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{key}: expected true or false, got {_given(error['input'])}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{key}: expected a whole number, got {_given(error['input'])}"
    # pydantic's "Input should be ..." / "String should have ..." read better as "must ...", beside the key.
    message = re.sub(r"^\w+ should ", "must ", error["msg"].removeprefix("Value error, "))
    return f"{key}: {message}" if key else message


def _nearest_key(loc: tuple[int | str, ...]) -> str | None:
    """The valid key of the same section closest to the unknown one at `loc`, when one is close enough."""
    section: type[BaseModel] = TenantConfig
    for part in loc[:-1]:
        field = section.model_fields.get(part) if isinstance(part, str) else None
        inner = field.annotation if field is not None else None
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return None  # not inside a section (a mapping's own keys are free)
        section = inner
    valid = [name for key, field in section.model_fields.items() for name in (key, field.alias) if name]
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
    return close[0] if close else None


def _given(value: object) -> str:
    """What a document held where something else belongs, as its writer would recognise it."""
    if isinstance(value, str):
        return f"the string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    """`("workflows", "workers", "departments", 1)` -> `workflows.workers.departments[1]`."""
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else part
    return key
