"""The client secret and access tokens never show in reprs, error messages or logs."""

from __future__ import annotations

import logging

import httpx
import pytest
from intacct_assignar.assignar import AssignarError

from tests.unit.assignar.fakes import ACCESS_TOKEN, CLIENT_SECRET, FakeAssignar, make_client, message, settings

SECRETS = (CLIENT_SECRET, ACCESS_TOKEN)


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_reprs_of_settings_client_and_token_hide_the_secrets() -> None:
    # Given a client that holds a token
    fake = FakeAssignar()
    with make_client(fake) as client:
        client.clients.get(1)

        # When its parts are printed
        shown = " ".join(
            [
                repr(settings()),
                repr(client),
                repr(client.requestor._tokens),
                repr(client.requestor._tokens._token),
                str(client.calls),
            ]
        )

    # Then no secret is among them
    assert leaks(shown) == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(401, json={"error": "invalid_client"}),
        httpx.Response(400, json={"error": "invalid_scope"}),
        httpx.Response(200, json={"no_token": True}),
    ],
)
def test_token_failures_do_not_repeat_the_credentials(failure: httpx.Response) -> None:
    # Given the token endpoint fails
    fake = FakeAssignar()
    fake.token_refusal = failure
    with make_client(fake) as client, pytest.raises(AssignarError) as raised:
        client.clients.get(1)

    # Then neither the message, the repr nor the attributes carry the secret
    error = raised.value
    assert leaks(f"{error} {error!r} {vars(error)} {error.__cause__!r} {error.__context__!r}") == []


def test_api_errors_and_retry_logs_do_not_carry_the_token(caplog: pytest.LogCaptureFixture) -> None:
    # Given failures that are retried, then one that is not
    fake = FakeAssignar()
    fake.script(
        message(401, "Unauthorized"),
        message(503, "Service Unavailable"),
        httpx.ReadTimeout("timed out"),
        message(400, "[400] Missing payload."),
    )
    caplog.set_level(logging.DEBUG)
    with make_client(fake) as client, pytest.raises(AssignarError) as raised:
        # When a call runs through all of them
        client.assets.get(3)

    # Then nothing logged or raised names the secret or a token
    logged = " ".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    assert caplog.records, "the retries should have been logged"
    assert leaks(logged) == []
    assert leaks(f"{raised.value} {raised.value!r} {vars(raised.value)}") == []
