"""The approval webhook receiver against docs/assignar-webhook.md: size, signature and timestamp, body, queueing."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from intacct_assignar.config import Webhook
from intacct_assignar.outbound import receiver as receiver_module
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.receiver import WebhookAnswer, WebhookReceiver
from intacct_assignar.webhook_signature import sign
from pydantic import SecretStr

SECRET = "s3cret"
# The worked example of docs/assignar-webhook.md, byte for byte.
DOCS_BODY = b'{"event": "timesheet.approved", "timesheet_id": 123456, "occurred_at": "2026-11-25T21:04:05Z"}'
DOCS_TIMESTAMP = 1764104645
DOCS_SIGNATURE = "sha256=2d52ee8371bdb38184512c5467157840757d7806fde635693289208caaa0707e"
NOW = float(DOCS_TIMESTAMP)


@dataclass
class FakeQueue:
    published: list[PushMessage] = field(default_factory=list)
    error: Exception | None = None

    def publish(self, messages: Sequence[PushMessage]) -> None:
        if self.error is not None:
            raise self.error
        self.published.extend(messages)


def make_receiver(
    queue: FakeQueue | None = None, *, settings: Webhook | None = None, now: float = NOW, max_body_bytes: int = 16_384
) -> tuple[WebhookReceiver, FakeQueue]:
    queue = queue if queue is not None else FakeQueue()
    receiver = WebhookReceiver(
        SecretStr(SECRET), settings or Webhook(), queue, clock=lambda: now, max_body_bytes=max_body_bytes
    )
    return receiver, queue


def approved(timesheet_id: Any = 123456, **extra: Any) -> bytes:
    return json.dumps({"event": "timesheet.approved", "timesheet_id": timesheet_id, **extra}).encode()


def signed(body: bytes, *, timestamp: int | str = DOCS_TIMESTAMP, secret: str = SECRET) -> dict[str, str]:
    return {"X-Assignar-Signature": sign(body, secret, timestamp=timestamp), "X-Assignar-Timestamp": str(timestamp)}


def error_of(answer: WebhookAnswer) -> str:
    message = answer.body["error"]
    assert isinstance(message, str)
    return message


# --- accepted ---------------------------------------------------------------------------------------------------


def test_a_signed_approval_is_accepted_and_queued_once() -> None:
    # Given a receiver and a correctly signed approval
    receiver, queue = make_receiver()
    body = approved(777)

    # When it is delivered
    answer = receiver.receive(body, signed(body))

    # Then it is accepted and exactly one push message names the timesheet
    assert answer == WebhookAnswer(202, {"accepted": True, "timesheet_id": 777}, 777)
    assert [(m.timesheet_id, m.trigger, m.retry_parked) for m in queue.published] == [(777, "webhook", False)]


def test_the_documented_worked_example_is_accepted() -> None:
    # Given the secret, timestamp, body and signature the docs give, with the receiver's clock at that time
    receiver, queue = make_receiver(now=NOW + 2)
    headers = {"X-Assignar-Timestamp": str(DOCS_TIMESTAMP), "X-Assignar-Signature": DOCS_SIGNATURE}

    # When the example is delivered
    answer = receiver.receive(DOCS_BODY, headers)

    # Then the documented signature verifies and timesheet 123456 is queued
    assert answer.status == 202
    assert answer.timesheet_id == 123456
    assert [m.timesheet_id for m in queue.published] == [123456]


def test_header_names_are_matched_whatever_their_case() -> None:
    # Given the lower-case names HTTP API v2 hands over, and odd ones a proxy might produce
    receiver, queue = make_receiver()
    body = approved(5)
    sig, ts = signed(body).values()

    # When both spellings are delivered
    lower = receiver.receive(body, {"x-assignar-signature": sig, "x-assignar-timestamp": ts})
    shouting = receiver.receive(body, {"X-ASSIGNAR-SIGNATURE": sig, "x-Assignar-TIMESTAMP": ts})

    # Then both are accepted
    assert (lower.status, shouting.status) == (202, 202)
    assert len(queue.published) == 2


def test_header_names_come_from_the_settings() -> None:
    # Given a receiver configured for a sender with its own header names
    settings = Webhook(signature_header="X-Hub-Signature-256", timestamp_header="X-Hub-Timestamp")
    receiver, queue = make_receiver(settings=settings)
    body = approved(9)
    sig, ts = signed(body).values()

    # When one delivery uses those names and another the default ones
    custom = receiver.receive(body, {"x-hub-signature-256": sig, "x-hub-timestamp": ts})
    default = receiver.receive(body, signed(body))

    # Then the configured names are the ones read, and the refusal names the header it wanted
    assert custom.status == 202
    assert default.status == 401
    assert "X-Hub-Signature-256" in error_of(default)
    assert [m.timesheet_id for m in queue.published] == [9]


def test_extra_fields_in_the_notice_are_ignored() -> None:
    # Given an approval with more than the contract's fields (the body is only a notice)
    receiver, queue = make_receiver()
    body = approved(42, occurred_at="not even a date", worker="someone")

    # When it is delivered
    answer = receiver.receive(body, signed(body))

    # Then only the timesheet id is taken from it
    assert answer.status == 202
    assert [m.timesheet_id for m in queue.published] == [42]


# --- authentication (401) ---------------------------------------------------------------------------------------


def test_a_signature_made_with_another_secret_is_refused_without_revealing_the_right_one() -> None:
    # Given a delivery signed with the wrong secret
    receiver, queue = make_receiver()
    body = approved()

    # When it is delivered
    answer = receiver.receive(body, signed(body, secret="not-the-secret"))

    # Then it is refused as a mismatch, quoting neither the expected signature nor the secret, and nothing is queued
    assert answer.status == 401
    assert "X-Assignar-Signature" in error_of(answer)
    assert "does not match" in error_of(answer)
    expected = sign(body, SECRET, timestamp=DOCS_TIMESTAMP)
    assert expected.removeprefix("sha256=") not in json.dumps(answer.body)
    assert SECRET not in json.dumps(answer.body)
    assert queue.published == []


def test_a_body_changed_after_signing_is_refused() -> None:
    # Given the docs' signature on a body with another timesheet id
    receiver, queue = make_receiver()
    tampered = DOCS_BODY.replace(b"123456", b"123457")
    headers = {"X-Assignar-Timestamp": str(DOCS_TIMESTAMP), "X-Assignar-Signature": DOCS_SIGNATURE}

    # When it is delivered
    answer = receiver.receive(tampered, headers)

    # Then it is refused
    assert answer.status == 401
    assert queue.published == []


def test_a_signature_with_another_timestamp_is_refused() -> None:
    # Given a signature made for one time sent with another (a replay with a fresh timestamp)
    receiver, queue = make_receiver()
    body = approved()
    headers = signed(body) | {"X-Assignar-Timestamp": str(DOCS_TIMESTAMP + 1)}

    # When it is delivered
    answer = receiver.receive(body, headers)

    # Then it is refused
    assert answer.status == 401
    assert "does not match" in error_of(answer)
    assert queue.published == []


@pytest.mark.parametrize("value", ["", "2d52ee83", "md5=2d52ee83", "SHA1=abc"])
def test_a_signature_not_in_the_sha256_form_is_refused(value: str) -> None:
    # Given a signature header that is empty or in another scheme
    receiver, queue = make_receiver()
    body = approved()
    headers = signed(body) | {"X-Assignar-Signature": value}

    # When it is delivered
    answer = receiver.receive(body, headers)

    # Then it is refused naming the header
    assert answer.status == 401
    assert "X-Assignar-Signature" in error_of(answer)
    assert queue.published == []


def test_a_missing_signature_is_refused_naming_the_header() -> None:
    # Given a delivery with a timestamp but no signature
    receiver, queue = make_receiver()
    body = approved()

    # When it is delivered
    answer = receiver.receive(body, {"X-Assignar-Timestamp": str(DOCS_TIMESTAMP)})

    # Then the refusal says which header is missing
    assert answer.status == 401
    assert error_of(answer) == "missing the X-Assignar-Signature header"
    assert queue.published == []


def test_a_missing_timestamp_is_refused_by_default_even_when_the_body_alone_is_signed() -> None:
    # Given a sender that signs the body alone, and a receiver not configured to allow it
    receiver, queue = make_receiver()
    body = approved()

    # When it delivers
    answer = receiver.receive(body, {"X-Assignar-Signature": sign(body, SECRET)})

    # Then the refusal names the missing timestamp header
    assert answer.status == 401
    assert "missing the X-Assignar-Timestamp header" in error_of(answer)
    assert queue.published == []


def test_a_sender_allowed_to_omit_the_timestamp_may_sign_the_body_alone() -> None:
    # Given a receiver explicitly configured for a sender that cannot timestamp
    receiver, queue = make_receiver(settings=Webhook(allow_missing_timestamp=True))
    body = approved(31)

    # When that sender delivers with a body-only signature, then with a wrong one, then with a timestamped one
    body_only = receiver.receive(body, {"X-Assignar-Signature": sign(body, SECRET)})
    wrong = receiver.receive(body, {"X-Assignar-Signature": sign(body, "other")})
    timestamped = receiver.receive(body, signed(body))

    # Then the body-only and the timestamped signatures are accepted, and the wrong one still refused
    assert (body_only.status, wrong.status, timestamped.status) == (202, 401, 202)
    assert "does not match the body" in error_of(wrong)
    assert [m.timesheet_id for m in queue.published] == [31, 31]


def test_allowing_a_missing_timestamp_does_not_excuse_a_stale_one() -> None:
    # Given a receiver that allows a missing timestamp
    receiver, queue = make_receiver(settings=Webhook(allow_missing_timestamp=True))
    body = approved()

    # When a delivery carries a timestamp an hour old
    answer = receiver.receive(body, signed(body, timestamp=DOCS_TIMESTAMP - 3600))

    # Then it is refused as stale
    assert answer.status == 401
    assert "3600 s behind" in error_of(answer)
    assert queue.published == []


@pytest.mark.parametrize("value", ["", "soon", "1764104645.5", "-1764104645", "1_764_104_645", " 1764104645", "1" * 40])
def test_a_timestamp_that_is_not_unix_seconds_is_refused(value: str) -> None:
    # Given a delivery signed over a timestamp that is not a whole number of seconds
    receiver, queue = make_receiver()
    body = approved()

    # When it is delivered
    answer = receiver.receive(body, signed(body, timestamp=value))

    # Then the refusal says the timestamp is not a number, and no 5xx even for a huge one
    assert answer.status == 401
    assert error_of(answer) == "the X-Assignar-Timestamp header is not a number of Unix seconds"
    assert queue.published == []


@pytest.mark.parametrize(
    ("offset", "words"),
    [(-301, "301 s behind the receiver's clock"), (301, "301 s ahead of the receiver's clock"), (-86_400, "86400 s")],
)
def test_a_timestamp_too_far_from_the_clock_is_refused_saying_how_far(offset: int, words: str) -> None:
    # Given a correctly signed delivery whose timestamp is just over the limit, in either direction
    receiver, queue = make_receiver()
    body = approved()

    # When it is delivered
    answer = receiver.receive(body, signed(body, timestamp=DOCS_TIMESTAMP + offset))

    # Then it is refused saying how far off it is and what the limit is
    assert answer.status == 401
    assert words in error_of(answer)
    assert "the limit is 300 s" in error_of(answer)
    assert queue.published == []


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_a_timestamp_at_the_limit_is_accepted(offset: int) -> None:
    # Given deliveries exactly at the edge of the allowed clock difference
    receiver, queue = make_receiver()
    body = approved()

    # When delivered
    answer = receiver.receive(body, signed(body, timestamp=DOCS_TIMESTAMP + offset))

    # Then they are accepted
    assert answer.status == 202
    assert len(queue.published) == 1


def test_the_allowed_clock_difference_comes_from_the_settings() -> None:
    # Given a receiver that allows one minute
    receiver, queue = make_receiver(settings=Webhook(max_age_seconds=60))
    body = approved()

    # When deliveries 60 and 61 seconds old arrive
    inside = receiver.receive(body, signed(body, timestamp=DOCS_TIMESTAMP - 60))
    outside = receiver.receive(body, signed(body, timestamp=DOCS_TIMESTAMP - 61))

    # Then the first is accepted and the second refused against that limit
    assert (inside.status, outside.status) == (202, 401)
    assert "61 s behind" in error_of(outside)
    assert "the limit is 60 s" in error_of(outside)
    assert len(queue.published) == 1


def test_the_signature_is_checked_before_the_body_is_read() -> None:
    # Given an unsigned delivery whose body is also not JSON
    receiver, queue = make_receiver()

    # When it is delivered
    answer = receiver.receive(b"not json", {})

    # Then the answer is about authentication, not about the body
    assert answer.status == 401
    assert queue.published == []


def test_an_empty_secret_is_refused_when_the_receiver_is_built() -> None:
    # Given an empty secret, When a receiver is built with it, Then it fails at once (the handler answers 503)
    with pytest.raises(ValueError, match="ASSIGNAR_WEBHOOK_SECRET"):
        WebhookReceiver(SecretStr(""), Webhook(), FakeQueue())


# --- size (413) -------------------------------------------------------------------------------------------------


def test_an_oversized_body_is_refused_before_anything_else_is_looked_at(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a receiver whose signature check, clock and headers must not be touched
    def no_verify(*_args: object, **_kwargs: object) -> bool:
        raise AssertionError("the signature was checked")

    def no_clock() -> float:
        raise AssertionError("the clock was read")

    monkeypatch.setattr(receiver_module, "verify", no_verify)
    queue = FakeQueue()
    receiver = WebhookReceiver(SecretStr(SECRET), Webhook(), queue, clock=no_clock, max_body_bytes=100)
    body = approved(1, padding="x" * 200)

    # When a correctly signed but oversized body arrives
    answer = receiver.receive(body, signed(body))

    # Then it is refused for its size alone, saying the size and the limit
    assert answer.status == 413
    assert error_of(answer) == f"the body is {len(body)} bytes; the limit is 100"
    assert queue.published == []


def test_a_body_exactly_at_the_size_limit_is_read() -> None:
    # Given a body exactly as large as the limit
    body = approved(8)
    receiver, queue = make_receiver(max_body_bytes=len(body))

    # When it is delivered
    answer = receiver.receive(body, signed(body))

    # Then it is accepted
    assert answer.status == 202
    assert len(queue.published) == 1


def test_the_default_limit_is_16_kib() -> None:
    # Given the default receiver and a body one byte over 16 KiB
    receiver, queue = make_receiver()
    body = b" " * 16_385

    # When it is delivered, Then it is refused for its size
    assert receiver.receive(body, signed(body)).status == 413
    assert receiver.receive(body[:-1], signed(body[:-1])).status == 400
    assert queue.published == []


# --- body (400) -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "the body is not JSON: Expecting value at line 1 column 1"),
        (b'{"event": "timesheet.approved", "timesheet_id": 1', "the body is not JSON"),
        (b"\xff\xfe{}", "the body is not UTF-8 text (invalid byte at offset 0)"),
        (b"[1, 2]", "the body must be a JSON object, not an array"),
        (b'"timesheet.approved"', "the body must be a JSON object, not a string"),
        (b"null", "the body must be a JSON object, not null"),
        (b"123456", "the body must be a JSON object, not the number 123456"),
        (b"[" * 5000 + b"]" * 5000, "too deeply nested"),
        (b'{"timesheet_id": ' + b"9" * 5000 + b"}", "a huge number"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_naming_the_problem(body: bytes, words: str) -> None:
    # Given a correctly signed body that is not a JSON object
    receiver, queue = make_receiver()

    # When it is delivered
    answer = receiver.receive(body, signed(body))

    # Then it is refused with 400 saying what is wrong, and nothing is queued
    assert answer.status == 400
    assert words in error_of(answer)
    assert queue.published == []


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"event": "timesheet.approved"}, "timesheet_id: Field required"),
        ({"event": "timesheet.approved", "timesheet_id": "12"}, "timesheet_id: Input should be a valid integer"),
        ({"event": "timesheet.approved", "timesheet_id": True}, "timesheet_id: Input should be a valid integer"),
        ({"event": "timesheet.approved", "timesheet_id": 12.0}, "timesheet_id: Input should be a valid integer"),
        ({"event": "timesheet.approved", "timesheet_id": None}, "timesheet_id: Input should be a valid integer"),
        ({"event": "timesheet.approved", "timesheet_id": [12]}, "timesheet_id: Input should be a valid integer"),
        ({"event": "timesheet.approved", "timesheet_id": 0}, "timesheet_id: Input should be greater than 0"),
        ({"event": "timesheet.approved", "timesheet_id": -1}, "timesheet_id: Input should be greater than 0"),
        ({"timesheet_id": 12}, "event: Field required"),
        ({"event": 5, "timesheet_id": 12}, "event: Input should be a valid string"),
        ({"event": None, "timesheet_id": 12}, "event: Input should be a valid string"),
    ],
)
def test_a_notice_without_a_usable_field_is_refused_naming_it(document: dict[str, Any], words: str) -> None:
    # Given a correctly signed JSON object with a missing or mistyped field
    receiver, queue = make_receiver()
    body = json.dumps(document).encode()

    # When it is delivered
    answer = receiver.receive(body, signed(body))

    # Then it is refused with 400 naming the field, and nothing is queued
    assert answer.status == 400
    assert words in error_of(answer)
    assert queue.published == []


@pytest.mark.parametrize(
    ("timesheet_id", "got"),
    [("12", "got a string"), (True, "got true"), (0, "got the number 0"), (-1, "got the number -1")],
)
def test_a_refused_timesheet_id_says_what_was_sent_without_quoting_strings(timesheet_id: object, got: str) -> None:
    # Given a timesheet id of the wrong type or range
    receiver, _queue = make_receiver()
    body = approved(timesheet_id)

    # When it is delivered
    answer = receiver.receive(body, signed(body))

    # Then the refusal says what kind of value came, in JSON's words
    assert answer.status == 400
    assert got in error_of(answer)


# --- other events (202, ignored) --------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["timesheet.rejected", "timesheet.created", "", "TIMESHEET.APPROVED"])
def test_another_event_is_acknowledged_and_ignored(event: str) -> None:
    # Given a correctly signed event other than an approval, whose timesheet id is not even valid
    receiver, queue = make_receiver()
    body = json.dumps({"event": event, "timesheet_id": "whatever"}).encode()

    # When it is delivered
    answer = receiver.receive(body, signed(body))

    # Then it is acknowledged (so the sender does not retry), said to be ignored, and nothing is queued
    assert answer.status == 202
    assert answer.body["accepted"] is True
    assert f"event {json.dumps(event)} is not handled" in answer.body["ignored"]
    assert answer.timesheet_id is None
    assert queue.published == []


def test_a_long_event_name_is_quoted_back_shortened() -> None:
    # Given an event name of 5000 characters
    receiver, _queue = make_receiver()
    body = json.dumps({"event": "e" * 5000, "timesheet_id": 1}).encode()

    # When it is delivered
    answer = receiver.receive(body, signed(body))

    # Then the answer quotes only its start
    assert answer.status == 202
    assert len(answer.body["ignored"]) < 200


# --- queueing (503) and logs ------------------------------------------------------------------------------------


def test_a_queue_failure_asks_the_sender_to_retry(caplog: pytest.LogCaptureFixture) -> None:
    # Given a queue that is down
    receiver, _queue = make_receiver(FakeQueue(error=ConnectionError("sqs unreachable")))
    body = approved(55)
    headers = signed(body)

    # When an approval is delivered
    with caplog.at_level(logging.INFO, logger=receiver_module.__name__):
        answer = receiver.receive(body, headers)

    # Then the sender is told to retry, and the log names the failure type without the signature
    assert answer == WebhookAnswer(503, {"error": "could not queue the delivery; please retry"}, 55)
    failures = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [getattr(r, "error", None) for r in failures] == ["ConnectionError"]
    assert [getattr(r, "timesheet_id", None) for r in failures] == [55]
    assert headers["X-Assignar-Signature"] not in caplog.text


def test_logs_carry_the_outcome_and_reason_but_never_the_secret_signature_or_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given one delivery accepted and one refused
    receiver, _queue = make_receiver()
    good = approved(66, note="private-note")
    bad = approved(67, note="private-note")
    good_headers, bad_headers = signed(good), signed(bad, secret="wrong")

    # When both are delivered
    with caplog.at_level(logging.INFO, logger=receiver_module.__name__):
        receiver.receive(good, good_headers)
        receiver.receive(bad, bad_headers)

    # Then each is logged with its outcome, and nothing sensitive or from the body shows up in any record
    records = [(r.getMessage(), getattr(r, "status", None), getattr(r, "timesheet_id", None)) for r in caplog.records]
    assert records == [("webhook delivery accepted", 202, 66), ("webhook delivery refused", 401, None)]
    assert "does not match" in caplog.records[1].__dict__["reason"]
    everything = " ".join(str(r.__dict__) for r in caplog.records)
    for secret_thing in [SECRET, good_headers["X-Assignar-Signature"], bad_headers["X-Assignar-Signature"]]:
        assert secret_thing.removeprefix("sha256=") not in everything
    assert "private-note" not in everything


# --- properties -------------------------------------------------------------------------------------------------

header_names = st.sampled_from(["X-Assignar-Signature", "x-assignar-signature", "X-Assignar-Timestamp", "Other"])
header_values = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"sha256=[0-9a-f]{64}", fullmatch=True),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.just(str(DOCS_TIMESTAMP)),
)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=20_000), headers=st.dictionaries(header_names, header_values, max_size=4))
def test_unsigned_arbitrary_deliveries_are_never_a_5xx_and_never_queued(body: bytes, headers: dict[str, str]) -> None:
    # Given any bytes and headers without a signature made with the secret
    receiver, queue = make_receiver(max_body_bytes=16_384)

    # When delivered
    answer = receiver.receive(body, headers)

    # Then the answer is a refusal the sender caused, JSON-able, and nothing is queued
    assert answer.status in {401, 413}
    json.dumps(answer.body)
    assert queue.published == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
notices = st.fixed_dictionaries(
    {},
    optional={
        "event": st.one_of(st.just("timesheet.approved"), json_values),
        "timesheet_id": st.one_of(st.integers(), json_values),
        "occurred_at": json_values,
    },
).map(lambda document: json.dumps(document).encode())


@hypothesis_settings(max_examples=300, deadline=None)
@given(body=st.one_of(st.binary(max_size=2_000), notices), with_timestamp=st.booleans())
def test_signed_arbitrary_bodies_are_never_a_5xx_and_queue_only_what_is_accepted(
    body: bytes, with_timestamp: bool
) -> None:
    # Given any body, correctly signed (over the body alone for a sender allowed to omit the timestamp)
    receiver, queue = make_receiver(settings=Webhook(allow_missing_timestamp=not with_timestamp))
    headers = signed(body) if with_timestamp else {"X-Assignar-Signature": sign(body, SECRET)}

    # When delivered
    answer = receiver.receive(body, headers)

    # Then it is accepted or refused as the sender's fault, and a message is queued exactly for an accepted id
    assert answer.status in {202, 400}
    json.dumps(answer.body)
    if answer.timesheet_id is None:
        assert queue.published == []
    else:
        assert answer.status == 202
        assert isinstance(answer.timesheet_id, int) and answer.timesheet_id > 0
        assert [m.timesheet_id for m in queue.published] == [answer.timesheet_id]
