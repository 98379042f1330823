"""`intacct-assignar sync` against both emulators: the plan of a dry run, a real run, JSON, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from intacct_assignar.cli import app
from intacct_assignar.config import load_config
from typer.testing import CliRunner

from ..tenant import Tenant, emulated_tenant

runner = CliRunner()


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    monkeypatch.chdir(tmp_path)  # no stray .env or intacct-assignar.toml from the repository
    with emulated_tenant(tmp_path, seed=4) as tenant:
        yield tenant


def invoke(setup: Tenant, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=setup.env)
    return result.exit_code, result.output


def test_a_dry_run_prints_the_plan_and_writes_nothing_anywhere(setup: Tenant) -> None:
    # When
    code, output = invoke(setup, "sync", "--dry-run", "--config", str(setup.config), "--state", str(setup.state))

    # Then the plan names creates with their fields, and neither Assignar nor the state file was touched
    assert code == 0, output
    assert "Plan (dry run: nothing written)" in output
    customer = setup.intacct.records("CUSTOMER")[0]
    assert f"created clients {customer['CUSTOMERID']}" in output
    assert f"name: None -> {customer['NAME']!r}" in output
    assert setup.writes() == 0
    assert not setup.state.exists()


def test_sync_then_a_rerun_changes_nothing_and_json_says_so(setup: Tenant) -> None:
    # Given a first sync (options after the subcommand, as in the product contract)
    code, output = invoke(setup, "sync", "--json", "--state", str(setup.state), "--config", str(setup.config))
    assert code == 0, output
    first = json.loads(output)
    assert first["ok"] and first["workflows"]["workers"]["created"] > 0

    # When it runs again with nothing changed (options before the subcommand this time)
    code, output = invoke(setup, "--state", str(setup.state), "--config", str(setup.config), "sync", "--json")

    # Then nothing is written and the summary says everything is unchanged
    assert code == 0, output
    again = json.loads(output)
    assert all(counts["created"] == counts["updated"] == 0 for counts in again["workflows"].values())
    assert again["plan"] == []


def test_usage_and_settings_errors_exit_2_naming_what_to_fix(setup: Tenant) -> None:
    code, output = invoke(setup, "sync", "--entity", "employees", "--config", str(setup.config))
    assert code == 2 and "unknown workflow employees" in output

    result = runner.invoke(app, ["sync", "--config", str(setup.config)], env={"INTACCT_SENDER_ID": "x"})
    assert result.exit_code == 2
    assert "INTACCT_USER_PASSWORD" in result.output and "ASSIGNAR_CLIENT_ID" in result.output

    bad = setup.config.with_name("bad.toml")
    bad.write_text('timezone = "Mars/Olympus"\n[workflows.workers]\ndepartmnts = ["FIELD"]\n')
    code, output = invoke(setup, "sync", "--config", str(bad))
    assert code == 2
    assert "workflows.workers.departmnts" in output and "timezone" in output


def test_a_dry_run_after_a_sync_shows_field_diffs_and_leaves_the_state_file_as_it_was(setup: Tenant) -> None:
    # Given a synced tenant and a renamed customer in Intacct
    code, output = invoke(setup, "sync", "--state", str(setup.state), "--config", str(setup.config))
    assert code == 0, output
    customer = next(c for c in setup.intacct.records("CUSTOMER") if c["STATUS"] == "active")
    setup.intacct.update("CUSTOMER", customer["RECORDNO"], {"NAME": "Renamed Builders LLC"})
    state_before, writes_before = setup.state.read_bytes(), setup.writes()

    # When
    code, output = invoke(setup, "sync", "--dry-run", "--state", str(setup.state), "--config", str(setup.config))

    # Then the plan shows the one update with its diff, and nothing was written anywhere
    assert code == 0, output
    assert f"updated clients {customer['CUSTOMERID']}" in output
    assert f"name: {customer['NAME']!r} -> 'Renamed Builders LLC'" in output
    assert setup.writes() == writes_before
    assert setup.state.read_bytes() == state_before


def test_an_enabled_workflow_missing_its_setting_fails_the_sync_in_checks_words_and_the_others_run(
    setup: Tenant,
) -> None:
    # Given a tenant document that leaves work orders on but does not name their owner
    setup.config.write_text('timezone = "America/Denver"\n')
    sentence = "set workflows.work_orders.owner_user_id in the configuration"
    assert load_config(setup.config).cannot_run("work_orders") == sentence  # what `check` says too

    # When it syncs
    code, output = invoke(setup, "sync", "--state", str(setup.state), "--config", str(setup.config))

    # Then it exits 1 saying what to set, and every other workflow went through
    assert code == 1, output
    assert f"work_orders failed: {sentence}" in output
    assert setup.assignar.records("orders") == []
    assert len(setup.assignar.records("clients")) > 0 and len(setup.assignar.records("users")) > 1

    # And the machine-readable summary says the same
    code, output = invoke(setup, "sync", "--json", "--state", str(setup.state), "--config", str(setup.config))
    summary = json.loads(output)
    assert code == 1 and not summary["ok"]
    assert summary["workflows"]["work_orders"]["outcome"] == "failed"
    assert summary["workflows"]["work_orders"]["error"]["message"] == sentence
    assert summary["workflows"]["clients"]["outcome"] == "ok"


def test_a_disabled_workflow_is_not_run_and_the_sync_still_succeeds(setup: Tenant) -> None:
    # Given work orders switched off (so their owner is not needed)
    setup.config.write_text('timezone = "America/Denver"\n\n[workflows.work_orders]\nenabled = false\n')

    # When it syncs
    code, output = invoke(setup, "sync", "--json", "--state", str(setup.state), "--config", str(setup.config))

    # Then it exits 0, saying why work orders did not run
    summary = json.loads(output)
    assert code == 0 and summary["ok"], output
    assert summary["workflows"]["work_orders"]["outcome"] == "not_run"
    assert summary["workflows"]["work_orders"]["not_run"] == "disabled in the configuration"
