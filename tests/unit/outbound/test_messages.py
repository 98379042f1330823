"""Push messages: what the receiver and the sweep queue, what the consumer accepts, what a replay carries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from intacct_assignar.outbound.messages import PushMessage, PushMessageError

EVENTS = Path(__file__).resolve().parents[3] / "events"


def test_the_sample_push_event_carries_a_valid_message() -> None:
    event = json.loads((EVENTS / "push_consumer_sqs.json").read_text())
    message = PushMessage.from_body(event["Records"][0]["body"])
    assert (message.timesheet_id, message.trigger, message.retry_parked) == (812, "webhook", False)


def test_a_message_round_trips_and_its_replay_retries_a_parked_timesheet() -> None:
    message = PushMessage(timesheet_id=5, trigger="sweep")
    assert PushMessage.from_body(message.to_body()) == message
    replay = message.for_replay()
    assert (replay.trigger, replay.retry_parked, replay.timesheet_id) == ("replay", True, 5)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("not json", "body"),
        ('{"version": 1, "timesheet_id": "5", "trigger": "webhook"}', "timesheet_id"),
        ('{"version": 1, "timesheet_id": 0, "trigger": "webhook"}', "timesheet_id"),
        ('{"version": 2, "timesheet_id": 5, "trigger": "webhook"}', "version"),
        ('{"version": 1, "timesheet_id": 5, "trigger": "email"}', "trigger"),
        ('{"version": 1, "timesheet_id": 5, "trigger": "webhook", "extra": 1}', "extra"),
        ('{"version": 1, "timesheet_id": 5, "trigger": "webhook", "queued_at": "2026-11-25T21:00:00"}', "queued_at"),
    ],
)
def test_a_body_that_is_not_a_push_message_is_refused_naming_the_field(body: str, words: str) -> None:
    with pytest.raises(PushMessageError) as refused:
        PushMessage.from_body(body)
    assert words in str(refused.value) and "not a valid push message" in str(refused.value)
