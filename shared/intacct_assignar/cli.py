"""The `intacct-assignar` command line.

Exit codes: 0 success; 1 the run finished but something did not end where it should (details printed);
2 bad usage or configuration.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .demo import DemoReport, run_demo

app = typer.Typer(
    name="intacct-assignar",
    help="Sage Intacct <-> Assignar integration: run it, preview it, repair it.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()
errors = Console(stderr=True)


@app.callback()
def main_options() -> None:
    """Sage Intacct <-> Assignar integration: run it, preview it, repair it."""


@app.command(epilog="Examples:\n\n  intacct-assignar demo\n\n  intacct-assignar demo --size 5000 --json > summary.json")
def demo(
    size: Annotated[int, typer.Option("--size", min=10, max=100_000, help="Employees in the seeded company.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the generated company (same seed, same company).")] = 7,
    latency_ms: Annotated[float, typer.Option("--latency-ms", min=0, help="Emulated Intacct latency per call.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable summary only.")] = False,
) -> None:
    """Run the system on this machine against a built-in Intacct emulator: no credentials needed."""
    if as_json:
        report = run_demo(employees=size, seed=seed, latency_s=latency_ms / 1000)
        print(json.dumps(report.as_dict(), indent=2))
    else:
        with console.status("Starting") as status:

            def show(message: str) -> None:
                status.update(message)
                console.log(message)

            report = run_demo(employees=size, seed=seed, latency_s=latency_ms / 1000, progress=show)
        _print_report(report)
    raise typer.Exit(0 if report.ok else 1)


def _print_report(report: DemoReport) -> None:
    company = ", ".join(f"{count} {name.lower()}" for name, count in report.company.items() if count)
    console.print(f"\n[bold]Seeded Intacct company:[/bold] {company}\n")
    table = Table(title="Intacct pulls: records read (API transactions)", title_justify="left")
    table.add_column("object", no_wrap=True)
    table.add_column("workflows", no_wrap=True)
    for run in report.runs:
        table.add_column(run.name, justify="right")
    for index, first in enumerate(report.runs[0].objects):
        cells = [f"{run.objects[index].records} ({run.objects[index].transactions})" for run in report.runs]
        table.add_row(first.object_name, ", ".join(first.workflows), *cells)
    table.add_row("AUDITHISTORY", "deletions", *(f"{r.deleted} ({r.deletion_transactions})" for r in report.runs))
    table.add_row("getAPISession", "session", *(f"({r.session_transactions})" for r in report.runs))
    table.add_section()
    table.add_row("[bold]transactions[/bold]", "", *(f"[bold]{run.transactions}[/bold]" for run in report.runs))
    console.print(table)
    console.print(f"Wall time: {report.wall_time_s:.1f}s")
    if report.ok:
        console.print("[green]Every pull read exactly what it should.[/green]")
    else:
        for problem in report.problems:
            errors.print(f"[red]problem:[/red] {problem}")


def main() -> None:
    app()
