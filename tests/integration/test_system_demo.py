"""`intacct-assignar demo` at a small size: the whole system runs, and its JSON summary says so."""

from __future__ import annotations

import json

from intacct_assignar.cli import app_with_plugins
from typer.testing import CliRunner

app = app_with_plugins()  # with the development package's `demo`


def test_the_demo_shows_every_workflow_and_both_time_flows_working() -> None:
    result = CliRunner().invoke(app, ["demo", "--size", "30", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["ok"] is True and summary["problems"] == []
    initial, changes = summary["phases"]
    for workflow, row in initial["workflows"].items():
        assert row["created"] > 0, workflow
        assert row["failed"] == 0, workflow
    # Only the changes travel: a renamed and a new client, one worker's new number.
    written = {w: r["created"] + r["updated"] + r["deactivated"] for w, r in changes["workflows"].items()}
    assert written == {
        "clients": 2,
        "projects": 0,
        "work_orders": 0,
        "activities": 0,
        "roles": 0,
        "assets": 0,
        "workers": 1,
    }
    assert changes["assignar_calls"] < 20
    time_flow = summary["time"]
    assert time_flow["approved"] == time_flow["timesheets_posted"] == time_flow["processed_in_assignar"] >= 5
    assert time_flow["equipment_transactions"] > 0 and time_flow["parked"] == 0
    assert time_flow["by_watcher"] == 1  # approved with no webhook: the watcher's incremental look found it
    # The demo ends with the admin's view: status clean, and reconcile finds Intacct holding exactly what was approved
    status, reconcile = summary["status"], summary["reconcile"]
    assert status["ok"] is True and status["parked"] == []
    assert {row["workflow"]: row["outcome"] for row in status["workflows"]} == dict.fromkeys(
        ["clients", "projects", "work_orders", "activities", "roles", "assets", "workers", "deletions", "time"], "ok"
    )
    assert status["time"]["posted_last_24h"] == time_flow["approved"]
    assert reconcile["clean"] is True and reconcile["matched"] == time_flow["approved"]
    assert reconcile["missing_in_intacct"] == reconcile["extra_in_intacct"] == reconcile["differs"] == []


def test_the_spinner_names_each_step_before_it_runs_and_the_log_says_when_it_is_done() -> None:
    from intacct_assignar_dev.system_demo import run_system_demo

    heard: list[tuple[str, str]] = []
    report = run_system_demo(
        employees=20,
        progress=lambda line: heard.append(("done", line)),
        step=lambda line: heard.append(("doing", line)),
    )

    assert report.ok, report.problems
    said = [line for _, line in heard]
    # Each slow step is named while it runs, before the line saying it is done
    for doing, done in [
        ("initial sync: pulling workers from Intacct", "initial sync: pulled workers"),
        ("initial sync: the upsert consumer is applying the queued records to Assignar", "initial sync: upsert"),
        ("The push consumer is posting the approved timesheets to Intacct", "Push consumer posted"),
        ("The admin's view: reconciling the work week's time", "Read the stack's status"),
    ]:
        started = said.index(doing)
        finished = next(i for i, line in enumerate(said) if line.startswith(done))
        assert started < finished, (doing, done)
        assert heard[started][0] == "doing" and heard[finished][0] == "done"
