"""The push consumer's delivery rules: park bad bodies and refusals once, retry what must wait, and hand a
timesheet that still cannot be posted on its last delivery to a person with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from intacct_assignar.outbound.consume import PushConsumer
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.push import PushService
from intacct_assignar.outbound.results import PushResult, TimesheetBusyError


@dataclass
class FakePush:
    answers: dict[int, PushResult | Exception] = field(default_factory=dict)
    calls: list[tuple[int, bool]] = field(default_factory=list)
    together: list[dict[int, bool]] = field(default_factory=list)
    state: Any = None  # the ledger, read on a last delivery

    def post(self, timesheet_id: int, *, retry_parked: bool = False, dry_run: bool = False) -> PushResult:
        self.calls.append((timesheet_id, retry_parked))
        answer = self.answers.get(timesheet_id, PushResult(timesheet_id, "posted"))
        if isinstance(answer, Exception):
            raise answer
        return answer

    def post_together(self, requests: dict[int, bool]) -> None:
        if list(requests) == [666]:
            raise RuntimeError("Assignar is down")
        self.together.append(requests)


@dataclass
class FakeParking:
    parked: list[tuple[str, str]] = field(default_factory=list)

    def park(self, body: str, reason: str) -> None:
        self.parked.append((body, reason))


def consumer(push: FakePush) -> tuple[PushConsumer, FakeParking]:
    parking = FakeParking()
    return PushConsumer(cast(PushService, push), parking), parking


def body(timesheet_id: int, **extra: Any) -> str:
    return PushMessage(timesheet_id=timesheet_id, trigger="webhook", **extra).to_body()


def test_a_body_that_is_not_a_push_message_is_parked_with_the_reason_and_not_retried() -> None:
    push = FakePush()
    handler, parking = consumer(push)
    assert handler.handle('{"timesheet_id": "x"}') is None
    [(parked_body, reason)] = parking.parked
    assert parked_body == '{"timesheet_id": "x"}' and "not a valid push message" in reason
    assert push.calls == []


def test_a_parked_result_is_not_copied_again_the_push_service_reported_it() -> None:
    for earlier in (False, True):
        push = FakePush({7: PushResult(7, "parked", reason="employee E-9 does not exist in Intacct", earlier=earlier)})
        handler, parking = consumer(push)
        result = handler.handle(body(7))
        assert result is not None and result.outcome == "parked"
        assert parking.parked == []


def test_a_replay_asks_to_retry_a_parked_timesheet() -> None:
    push = FakePush()
    handler, _ = consumer(push)
    handler.handle(body(7, retry_parked=True))
    assert push.calls == [(7, True)]


def test_work_that_must_wait_raises_until_its_last_delivery_then_is_parked_with_the_reason() -> None:
    push = FakePush({7: TimesheetBusyError("timesheet 7 is being posted by another worker")})
    handler, parking = consumer(push)
    with pytest.raises(TimesheetBusyError):
        handler.handle(body(7), receive_count=2, max_receives=3)
    assert parking.parked == []
    result = handler.handle(body(7), receive_count=3, max_receives=3)
    assert result is not None and result.outcome == "parked"
    [(parked_body, reason)] = parking.parked
    assert PushMessage.from_body(parked_body).retry_parked
    assert "after 3 deliveries" in reason and "another worker" in reason


def test_prefetch_posts_the_batch_together_and_a_failure_only_costs_the_speed_up() -> None:
    push = FakePush()
    handler, _ = consumer(push)
    # A timesheet delivered twice in one batch is posted once, as the first message asks (a replay or not).
    handler.prefetch([body(1), "junk", body(2, retry_parked=True), body(1, retry_parked=True)])
    assert push.together == [{1: False, 2: True}]
    handler.prefetch([body(666)])  # raises inside: logged, not raised
    assert handler.handle(body(666)) is not None  # and the message is still posted on its own


@dataclass
class FakeLedger:
    state: str | None = None

    def get_ledger(self, timesheet_id: int) -> Any:
        if self.state == "unreadable":
            raise ConnectionError("DynamoDB did not answer")
        return None if self.state is None else type("Entry", (), {"state": self.state})()


@pytest.mark.parametrize(
    ("ledger", "said"),
    [
        (None, "not posted"),
        ("claimed", "not posted"),
        ("posted", "posted to Intacct but not marked processed in Assignar"),
        ("unreadable", "not finished"),
    ],
)
def test_the_last_delivery_reason_says_how_far_the_timesheet_got(ledger: str | None, said: str) -> None:
    # Given a timesheet that still cannot be finished, and what the ledger knows of it
    push = FakePush({7: ConnectionError("Assignar did not answer")})
    push.state = FakeLedger(ledger)
    handler, parking = consumer(push)

    # When its last delivery fails
    result = handler.handle(body(7), receive_count=5, max_receives=5)

    # Then the reason says how far it got, and what went wrong, in its own words
    assert (
        result is not None
        and result.reason == f"gave up after 5 deliveries ({said}): ConnectionError: Assignar did not answer"
    )
    assert [reason for _, reason in parking.parked] == [result.reason]
