"""Our webhook signature format: HMAC-SHA256 of the raw body (or `{timestamp}.{body}`), hex, `sha256=` prefix."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from intacct_assignar.assignar import TimesheetEvent
from intacct_assignar.webhook_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signature_headers,
    signed_message,
    verify,
)
from pydantic import SecretStr

SECRET = "whsec-test-1"
BODY = b'{"event":"timesheet.approved","timesheet_id":123,"occurred_at":"2026-11-25T21:00:00Z"}'


def test_the_signature_is_the_hex_hmac_sha256_of_the_raw_body() -> None:
    # Given the documented recipe, computed independently
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()

    # Then sign() produces it with the scheme prefix
    assert sign(BODY, SECRET) == f"sha256={expected}"


def test_with_a_timestamp_the_signed_message_is_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1764104400." + BODY, hashlib.sha256).hexdigest()
    assert signed_message(BODY, 1764104400) == b"1764104400." + BODY
    assert sign(BODY, SECRET, timestamp=1764104400) == f"sha256={expected}"


def test_the_worked_example_in_the_admin_docs_holds() -> None:
    # Given the body, secret and timestamp of docs/assignar-webhook.md
    body = b'{"event": "timesheet.approved", "timesheet_id": 123456, "occurred_at": "2026-11-25T21:04:05Z"}'

    # Then the signature is the one the docs print
    assert sign(body, "s3cret", timestamp=1764104645) == (
        "sha256=2d52ee8371bdb38184512c5467157840757d7806fde635693289208caaa0707e"
    )


def test_headers_carry_signature_and_timestamp_under_configurable_names() -> None:
    headers = signature_headers(BODY, SecretStr(SECRET), timestamp=1764104400)
    assert set(headers) == {SIGNATURE_HEADER, TIMESTAMP_HEADER}
    custom = signature_headers(BODY, SECRET, timestamp=5, signature_header="X-Sig", timestamp_header="X-Time")
    assert set(custom) == {"X-Sig", "X-Time"}
    assert set(signature_headers(BODY, SECRET, with_timestamp=False)) == {SIGNATURE_HEADER}


def test_a_delivery_signed_with_the_shared_secret_verifies() -> None:
    headers = signature_headers(BODY, SECRET, timestamp=1000)
    assert verify(BODY, SECRET, headers[SIGNATURE_HEADER], timestamp=headers[TIMESTAMP_HEADER], now=1010)


@pytest.mark.parametrize(
    ("body", "secret", "signature", "timestamp", "now"),
    [
        (BODY + b" ", SECRET, sign(BODY, SECRET, timestamp=1000), "1000", 1000),  # body changed
        (BODY, "other-secret", sign(BODY, SECRET, timestamp=1000), "1000", 1000),  # wrong secret
        (BODY, SECRET, sign(BODY, SECRET, timestamp=1000), "1001", 1000),  # timestamp changed
        (BODY, SECRET, sign(BODY, SECRET, timestamp=1000), "1000", 1000 + 301),  # too old: replay
        (BODY, SECRET, sign(BODY, SECRET, timestamp=1000), "soon", 1000),  # malformed timestamp
        (BODY, SECRET, None, None, 1000),  # no signature
        (BODY, SECRET, hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(), None, 1000),  # no prefix
    ],
)
def test_anything_else_fails_verification(
    body: bytes, secret: str, signature: str | None, timestamp: str | None, now: float
) -> None:
    assert not verify(body, secret, signature, timestamp=timestamp, now=now)


def test_a_delivery_without_a_timestamp_is_refused_unless_explicitly_allowed() -> None:
    # Given a signature over the body alone, as a sender that cannot timestamp makes it
    signature = sign(BODY, SECRET)

    # Then by default it fails (it could be replayed forever), and passes only when the receiver opts out
    assert not verify(BODY, SECRET, signature)
    assert verify(BODY, SECRET, signature, allow_missing_timestamp=True)
    assert not verify(BODY, "another-secret", signature, allow_missing_timestamp=True)


def test_an_empty_secret_is_refused_loudly() -> None:
    with pytest.raises(ValueError, match="ASSIGNAR_WEBHOOK_SECRET"):
        sign(BODY, "")


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=40), flip=st.integers(min_value=0))
def test_any_body_round_trips_and_any_changed_byte_fails(body: bytes, secret: str, flip: int) -> None:
    signature = sign(body, secret, timestamp=42)
    assert verify(body, secret, signature, timestamp="42", now=42)
    if body:
        index = flip % len(body)
        tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        assert not verify(tampered, secret, signature, timestamp="42", now=42)


def test_the_event_body_names_the_event_and_the_timesheet() -> None:
    event = TimesheetEvent.model_validate({"timesheet_id": 123, "occurred_at": "2026-11-25T21:00:00Z"})
    parsed = json.loads(event.to_body())
    assert parsed == {"event": "timesheet.approved", "timesheet_id": 123, "occurred_at": "2026-11-25T21:00:00Z"}
