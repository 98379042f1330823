"""The one delivery contract both queue consumers follow: a bad body or work a person must fix is parked at once
with its reason; work that must wait raises, so the queue brings it back, until its last delivery, when it is
parked with the reason; a prefetch that fails only costs its speed-up. In-memory fakes only."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
from intacct_assignar.consumer import Parked, QueueConsumer, QueueWork
from intacct_assignar.outcomes import ParkForPerson, RetryLater


@dataclass(frozen=True)
class Job:
    key: str


class Waiting(RetryLater):
    pass


class Refused(ParkForPerson):
    pass


@dataclass
class FakeWork(QueueWork[Job, str]):
    """Reads `{"key": ...}` bodies; each key answers as scripted (an exception is raised); records its calls."""

    answers: dict[str, Exception] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    prefetched: list[list[str]] = field(default_factory=list)
    prefetch_error: Exception | None = None
    how_far: str | None = None
    what = "job"

    def read(self, body: str) -> Job:
        try:
            return Job(json.loads(body)["key"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ParkForPerson(f"not a job: {exc!r}") from exc

    def apply(self, message: Job, body: str) -> str:
        self.applied.append(message.key)
        if message.key in self.answers:
            raise self.answers[message.key]
        return f"done {message.key}"

    def prefetch(self, messages: Sequence[Job]) -> None:
        if self.prefetch_error is not None:
            raise self.prefetch_error
        self.prefetched.append([m.key for m in messages])

    def about(self, message: Job) -> str:
        return f"job {message.key}"

    def progress(self, message: Job) -> str | None:
        return self.how_far

    def replay_body(self, message: Job, body: str) -> str:
        return json.dumps({"key": message.key, "replay": True})


@dataclass
class FakeParking:
    parked: list[tuple[str, str]] = field(default_factory=list)

    def park(self, body: str, reason: str) -> None:
        self.parked.append((body, reason))


def consumer(**answers: Exception) -> tuple[QueueConsumer[Job, str], FakeWork, FakeParking]:
    work, parking = FakeWork(dict(answers)), FakeParking()
    return QueueConsumer(work, parking), work, parking


def body(key: str) -> str:
    return json.dumps({"key": key})


def test_work_that_is_done_returns_its_result_and_parks_nothing() -> None:
    handler, work, parking = consumer()
    assert handler.handle(body("a"), receive_count=5, max_receives=5) == "done a"
    assert work.applied == ["a"] and parking.parked == []


def test_retry_later_before_the_last_delivery_raises_it_and_parks_nothing() -> None:
    # Given work that must wait
    waiting = Waiting("job a waits for job b")
    handler, _, parking = consumer(a=waiting)

    # When it is delivered for the first and the next-to-last time, the very same error comes out
    for receive_count in (1, 2):
        with pytest.raises(Waiting) as raised:
            handler.handle(body("a"), receive_count=receive_count, max_receives=3)
        assert raised.value is waiting

    # Then nothing reached a person yet
    assert parking.parked == []


def test_retry_later_on_the_last_delivery_is_parked_with_the_reason_for_a_replay() -> None:
    handler, _, parking = consumer(a=Waiting("job a waits for job b"))

    outcome = handler.handle(body("a"), receive_count=3, max_receives=3)

    assert outcome == Parked("gave up after 3 deliveries: job a waits for job b")
    assert isinstance(outcome, Parked) and outcome.message == Job("a")
    assert parking.parked == [(json.dumps({"key": "a", "replay": True}), outcome.reason)]


def test_a_delivery_past_the_last_one_is_parked_too_and_says_how_many_there_were() -> None:
    # SQS's receive count is approximate: a message can come back once more than maxReceiveCount
    handler, _, parking = consumer(a=Waiting("busy"))
    outcome = handler.handle(body("a"), receive_count=4, max_receives=3)
    assert isinstance(outcome, Parked) and outcome.reason == "gave up after 4 deliveries: busy"
    assert len(parking.parked) == 1


def test_the_last_delivery_reason_says_how_far_the_work_got() -> None:
    handler, work, _ = consumer(a=Waiting("busy"))
    work.how_far = "half done"
    outcome = handler.handle(body("a"), receive_count=3, max_receives=3)
    assert isinstance(outcome, Parked) and outcome.reason == "gave up after 3 deliveries (half done): busy"


def test_without_a_last_delivery_work_that_must_wait_always_raises() -> None:
    # The CLI's in-memory queue never gives up on its own: it decides when nothing moves any more
    handler, _, parking = consumer(a=Waiting("busy"))
    with pytest.raises(Waiting):
        handler.handle(body("a"), receive_count=99)
    assert parking.parked == []


def test_park_for_person_is_parked_at_once_with_its_reason_naming_the_work() -> None:
    handler, work, parking = consumer(a=Refused("Assignar refused it: name is required"))

    outcome = handler.handle(body("a"), receive_count=1, max_receives=3)

    assert outcome == Parked("job a: Assignar refused it: name is required")
    assert parking.parked == [
        (json.dumps({"key": "a", "replay": True}), "job a: Assignar refused it: name is required")
    ]
    assert work.applied == ["a"]


def test_a_body_that_is_not_a_message_is_parked_at_once_as_it_came_and_never_applied() -> None:
    handler, work, parking = consumer()

    outcome = handler.handle('{"nokey": 1}', receive_count=1, max_receives=3)

    assert isinstance(outcome, Parked) and outcome.message is None
    assert outcome.reason.startswith("not a job")
    assert parking.parked == [('{"nokey": 1}', outcome.reason)]
    assert work.applied == []


def test_a_failure_nobody_classified_raises_until_the_last_delivery_then_is_parked_naming_its_type() -> None:
    handler, _, parking = consumer(a=ConnectionError("Assignar did not answer"))
    with pytest.raises(ConnectionError):
        handler.handle(body("a"), receive_count=2, max_receives=3)
    assert parking.parked == []

    outcome = handler.handle(body("a"), receive_count=3, max_receives=3)

    assert isinstance(outcome, Parked)
    assert outcome.reason == "gave up after 3 deliveries: ConnectionError: Assignar did not answer"


def test_a_stand_in_apply_replaces_the_works_own() -> None:
    # The sync consumer's idempotency wrapper plugs in here
    handler, work, _ = consumer()
    seen: list[tuple[Job, str]] = []

    def wrapped(message: Job, raw: str) -> str:
        seen.append((message, raw))
        raise Refused("refused by the wrapper")

    outcome = handler.handle(body("a"), apply=wrapped)

    assert seen == [(Job("a"), body("a"))] and work.applied == []
    assert isinstance(outcome, Parked) and outcome.reason == "job a: refused by the wrapper"


def test_every_park_is_one_error_line_with_the_reason(caplog: pytest.LogCaptureFixture) -> None:
    handler, _, _ = consumer(a=Refused("fix it"))
    with caplog.at_level(logging.ERROR, logger="intacct_assignar.consumer"):
        handler.handle(body("a"))
    [line] = caplog.records
    assert line.levelno == logging.ERROR and line.getMessage() == "job parked"
    assert line.__dict__["reason"] == "job a: fix it"


def test_prefetch_reads_the_batch_skipping_bodies_that_are_not_messages() -> None:
    handler, work, parking = consumer()
    handler.prefetch([body("a"), "junk", body("b")])
    assert work.prefetched == [["a", "b"]]
    assert parking.parked == []  # the bad body is parked on its own delivery, once


def test_a_prefetch_that_fails_only_costs_the_speed_up(caplog: pytest.LogCaptureFixture) -> None:
    handler, work, _ = consumer()
    work.prefetch_error = ConnectionError("Assignar is down")

    with caplog.at_level(logging.WARNING, logger="intacct_assignar.consumer"):
        handler.prefetch([body("a")])

    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert handler.handle(body("a")) == "done a"  # each delivery still goes through on its own
