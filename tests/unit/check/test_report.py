"""The check report's lines, JSON and exit status, and the offline checks, with no service behind them."""

from __future__ import annotations

from pathlib import Path

import pytest
from intacct_assignar.check.model import CheckReport, CheckResult, failed, guarded, passed
from intacct_assignar.check.offline import offline_checks, stack_check, webhook_check
from intacct_assignar.config import STACK_PARAMETER_MAX_LENGTH, parse_config
from intacct_assignar.intacct.errors import IntacctTransientError
from intacct_assignar.settings import AssignarSettings

SETTINGS = {
    "INTACCT_SENDER_ID": "sender",
    "INTACCT_SENDER_PASSWORD": "sender-secret",
    "INTACCT_COMPANY_ID": "company",
    "INTACCT_USER_ID": "user",
    "INTACCT_USER_PASSWORD": "user-secret",
    "ASSIGNAR_CLIENT_ID": "client",
    "ASSIGNAR_CLIENT_SECRET": "client-secret",
}


def test_a_report_of_passes_is_ready_and_says_its_cost() -> None:
    report = CheckReport([passed("a", "fine"), passed("b", "fine too")], intacct_transactions=7, intacct_requests=3)

    assert report.ok and report.exit_code == 0
    assert report.lines() == [
        "✓ a: fine",
        "✓ b: fine too",
        "Ready: all 2 checks passed (Intacct: 7 API transactions in 3 requests; Assignar: 0 calls).",
    ]


def test_one_failure_makes_it_not_ready_with_the_fix_on_its_line() -> None:
    report = CheckResult("vendor", False, "VENDOR has no 'V-X'", "create it")
    whole = CheckReport([passed("a", "fine"), report], assignar_calls=4)

    assert not whole.ok and whole.exit_code == 1
    assert whole.lines()[1] == "✗ vendor: VENDOR has no 'V-X' — create it"
    assert whole.lines()[-1].startswith("Not ready: 1 of 2 checks failed")
    assert whole.as_dict() == {
        "ok": False,
        "checks": [
            {"check": "a", "ok": True, "detail": "fine", "fix": None},
            {"check": "vendor", "ok": False, "detail": "VENDOR has no 'V-X'", "fix": "create it"},
        ],
        "intacct_transactions": 0,
        "assignar_calls": 4,
    }


def test_an_error_in_one_check_costs_that_check_only() -> None:
    def broken() -> list[CheckResult]:
        raise KeyError("surprise")

    def down() -> list[CheckResult]:
        raise IntacctTransientError("no answer")

    results = guarded("first", broken) + guarded("second", down) + guarded("third", lambda: [passed("third", "ok")])

    assert [(r.check, r.ok) for r in results] == [("first", False), ("second", False), ("third", True)]
    assert "unexpected error (KeyError" in results[0].detail and "--debug" in results[0].detail
    assert "did not answer usably" in results[1].detail and "try again later" in results[1].detail


def test_offline_names_missing_settings_never_values(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("INTACCT_USER_ID")

    found = offline_checks(None)

    assert found.config is not None and found.intacct is None and found.assignar is not None
    (problem,) = [r for r in found.results if not r.ok and r.check.endswith("settings")]
    assert problem.check == "Intacct settings" and "INTACCT_USER_ID" in problem.detail
    assert all(secret not in str(found.results) for secret in ("sender-secret", "client-secret"))


def test_an_invalid_document_is_one_line_per_problem(tmp_path: Path) -> None:
    document = tmp_path / "tenant.toml"
    document.write_text('lookback_minutes = -1\n[workflows.roles]\ngl_grup = "x"\n')

    found = offline_checks(document)

    assert found.config is None
    problems = [r for r in found.results if r.check == "tenant document"]
    assert [r.ok for r in problems] == [False, False]
    assert all(r.fix == f"correct it in {document}" for r in problems)


@pytest.mark.parametrize(
    ("document", "secret", "ok"),
    [({}, None, True), ({"webhook": {}}, None, False), ({"webhook": {}}, "s3cret", True), ({"webhook": {}}, "", False)],
)
def test_the_webhook_secret_is_needed_when_the_receiver_is_configured(
    document: dict[str, object], secret: str | None, ok: bool
) -> None:
    settings = AssignarSettings.model_validate(
        {"ASSIGNAR_CLIENT_ID": "c", "ASSIGNAR_CLIENT_SECRET": "s", "ASSIGNAR_WEBHOOK_SECRET": secret}
    )

    result = webhook_check(parse_config(document), settings)

    assert result.ok is ok
    assert ok or result.fix == "set ASSIGNAR_WEBHOOK_SECRET to the secret configured for the webhook in Assignar"


def test_failed_and_passed_build_results() -> None:
    assert failed("x", "wrong", "fix it") == CheckResult("x", False, "wrong", "fix it")
    assert passed("x", "right").fix is None


def test_the_stack_parameter_line_passes_for_a_plain_document() -> None:
    (result,) = stack_check(parse_config({"workflows": {"roles": {"gl_group": "Labour"}}}), "tenant.toml")

    assert result.ok and result.check == "stack parameter"
    assert f"of at most {STACK_PARAMETER_MAX_LENGTH} characters" in result.detail


def test_the_stack_parameter_refuses_what_samconfig_cannot_pass() -> None:
    config = parse_config({"workflows": {"roles": {"gl_group": "O'Brien Plant"}}})

    (result,) = stack_check(config, "tenant.toml")

    assert not result.ok and result.check == "stack parameter"
    assert result.detail.startswith("workflows.roles.gl_group:") and "samconfig.toml cannot pass" in result.detail
    assert result.fix is not None and result.fix.startswith("correct it in tenant.toml")


def test_the_stack_parameter_refuses_a_line_too_long() -> None:
    roles = {f"POSITION-{n:04d}": f"LAB-{n:04d}" for n in range(200)}
    config = parse_config({"workflows": {"workers": {"position_roles": roles}}})

    (result,) = stack_check(config, "tenant.toml")

    assert not result.ok and f"takes at most {STACK_PARAMETER_MAX_LENGTH}" in result.detail


def test_offline_checks_include_the_stack_parameter(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    document = tmp_path / "tenant.toml"
    document.write_text('[workflows.roles]\ngl_group = "a\\\\b"\n')

    found = offline_checks(document)

    (result,) = [r for r in found.results if r.check == "stack parameter"]
    assert not result.ok and result.fix is not None and str(document) in result.fix
