"""The `intacct-assignar` command line.

Exit codes: 0 success; 1 the run finished but something did not end where it should (details printed);
2 bad usage, settings, credentials or configuration (the key named). Expected failures are a sentence or two
(`problems.explain`); `--debug` adds the traceback.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import tempfile
import traceback
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import asdict
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup
from typer.exceptions import TyperException
from typer.main import get_command_name
from typer.models import CommandInfo

from .assignar import AssignarClient
from .check import run_checks
from .cli_progress import live_push, live_sync
from .config import WORKFLOWS, TenantConfig, load_config
from .inbound.parking import StoreParking
from .inbound.pull import PullService
from .inbound.sync import InProcessQueue, SyncSummary, WorkflowSummary, run_sync
from .inbound.upsert import UpsertService
from .intacct import IntacctClient
from .outbound.documents import render
from .outbound.push import PushService
from .outbound.results import PushResult
from .outbound.run import PushSummary, push_timesheets
from .outbound.sweep import SweepService
from .problems import explain, settings_keys
from .run_entries import RunMeter, push_recorded, sync_recorded
from .runs import RunLog, RunLogs
from .settings import AssignarSettings, IntacctSettings
from .state import StateRunLog, StateSchemaError, StateStore, open_state

DEFAULT_STATE = "intacct-assignar.db"

logger = logging.getLogger(__name__)

console = Console()
# Messages are not wrapped at the terminal's width: a sentence with a setting's name stays whole for copy and grep.
errors = Console(stderr=True, soft_wrap=True)


class _ErrorBoundary(TyperGroup):
    """Every command's expected failures end here as a sentence or two and an exit status, not a traceback."""

    # `ctx` is Typer's vendored click Context, which Typer does not export under a public name.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # usage errors and exits speak for themselves
            raise
        except Exception as exc:
            problem = explain(exc)
            if _debugging(ctx):
                errors.print("".join(traceback.format_exception(exc)), markup=False, highlight=False)
            errors.print(f"[red]error:[/red] {escape(problem.message)}", highlight=False)
            raise typer.Exit(problem.exit_code) from None


def _debugging(ctx: Any) -> bool:
    return bool(isinstance(ctx.obj, dict) and ctx.obj.get("debug"))


class _OneLine(logging.Handler):
    """The product's log lines on stderr, one each; their tracebacks only with --debug."""

    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

    def __init__(self, debug: bool) -> None:
        super().__init__(logging.DEBUG if debug else logging.WARNING)
        self.debug = debug

    def emit(self, record: logging.LogRecord) -> None:
        try:
            extras = {k: v for k, v in record.__dict__.items() if k not in self._STANDARD and not k.startswith("_")}
            line = record.getMessage() + (f" ({', '.join(f'{k}={v}' for k, v in extras.items())})" if extras else "")
            errors.print(f"[dim]{record.levelname.lower()}:[/dim] {escape(line)}", highlight=False)
            if self.debug and record.exc_info:
                errors.print("".join(traceback.format_exception(*record.exc_info)), markup=False, highlight=False)
        except Exception:  # a log line must never be what stops a run
            self.handleError(record)


def _configure_logging(debug: bool) -> None:
    """--debug is for the product's lines: the libraries' (botocore's hold secrets) stay at WARNING and above."""
    from . import observability

    package = logging.getLogger("intacct_assignar")
    for handler in [h for h in package.handlers if isinstance(h, _OneLine)]:
        package.removeHandler(handler)
    package.addHandler(_OneLine(debug))
    package.setLevel(logging.DEBUG if debug else logging.WARNING)
    observability.pin_library_loggers()


app = typer.Typer(
    name="intacct-assignar",
    help="Sage Intacct <-> Assignar integration: run it, preview it, repair it.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    cls=_ErrorBoundary,
)


ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Tenant document (TOML). Default: intacct-assignar.toml here, if present."),
]
StateOption = Annotated[
    str | None, typer.Option("--state", help=f"State store: a SQLite file (default {DEFAULT_STATE}).")
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks and the product's debug log lines.")]


def apply_debug(ctx: typer.Context, debug: bool) -> None:
    """--debug given after the subcommand counts as much as before it."""
    if debug:
        ctx.obj["debug"] = True
        _configure_logging(True)


@app.callback()
def main_options(
    ctx: typer.Context, config: ConfigOption = None, state: StateOption = None, debug: DebugOption = False
) -> None:
    """Sage Intacct <-> Assignar integration: run it, preview it, repair it.

    Connection settings come from the environment (or a .env file): INTACCT_SENDER_ID, INTACCT_SENDER_PASSWORD,
    INTACCT_COMPANY_ID, INTACCT_USER_ID, INTACCT_USER_PASSWORD, optional INTACCT_ENTITY_ID and
    INTACCT_ENDPOINT_URL; ASSIGNAR_CLIENT_ID, ASSIGNAR_CLIENT_SECRET, optional ASSIGNAR_API_URL, ASSIGNAR_TOKEN_URL.
    """
    ctx.obj = {"config": config, "state": state, "debug": debug}
    _configure_logging(debug)


def _tenant(ctx: typer.Context, config: Path | None) -> TenantConfig:
    # A ConfigError names every key to fix; the error boundary says so and exits 2.
    return load_config(config or ctx.obj.get("config"))


def _settings() -> tuple[IntacctSettings, AssignarSettings]:
    """Both connections' settings, every missing or bad one named at once."""
    names: set[str] = set()
    intacct = assignar = None
    try:
        intacct = IntacctSettings()
    except ValidationError as exc:
        names.update(settings_keys(exc))
    try:
        assignar = AssignarSettings()
    except ValidationError as exc:
        names.update(settings_keys(exc))
    if intacct is None or assignar is None:
        errors.print(f"[red]missing or invalid settings:[/red] {', '.join(sorted(names))} (environment or .env)")
        raise typer.Exit(2)
    return intacct, assignar


@app.command(
    epilog=(
        "Examples:\n\n  intacct-assignar sync --dry-run\n\n  intacct-assignar sync --entity workers --json\n\n"
        "  intacct-assignar sync --full --config tenant.toml --state state.db"
    )
)
def sync(
    ctx: typer.Context,
    entity: Annotated[
        list[str] | None,
        typer.Option("--entity", help=f"Workflow to sync (repeatable): {', '.join(WORKFLOWS)}. Default: all."),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Read everything, not just what changed.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the plan (creates, updates with diffs, deactivations); write nothing."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable summary only.")] = False,
    config: ConfigOption = None,
    state: StateOption = None,
    debug: DebugOption = False,
) -> None:
    """Sync Intacct master data into Assignar now. Exit status 1 when any workflow or record failed."""
    apply_debug(ctx, debug)
    workflows = entity or list(WORKFLOWS)
    unknown = sorted(set(workflows) - set(WORKFLOWS))
    if unknown:
        errors.print(f"[red]unknown workflow {', '.join(unknown)}[/red]; choose from {', '.join(WORKFLOWS)}")
        raise typer.Exit(2)
    tenant = _tenant(ctx, config)
    intacct_settings, assignar_settings = _settings()
    # Nothing in a sync writes state before its records are applied, and a dry run applies none.
    with _store(ctx, state, dry_run) as store:
        intacct = IntacctClient(intacct_settings, timezone=tenant.zone)
        assignar = AssignarClient(assignar_settings, requests_per_second=assignar_settings.requests_per_second or None)
        pull = PullService(intacct, store, InProcessQueue(), tenant)
        upsert = UpsertService(assignar, store, tenant, dry_run=dry_run)
        meter = RunMeter(intacct=intacct.counters, assignar=assignar.calls)
        with live_sync(console, quiet=as_json) as progress:
            # What does not go through is kept, with its reason, for `parked list` and `parked replay`.
            run = partial(
                run_sync,
                pull,
                upsert,
                workflows=workflows,
                full=full,
                progress=progress,
                parking=StoreParking(store),
            )
            summary = sync_recorded(_run_log(store, dry_run), meter, workflows, run)
    if as_json:
        print(json.dumps(_summary_json(summary, intacct, assignar, dry_run), indent=2, default=str))
    else:
        _print_sync(summary, dry_run)
    raise typer.Exit(0 if summary.ok else 1)


@contextmanager
def _store(ctx: typer.Context, state: str | None, dry_run: bool) -> Iterator[StateStore]:
    location = state or ctx.obj.get("state") or DEFAULT_STATE
    with tempfile.TemporaryDirectory(prefix="intacct-assignar-dry-run-") as scratch:
        if dry_run and "://" not in location:
            # A preview reads a copy: even opening the SQLite file would touch it (or create it).
            copy = Path(scratch) / "state.db"
            if Path(location).is_file():
                # SQLite's own copy, so writes still in the WAL (another run's, or a crashed one's) are in it.
                try:
                    with closing(sqlite3.connect(location)) as source, closing(sqlite3.connect(copy)) as target:
                        source.backup(target)
                except sqlite3.DatabaseError as exc:
                    raise StateSchemaError(
                        f"{location} is not an intacct-assignar state file ({exc}); give --state a .db path"
                    ) from exc
            location = str(copy)
        with open_state(location) as store:
            yield store


def _run_log(store: StateStore, dry_run: bool) -> RunLog:
    """The run history in the state store; a dry run leaves none (it is a preview, run on a copy)."""
    return RunLogs() if dry_run else RunLogs(StateRunLog(store))


def _summary_json(
    summary: SyncSummary, intacct: IntacctClient, assignar: AssignarClient, dry_run: bool
) -> dict[str, object]:
    return {
        "dry_run": dry_run,
        "ok": summary.ok,
        "workflows": {name: counts.as_dict() for name, counts in summary.workflows.items()},
        "deletions": {
            "outcome": "failed" if summary.deletions else "ok",
            "error": summary.deletions.as_dict() if summary.deletions else None,
        },
        "missing_fields": summary.missing_fields,
        "failures": [asdict(f) for f in summary.failures],
        "plan": [asdict(result) for result in summary.plan],
        "api_calls": {
            "intacct_transactions": intacct.counters.api_transactions,
            "intacct_lookups": intacct.counters.by_function.get("lookup", 0),
            "assignar_calls": assignar.calls.total,
        },
    }


def workflow_table(title: str, workflows: Mapping[str, WorkflowSummary], caption: str | None = None) -> Table:
    """One row per workflow: what `sync` and the demo report alike."""
    table = Table(title=title, title_justify="left", caption=caption)
    # "skipped" only when something was: the table then fits an 80-column terminal.
    skipped = any(counts.skipped for counts in workflows.values())
    columns = ["workflow", "fetched", "created", "updated", "unchanged", "deactivated"]
    columns += ["skipped", "failed"] if skipped else ["failed"]
    for column in columns:
        table.add_column(column, justify="left" if column == "workflow" else "right", no_wrap=True)
    for name, counts in workflows.items():
        if counts.error is not None:
            table.add_row(name, "[red]failed: see below[/red]")
            continue
        if counts.not_run:
            table.add_row(name, f"[yellow]not run: {escape(counts.not_run)}[/yellow]")
            continue
        row = [counts.fetched, counts.created, counts.updated, counts.unchanged, counts.deactivated]
        row += [counts.skipped, counts.failed] if skipped else [counts.failed]
        table.add_row(name, *(str(n) for n in row))
    return table


def _print_sync(summary: SyncSummary, dry_run: bool) -> None:
    console.print(workflow_table("Plan (dry run: nothing written)" if dry_run else "Sync", summary.workflows))
    if dry_run:
        for result in summary.plan:
            console.print(f"[bold]{result.action}[/bold] {result.workflow} {result.source_id or result.integration_id}")
            for name, (before, after) in result.changes.items():
                console.print(f"    {name}: {before!r} -> {after!r}")
    if summary.missing_fields:
        console.print("Intacct does not offer these fields to this integration; records synced without them:")
        for name in summary.missing_fields:
            console.print(f"    {escape(name)}")
    for name, counts in summary.workflows.items():
        if counts.error is not None:
            errors.print(f"[red]{name} failed:[/red] {escape(counts.error.message)}", highlight=False)
    if summary.deletions is not None:
        errors.print(
            f"[red]deleted records were not looked for:[/red] {escape(summary.deletions.message)}", highlight=False
        )
    for failure in summary.failures:
        errors.print(f"[red]failed[/red] {failure.workflow} {escape(failure.record)}: {escape(failure.reason)}")


config_app = typer.Typer(name="config", help="The tenant document, as the stack takes it.", no_args_is_help=True)
app.add_typer(config_app)


@config_app.command(
    "to-json",
    epilog=(
        "Examples:\n\n  intacct-assignar config to-json tenant.toml\n\n"
        "  In samconfig.toml's parameter_overrides (DEPLOY.md):\n\n"
        '''    """TenantConfig='<the printed line>'""",'''
    ),
)
def config_to_json(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The tenant document: TOML, or JSON when it ends in .json.")
    ],
    debug: DebugOption = False,
) -> None:
    """Print the tenant document, validated, as one line of JSON: the stack's TenantConfig parameter.

    Paste it between the single quotes of the TenantConfig line in samconfig.toml's parameter_overrides.

    Exit status 2, every problem named, when the document is invalid or could not be passed that way.
    """
    from .config import stack_parameter

    apply_debug(ctx, debug)
    print(stack_parameter(load_config(file), str(file)))


@app.command(
    "push-timesheets",
    epilog=(
        "Examples:\n\n  intacct-assignar push-timesheets --dry-run\n\n"
        "  intacct-assignar push-timesheets --timesheet-id 8123 --timesheet-id 8124 --json"
    ),
)
def push_timesheets_command(
    ctx: typer.Context,
    timesheet_id: Annotated[
        list[int] | None,
        typer.Option(
            "--timesheet-id",
            min=1,
            help="Assignar timesheet to post (repeatable); retried even if parked. Default: every approved, "
            "unprocessed timesheet.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the Intacct documents that would be created; write nothing.")
    ] = False,
    not_in_intacct: Annotated[
        bool,
        typer.Option(
            "--not-in-intacct",
            help="With one --timesheet-id: you looked in Intacct for the document its parked reason names and "
            "found none; send it again.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable summary only.")] = False,
    config: ConfigOption = None,
    state: StateOption = None,
    debug: DebugOption = False,
) -> None:
    """Post approved Assignar timesheets to Intacct now. Exit status 1 when any was parked or failed."""
    apply_debug(ctx, debug)
    if not_in_intacct and len(timesheet_id or ()) != 1:
        raise typer.BadParameter(
            "name exactly one --timesheet-id: it is your word about that timesheet", ctx, None, "--not-in-intacct"
        )
    tenant = _tenant(ctx, config)
    intacct_settings, assignar_settings = _settings()
    with _store(ctx, state, dry_run) as store:
        intacct = IntacctClient(intacct_settings, timezone=tenant.zone)
        meter = RunMeter(intacct=intacct.counters)
        # Refused credentials stop the command here, rather than failing every timesheet the same way.
        intacct.connect()
        assignar = AssignarClient(assignar_settings, requests_per_second=assignar_settings.requests_per_second or None)
        meter.watch(assignar=assignar.calls)
        push = PushService(assignar, intacct, store, tenant)
        sweep = SweepService(assignar, store, _NoQueue())
        log = _run_log(store, dry_run)
        with live_push(console, quiet=as_json) as live:

            def show(result: PushResult) -> None:
                _show_push(result)
                if live is not None:
                    live.done_one()

            run = partial(
                push_timesheets,
                push,
                sweep,
                timesheet_id or (),
                dry_run=dry_run,
                progress=None if as_json else show,
                planned=live.planned if live is not None else None,
                confirmed_absent=not_in_intacct,
            )
            summary = push_recorded(log, meter, run)
    if as_json:
        document = {"dry_run": dry_run, **summary.as_dict()}
        document["api_calls"] = {
            "intacct_transactions": intacct.counters.api_transactions,
            "assignar_calls": assignar.calls.total,
        }
        print(json.dumps(document, indent=2, default=str))
    else:
        _print_push(summary, dry_run)
    raise typer.Exit(0 if summary.ok else 1)


class _NoQueue:
    """The CLI posts in-process; its sweep only lists what is pending."""

    def publish(self, messages: object) -> None:
        raise RuntimeError("push-timesheets posts in-process and queues nothing")


_OUTCOME_STYLE = {
    "posted": "green",
    "already_posted": "dim",
    "parked": "yellow",
    "failed": "red",
    "skipped": "dim",
    "dry_run": "cyan",
}


def _show_push(result: PushResult) -> None:
    style = _OUTCOME_STYLE[result.outcome]
    outcome = result.outcome.replace("_", " ")
    keys = ", ".join(f"{name} {value}" for name, value in result.intacct_keys.items())
    line = f"timesheet {result.timesheet_id}: [{style}]{outcome}[/{style}]"
    if keys:
        line += f" (Intacct {keys})"
    if result.reason:
        line += f" - {escape(result.reason)}"
    console.log(line)


def _print_push(summary: PushSummary, dry_run: bool) -> None:
    if dry_run:
        for result in summary.results:
            console.rule(f"Assignar timesheet {result.timesheet_id}")
            if result.reason:
                console.print(result.reason, markup=False)
            for name, fields in (result.documents or {}).items():
                console.print(render(name, fields), markup=False, highlight=False)
            for problem in result.problems:
                console.print(f"[yellow]would be parked:[/yellow] {escape(problem)}")
        console.print("[bold]Dry run: nothing was written.[/bold]")
    counts = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in summary.counts.items() if count)
    console.print(f"Timesheets: {counts or 'none pending'}")
    for result in summary.results:
        if result.outcome in ("parked", "failed") and not dry_run:
            errors.print(f"[red]{result.outcome}[/red] timesheet {result.timesheet_id}: {escape(result.reason or '')}")


@app.command(
    epilog=(
        "Examples:\n\n  intacct-assignar check\n\n  intacct-assignar check --offline --config tenant.toml\n\n"
        "  intacct-assignar check --json"
    )
)
def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable report only.")] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Check the tenant document and the settings only; call nothing.")
    ] = False,
    config: ConfigOption = None,
    debug: DebugOption = False,
) -> None:
    """Check that the tenant is ready: the tenant document, the settings, then what Intacct and Assignar hold.

    Run it before the first sync and before deploying. Exit status 0 when ready, 1 when something must be fixed.
    """
    apply_debug(ctx, debug)
    report = run_checks(config or ctx.obj.get("config"), offline=offline)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        for line in report.lines():
            console.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(report.exit_code)


COMMANDS_GROUP = "intacct_assignar.commands"
"""Entry points in this group add commands to the CLI: each names a `typer.Typer` whose commands join ours. The
development package offers `demo` and `emulate` this way (pyproject.toml), so the product never imports it, and an
install without it runs every product command all the same."""


def app_with_plugins() -> typer.Typer:
    """The CLI with the commands that installed packages offer in `COMMANDS_GROUP`. A plugin that does not load is
    left out with one log line (at debug when it is simply not installed), never the product's own commands, and
    none replaces one of ours. Calling it again adds nothing twice."""
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda each: each.name):
        present = {_command_name(info) for info in app.registered_commands}
        if entry.name in present:
            continue
        try:
            offered = entry.load()
        except Exception as exc:  # whatever a plugin raises, the product's commands still run
            level = logging.DEBUG if isinstance(exc, ImportError) else logging.WARNING
            logger.log(level, "command %s left out: %s did not load (%s)", entry.name, entry.value, exc)
            continue
        if not isinstance(offered, typer.Typer):
            logger.warning("command %s left out: %s is not a typer.Typer", entry.name, entry.value)
            continue
        app.registered_commands += [info for info in offered.registered_commands if _command_name(info) not in present]
    return app


def _command_name(info: CommandInfo) -> str | None:
    """The name a command is invoked by: its own, else its function's as Typer derives it."""
    if info.name or info.callback is None:
        return info.name
    return get_command_name(info.callback.__name__)


def main() -> None:
    app_with_plugins()()


# `parked list|replay` lives in a module of its own, which uses this one's options: added last, once they exist.
from .cli_parked import parked_app  # noqa: E402

app.add_typer(parked_app)

from .cli_status import status as _status  # noqa: E402 - its own module; it shares this one's options

app.command(
    "status",
    epilog="Examples:\n\n  intacct-assignar status\n\n  intacct-assignar status --json --state dynamodb://acme-state",
)(_status)

from .cli_reconcile import reconcile  # noqa: E402 - it builds on the options and helpers above

app.add_typer(reconcile)

from .cli_smart_events import smart_events_app  # noqa: E402 - it builds on the options and helpers above

app.add_typer(smart_events_app)
