"""The webhook Lambda handler over HTTP API (payload 2.0) events: raw body, headers, JSON responses, 503s."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.config import Webhook
from intacct_assignar.outbound.receiver import WebhookReceiver
from intacct_assignar.webhook_signature import sign
from intacct_assignar_dev.emulators.http_api import LocalContext
from pydantic import SecretStr

from functions.webhook_receiver import app
from tests.unit.outbound.test_receiver import (
    DOCS_BODY,
    DOCS_SIGNATURE,
    DOCS_TIMESTAMP,
    NOW,
    SECRET,
    FakeQueue,
    signed,
)

SAMPLE_EVENT = Path(__file__).resolve().parents[3] / "events" / "webhook_receiver_http.json"


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> FakeQueue:
    """The handler's receiver, with the docs' secret, a clock at the docs' timestamp and a fake queue."""
    fake = FakeQueue()
    receiver = WebhookReceiver(SecretStr(SECRET), Webhook(), fake, clock=lambda: NOW)
    monkeypatch.setattr(app, "receiver", lambda: receiver)
    return fake


def http_event(body: bytes | None, headers: dict[str, str], *, base64_encoded: bool = False) -> dict[str, Any]:
    """An HTTP API payload 2.0 event as API Gateway builds it (header names lower-cased)."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "POST /webhooks/assignar",
        "rawPath": "/webhooks/assignar",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **{name.lower(): v for name, v in headers.items()}},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "http": {"method": "POST", "path": "/webhooks/assignar", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": "T5bQmjZ2oAMEV1A=",
            "routeKey": "POST /webhooks/assignar",
            "stage": "$default",
            "timeEpoch": DOCS_TIMESTAMP * 1000,
        },
        "isBase64Encoded": base64_encoded,
    }
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if base64_encoded else body.decode()
    return event


def docs_headers() -> dict[str, str]:
    return {"X-Assignar-Timestamp": str(DOCS_TIMESTAMP), "X-Assignar-Signature": DOCS_SIGNATURE}


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.lambda_handler(event, cast(LambdaContext, LocalContext("webhook-receiver")))
    assert response["headers"] == {"Content-Type": "application/json"}
    assert isinstance(response["body"], str)
    return response["statusCode"], json.loads(response["body"])


def test_the_sample_event_is_accepted_and_queued(queue: FakeQueue) -> None:
    # Given the sample event shipped in events/ (the docs' worked example)
    event = json.loads(SAMPLE_EVENT.read_text())

    # When the handler gets it
    response = app.lambda_handler(event, cast(LambdaContext, LocalContext("webhook-receiver")))

    # Then it answers 202 in JSON and queues timesheet 123456 once
    assert response == {
        "statusCode": 202,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"accepted": True, "timesheet_id": 123456}),
    }
    assert [(m.timesheet_id, m.trigger) for m in queue.published] == [(123456, "webhook")]


def test_a_base64_encoded_body_is_decoded_before_the_signature_is_checked(queue: FakeQueue) -> None:
    # Given the docs' delivery, base64-encoded by API Gateway
    event = http_event(DOCS_BODY, docs_headers(), base64_encoded=True)

    # When the handler gets it
    status, body = call(event)

    # Then the signature over the raw bytes verifies
    assert (status, body) == (202, {"accepted": True, "timesheet_id": 123456})
    assert len(queue.published) == 1


def test_a_non_ascii_body_is_signed_over_its_utf8_bytes(queue: FakeQueue) -> None:
    # Given a body with non-ASCII text, as a (decoded) string in the event
    raw = json.dumps({"event": "timesheet.approved", "timesheet_id": 7, "note": "Zoë ✓"}, ensure_ascii=False).encode()

    # When the handler gets it
    status, _body = call(http_event(raw, signed(raw)))

    # Then the signature over the UTF-8 bytes verifies
    assert status == 202
    assert [m.timesheet_id for m in queue.published] == [7]


@pytest.mark.parametrize("encoded", ["not base64!", "é", "abc"])
def test_a_body_marked_base64_that_is_not_is_refused(queue: FakeQueue, encoded: str) -> None:
    # Given an event claiming a base64 body that does not decode
    event = http_event(None, docs_headers(), base64_encoded=True) | {"body": encoded}

    # When the handler gets it
    status, body = call(event)

    # Then it is refused as not authentic (no sender signed such bytes), nothing queued
    assert status == 401
    assert body == {
        "error": "the delivery cannot be authenticated: the body is marked base64-encoded but is not valid base64"
    }
    assert queue.published == []


def test_a_missing_body_is_an_empty_one(queue: FakeQueue) -> None:
    # Given an event without a body, signed over the empty body, and one not signed at all

    # When the handler gets them
    signed_status, signed_body = call(http_event(None, signed(b"")))
    unsigned_status, _ = call(http_event(None, {}))

    # Then the signed one is refused for not being JSON, the other for its missing signature
    assert signed_status == 400
    assert "not JSON" in signed_body["error"]
    assert unsigned_status == 401
    assert queue.published == []


def test_a_wrong_signature_is_a_json_401(queue: FakeQueue) -> None:
    # Given the docs' body with a signature made with another secret
    headers = docs_headers() | {"X-Assignar-Signature": sign(DOCS_BODY, "other", timestamp=DOCS_TIMESTAMP)}

    # When the handler gets it
    status, body = call(http_event(DOCS_BODY, headers))

    # Then it answers 401 with the reason as JSON
    assert status == 401
    assert "X-Assignar-Signature" in body["error"]
    assert queue.published == []


def test_headers_in_any_case_reach_the_receiver(queue: FakeQueue) -> None:
    # Given an event whose headers kept their original case (a proxy in front, or a v1-style caller)
    event = http_event(DOCS_BODY, {}) | {"headers": {"Content-Type": "application/json", **docs_headers()}}

    # When the handler gets it
    status, _body = call(event)

    # Then it is accepted
    assert status == 202
    assert len(queue.published) == 1


def test_an_event_without_headers_is_refused_not_crashed(queue: FakeQueue) -> None:
    # Given an event without a headers field at all
    event = http_event(DOCS_BODY, {})
    del event["headers"]

    # When the handler gets it
    status, body = call(event)

    # Then it is a 401 naming the missing signature
    assert (status, body) == (401, {"error": "missing the X-Assignar-Signature header"})


def test_an_oversized_body_is_a_413(queue: FakeQueue) -> None:
    # Given a body over the receiver's 16 KiB limit
    raw = b'{"event": "timesheet.approved", "timesheet_id": 1, "pad": "' + b"x" * 17_000 + b'"}'

    # When the handler gets it
    status, body = call(http_event(raw, {}))

    # Then it answers 413 in JSON
    assert status == 413
    assert "limit is 16384" in body["error"]


def test_a_queue_failure_is_a_503_the_sender_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a receiver whose queue is down
    down = FakeQueue(error=RuntimeError("SQS refused 1 of 1 messages"))
    receiver = WebhookReceiver(SecretStr(SECRET), Webhook(), down, clock=lambda: NOW)
    monkeypatch.setattr(app, "receiver", lambda: receiver)

    # When the docs' delivery arrives
    status, body = call(http_event(DOCS_BODY, docs_headers()))

    # Then the sender is told to retry
    assert (status, body) == (503, {"error": "could not queue the delivery; please retry"})


def test_a_receiver_that_cannot_be_built_is_a_logged_503(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a function whose secret cannot be read
    def unreadable() -> WebhookReceiver:
        raise RuntimeError("Assignar secret ARN is not set for this function")

    monkeypatch.setattr(app, "receiver", unreadable)

    # When a delivery arrives
    with caplog.at_level(logging.INFO):
        status, body = call(http_event(DOCS_BODY, docs_headers()))

    # Then the sender is told to retry, and the failure is logged without the delivery's signature
    assert (status, body) == (503, {"error": app.UNAVAILABLE})
    assert "webhook receiver unavailable" in caplog.text
    assert DOCS_SIGNATURE.removeprefix("sha256=") not in caplog.text


def test_settings_that_fail_validation_are_logged_without_their_values(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a secret whose webhook key holds a value of the wrong type (it could be the secret itself)
    from intacct_assignar.settings import AssignarSettings

    def invalid() -> WebhookReceiver:
        AssignarSettings.model_validate(
            {"ASSIGNAR_CLIENT_ID": "c", "ASSIGNAR_CLIENT_SECRET": "x", "ASSIGNAR_WEBHOOK_SECRET": 98765432123}
        )
        raise AssertionError("the settings were expected to be refused")

    monkeypatch.setattr(app, "receiver", invalid)

    # When a delivery arrives
    with caplog.at_level(logging.INFO):
        status, _body = call(http_event(DOCS_BODY, docs_headers()))

    # Then it is a 503 whose log names the key but not the value
    assert status == 503
    logged = " ".join(str(r.__dict__) for r in caplog.records)
    assert "ASSIGNAR_WEBHOOK_SECRET" in logged
    assert "98765432123" not in logged
