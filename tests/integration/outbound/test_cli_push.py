"""`intacct-assignar push-timesheets` against both emulators: dry run, a real run, JSON, parked ones, timesheets
another run holds, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from intacct_assignar.cli import app
from intacct_assignar.state import SqliteStateStore
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
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


def test_a_timesheet_still_parked_fails_every_re_run_until_it_is_fixed(setup: Setup) -> None:
    # Given a run that parked a timesheet whose worker Intacct does not know
    worker_id = int(str(setup.first_worker["id"]))
    setup.assignar.state.update("users", worker_id, {"employee_id": "E-GONE"})
    assert setup.invoke("push-timesheets")[0] == 1

    # When the next scheduled run finds it unchanged (nothing fixed)
    code, output = setup.invoke("push-timesheets", "--json")

    # Then that run fails too, naming it as parked earlier, and writes nothing to Intacct
    assert code == 1, output
    summary = json.loads(output)
    assert summary["ok"] is False
    [parked] = summary["timesheets"]
    assert parked["timesheet_id"] == setup.approved[0] and parked["outcome"] == "parked" and parked["earlier"]
    assert "E-GONE" in parked["reason"]
    assert summary["api_calls"]["intacct_transactions"] == 0
    assert len(setup.intacct.records("TIMESHEET")) == 2


def test_a_timesheet_another_run_is_posting_is_skipped_and_does_not_fail_the_run(setup: Setup) -> None:
    # Given another run (a second CLI, or the push consumer) holding a live claim on one approved timesheet
    held = setup.approved[1]
    with SqliteStateStore(setup.state) as ledger:
        claim = ledger.claim_timesheet(held, "the other run's content hash", 300, datetime.now(UTC))
    assert claim is not None

    # When push-timesheets runs meanwhile
    code, output = setup.invoke("push-timesheets", "--json")

    # Then it leaves that timesheet to its holder, posts the others, and exits 0: nothing failed or was parked
    assert code == 0, output
    summary = json.loads(output)
    outcomes = {t["timesheet_id"]: (t["outcome"], t.get("reason")) for t in summary["timesheets"]}
    assert outcomes.pop(held) == ("skipped", f"being posted elsewhere (another run holds timesheet {held})")
    assert {outcome for outcome, _ in outcomes.values()} == {"posted"} and len(outcomes) == 2
    assert summary["ok"] is True and summary["counts"]["failed"] == 0
    assert len(setup.intacct.records("TIMESHEET")) == 2
    # And the holder's claim is untouched: only it may write this timesheet
    with SqliteStateStore(setup.state) as ledger:
        assert ledger.get_ledger(held) == claim


def test_not_in_intacct_is_a_persons_word_about_exactly_one_timesheet(setup: Setup) -> None:
    code, output = setup.invoke("push-timesheets", "--not-in-intacct")
    assert code == 2 and "exactly one --timesheet-id" in output
    code, output = setup.invoke(
        "push-timesheets", "--timesheet-id", str(setup.approved[0]), "--timesheet-id", "99", "--not-in-intacct"
    )
    assert code == 2 and "exactly one --timesheet-id" in output
    # Said of a timesheet with no lost write to settle, it changes nothing: it is posted as usual, once.
    code, output = setup.invoke("push-timesheets", "--timesheet-id", str(setup.approved[0]), "--not-in-intacct")
    assert code == 0, output
    assert len(setup.intacct.records("TIMESHEET")) == 1
