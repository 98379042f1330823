"""The webhook Lambda handler fuzzed with HTTP API (payload 2.0) events: whatever arrives, a 4xx and never a 5xx.

Headers and bodies are drawn with lone surrogates, NUL, non-ASCII and huge values, base64-flagged or not, and go
through the real handler built on the canonical sample event in events/, as API Gateway would hand them over.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from hypothesis import given, settings
from hypothesis import strategies as st
from intacct_assignar.config import Webhook
from intacct_assignar.outbound.receiver import WebhookReceiver
from intacct_assignar.webhook_signature import sign, verify
from intacct_assignar_dev.emulators.http_api import LocalContext
from pydantic import SecretStr

from functions.webhook_receiver import app
from tests.unit.outbound.test_receiver import DOCS_SIGNATURE, DOCS_TIMESTAMP, NOW, SECRET, FakeQueue, approved

SAMPLE_EVENT = json.loads((Path(__file__).resolve().parents[3] / "events" / "webhook_receiver_http.json").read_text())
SIGNATURE = "x-assignar-signature"
TIMESTAMP = "x-assignar-timestamp"
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
FUZZ = settings(max_examples=200, deadline=None)

# Any code point, lone surrogates (category Cs) made common rather than one in 500, and the separators that matter.
characters = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.characters(categories=["Cs"]),
    st.sampled_from(["\x00", ",", "=", " ", "\t", "\n", "é", "\ufffd"]),
)
any_text = st.text(alphabet=characters, max_size=100)
hex_digest = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
signature_values = st.one_of(
    any_text,
    any_text.map(lambda text: "sha256=" + text),
    st.tuples(hex_digest, st.integers(min_value=0, max_value=63), characters).map(
        lambda parts: "sha256=" + parts[0][: parts[1]] + parts[2] + parts[0][parts[1] + 1 :]
    ),
    hex_digest.map(lambda digest: "sha256=" + digest),
    hex_digest.map(lambda digest: f"sha256={digest},sha256={digest}"),  # sent twice, joined by API Gateway
    st.just(DOCS_SIGNATURE),  # a real signature, but for another body
    st.integers(min_value=0, max_value=200_000).map(lambda size: "sha256=" + "a" * size),
)
timestamp_values = st.one_of(
    any_text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.just(str(DOCS_TIMESTAMP)),
    st.just("١٧٦٤١٠٤٦٤٥"),  # Arabic-Indic digits, which int() would take
    st.just("9" * 400),  # an int too large for the float clock arithmetic
)
junk_names = any_text.filter(lambda name: name.lower() not in {SIGNATURE, TIMESTAMP})
junk_headers = st.dictionaries(junk_names, any_text, max_size=6)
# Header names in any case, as a proxy in front or a v1-style caller might send them.
signature_names = st.sampled_from([SIGNATURE, "X-Assignar-Signature", "X-ASSIGNAR-SIGNATURE"])
timestamp_names = st.sampled_from([TIMESTAMP, "X-Assignar-Timestamp", "x-ASSIGNAR-timestamp"])


@st.composite
def unsigned_headers(draw: st.DrawFn) -> dict[str, Any]:
    """Junk, plus perhaps a signature and a timestamp that are not a signature of the body with the secret."""
    headers: dict[str, Any] = draw(junk_headers)
    if draw(st.booleans()):
        headers[draw(signature_names)] = draw(signature_values)
    if draw(st.booleans()):
        headers[draw(timestamp_names)] = draw(timestamp_values)
    return headers


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """The `body` and `isBase64Encoded` fields of an event, including missing and null ones, and lies about base64."""
    kind = draw(st.sampled_from(["text", "base64", "fake-base64", "missing", "null"]))
    flag = draw(st.sampled_from([True, False, None]))
    if kind == "text":
        return {"body": draw(any_text | st.text(max_size=20_000)), "isBase64Encoded": False}
    if kind == "base64":
        return {"body": base64.b64encode(draw(st.binary(max_size=20_000))).decode(), "isBase64Encoded": True}
    if kind == "fake-base64":
        return {"body": draw(any_text), "isBase64Encoded": True}
    if kind == "missing":
        return {} if flag is None else {"isBase64Encoded": flag}
    return {"body": None, "isBase64Encoded": bool(flag)}


def http_event(headers: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The canonical sample event with its signature headers, body and base64 flag replaced."""
    event = copy.deepcopy(SAMPLE_EVENT)
    for name in [SIGNATURE, TIMESTAMP, "content-length"]:
        del event["headers"][name]
    del event["body"], event["isBase64Encoded"]
    event["headers"].update(headers)
    event.update(fields)
    return event


def deliver(event: dict[str, Any]) -> tuple[int, dict[str, Any], FakeQueue]:
    """The event through the real handler, with a receiver at the docs' clock and secret over a fake queue."""
    queue = FakeQueue()
    receiver = WebhookReceiver(SecretStr(SECRET), Webhook(), queue, clock=lambda: NOW)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app, "receiver", lambda: receiver)
        response = app.lambda_handler(event, cast(LambdaContext, LocalContext("webhook-receiver")))
    assert response["headers"] == {"Content-Type": "application/json"}
    answer = json.loads(response["body"])
    assert isinstance(answer, dict)
    return response["statusCode"], answer, queue


def assert_refused_for_authentication(status: int, answer: dict[str, Any], queue: FakeQueue) -> None:
    """401, or 413 for a body too large to hash; never the secret or a signature quoted."""
    assert status in (401, 413), (status, answer)
    assert queue.published == []
    assert SECRET not in answer["error"]
    assert HEX_DIGEST.search(answer["error"]) is None


# --- properties -------------------------------------------------------------------------------------------------


@FUZZ
@given(headers=unsigned_headers(), fields=bodies())
def test_any_unsigned_delivery_is_refused_never_a_5xx(headers: dict[str, Any], fields: dict[str, Any]) -> None:
    # Given any headers and body, without a signature made with the secret over that body

    # When the handler gets them
    status, answer, queue = deliver(http_event(headers, fields))

    # Then it is refused as not authentic (or as a body that could not even be hashed), and nothing is queued
    assert_refused_for_authentication(status, answer, queue)


@FUZZ
@given(
    fields=st.one_of(
        st.binary(max_size=2_000).map(lambda raw: {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}),
        any_text.map(lambda text: {"body": text, "isBase64Encoded": False}),
    ),
    signature=signature_values,
    junk=junk_headers,
)
def test_any_body_with_a_wrong_signature_is_a_401(fields: dict[str, Any], signature: str, junk: dict[str, str]) -> None:
    # Given any bytes sent as base64 (which every byte survives), or any text, with a current timestamp and a
    # signature that is not the body's
    headers = junk | {SIGNATURE: signature, TIMESTAMP: str(DOCS_TIMESTAMP)}

    # When the handler gets them
    status, answer, queue = deliver(http_event(headers, fields))

    # Then it is a 401 (text holding lone surrogates is no bytes anyone could have signed: 401 too)
    assert_refused_for_authentication(status, answer, queue)
    assert status == 401


@FUZZ
@given(
    timesheet_id=st.integers(min_value=1, max_value=2**53),
    note=any_text,
    base64_encoded=st.booleans(),
    junk=junk_headers,
    signature_name=signature_names,
    timestamp_name=timestamp_names,
)
def test_a_signed_approval_is_accepted_whatever_junk_comes_with_it(
    timesheet_id: int, note: str, base64_encoded: bool, junk: dict[str, str], signature_name: str, timestamp_name: str
) -> None:
    # Given a correctly signed approval (the note JSON-escaped, as a sender's JSON library writes lone surrogates)
    raw = approved(timesheet_id, note=note)
    fields = {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}
    if not base64_encoded:
        fields = {"body": raw.decode(), "isBase64Encoded": False}
    headers = junk | {signature_name: sign(raw, SECRET, timestamp=DOCS_TIMESTAMP), timestamp_name: str(DOCS_TIMESTAMP)}

    # When the handler gets it with any other headers beside the signature
    status, answer, queue = deliver(http_event(headers, fields))

    # Then it is accepted and queued once
    assert (status, answer) == (202, {"accepted": True, "timesheet_id": timesheet_id})
    assert [m.timesheet_id for m in queue.published] == [timesheet_id]


@FUZZ
@given(signature=signature_values, timestamp=st.none() | timestamp_values)
def test_verify_answers_any_text_with_false_never_an_error(signature: str, timestamp: str | None) -> None:
    # Given any signature and timestamp text, none of them the HMAC of the body (the receiver's checks bypassed)

    # When verified, Then the answer is a plain False: never an encoding error, a ValueError or an OverflowError
    assert verify(b"{}", SECRET, signature, timestamp=timestamp, now=NOW) is False
    assert verify(b"", SECRET, signature, timestamp=timestamp, allow_missing_timestamp=True, tolerance_s=None) is False


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [("sha256=\ud800", str(DOCS_TIMESTAMP)), ("sha256=\ud800", None), (DOCS_SIGNATURE, "9" * 400)],
    ids=["surrogate", "surrogate-without-timestamp", "timestamp-beyond-float"],
)
def test_verify_refuses_what_it_cannot_compare(signature: str, timestamp: str | None) -> None:
    assert verify(b"{}", SECRET, signature, timestamp=timestamp, allow_missing_timestamp=True, now=NOW) is False


# --- regressions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        "\ud800",
        "sha256=\ud800",  # found from outside: a 500, from encoding the header to compare it
        DOCS_SIGNATURE[:-1] + "\udfff",
        "sha256=é" + DOCS_SIGNATURE[8:],
        DOCS_SIGNATURE + "\x00",
        "sha256=" + "a" * 1_000_000,
        f"{DOCS_SIGNATURE},{DOCS_SIGNATURE}",
    ],
    ids=["lone-surrogate", "scheme-then-surrogate", "surrogate-in-hex", "non-ascii", "nul", "huge", "sent-twice"],
)
def test_a_signature_header_that_is_not_a_signature_is_a_401(signature: str) -> None:
    # Given the docs' delivery with a signature header holding undecodable or malformed text
    event = http_event({SIGNATURE: signature, TIMESTAMP: str(DOCS_TIMESTAMP)}, {"body": SAMPLE_EVENT["body"]})

    # When the handler gets it
    status, answer, queue = deliver(event)

    # Then it is a 401 naming the header, in one sentence, without quoting the header back
    assert status == 401
    assert answer["error"].startswith("the X-Assignar-Signature header ")
    assert signature not in answer["error"]
    assert queue.published == []


@pytest.mark.parametrize("timestamp", ["\ud800", "1764104645\udc00", "١٧٦٤١٠٤٦٤٥", "1764104645\x00", "9" * 100_000])
def test_a_timestamp_header_that_is_not_unix_seconds_is_a_401(timestamp: str) -> None:
    # Given the docs' signature with a timestamp header holding undecodable or non-ASCII text
    event = http_event({SIGNATURE: DOCS_SIGNATURE, TIMESTAMP: timestamp}, {"body": SAMPLE_EVENT["body"]})

    # When the handler gets it
    status, answer, _queue = deliver(event)

    # Then it is a 401 saying the timestamp is not a number
    assert (status, answer) == (401, {"error": "the X-Assignar-Timestamp header is not a number of Unix seconds"})


@pytest.mark.parametrize(
    "headers",
    [None, [], ["x-assignar-signature", DOCS_SIGNATURE], {SIGNATURE: None}, {SIGNATURE: [DOCS_SIGNATURE]}, {5: "x"}],
    ids=["null", "empty-list", "list", "null-value", "list-value", "number-name"],
)
def test_headers_that_are_not_a_map_of_text_are_a_401(headers: object) -> None:
    # Given an event whose headers field is not what API Gateway sends
    event = http_event({}, {"body": SAMPLE_EVENT["body"]}) | {"headers": headers}

    # When the handler gets it
    status, answer, _queue = deliver(event)

    # Then it is a 401 for the missing signature, not a crash
    assert (status, answer) == (401, {"error": "missing the X-Assignar-Signature header"})


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"body": 5}, 401),
        ({"body": {"event": "timesheet.approved"}}, 401),
        ({"body": "\ud800"}, 401),
        ({"body": "e30=\ud800", "isBase64Encoded": True}, 401),
        ({"body": None, "isBase64Encoded": True}, 401),
        ({"isBase64Encoded": True}, 401),
        ({"body": ""}, 401),
    ],
    ids=["number", "object", "lone-surrogate", "surrogate-in-base64", "null-base64", "missing-base64", "empty"],
)
def test_a_body_field_that_is_not_text_is_refused_not_crashed(fields: dict[str, Any], status: int) -> None:
    # Given an event whose body is not text, not UTF-8, or absent, with the docs' signature (for another body)
    event = http_event({SIGNATURE: DOCS_SIGNATURE, TIMESTAMP: str(DOCS_TIMESTAMP)}, fields)

    # When the handler gets it
    actual, answer, queue = deliver(event)

    # Then it is refused with a 4xx in one sentence
    assert actual == status, answer
    assert_refused_for_authentication(actual, answer, queue)
