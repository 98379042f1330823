"""What the functions read from their environment, by the names the SAM template sets (test_template checks
the template sets them)."""

from __future__ import annotations

import pytest
from intacct_assignar.config import ConfigError
from intacct_assignar.runtime import FunctionSettings, Runtime
from intacct_assignar.smart_events import EventsTokenError
from pydantic import ValidationError


@pytest.fixture(autouse=True)
def deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MAX_RECEIVES", "IDEMPOTENCY_TABLE", "TENANT_CONFIG", "MAX_CONCURRENCY"):
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


def _with_assignar_pace(monkeypatch: pytest.MonkeyPatch, pace: str) -> None:
    # The Assignar secret as Secrets Manager would hand it over, pace included.
    secret = {"ASSIGNAR_CLIENT_ID": "client", "ASSIGNAR_CLIENT_SECRET": "secret", "ASSIGNAR_REQUESTS_PER_SECOND": pace}
    monkeypatch.setenv("ASSIGNAR_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:assignar-AbCdEf")
    monkeypatch.setattr(Runtime, "secret", lambda _self, _arn, _what: secret)


@pytest.mark.parametrize(("concurrency", "pace"), [(None, 8.0), ("1", 8.0), ("2", 4.0), ("5", 1.6)])
def test_the_containers_that_may_run_at_once_share_the_tenants_assignar_pace(
    monkeypatch: pytest.MonkeyPatch, concurrency: str | None, pace: float
) -> None:
    # Given the tenant's pace of 8 requests a second, and a function that may run in this many containers at once
    _with_assignar_pace(monkeypatch, "8")
    if concurrency is not None:
        monkeypatch.setenv("MAX_CONCURRENCY", concurrency)

    # When a container builds its Assignar client
    runtime = Runtime(FunctionSettings())

    # Then it keeps to its part of the pace, so that all of them together keep to the tenant's
    assert runtime.assignar_pace == pytest.approx(pace)
    assert runtime.assignar.requestor.requests_per_second == pytest.approx(pace)


def test_a_tenant_without_a_pace_stays_unpaced_however_many_containers(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_assignar_pace(monkeypatch, "0")
    monkeypatch.setenv("MAX_CONCURRENCY", "2")
    runtime = Runtime(FunctionSettings())
    assert runtime.assignar_pace is None and runtime.assignar.requestor.requests_per_second is None


@pytest.mark.parametrize("value", ["0", "two"])
def test_a_concurrency_under_one_or_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MAX_CONCURRENCY", value)
    with pytest.raises(ValidationError, match="MAX_CONCURRENCY"):
        FunctionSettings()


TOKEN_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme-IntacctEventsTokenSecret-AbCdEf"


def _smart_event_receiver(monkeypatch: pytest.MonkeyPatch, token: str) -> tuple[Runtime, list[str]]:
    """A runtime as the template sets up the Smart Event receiver, and the ARNs of the secrets it then reads."""
    # Building a client looks for credentials; nothing is sent.
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INTACCT_EVENTS_TOKEN_SECRET_ARN", TOKEN_SECRET_ARN)
    monkeypatch.setenv("EVENT_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/acme-events")
    # Set as if by mistake: the receiver must still not read it.
    monkeypatch.setenv("INTACCT_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:intacct-AbCdEf")
    read: list[str] = []

    def secret(_self: Runtime, arn: str | None, _what: str) -> dict[str, str]:
        read.append(str(arn))
        return {"INTACCT_EVENTS_TOKEN": token}

    monkeypatch.setattr(Runtime, "secret", secret)
    return Runtime(FunctionSettings()), read


def test_the_smart_event_receiver_reads_its_token_from_its_own_secret_and_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime, read = _smart_event_receiver(monkeypatch, "Zq8vR2mXw4Lk9TnB3cYp7HsD1fGj6KaE0uVx5WbNiQoMlPeR")
    assert runtime.smart_event_receiver is not None
    assert read == [TOKEN_SECRET_ARN]


def test_a_token_of_the_wrong_shape_in_the_secret_stops_the_receiver_naming_the_secret_not_the_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime, _read = _smart_event_receiver(monkeypatch, "hunter2-is-short")
    with pytest.raises(EventsTokenError) as caught:
        _ = runtime.smart_event_receiver
    assert "IntacctEventsTokenSecret" in str(caught.value) and "DEPLOY.md" in str(caught.value)
    assert "hunter2" not in str(caught.value)
