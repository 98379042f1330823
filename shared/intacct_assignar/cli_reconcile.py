"""`intacct-assignar reconcile time`: Assignar's approved hours against Intacct's, per worker and week.

Registered by `cli.py` (load it through `intacct_assignar.cli`, which imports this module once its own options
and helpers exist). Exit status: 0 everything matched; 1 something is missing, extra or different in Intacct
(after --repair: still is); 2 bad dates, settings or an Intacct that offers no way to read its timesheets.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from .assignar import AssignarClient
from .catalog import FieldCatalog, definition_scope
from .cli import (
    ConfigOption,
    DebugOption,
    StateOption,
    _NoQueue,
    _settings,
    _tenant,
    apply_debug,
    console,
    errors,
)
from .cli_stack import StackOption, open_target
from .intacct import IntacctClient
from .outbound.claim import describe_keys
from .outbound.push import PushService
from .outbound.reconcile import (
    CannotReconcileError,
    IntacctPostedTime,
    PostNow,
    QueueForPush,
    RangeError,
    ReconcileReport,
    TimeReconciler,
    check_range,
)
from .outbound.reconcile.model import Status, TimesheetCheck, WorkerWeek, hours_text
from .outbound.reconcile.ports import Requeue
from .outbound.sweep import SweepService
from .state import StateRunLog

reconcile = typer.Typer(
    name="reconcile",
    help="Compare what Assignar approved with what Intacct holds, and repair it.",
    no_args_is_help=True,
)

_WORDS: dict[Status, str] = {
    "missing_in_intacct": "missing in Intacct",
    "extra_in_intacct": "extra in Intacct",
    "differs": "differs",
}
_STYLE = {"missing_in_intacct": "red", "extra_in_intacct": "yellow", "differs": "yellow"}


@reconcile.command(
    "time",
    epilog=(
        "Examples:\n\n  intacct-assignar reconcile time --from 2026-11-08 --to 2026-11-21\n\n"
        "  intacct-assignar reconcile time --from 2026-11-08 --to 2026-11-21 --repair --json"
    ),
)
def time_command(
    ctx: typer.Context,
    first: Annotated[str, typer.Option("--from", metavar="YYYY-MM-DD", help="First work day to compare.")],
    last: Annotated[str, typer.Option("--to", metavar="YYYY-MM-DD", help="Last work day to compare (inclusive).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable report only.")] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Post the timesheets missing in Intacct again, through the push and its ledger. Hours that differ "
            "are left for a person.",
        ),
    ] = False,
    config: ConfigOption = None,
    state: StateOption = None,
    stack: StackOption = None,
    debug: DebugOption = False,
) -> None:
    """Per worker and week, the hours Assignar approved (labor and equipment) against the hours Intacct holds from
    this integration: matched, missing in Intacct, in Intacct but not approved, different hours.

    Exit status 1 when anything is missing, extra or different (after --repair: when anything still is).
    With --stack NAME (a deployed tenant) the ledger is the stack's table and --repair puts the missing on the
    stack's push queue, where its push function posts them; Intacct and Assignar are read with the settings
    here either way.
    """
    apply_debug(ctx, debug)
    start, end = _day("--from", first), _day("--to", last)
    try:
        check_range(start, end)
    except RangeError as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    tenant = _tenant(ctx, config)
    intacct_settings, assignar_settings = _settings()
    started = datetime.now(UTC)
    with open_target(ctx, state, stack) as target:
        store = target.store
        intacct = IntacctClient(intacct_settings, timezone=tenant.zone)
        # Refused credentials stop the command here, before anything is read.
        intacct.connect()
        assignar = AssignarClient(assignar_settings, requests_per_second=assignar_settings.requests_per_second or None)
        catalog = FieldCatalog(intacct, store, scope=definition_scope(intacct.settings))
        posted = IntacctPostedTime(intacct, catalog, tenant.timesheets)
        reconciler = TimeReconciler(assignar, posted, store, tenant.timesheets)
        try:
            if as_json:
                report = reconciler.reconcile(start, end)
            else:
                with console.status("Reading approved time from Assignar and posted time from Intacct"):
                    report = reconciler.reconcile(start, end)
        except CannotReconcileError as exc:
            errors.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        if repair:
            requeue: Requeue
            if target.stack is not None:
                requeue = QueueForPush(target.stack.push_queue())
            else:
                push = PushService(assignar, intacct, store, tenant, catalog=catalog)
                requeue = PostNow(push, SweepService(assignar, store, _NoQueue()))
            reconciler.repair(report, requeue)
        # In the run history, so `status` shows when time was last reconciled and how it ended.
        StateRunLog(store).record(
            report.run_entry(
                started,
                datetime.now(UTC),
                intacct_transactions=intacct.counters.api_transactions,
                assignar_calls=assignar.calls.total,
            )
        )
    if as_json:
        document: dict[str, Any] = report.as_dict()
        document["api_calls"] = {
            "intacct_requests": intacct.counters.http_requests,
            "intacct_transactions": intacct.counters.api_transactions,
            "intacct_lookups": intacct.counters.by_function.get("lookup", 0),
            "assignar_calls": assignar.calls.total,
        }
        print(json.dumps(document, indent=2, default=str))
    else:
        _print(report, repair)
    raise typer.Exit(0 if report.clean else 1)


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.print(
            f"[red]error:[/red] {option} {escape(text)!r} is not a day: give it as YYYY-MM-DD", highlight=False
        )
        raise typer.Exit(2) from None


def _print(report: ReconcileReport, repaired: bool) -> None:
    approved = sum(1 for check in report.checks if check.approved is not None)
    counts = ", ".join(
        [f"{len(report.of('matched'))} matched"]
        + [f"{len(report.of(status))} {words}" for status, words in _WORDS.items()]
    )
    console.print(
        f"Time {report.first.isoformat()}..{report.last.isoformat()}: {approved} approved timesheets; {counts}",
        highlight=False,
        soft_wrap=True,
    )
    off = [row for row in report.workers() if not row.matched]
    if off:
        console.print(_table(off))
    for status in _WORDS:
        for check in report.of(status):
            console.print(_line(check), highlight=False, soft_wrap=True)
    for problem in report.problems:
        console.print(
            f"[red]unreadable[/red] timesheet {problem.timesheet_id}: {escape(problem.reason)}", highlight=False
        )
    for note in report.notes:
        console.print(f"[dim]note:[/dim] {escape(note)}", highlight=False, soft_wrap=True)
    for result in report.repaired:
        keys = describe_keys(result.intacct_keys)
        line = f"repair: timesheet {result.timesheet_id} {result.outcome.replace('_', ' ')}"
        line += f" (Intacct {keys})" if keys else ""
        line += f" - {result.reason}" if result.reason else ""
        console.print(escape(line), highlight=False, soft_wrap=True)
    if repaired and report.of("differs"):
        console.print(
            "Hours that differ are not repaired: an accountant changed them, and only a person knows which side is "
            "right."
        )
    if report.clean:
        console.print("[green]Intacct holds exactly the hours Assignar approved.[/green]")


def _table(rows: list[WorkerWeek]) -> Table:
    table = Table(title="Workers and weeks to look at")
    for column in (
        "worker",
        "employee",
        "week",
        "approved labor",
        "Intacct labor",
        "approved equip.",
        "Intacct equip.",
    ):
        table.add_column(column, justify="right" if "labor" in column or "equip" in column else "left")
    for row in rows:
        table.add_row(
            row.worker,
            row.employee_id or "",
            row.week.isoformat() if row.week else "",
            hours_text(row.approved_labor),
            hours_text(row.intacct_labor),
            hours_text(row.approved_equipment),
            hours_text(row.intacct_equipment),
        )
    return table


def _line(check: TimesheetCheck) -> str:
    style = _STYLE[check.status]
    who = ", ".join(part for part in (check.worker, check.employee_id) if part)
    day = check.work_date.isoformat() if check.work_date else "?"
    return (
        f"[{style}]{_WORDS[check.status]}[/{style}] timesheet {check.timesheet_id} ({escape(who)}, {day}): "
        f"{escape(check.reason)}"
    )
