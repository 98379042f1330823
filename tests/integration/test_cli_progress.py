"""Live progress: drawn per workflow on a terminal while `sync` and `push-timesheets` work, never in what a pipe,
a log file or `--json` reads."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from intacct_assignar import cli
from intacct_assignar_dev.emulators.assignar import LaborEntry
from rich.console import Console

from .tenant import Tenant, emulated_tenant


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    monkeypatch.chdir(tmp_path)
    with emulated_tenant(tmp_path, seed=5) as each:
        yield each


def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The CLI's console as a terminal would have it; what it drew lands in the returned buffer."""
    screen = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=screen, force_terminal=True, width=120))
    return screen


def test_sync_on_a_terminal_shows_each_workflow_reading_and_applying(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = terminal(monkeypatch)
    code, output = tenant.run("sync")
    assert code == 0, output
    drawn = screen.getvalue()
    for shown in ("workers", "reading Intacct EMPLOYEE", "applying to Assignar", "clients", "reading Intacct CUSTOMER"):
        assert shown in drawn, shown


def test_sync_to_a_pipe_or_with_json_draws_no_progress(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    # A pipe: the console is not a terminal (CliRunner's output), so the summary is all there is
    code, output = tenant.run("sync")
    assert code == 0, output
    assert "reading Intacct" not in output and "applying to Assignar" not in output

    # --json on a terminal: the JSON alone, nothing drawn
    screen = terminal(monkeypatch)
    code, output = tenant.run("sync", "--json")
    assert code == 0, output
    json.loads(output)
    assert screen.getvalue() == ""


def test_the_negative_control_a_terminal_console_does_draw(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same check as above on a terminal without --json finds the drawing, so "nothing drawn" can fail.
    screen = terminal(monkeypatch)
    tenant.run("sync", "--entity", "clients")
    assert "reading Intacct CUSTOMER" in screen.getvalue()


def test_push_timesheets_on_a_terminal_counts_the_timesheets_it_posts(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tenant.run("sync")[0] == 0
    assignar = tenant.assignar
    order = next(o for o in assignar.records("orders") if o.get("active"))
    activity = assignar.records("activities")[0]["id"]
    for worker in [w for w in assignar.records("users") if w.get("employee_id")][:2]:
        timesheet_id = assignar.create_timesheet(
            worker_id=worker["id"],
            project_id=order["project_id"],
            work_order_id=order["id"],
            work_date=date.today() - timedelta(days=2),
            labor=[LaborEntry(activity, 480)],
        )
        assignar.approve_timesheet(timesheet_id, notify=False)
    screen = terminal(monkeypatch)

    code, output = tenant.run("push-timesheets")

    assert code == 0, output
    drawn = screen.getvalue()
    assert "posting to Intacct" in drawn and "2/2" in drawn
