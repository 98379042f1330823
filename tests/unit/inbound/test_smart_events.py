"""The Smart Event receiver: only a notice with the tenant's token, of an object a workflow reads, modified recently,
is queued; everything else is refused with one sentence and queues nothing. Each refusal has its negative control (the
same notice, put right, is accepted), so no test passes for a reason other than the one it names."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from intacct_assignar.config import parse_config
from intacct_assignar.inbound.events import RecordEvent, SmartEventReceiver
from intacct_assignar.smart_events import (
    TOKEN_HEADER,
    EventsTokenError,
    body_template,
    checked_token,
    events_url,
    read_notice,
    setups,
)
from intacct_assignar_dev.emulators.intacct.smart_events import render
from pydantic import SecretStr

TOKEN = "s3cr3t-events-token-0123456789abcdef"
ZONE = ZoneInfo("America/Denver")
CONFIG = parse_config({"timezone": "America/Denver", "workflows": {"activities": {"enabled": False}}})
CHANGED = datetime(2026, 11, 25, 9, 0, 0, tzinfo=ZONE)
NOW = CHANGED.timestamp() + 20  # the notice arrives 20 s after the change


class Queue:
    def __init__(self) -> None:
        self.events: list[RecordEvent] = []

    def publish(self, messages: Sequence[RecordEvent]) -> None:
        self.events.extend(messages)


def receiver(queue: Queue, *, now: float = NOW, max_body_bytes: int = 4096) -> SmartEventReceiver:
    return SmartEventReceiver(SecretStr(TOKEN), CONFIG, queue, clock=lambda: now, max_body_bytes=max_body_bytes)


def notice(object_name: str = "EMPLOYEE", recordno: str = "900001", modified: str = "11/25/2026 09:00:00") -> bytes:
    return f'{{"object": "{object_name}", "key": "{recordno}", "modified": "{modified}"}}'.encode()


def test_an_authentic_notice_queues_its_object_and_record_key_and_nothing_else() -> None:
    # Given a notice as the Smart Event sends it, with the token in the URL's query string
    queue = Queue()
    body = b'{"object": "EMPLOYEE", "key": "900001", "modified": "11/25/2026 09:00:00", "NAME": "ignored"}'

    # When it arrives
    answer = receiver(queue).receive(body, {}, {"token": TOKEN})

    # Then it is accepted, and only the object and its RECORDNO are queued
    assert answer.status == 202
    [event] = queue.events
    assert (event.object_name, event.recordno) == ("EMPLOYEE", "900001")
    assert set(RecordEvent.model_fields) == {"version", "kind", "object_name", "recordno", "received_at"}


def test_a_form_encoded_notice_without_a_content_type_and_the_token_in_a_header_is_read_too() -> None:
    queue = Queue()
    body = b"object=project&key=400017&modified=11%2F25%2F2026+08%3A59%3A50"
    answer = receiver(queue).receive(body, {TOKEN_HEADER: TOKEN}, {})
    assert answer.status == 202
    assert [(e.object_name, e.recordno) for e in queue.events] == [("PROJECT", "400017")]


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ({}, {}),  # no token at all
        ({"token": "wrong"}, {}),
        ({"token": TOKEN[:-1]}, {}),  # one character short
        ({"token": TOKEN + "x"}, {}),  # one character more
        ({"token": TOKEN.upper()}, {}),
        ({}, {TOKEN_HEADER: "wrong"}),
        ({"tok": TOKEN}, {"X-Other": TOKEN}),  # the right value where it is not looked for
    ],
)
def test_a_forged_notice_is_refused_401_and_queues_nothing(query: dict[str, str], headers: dict[str, str]) -> None:
    queue = Queue()
    answer = receiver(queue).receive(notice(), headers, query)
    assert answer.status == 401
    assert "token" in answer.body["error"]
    assert queue.events == []


def test_negative_control_the_same_notice_with_the_token_is_queued() -> None:
    queue = Queue()
    assert receiver(queue).receive(notice(), {}, {"token": TOKEN}).status == 202
    assert len(queue.events) == 1


@pytest.mark.parametrize(
    ("modified", "accepted"),
    [
        ("11/25/2026 09:00:00", True),  # 20 s old
        ("11/25/2026 08:46:00", True),  # 14 min 20 s old: within the 15 minutes
        ("11/25/2026 08:44:00", False),  # 16 min 20 s old: stale
        ("11/24/2026 09:00:00", False),  # a day old: a replay
        ("11/25/2026 09:04:00", True),  # clocks a few minutes apart
        ("11/25/2026 09:10:00", False),  # 10 minutes in the future
    ],
)
def test_a_stale_notice_is_refused_401_and_queues_nothing(modified: str, accepted: bool) -> None:
    queue = Queue()
    answer = receiver(queue).receive(notice(modified=modified), {}, {"token": TOKEN})
    assert (answer.status == 202) is accepted, answer.body
    assert len(queue.events) == (1 if accepted else 0)
    if not accepted:
        assert answer.status == 401


def test_an_oversized_notice_is_refused_413_before_anything_is_parsed_or_compared() -> None:
    # Given a body over the limit that is not even a notice, and no token
    queue = Queue()
    garbage = b"\xff" * 4097

    # Then its size is what is refused (not its token, nor its encoding), and nothing is queued
    answer = receiver(queue).receive(garbage, {}, {})
    assert answer.status == 413
    assert queue.events == []
    # Negative control: one byte under the limit, the same bytes get as far as the token check
    assert receiver(queue).receive(garbage[:4096], {}, {}).status == 401


@pytest.mark.parametrize(
    ("object_name", "why"),
    [("VENDOR", "no enabled workflow reads VENDOR"), ("STANDARDTASK", "no enabled workflow reads STANDARDTASK")],
)
def test_a_notice_for_an_object_no_enabled_workflow_reads_is_refused_400(object_name: str, why: str) -> None:
    queue = Queue()
    answer = receiver(queue).receive(notice(object_name=object_name), {}, {"token": TOKEN})
    assert answer.status == 400
    assert answer.body["error"].startswith(why)
    assert queue.events == []
    # Negative control: an object a workflow reads is queued
    assert receiver(queue).receive(notice(object_name="ITEM"), {}, {"token": TOKEN}).status == 202


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"object": "EMPLOYEE", "key": "{!EMPLOYEE.RECORDNO!}", "modified": "11/25/2026 09:00:00"}', "RECORDNO"),
        (b'{"object": "EMPLOYEE", "key": "900001"}', "no modified"),
        (b'{"object": "EMPLOYEE", "key": "900001", "modified": "yesterday"}', "not a timestamp"),
        (b'["EMPLOYEE", "900001"]', "JSON object"),
        (b'{"object": ', "not JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"", "no object, key, modified"),
    ],
)
def test_a_body_that_is_not_our_notice_is_refused_400_with_one_sentence(body: bytes, problem: str) -> None:
    queue = Queue()
    answer = receiver(queue).receive(body, {}, {"token": TOKEN})
    assert answer.status == 400
    assert problem in answer.body["error"]
    assert queue.events == []


def test_the_token_never_reaches_an_answer_or_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    queue = Queue()
    answers = [
        receiver(queue).receive(notice(), {}, {"token": TOKEN}),
        receiver(queue).receive(notice(), {}, {"token": TOKEN + "x"}),
        receiver(queue).receive(notice(modified="01/01/2020 00:00:00"), {}, {"token": TOKEN}),
    ]
    assert [a.status for a in answers] == [202, 401, 401]
    seen = " ".join([str(a.body) for a in answers] + [r.getMessage() + str(r.__dict__) for r in caplog.records])
    assert TOKEN not in seen
    assert "Smart Event notice" in seen  # negative control: the log lines were captured


def test_what_print_tells_the_admin_to_type_rendered_as_intacct_would_is_accepted() -> None:
    # Given the setup `smart-events print` shows for workers, rendered for a record as the emulator's callout does
    [setup] = [s for s in setups(CONFIG, "https://api.example/intacct-events", TOKEN) if s.object_name == "EMPLOYEE"]
    record = {"RECORDNO": 900001, "WHENMODIFIED": CHANGED.replace(tzinfo=None), "NAME": "Maria"}
    body = render(setup.body, "EMPLOYEE", record).encode()
    token = urlsplit(setup.url).query.removeprefix("token=")

    # When the receiver gets it
    queue = Queue()
    answer = receiver(queue).receive(body, {}, {"token": token})

    # Then it is the record's notice; and the body carries nothing but the object, its key and its version
    assert answer.status == 202
    assert [(e.object_name, e.recordno) for e in queue.events] == [("EMPLOYEE", "900001")]
    assert read_notice(body).modified == "11/25/2026 09:00:00"
    assert setup.body == body_template("EMPLOYEE") and "NAME" not in setup.body
    assert setup.events == ("Add", "Set")


def test_print_lists_one_smart_event_per_object_the_enabled_workflows_read() -> None:
    found = setups(CONFIG, "https://api.example/intacct-events", TOKEN)
    # activities is disabled: STANDARDTASK is not watched; ITEM once, for roles and assets
    assert [s.object_name for s in found] == ["CUSTOMER", "PROJECT", "TASK", "ITEM", "EMPLOYEE"]
    assert [s.workflows for s in found if s.object_name == "ITEM"] == [("roles", "assets")]


def test_a_notice_of_a_change_in_the_repeated_hour_when_clocks_go_back_is_accepted() -> None:
    # Given a change at 01:30 MST on 1 November 2026, the second 01:30 of that night in Denver (clocks went back at
    # 02:00 MDT), rendered without a zone as Intacct writes WHENMODIFIED, and posted 20 s later
    changed = datetime(2026, 11, 1, 1, 30, 0, tzinfo=ZONE, fold=1)
    queue = Queue()

    # When it arrives
    answer = receiver(queue, now=changed.timestamp() + 20).receive(
        notice(modified="11/01/2026 01:30:00"), {}, {"token": TOKEN}
    )

    # Then it is fresh (20 s old), not an hour stale: the reading of the ambiguous time nearest the clock is taken
    assert answer.status == 202, answer.body
    assert len(queue.events) == 1


def test_negative_control_a_change_in_the_first_repeated_hour_is_accepted_too() -> None:
    changed = datetime(2026, 11, 1, 1, 30, 0, tzinfo=ZONE, fold=0)
    queue = Queue()
    answer = receiver(queue, now=changed.timestamp() + 20).receive(
        notice(modified="11/01/2026 01:30:00"), {}, {"token": TOKEN}
    )
    assert answer.status == 202, answer.body


# --- the token itself -----------------------------------------------------------------------------------------

GENERATED = (
    "Zq8vR2mXw4Lk9TnB3cYp7HsD1fGj6KaE0uVx5WbNiQoMlPeR"  # the shape the stack's secret generates (48, no punctuation)
)


@pytest.mark.parametrize(
    "value",
    [
        "a" * 31,  # one short of 32
        "demo-smart-events-token",  # a phrase, not a token
        "x" * 40 + "&token=other",  # would change the URL's query
        "x" * 40 + " ",  # a space (a paste with a trailing blank)
        "x" * 40 + "/",  # base64 rather than its URL-safe form
        "x" * 40 + "é",
    ],
)
def test_a_token_short_or_not_url_safe_is_refused_naming_the_setting_and_the_fix_never_the_value(value: str) -> None:
    # When a token of the wrong shape is checked, Then one sentence names where it came from and what to do
    with pytest.raises(EventsTokenError) as caught:
        checked_token(value, "INTACCT_EVENTS_TOKEN in the environment", "generate one with openssl rand -hex 32")
    message = str(caught.value)
    assert "INTACCT_EVENTS_TOKEN in the environment" in message and "openssl rand -hex 32" in message
    assert value not in message and "x" * 32 not in message and "a" * 31 not in message
    # And the receiver will not start with it
    with pytest.raises(EventsTokenError):
        SmartEventReceiver(SecretStr(value), CONFIG, Queue())


def test_an_unset_token_is_refused_as_not_set() -> None:
    for value in (None, ""):
        with pytest.raises(EventsTokenError, match="is not set"):
            checked_token(value, "INTACCT_EVENTS_TOKEN", "set it")


@pytest.mark.parametrize("value", ["a" * 32, GENERATED, "0123456789abcdef" * 4, "A-b_" * 8, TOKEN])
def test_negative_control_a_long_url_safe_token_is_taken_as_it_is(value: str) -> None:
    assert checked_token(value, "INTACCT_EVENTS_TOKEN", "set it") == value
    assert SmartEventReceiver(SecretStr(value), CONFIG, Queue()).receive(notice(), {}, {"token": value}).status in (
        202,
        401,  # stale against the real clock: past the token check all the same
    )


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("https://abc.execute-api.us-east-1.amazonaws.com/intacct-events", "a b&c=d#e%f+g"),
        ("https://abc.execute-api.us-east-1.amazonaws.com/intacct-events?tenant=acme", "x/y?z"),
        ("https://abc.execute-api.us-east-1.amazonaws.com/intacct-events", GENERATED),
    ],
)
def test_the_events_url_carries_any_token_intact_in_its_query(url: str, token: str) -> None:
    # When the URL is made with the token, Then the query read back holds that token and nothing else was broken
    made = urlsplit(events_url(url, token))
    assert parse_qs(made.query)["token"] == [token]
    assert made.fragment == ""
    assert made.path == urlsplit(url).path
    assert {k: v for k, v in parse_qs(made.query).items() if k != "token"} == parse_qs(urlsplit(url).query)
