"""`intacct-assignar parked list|replay`: work parked for a person, listed with its reasons and replayed once the
cause is fixed (`parked.ParkedWork`), on this machine's state or a deployed tenant's (`--stack`, `--state`).

Part of the command line: `cli` adds this group to its app, so reach it through `intacct_assignar.cli`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .assignar import AssignarClient
from .cli import ConfigOption, DebugOption, StateOption, _settings, _tenant, apply_debug, console, errors
from .cli_stack import StackOption, Target, open_target
from .config import TenantConfig
from .inbound.upsert import UpsertService
from .intacct import IntacctClient
from .outbound.push import PushService
from .parked import InProcessReplay, ParkedItem, QueueReplay, Replayer, ReplayReport

parked_app = typer.Typer(
    name="parked",
    help="Work parked for a person: list it with its reasons, replay it once the cause is fixed.",
    no_args_is_help=True,
)

IdOption = Annotated[
    list[str] | None,
    typer.Option(
        "--id", help="A parked item's id as `parked list` shows it (repeatable): workers:E-0042, or timesheet 8123."
    ),
]
AllOption = Annotated[bool, typer.Option("--all", help="Every parked item.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the machine-readable result only.")]


@parked_app.command(
    "list",
    epilog=(
        "Examples:\n\n  intacct-assignar parked list\n\n"
        "  intacct-assignar parked list --stack intacct-assignar-acme --json\n\n"
        "  intacct-assignar parked list --id workers:E-0042"
    ),
)
def list_parked(
    ctx: typer.Context,
    item_id: IdOption = None,
    every: AllOption = False,
    as_json: JsonOption = False,
    stack: StackOption = None,
    config: ConfigOption = None,
    state: StateOption = None,
    debug: DebugOption = False,
) -> None:
    """List parked records and timesheets with their reasons; nothing is moved or replayed.

    Here: the records `sync` parked and the ledger's parked timesheets, in the state store.

    With --stack: the stack's two dead-letter queues, and its table's parked timesheets and records.

    Needs no Intacct or Assignar settings.
    """
    apply_debug(ctx, debug)
    wanted = _selection(item_id, every, required=False)
    with open_target(ctx, state, stack) as target:
        items = target.parked_work().list()
    if wanted is not None:
        items = [item for item in items if item.id in wanted]
    if as_json:
        print(json.dumps({"parked": [item.as_dict() for item in items]}, indent=2))
    elif not items:
        console.print("Nothing is parked.")
    else:
        console.print(_table(items))
    raise typer.Exit(0)


@parked_app.command(
    "replay",
    epilog=(
        "Examples:\n\n  intacct-assignar parked replay --id workers:E-0042\n\n"
        "  intacct-assignar parked replay --all --stack intacct-assignar-acme --json"
    ),
)
def replay_parked(
    ctx: typer.Context,
    item_id: IdOption = None,
    every: AllOption = False,
    as_json: JsonOption = False,
    stack: StackOption = None,
    config: ConfigOption = None,
    state: StateOption = None,
    debug: DebugOption = False,
) -> None:
    """Send parked work back through its normal path, after fixing what it was parked for.

    A record goes back through the upsert; a timesheet through the push, where the ledger decides (never twice).

    Here it runs in this process, with the connection settings `sync` uses (environment or .env).

    With --stack it goes on the stack's queues, and the stack's functions take it from there.

    Exit status 1 when something is still parked (each said with its reason), 2 when nothing was named.
    """
    apply_debug(ctx, debug)
    wanted = _selection(item_id, every, required=True)
    with open_target(ctx, state, stack) as target:
        report = target.parked_work().replay(_replayer(ctx, target, config), wanted)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print_replay(report, queued=target.stack is not None)
    raise typer.Exit(0 if report.ok else 1)


def _selection(ids: Sequence[str] | None, every: bool, *, required: bool) -> set[str] | None:
    """The ids asked for, or None for everything."""
    if ids and every:
        errors.print("[red]name items with --id, or take them all with --all, not both[/red]")
        raise typer.Exit(2)
    if required and not ids and not every:
        errors.print(
            "[red]name what to replay:[/red] --id ID (as `intacct-assignar parked list` shows it, repeatable) or --all"
        )
        raise typer.Exit(2)
    return set(ids) if ids else None


def _replayer(ctx: typer.Context, target: Target, config_file: Path | None) -> Replayer:
    if target.stack is not None:
        return QueueReplay(target.stack.upsert_queue(), target.stack.push_queue())
    services = _Services(_tenant(ctx, config_file), target)
    return InProcessReplay(upsert=lambda: services.upsert, push=lambda: services.push)


class _Services:
    """What an in-process replay needs, built on first use: a replay of nothing asks for no settings."""

    def __init__(self, tenant: TenantConfig, target: Target) -> None:
        self.tenant = tenant
        self.store = target.store

    @cached_property
    def assignar(self) -> AssignarClient:
        _, settings = _settings()
        return AssignarClient(settings, requests_per_second=settings.requests_per_second or None)

    @cached_property
    def upsert(self) -> UpsertService:
        return UpsertService(self.assignar, self.store, self.tenant)

    @cached_property
    def push(self) -> PushService:
        settings, _ = _settings()
        intacct = IntacctClient(settings, timezone=self.tenant.zone)
        intacct.connect()  # refused credentials stop the replay here, not once per timesheet
        return PushService(self.assignar, intacct, self.store, self.tenant)


def _table(items: Sequence[ParkedItem]) -> Table:
    table = Table(title="Parked", title_justify="left")
    for column in ("kind", "id", "parked at", "where", "reason"):
        table.add_column(column, no_wrap=column != "reason")
    for item in items:
        parked_at = item.parked_at.strftime("%Y-%m-%d %H:%M UTC") if item.parked_at else "?"
        table.add_row(item.kind, escape(item.id), parked_at, item.where, escape(item.reason))
    return table


def _print_replay(report: ReplayReport, *, queued: bool) -> None:
    if not report.results and not report.unknown:
        console.print("Nothing is parked.")
    for result in report.results:
        what = f"{result.item.kind} {escape(result.item.id)}"
        if result.outcome == "replayed":
            console.print(f"[green]replayed[/green] {what}")
        elif result.outcome == "queued":
            console.print(f"[green]queued[/green] {what}")
        else:
            errors.print(f"[red]still parked[/red] {what}: {escape(result.reason or '')}", highlight=False)
    for item_id in report.unknown:
        errors.print(f"[red]nothing is parked under[/red] {escape(item_id)} (see `intacct-assignar parked list`)")
    if queued and any(result.outcome == "queued" for result in report.results):
        console.print("The stack's functions take it from here; `parked list` shows anything parked again.")
