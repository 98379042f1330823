"""`intacct-assignar status [--json]`: what ran, how it ended and what waits for a person (`status.StatusReport`).

Registered at the end of `cli.py`, whose options and consoles it shares (imported at the end of this module).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from .cli_stack import StackOption, open_target
from .config import load_config
from .state import StateLocationError
from .status import StatusReport, WorkflowStatus, build_status

_STANDING_STYLE = {
    "ok": "green",
    "parked": "yellow",
    "failed": "red",
    "not_run": "red",
    "never_ran": "yellow",
    "disabled": "dim",
}


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable report only.")] = False,
    config: ConfigOption = None,
    state: StateOption = None,
    stack: StackOption = None,
    debug: DebugOption = False,
) -> None:
    """What ran and how it ended, per workflow; time posted, parked and in doubt; every parked item with its reason.

    Reads the state store (and, with --stack, the stack's dead-letter queues) only: no Intacct or Assignar
    credentials needed. --stack NAME or --state dynamodb://TABLE for a deployed tenant.
    Exit status 0 when every enabled workflow's last run went through and nothing is parked, 1 otherwise.
    """
    apply_debug(ctx, debug)
    tenant = load_config(config or ctx.obj.get("config"))
    if not stack:
        _require_existing(state or ctx.obj.get("state") or DEFAULT_STATE)
    with open_target(ctx, state, stack) as target:
        # Parked records (the state file's, or the upsert dead-letter queue's) and timesheets (the ledger's, and
        # the push dead-letter queue's), one line each: what `parked list` shows.
        report = build_status(target.store, tenant, parked=target.parked_work().list())
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print(report)
    for problem in report.problems:
        errors.print(f"[red]needs attention:[/red] {escape(problem)}", highlight=False)
    raise typer.Exit(0 if report.ok else 1)


def _require_existing(location: str) -> None:
    """A SQLite state file must be there already: opening a missing one would create an empty one and report that
    nothing ever ran, when the likelier truth is a wrong path."""
    path = location.removeprefix("sqlite://") if location.startswith("sqlite://") else location
    if "://" in path or path in ("", ":memory:", "/:memory:"):
        return  # dynamodb://, or a location open_state refuses in its own words
    if not Path(path).expanduser().is_file():
        raise StateLocationError(
            f"no state file at {path}: give --state the file sync and push-timesheets use, "
            "or dynamodb://TABLE for a deployed tenant"
        )


def age_text(seconds: int | None) -> str:
    """How long ago, as a person says it: "just now", "40 s ago", "4 min ago", "3 h ago", "2 days ago"."""
    if seconds is None:
        return "-"
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _ago(at: datetime | None, now: datetime) -> str:
    return age_text(None if at is None else max(0, int((now - at).total_seconds())))


def status_table(report: StatusReport) -> Table:
    """One row per workflow; fits a 100-column terminal."""
    table = Table(title="Status", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in ("workflow", "last run", "outcome", "read", "written", "unchanged", "parked", "watermark"):
        numeric = column in ("read", "written", "unchanged", "parked")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    for workflow in report.workflows:
        table.add_row(*_row(workflow, report.checked_at))
    return table


def _row(workflow: WorkflowStatus, now: datetime) -> list[str]:
    run = workflow.last_run
    standing = workflow.standing
    outcome = f"[{_STANDING_STYLE[standing]}]{standing.replace('_', ' ')}[/]"
    if workflow.deciding is not None and workflow.deciding is not run and not workflow.ok:
        outcome += f" [dim]({workflow.deciding.kind})[/dim]"
    watermark = _ago(workflow.watermark, now)
    if run is None:
        return [workflow.workflow, "never", outcome, "", "", "", "", watermark]
    counts = (run.read, run.written, run.unchanged, run.parked)
    return [workflow.workflow, f"{run.kind} {_ago(run.ended_at, now)}", outcome, *map(str, counts), watermark]


def _print(report: StatusReport) -> None:
    now = report.checked_at
    console.print(status_table(report))
    time = report.time
    console.print(
        f"Time: {time.posted_last_24h} posted in the last 24 h, {time.posted_last_7d} in 7 days; "
        f"{time.parked} parked; {time.being_posted} being posted; {time.in_doubt} in doubt",
        highlight=False,
    )
    if time.in_doubt:
        console.print(
            "  in doubt: Intacct's answer to a write was lost; the push looks for the document before sending again",
            highlight=False,
        )
    if time.measured_at is None:
        pending = "not measured yet"
    elif time.oldest_pending_approval is None:
        pending = f"none (measured {_ago(time.measured_at, now)})"
    else:
        pending = f"approved {_ago(time.oldest_pending_approval, now)} (measured {_ago(time.measured_at, now)})"
    console.print(f"Oldest approved timesheet not yet in Intacct: {pending}", highlight=False)
    if report.parked:
        console.print(f"Parked ({len(report.parked)}):")
        for item in report.parked:
            console.print(f"  {escape(item.kind)} {escape(item.id)}: {escape(item.reason)}", highlight=False)
    else:
        console.print("Parked: nothing")


# Last, so that either module can be imported first: `cli.py` registers `status` at its own end, and Typer reads
# the annotations above only when it builds the command line.
from .cli import DEFAULT_STATE, ConfigOption, DebugOption, StateOption, apply_debug, console, errors  # noqa: E402
