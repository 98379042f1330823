"""The `demo` and `emulate` commands, which the product's CLI offers when this package is installed: pyproject.toml
names each in the entry-point group `intacct_assignar.commands` (see `intacct_assignar.cli.app_with_plugins`).

They run under the product's CLI (its options, error boundary and exit codes); what they run (the emulators, the
local stack) is imported when they run, so the product's own commands start no slower for their being here.
"""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from intacct_assignar.cli import DebugOption, apply_debug, console, errors, workflow_table
from intacct_assignar.cli_status import status_table
from intacct_assignar.problems import SETTINGS
from rich.markup import escape

if TYPE_CHECKING:
    from .system_demo import SystemDemoReport

# One Typer each, so that each entry point names exactly its command.
demo_command = typer.Typer()
emulate_command = typer.Typer()


@demo_command.command(
    "demo",
    epilog=(
        "Examples:\n\n  intacct-assignar demo\n\n  intacct-assignar demo --size 500\n\n"
        "  intacct-assignar demo --json > summary.json"
    ),
)
def demo(
    ctx: typer.Context,
    size: Annotated[int, typer.Option("--size", min=10, max=20_000, help="Employees in the seeded company.")] = 120,
    seed: Annotated[int, typer.Option(help="Seed of the generated company (same seed, same company).")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable summary only.")] = False,
    debug: DebugOption = False,
) -> None:
    """Run the whole system here: both emulators, the stack of template.yaml on local AWS (moto), the real
    Lambda handlers. No credentials. Exit status 1 when anything did not end where it should."""
    apply_debug(ctx, debug)
    try:  # what the `demo` extra adds to the product's dependencies: local AWS, and SAM's reading of the template
        import moto  # noqa: F401
        import samtranslator  # noqa: F401
    except ImportError as missing:
        errors.print(
            f"[red]error:[/red] the demo needs {escape(missing.name or str(missing))}, which the `demo` extra "
            "installs: run `make demo`, or `pip install 'intacct-assignar\\[demo]'`",
            highlight=False,
        )
        raise typer.Exit(2) from None
    from .system_demo import run_system_demo

    if as_json:
        report = run_system_demo(employees=size, seed=seed)
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        # The spinner names the step under way; each finished step leaves a log line.
        with console.status("Starting") as status:
            report = run_system_demo(employees=size, seed=seed, progress=console.log, step=status.update)
        _print_system_report(report)
    raise typer.Exit(0 if report.ok else 1)


def _print_system_report(report: SystemDemoReport) -> None:
    company = ", ".join(f"{count} {name.lower()}" for name, count in report.company.items() if count)
    console.print(f"\n[bold]Seeded Intacct company:[/bold] {company}\n")
    for phase in report.phases:
        caption = (
            f"{phase.intacct_transactions} Intacct API transactions, {phase.assignar_calls} Assignar calls, "
            f"{phase.seconds:.1f} s"
        )
        console.print(workflow_table(f"Intacct -> Assignar: {phase.name}", phase.workflows, caption))
    time_report = report.time
    console.print(
        f"[bold]Assignar -> Intacct:[/bold] {time_report.approved} approved timesheets -> "
        f"{time_report.timesheets_posted} Intacct timesheets and {time_report.equipment_transactions} equipment "
        f"transactions; {time_report.processed_in_assignar} marked processed in Assignar, {time_report.parked} "
        f"parked ({time_report.intacct_transactions} Intacct API transactions, {time_report.assignar_calls} "
        f"Assignar calls, {time_report.seconds:.1f} s)"
    )
    event = report.smart_event
    if event is not None:
        console.print(
            f"[bold]Smart Event:[/bold] {event.object_name} {event.record} hired in Intacct -> notice answered "
            f"{event.answered} -> in Assignar {event.latency_s:.2f} s after the change ({event.intacct_transactions} "
            f"Intacct API transactions, {event.assignar_calls} Assignar calls)"
        )
    if report.status is not None:
        # What `intacct-assignar status --stack NAME` shows of the demo's stack.
        console.print()
        console.print(status_table(report.status))
        time = report.status.time
        parked = ", ".join(f"{item.kind} {item.id}" for item in report.status.parked) or "nothing"
        console.print(
            f"Time: {time.posted_last_24h} posted in the last 24 h; {time.parked} parked; {time.in_doubt} in doubt. "
            f"Parked: {parked}.",
            highlight=False,
        )
    if report.reconcile is not None:
        # What `intacct-assignar reconcile time --from ... --to ... --stack NAME` finds for the work week.
        check = report.reconcile
        approved = sum(1 for each in check.checks if each.approved is not None)
        console.print(
            f"[bold]reconcile time {check.first.isoformat()}..{check.last.isoformat()}:[/bold] {approved} approved "
            f"timesheets; {len(check.of('matched'))} matched, {len(check.of('missing_in_intacct'))} missing in "
            f"Intacct, {len(check.of('extra_in_intacct'))} extra in Intacct, {len(check.of('differs'))} differ",
            highlight=False,
        )
    console.print(f"Wall time: {report.wall_time_s:.1f} s")
    if report.ok:
        console.print("[green]Every workflow and both time flows ended where they should.[/green]")
    for problem in report.problems:
        errors.print(f"[red]problem:[/red] {escape(problem)}")


class CompanyKind(StrEnum):
    """The emulated companies `emulate` can serve (Intacct companies differ: README "When the company differs")."""

    standard = "standard"
    lean = "lean"
    rich = "rich"


@emulate_command.command(
    "emulate",
    epilog=(
        "Examples:\n\n  intacct-assignar emulate\n\n  intacct-assignar emulate --company lean\n\n"
        "  intacct-assignar emulate --intacct-port 8301 --assignar-port 8302 --size 500 > emulators.env"
    ),
)
def emulate(
    ctx: typer.Context,
    intacct_port: Annotated[int, typer.Option(min=0, max=65535, help="Loopback port of the Intacct gateway.")] = 8301,
    assignar_port: Annotated[int, typer.Option(min=0, max=65535, help="Loopback port of the Assignar API.")] = 8302,
    size: Annotated[int, typer.Option("--size", min=10, max=20_000, help="Employees in the seeded company.")] = 120,
    seed: Annotated[int, typer.Option(help="Seed of the generated company (same seed, same company).")] = 7,
    company_profile: Annotated[
        CompanyKind,
        typer.Option(
            "--company",
            help="standard: every documented field; lean: without the optional ones (mobiles, addresses, dates); "
            "rich: with custom fields.",
        ),
    ] = CompanyKind.standard,
    debug: DebugOption = False,
) -> None:
    """Serve both emulators on loopback with a seeded construction company, for exploring by hand.

    Prints the settings that point the CLI at them (source them, or put them in a .env file) and a tenant
    document; then `intacct-assignar sync` and `push-timesheets` run against the emulators. Ctrl-C stops.
    """
    import signal
    import threading

    from .emulators.assignar import AssignarEmulator
    from .emulators.intacct import LEAN, RICH, STANDARD, IntacctEmulator, IntacctStore, generate_company

    apply_debug(ctx, debug)
    zone = "America/Denver"
    profile = {CompanyKind.standard: STANDARD, CompanyKind.lean: LEAN, CompanyKind.rich: RICH}[company_profile]
    store = IntacctStore(timezone=zone, profile=profile)
    company = generate_company(store, employees=size, seed=seed)
    with ExitStack() as running:
        intacct = _serve(running, "--intacct-port", intacct_port, lambda: IntacctEmulator(store, port=intacct_port))
        assignar = _serve(
            running, "--assignar-port", assignar_port, lambda: AssignarEmulator(seed=seed, port=assignar_port)
        )
        # Ctrl-C may come as soon as the settings are out (a script reads them, then stops us).
        try:
            owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
            settings = assignar.settings()
            env = intacct.settings_env() | assignar.settings_env()
            summary = ", ".join(f"{count} {name.lower()}" for name, count in company.items() if count)
            errors.print(f"[bold]Intacct[/bold] {intacct.endpoint_url}: {summary}")
            errors.print(
                f"[bold]Assignar[/bold] {settings.api_url}: empty but for the work-order owner (user {owner['id']})"
            )
            errors.print(
                "Tenant document for these emulators (save as intacct-assignar.toml):\n\n"
                f'timezone = "{zone}"\n\n[workflows.work_orders]\nowner_user_id = {owner["id"]}\n',
                markup=False,
            )
            errors.print("Then: intacct-assignar sync --dry-run    (Ctrl-C stops the emulators)")
            # Settings on stdout (to redirect into a file), last: whoever reads them finds the rest said.
            for name, value in env.items():
                print(f"export {name}='{value}'")
            sys.stdout.flush()
            # Ctrl-C stops, even when started from a shell that ignores it (a background job's SIGINT is ignored,
            # and Python then installs no handler of its own). It waits in short slices: the kernel may hand the
            # signal to a server's thread, and KeyboardInterrupt comes only when the main thread next runs.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            idle = threading.Event()
            while not idle.wait(0.25):
                pass
        except KeyboardInterrupt:
            errors.print("Stopped.")


T = TypeVar("T")


def _serve(running: ExitStack, option: str, port: int, emulator: Callable[[], AbstractContextManager[T]]) -> T:
    """An emulator serving on its port until `running` closes; a port already taken is a usage error naming
    the option to change."""
    try:
        return running.enter_context(emulator())
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        errors.print(f"[red]error:[/red] port {port} is already in use: choose another with {option} (0 picks any)")
        raise typer.Exit(SETTINGS) from None
