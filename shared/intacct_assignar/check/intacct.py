"""The Intacct checks: the sign-in, then what the enabled workflows and the time posting will read, in two requests.

Every read is batched: one request of `lookup`s (the field discovery the pull uses, `sources.select`), one of
`query`s (read permission with the very fields selected, and each name the tenant document gives: GL groups,
departments, filter values, cost types, vendor). The equipment transaction definition is a `lookup` of PODOCUMENT
with its `docparid`, in the first request. Intacct bills each function as one API transaction; the report
says how many the check cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from ..catalog import FieldCatalog, definition_scope
from ..config import TenantConfig
from ..intacct.client import IntacctClient
from ..intacct.definitions import ObjectDefinition, parse_lookup
from ..intacct.errors import IntacctError
from ..intacct.filters import eq, in_
from ..intacct.protocol import QuerySpec, Result
from ..problems import explain
from ..sources import SOURCES, FieldsUnavailableError, IntacctSource, Selection, select
from .model import CheckResult, failed, guarded, passed

PERMISSION_FIX = "give the Web Services user permission to list {object} in Intacct (Roles or User permissions)"


class _Prefetched:
    """The catalog's `lookup`, answered from the batch already read; anything else (a related object) asks Intacct."""

    def __init__(self, intacct: IntacctClient, definitions: dict[str, ObjectDefinition]) -> None:
        self._intacct = intacct
        self._definitions = definitions

    def lookup(self, object_name: str) -> ObjectDefinition:
        known = self._definitions.get(object_name.upper())
        return known if known is not None else self._intacct.lookup(object_name)


@dataclass(frozen=True)
class _Probe:
    """One query of the batch and how to read its answer into results."""

    spec: QuerySpec
    judge: Callable[[Result], list[CheckResult]]
    check: str


def intacct_checks(intacct: IntacctClient, config: TenantConfig) -> list[CheckResult]:
    """The sign-in first: a refused one is one ✗ and the other Intacct checks are not run (they would all fail)."""
    try:
        intacct.connect()
    except IntacctError as exc:
        return [failed("Intacct sign-in", explain(exc).message, None)]
    settings = intacct.settings
    entity = f", entity {settings.entity_id}" if settings.entity_id else " (top level)"
    results = [
        passed(
            "Intacct sign-in",
            f"sender {settings.sender_id}, user {settings.user_id}, company {settings.company_id}{entity}",
        )
    ]
    sources = [source for source in SOURCES if any(config.enabled(name) for name in source.workflows)]
    selections: dict[str, Selection] = {}
    results += guarded("Intacct fields", lambda: _fields(intacct, config, sources, selections))
    probes = [*_permissions(selections), *_names(config)]
    results += guarded("Intacct records", lambda: _run(intacct, probes))
    return results


def _fields(
    intacct: IntacctClient, config: TenantConfig, sources: Sequence[IntacctSource], selections: dict[str, Selection]
) -> list[CheckResult]:
    """Each source's required fields, as the pull chooses them (`select`); fills `selections` with what it chose."""
    names = [source.object_name for source in sources]
    definitions: dict[str, ObjectDefinition] = {}
    results: list[CheckResult] = []
    # The equipment transaction definition rides in the same request: one more lookup, no more round trips.
    transaction = _transaction_lookup(config)
    answers = intacct.lookup_batch([*names, *([transaction] if transaction else [])])
    if transaction:
        results += _transaction_definition(transaction[1], answers.pop())
    for name, answer in zip(names, answers, strict=True):
        if not answer.ok:
            results.append(
                failed(f"{name} fields", explain(answer.error()).message, PERMISSION_FIX.format(object=name))
            )
            continue
        definitions[name] = parse_lookup(name, answer.raw_data)
    catalog = FieldCatalog(_Prefetched(intacct, definitions), None, scope=definition_scope(intacct.settings))
    for source in sources:
        if source.object_name not in definitions:
            continue
        check = f"{source.object_name} fields"
        try:
            selection = select(source, catalog, config)
        except FieldsUnavailableError as exc:
            what, _, fix = str(exc).partition(": ")
            results.append(failed(check, what, fix.removesuffix(", then sync again")))
            continue
        selections[source.object_name] = selection
        workflows = ", ".join(name for name in source.workflows if config.enabled(name))
        missing = f"; without optional {', '.join(selection.describe_missing())}" if selection.missing else ""
        results.append(passed(check, f"every field {workflows} needs is offered{missing}"))
    return results


TRANSACTION_KEY = "timesheets.equipment_transaction"


def _transaction_lookup(config: TenantConfig) -> tuple[str, str] | None:
    """The purchasing transaction definition equipment time is posted with (`create_potransaction`'s
    `transactiontype`), asked as `lookup` of PODOCUMENT with that `docparid`; None when equipment is not posted so.

    [guess] The reference documents `docparid` on `lookup` (§3.1) and that a definition is read back as PODOCUMENT's
    `docparid` (§5.2), but neither what Intacct answers for a definition the company lacks nor an object listing the
    definitions themselves. Taken here: Intacct refuses the lookup. A query of PODOCUMENT by DOCPARID is no
    substitute (it finds documents, and a new definition has none). To confirm: `lookup` PODOCUMENT with a
    misspelt `docparid` in a sandbox company; if Intacct answers it, this check passes every name and must read the
    definition another way.
    """
    sheets = config.timesheets
    if sheets.equipment_mode != "purchasing":
        return None
    return ("PODOCUMENT", sheets.equipment_transaction)


def _transaction_definition(definition: str, answer: Result) -> list[CheckResult]:
    check = "equipment transaction definition"
    if answer.ok:
        return [passed(check, f"purchasing transaction definition {definition!r} found")]
    return [
        failed(
            check,
            f"Intacct refused purchasing transaction definition {definition!r} ({TRANSACTION_KEY}): "
            f"{explain(answer.error()).message}",
            f"create transaction definition {definition} in Intacct's Purchasing, or name an existing one in "
            f"{TRANSACTION_KEY}",
        )
    ]


def _permissions(selections: dict[str, Selection]) -> list[_Probe]:
    """Read permission, asked with the very fields the pull will select: one record is enough."""

    def judge(name: str) -> Callable[[Result], list[CheckResult]]:
        def read(answer: Result) -> list[CheckResult]:
            if answer.ok:
                return [passed(f"{name} read permission", f"the Web Services user can list {name}")]
            return [
                failed(f"{name} read permission", explain(answer.error()).message, PERMISSION_FIX.format(object=name))
            ]

        return read

    return [
        _Probe(QuerySpec(name, selection.fields, pagesize=1), judge(name), f"{name} read permission")
        for name, selection in selections.items()
    ]


def _names(config: TenantConfig) -> list[_Probe]:
    """Every Intacct name the tenant document gives, looked for in one query each (batched with the rest)."""
    probes: list[_Probe] = []
    workflows = config.workflows
    if config.enabled("roles"):
        probes.append(_gl_group("roles", workflows.roles.gl_group))
    if config.enabled("assets"):
        probes.append(_gl_group("assets", workflows.assets.gl_group))
    workers = workflows.workers
    if config.enabled("workers"):
        if workers.departments:
            probes.append(
                _exist(
                    "department",
                    "DEPARTMENT",
                    "DEPARTMENTID",
                    workers.departments,
                    "workflows.workers.departments",
                    active=True,
                )
            )
        # Earning types, employee types and positions are named on the employees themselves (reference §4): a
        # filter value no employee carries is a typo or a value from another company.
        for label, field, values, key in (
            ("earning type", "EARNINGTYPENAME", workers.earning_types, "workflows.workers.earning_types"),
            ("employee type", "EMPLOYEETYPE", workers.employee_types, "workflows.workers.employee_types"),
            ("position", "EMPPOSITIONID", tuple(workers.position_roles), "workflows.workers.position_roles"),
        ):
            if values:
                probes.append(_exist(label, "EMPLOYEE", field, values, key, active=False))
    probes += _time(config)
    return probes


def _time(config: TenantConfig) -> list[_Probe]:
    """What posting time writes into Intacct. Not checked: the week start (Intacct's "week begins on" is not
    readable through the XML API) and the time type (its object has no documented XML name, reference §4)."""
    sheets = config.timesheets
    probes: list[_Probe] = []
    cost_types = {"timesheets.labor_cost_type": sheets.labor_cost_type}
    if sheets.equipment_mode != "off":
        cost_types["timesheets.equipment_cost_type"] = sheets.equipment_cost_type
    # Both cost types in one query: value -> the setting that names it.
    named = {cost_type: key for key, cost_type in cost_types.items() if cost_type}
    if named:
        probes.append(
            _exist(
                "cost type",
                "COSTTYPE",
                "COSTTYPEID",
                tuple(named),
                named,
                active=True,
                absent_fix='create cost type {value} on the projects\' tasks in Intacct, or set {key} = "" to post '
                "time without one",
            )
        )
    if sheets.equipment_mode == "purchasing":
        probes.append(
            _exist(
                "equipment vendor",
                "VENDOR",
                "VENDORID",
                (sheets.equipment_vendor,),
                "timesheets.equipment_vendor",
                active=True,
            )
        )
    return probes


def _gl_group(workflow: str, group: str) -> _Probe:
    check = f"{workflow} GL group"
    key = f"workflows.{workflow}.gl_group"

    def judge(answer: Result) -> list[CheckResult]:
        if not answer.ok:
            return [failed(check, explain(answer.error()).message, PERMISSION_FIX.format(object="ITEM"))]
        if answer.records:
            return [passed(check, f"items in GL group {group!r} exist")]
        return [
            failed(
                check,
                f"no item is in GL group {group!r} ({key})",
                f"put the {workflow} items in GL group {group!r} in Intacct, or name their group in {key}",
            )
        ]

    # ITEM's GL group is its name on the item (reference §4: filter equalto GLGROUP); a group no item is in is
    # what would make the workflow read nothing.
    return _Probe(QuerySpec("ITEM", ["ITEMID"], filter=eq("GLGROUP", group), pagesize=1), judge, check)


def _exist(
    label: str,
    object_name: str,
    field: str,
    values: Sequence[str],
    key: str | Mapping[str, str],
    *,
    active: bool,
    absent_fix: str | None = None,
) -> _Probe:
    """`values` of `field` exist on `object_name` (and, with `active`, at least one record of each is active).

    `key` is the setting that names them, or one per value; `absent_fix` may use `{value}` and `{key}`."""
    check = f"{label}s" if len(values) > 1 else label
    keys = {value: key if isinstance(key, str) else key[value] for value in values}
    select = [field, "STATUS"] if active else [field]

    def judge(answer: Result) -> list[CheckResult]:
        if not answer.ok:
            return [failed(check, explain(answer.error()).message, PERMISSION_FIX.format(object=object_name))]
        found: dict[str, bool] = {}
        for record in answer.records:
            value = str(record.get(field) or "")
            found[value] = found.get(value, False) or not active or record.get("STATUS") == "active"
        complete = not answer.numremaining
        results = []
        for value in values:
            setting = keys[value]
            if value not in found and complete:
                fix = (absent_fix or "create {label} {value} in Intacct, or correct {key}").format(
                    label=label, value=value, key=setting
                )
                results.append(failed(check, f"{object_name} has no {label} {value!r} ({setting})", fix))
            elif value in found and not found[value]:
                results.append(
                    failed(
                        check,
                        f"{label} {value!r} is inactive in Intacct ({setting})",
                        f"make {label} {value} active in Intacct, or name an active one in {setting}",
                    )
                )
        if not results:
            results.append(
                passed(check, f"{', '.join(repr(v) for v in values)} found" + ("" if not active else ", active"))
            )
        return results

    # Up to a full page: a value not on an incomplete page is not called missing (a filter names few values).
    return _Probe(QuerySpec(object_name, select, filter=in_(field, values)), judge, check)


def _run(intacct: IntacctClient, probes: Sequence[_Probe]) -> list[CheckResult]:
    results: list[CheckResult] = []
    for probe, answer in zip(probes, intacct.query_batch([probe.spec for probe in probes]), strict=True):
        results += guarded(probe.check, partial(probe.judge, answer))
    return results
