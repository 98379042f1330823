"""`intacct-assignar push-timesheets` against both emulators: dry run, a real run, JSON, parked ones, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from intacct_assignar.cli import app
from intacct_assignar.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from typer.testing import CliRunner

runner = CliRunner()
WORK_DATE = date(2026, 11, 18)


@dataclass
class Setup:
    env: dict[str, str]
    config: Path
    state: Path
    intacct: IntacctStore
    assignar: AssignarEmulator
    approved: list[int]
    first_worker: dict[str, object]

    def invoke(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--config", str(self.config), "--state", str(self.state)], env=self.env)
        return result.exit_code, result.output


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.chdir(tmp_path)
    store = IntacctStore(timezone="America/Denver")
    generate_company(store, employees=20, seed=9)
    with IntacctEmulator(store) as intacct, AssignarEmulator(seed=4) as assignar:
        owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        env = intacct.settings_env() | assignar.settings_env()
        config = tmp_path / "tenant.toml"
        config.write_text(f'timezone = "America/Denver"\n\n[workflows.work_orders]\nowner_user_id = {owner["id"]}\n')
        state = tmp_path / "state.db"
        synced = runner.invoke(app, ["sync", "--config", str(config), "--state", str(state)], env=env)
        assert synced.exit_code == 0, synced.output
        workers = [w for w in assignar.records("users") if w.get("employee_id")]
        order = next(o for o in assignar.records("orders") if o.get("active"))
        activity = assignar.records("activities")[0]["id"]
        asset = assignar.records("assets")[0]["id"]
        approved = []
        for worker in workers[:3]:
            timesheet_id = assignar.create_timesheet(
                worker_id=worker["id"],
                project_id=order["project_id"],
                work_order_id=order["id"],
                work_date=WORK_DATE,
                labor=[LaborEntry(activity, 480)],
                equipment=[EquipmentEntry(asset, 120)],
            )
            assignar.approve_timesheet(timesheet_id, notify=False)
            approved.append(timesheet_id)
        # One still awaiting approval: never posted.
        assignar.create_timesheet(worker_id=workers[4]["id"], project_id=order["project_id"], work_date=WORK_DATE)
        yield Setup(env, config, state, store, assignar, approved, workers[0])


def test_a_dry_run_prints_the_documents_and_writes_nothing(setup: Setup) -> None:
    code, output = setup.invoke("push-timesheets", "--dry-run")
    assert code == 0, output
    assert output.count("<create>") == 3 and output.count("<create_potransaction>") == 3
    assert "<EMPLOYEEID>" in output and "Dry run: nothing was written." in output
    assert setup.intacct.records("TIMESHEET") == []
    assert setup.assignar.calls("PUT", "/v2/timesheets") == 0


def test_a_run_posts_every_approved_timesheet_and_a_second_run_has_nothing_to_do(setup: Setup) -> None:
    code, output = setup.invoke("push-timesheets", "--json")
    assert code == 0, output
    summary = json.loads(output)
    assert summary["counts"]["posted"] == 3 and summary["ok"] is True
    assert len(setup.intacct.records("TIMESHEET")) == 3 and len(setup.intacct.records("PODOCUMENT")) == 3
    again = json.loads(setup.invoke("push-timesheets", "--json")[1])
    assert again["timesheets"] == [] and again["api_calls"]["intacct_transactions"] == 0


def test_a_parked_timesheet_fails_the_run_and_a_named_retry_posts_it_once_fixed(setup: Setup) -> None:
    first = setup.approved[0]
    worker_id = int(str(setup.first_worker["id"]))
    setup.assignar.state.update("users", worker_id, {"employee_id": "E-GONE"})
    code, output = setup.invoke("push-timesheets")
    assert code == 1
    assert "E-GONE" in output and "does not exist in Intacct" in output
    assert len(setup.intacct.records("TIMESHEET")) == 2
    setup.assignar.state.update("users", worker_id, {"employee_id": setup.first_worker["employee_id"]})
    code, output = setup.invoke("push-timesheets", "--timesheet-id", str(first), "--json")
    assert code == 0, output
    assert json.loads(output)["counts"]["posted"] == 1
    assert len(setup.intacct.records("TIMESHEET")) == 3
