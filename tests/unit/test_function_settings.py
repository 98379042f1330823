"""What the functions read from their environment, by the names the SAM template sets (test_template checks
the template sets them)."""

from __future__ import annotations

import pytest
from intacct_assignar.config import ConfigError
from intacct_assignar.runtime import FunctionSettings, Runtime
from pydantic import ValidationError


@pytest.fixture(autouse=True)
def deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MAX_RECEIVES", "IDEMPOTENCY_TABLE", "TENANT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TENANT_ID", "acme")
    monkeypatch.setenv("STATE_TABLE", "acme-state")


def test_the_consumer_settings_default_as_the_template_does() -> None:
    settings = FunctionSettings()
    assert settings.max_receives == 5 and settings.idempotency_table == "idempotency"


def test_the_consumer_settings_come_from_the_template_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_RECEIVES", "3")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "acme-idempotency")
    settings = FunctionSettings()
    assert settings.max_receives == 3 and settings.idempotency_table == "acme-idempotency"


@pytest.mark.parametrize("value", ["0", "many"])
def test_a_receive_count_that_cannot_be_one_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("MAX_RECEIVES", value)
    with pytest.raises(ValidationError, match="MAX_RECEIVES"):
        FunctionSettings()


def test_the_tenant_document_comes_from_the_stack_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TENANT_CONFIG", '{"timezone":"America/Denver","workflows":{"work_orders":{"owner_user_id":12}}}'
    )
    config = Runtime(FunctionSettings()).config
    assert config.timezone == "America/Denver" and config.workflows.work_orders.owner_user_id == 12


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            '{"workflows":{"work_order":{"owner_user_id":12}}}',
            "workflows.work_order: unknown key; did you mean work_orders?",
        ),
        (
            '{"workflows":{"clients":{"enabled":"yes"}}}',
            'workflows.clients.enabled: expected true or false, got the string "yes"',
        ),
        ('{"timezone":America/Denver}', "not valid JSON: Expecting value: line 1 column 13 (char 12)"),
        ("[]", "must be a JSON object ({...}), not a list"),
    ],
)
def test_a_bad_tenant_document_in_the_stack_is_refused_in_the_clis_words_naming_the_parameter(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    # Given the stack's TenantConfig parameter with a mistake
    monkeypatch.setenv("TENANT_CONFIG", value)

    # When a function reads it, Then it is refused as the CLI refuses the same document, naming the parameter
    with pytest.raises(ConfigError) as caught:
        _ = Runtime(FunctionSettings()).config
    assert caught.value.source == "the stack's TenantConfig parameter (TENANT_CONFIG)"
    assert caught.value.problems == [problem]
