"""`intacct-assignar status [--json]` against both emulators, after real `sync` and `push-timesheets` runs: what ran
and how it ended, time posted and parked, the exit status, and a run that failed as a whole."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar_dev.emulators.assignar import EquipmentEntry, LaborEntry
from typer.testing import Result

from .tenant import Tenant, emulated_tenant

WORK_DATE = date(2026, 11, 18)


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    monkeypatch.chdir(tmp_path)  # no stray .env or intacct-assignar.toml from the repository
    with emulated_tenant(tmp_path, employees=20, seed=9) as emulated:
        yield emulated


def approve_timesheets(tenant: Tenant, count: int) -> list[dict[str, Any]]:
    """`count` approved timesheets of synced workers; returns those workers."""
    assignar = tenant.assignar
    workers = [w for w in assignar.records("users") if w.get("employee_id")][:count]
    order = next(o for o in assignar.records("orders") if o.get("active"))
    activity, asset = assignar.records("activities")[0]["id"], assignar.records("assets")[0]["id"]
    for worker in workers:
        timesheet_id = assignar.create_timesheet(
            worker_id=worker["id"],
            project_id=order["project_id"],
            work_order_id=order["id"],
            work_date=WORK_DATE,
            labor=[LaborEntry(activity, 480)],
            equipment=[EquipmentEntry(asset, 120)],
        )
        assignar.approve_timesheet(timesheet_id, notify=False)
    return workers


def status_json(tenant: Tenant) -> tuple[int, dict[str, Any], Result]:
    result = tenant.cli("status", "--json")
    return result.exit_code, json.loads(result.stdout), result


def test_after_a_sync_and_a_push_every_workflow_is_ok_and_status_exits_0(tenant: Tenant) -> None:
    # Given a sync and a push of three approved timesheets, both through
    assert tenant.run("sync")[0] == 0
    approve_timesheets(tenant, 3)
    assert tenant.run("push-timesheets")[0] == 0

    # When
    code, document, result = status_json(tenant)

    # Then every workflow's last run is the one just made, ok, with its counts
    assert code == 0, result.output
    by_name = {w["workflow"]: w for w in document["workflows"]}
    assert set(by_name) == {"clients", "projects", "work_orders", "activities", "roles", "assets", "workers"} | {
        "deletions",
        "time",
    }
    assert {w["outcome"] for w in by_name.values()} == {"ok"}
    workers = by_name["workers"]["last_run"]
    assert workers["kind"] == "sync" and workers["written"] == len(tenant.intacct.records("EMPLOYEE")) - sum(
        1 for e in tenant.intacct.records("EMPLOYEE") if e["STATUS"] != "active"
    )
    assert by_name["workers"]["watermark"] is not None  # the sync moved it, under the key its pull used
    time = by_name["time"]["last_run"]
    assert (time["kind"], time["read"], time["written"]) == ("push", 3, 3)
    assert time["intacct_transactions"] > 0 and time["assignar_calls"] > 0
    # And the sync's cost is counted once, on its first entry
    sync_costs = [w["last_run"]["intacct_transactions"] for n, w in by_name.items() if n != "time"]
    assert sync_costs[0] > 0 and sync_costs[1:] == [0] * (len(sync_costs) - 1)
    assert document["time"]["posted_last_24h"] == 3 and document["parked"] == []
    assert document["time"]["oldest_pending_approval"] is None  # no approval watcher has measured yet
    assert result.stderr == ""

    # And the human view says the same in a table, options after the subcommand too
    code, output = tenant.run("status")
    assert code == 0, output
    assert re.search(r"workers +sync (just now|\d+ s ago) +ok", output), output
    assert "3 posted in the last 24 h" in output and "Parked: nothing" in output
    assert "not measured yet" in output


def test_a_parked_timesheet_is_listed_with_its_reason_and_status_exits_1(tenant: Tenant) -> None:
    # Given a push that parked a timesheet whose worker Intacct does not know
    assert tenant.run("sync")[0] == 0
    [worker, _] = approve_timesheets(tenant, 2)
    tenant.assignar.state.update("users", worker["id"], {"employee_id": "E-GONE"})
    assert tenant.run("push-timesheets")[0] == 1

    # When
    code, document, result = status_json(tenant)

    # Then
    assert code == 1
    [parked] = document["parked"]
    assert parked["kind"] == "timesheet" and "E-GONE" in parked["reason"]
    time = next(w for w in document["workflows"] if w["workflow"] == "time")
    assert time["outcome"] == "parked" and time["last_run"]["parked"] == 1 and time["last_run"]["written"] == 1
    assert document["time"]["parked"] == 1
    # And stderr says why, one sentence per problem
    assert "needs attention: time: its last push parked 1: timesheet" in result.stderr
    assert "1 item is parked" in result.stderr


def test_a_sync_refused_as_a_whole_is_recorded_failed_with_its_sentence(tenant: Tenant) -> None:
    # Given a sync Intacct refuses (wrong password): the command exits 2
    code, output = tenant.run("sync", INTACCT_USER_PASSWORD="wrong")
    assert code == 2

    # When
    code, document, _ = status_json(tenant)

    # Then every workflow failed with the sentence the command printed
    assert code == 1
    outcomes = {w["workflow"]: (w["outcome"], (w["last_run"] or {}).get("detail")) for w in document["workflows"]}
    sentence = outcomes["workers"][1]
    assert sentence and sentence in " ".join(output.split())
    assert {o for name, (o, _) in outcomes.items() if name != "time"} == {"failed"}
    assert outcomes["time"] == ("never_ran", None)


def test_a_dry_run_leaves_no_history_and_status_without_a_state_file_exits_2(tenant: Tenant) -> None:
    assert tenant.run("sync", "--dry-run")[0] == 0
    code, output = tenant.run("status")
    assert code == 2
    assert "no state file at" in output and "--state" in output
