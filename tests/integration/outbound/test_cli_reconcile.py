"""`intacct-assignar reconcile time` against both emulators: time posted by `push-timesheets`, then one timesheet
deleted and one entry's hours changed by hand in Intacct; the report, its JSON, `--repair` (twice) and the exit
statuses, and bad dates refused with a sentence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar.cli import app
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from typer.testing import CliRunner

runner = CliRunner()
WORK_DATE = date(2026, 11, 18)
WEEK = ("--from", "2026-11-15", "--to", "2026-11-21")


@dataclass
class Setup:
    env: dict[str, str]
    config: Path
    state: Path
    intacct: IntacctStore
    assignar: AssignarEmulator
    posted: list[int]

    def invoke(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--config", str(self.config), "--state", str(self.state)], env=self.env)
        return result.exit_code, result.output

    def report(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, output = self.invoke("reconcile", "time", *WEEK, "--json", *args)
        return code, json.loads(output)

    def timesheet_of(self, timesheet_id: int) -> dict[str, Any]:
        [sheet] = [
            sheet
            for sheet in self.intacct.records("TIMESHEET")
            if str(sheet["DESCRIPTION"]).startswith(f"Assignar timesheet {timesheet_id} (rev ")
        ]
        return sheet


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
        pushed = runner.invoke(app, ["push-timesheets", "--config", str(config), "--state", str(state)], env=env)
        assert pushed.exit_code == 0, pushed.output
        yield Setup(env, config, state, store, assignar, approved)


def test_a_clean_week_exits_0(setup: Setup) -> None:
    code, output = setup.invoke("reconcile", "time", *WEEK)
    assert code == 0, output
    assert "3 approved timesheets; 3 matched, 0 missing in Intacct, 0 extra in Intacct, 0 differs" in output
    assert "Intacct holds exactly the hours Assignar approved." in output


def test_a_deleted_timesheet_and_changed_hours_are_reported_and_only_the_deleted_one_is_repaired(setup: Setup) -> None:
    # Given: by hand in Intacct, one timesheet deleted and one entry's hours changed
    deleted, changed, _ = setup.posted
    setup.intacct.delete("TIMESHEET", setup.timesheet_of(deleted)["RECORDNO"])
    sheet = setup.timesheet_of(changed)
    [entry] = sheet["TIMESHEETENTRIES"]
    setup.intacct.change_line("TIMESHEET", sheet["RECORDNO"], entry["RECORDNO"], {"QTY": "7.25"})

    # When
    code, report = setup.report()

    # Then: exactly those, each item naming its timesheet
    assert code == 1
    assert report["from"] == "2026-11-15" and report["to"] == "2026-11-21"
    assert report["matched"] == 1
    assert [item["timesheet_id"] for item in report["missing_in_intacct"]] == [deleted]
    assert report["missing_in_intacct"][0]["missing"] == ["timesheet"]
    assert [item["timesheet_id"] for item in report["differs"]] == [changed]
    assert report["differs"][0]["differences"] == [{"part": "labor", "approved_hours": 8.0, "intacct_hours": 7.25}]
    assert report["extra_in_intacct"] == []
    assert report["repaired"] == []
    assert {row["week"] for row in report["workers"]} == {"2026-11-15"} and len(report["workers"]) == 3
    calls = report["api_calls"]
    assert calls["intacct_transactions"] <= 8 and calls["assignar_calls"] <= 4, calls

    # When: repaired
    code, repaired = setup.report("--repair")

    # Then: the deleted one is posted again; the changed hours still differ, so still exit 1
    assert code == 1
    assert [(item["timesheet_id"], item["outcome"]) for item in repaired["repaired"]] == [(deleted, "posted")]
    assert setup.timesheet_of(deleted)["RECORDNO"] != sheet["RECORDNO"]

    # When: reconciled again, then repaired a second time
    code, again = setup.report()
    timesheets = len(setup.intacct.records("TIMESHEET"))
    transactions = len(setup.intacct.records("PODOCUMENT"))
    second_code, second = setup.report("--repair")

    # Then: clean for the deleted one, the changed one still differs; the second repair writes nothing
    assert code == 1 and second_code == 1
    assert again["missing_in_intacct"] == [] and again["matched"] == 2
    assert [item["timesheet_id"] for item in again["differs"]] == [changed]
    assert second["repaired"] == []
    assert len(setup.intacct.records("TIMESHEET")) == timesheets
    assert len(setup.intacct.records("PODOCUMENT")) == transactions == 3


def test_the_report_for_people_names_each_timesheet_and_says_what_to_do(setup: Setup) -> None:
    deleted = setup.posted[0]
    setup.intacct.delete("TIMESHEET", setup.timesheet_of(deleted)["RECORDNO"])

    code, output = setup.invoke("reconcile", "time", *WEEK)

    assert code == 1
    assert "Workers and weeks to look at" in output
    assert f"missing in Intacct timesheet {deleted}" in output
    assert "--repair posts it again" in output


def test_a_week_with_time_no_longer_approved_in_assignar_lists_it_as_extra(setup: Setup) -> None:
    reopened = setup.posted[2]
    setup.assignar.reopen_timesheet(reopened, status="SUBMITTED")

    code, report = setup.report()

    assert code == 1
    assert [item["timesheet_id"] for item in report["extra_in_intacct"]] == [reopened]
    assert "not approved" in report["extra_in_intacct"][0]["reason"]


@pytest.mark.parametrize(
    ("dates", "said"),
    [
        (("--from", "2026-11-31", "--to", "2026-12-01"), "--from '2026-11-31' is not a day: give it as YYYY-MM-DD"),
        (("--from", "2026-11-21", "--to", "2026-11-15"), "--from 2026-11-21 is after --to 2026-11-15"),
        (("--from", "2026-01-01", "--to", "2026-04-03"), "is 93 days; reconcile at most 92 days a run"),
    ],
)
def test_bad_dates_exit_2_with_a_sentence(setup: Setup, dates: tuple[str, ...], said: str) -> None:
    result = runner.invoke(
        app, ["reconcile", "time", *dates, "--state", str(setup.state), "--config", str(setup.config)], env=setup.env
    )
    assert result.exit_code == 2
    assert said in " ".join(result.output.split())
