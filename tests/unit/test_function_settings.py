"""What the functions read from their environment, by the names the SAM template sets (test_template checks
the template sets them)."""

from __future__ import annotations

import pytest
from intacct_assignar.runtime import FunctionSettings
from pydantic import ValidationError


@pytest.fixture(autouse=True)
def deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MAX_RECEIVES", "IDEMPOTENCY_TABLE"):
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
