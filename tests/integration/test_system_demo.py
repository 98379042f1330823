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
