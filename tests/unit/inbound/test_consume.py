"""The upsert queue's consumer: `consumer.py`'s rules with sync messages, and the reasons a person reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import pytest
from intacct_assignar.consumer import Parked
from intacct_assignar.inbound.consume import SyncConsumer
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.upsert import DependencyNotReady, UpsertRefused, UpsertResult, UpsertService

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def message(n: int, workflow: str = "clients") -> SyncMessage:
    return SyncMessage.deactivate(workflow, f"intacct:OBJ:{n}", "deleted in Intacct", run_id="r", pulled_at=NOW)


@dataclass
class FakeUpsert:
    answers: dict[str, Exception] = field(default_factory=dict)
    prefetched: list[list[str]] = field(default_factory=list)
    prefetch_error: Exception | None = None

    def apply(self, message: SyncMessage) -> UpsertResult:
        if message.integration_id in self.answers:
            raise self.answers[message.integration_id]
        return UpsertResult(message.workflow, message.integration_id, None, "deactivated")

    def prefetch(self, messages: Sequence[SyncMessage]) -> None:
        if self.prefetch_error is not None:
            raise self.prefetch_error
        self.prefetched.append([m.integration_id for m in messages])


@dataclass
class FakeParking:
    parked: list[tuple[str, str]] = field(default_factory=list)

    def park(self, body: str, reason: str) -> None:
        self.parked.append((body, reason))


def consumer(upsert: FakeUpsert) -> tuple[SyncConsumer, FakeParking]:
    parking = FakeParking()
    return SyncConsumer(cast(UpsertService, upsert), parking), parking


def test_an_applied_message_returns_the_upsert_result() -> None:
    handler, parking = consumer(FakeUpsert())
    outcome = handler.handle(message(1).to_body(), receive_count=3, max_receives=3)
    assert outcome == UpsertResult("clients", "intacct:OBJ:1", None, "deactivated")
    assert parking.parked == []


def test_a_refused_record_is_parked_at_once_naming_its_workflow_and_integration_id() -> None:
    refusal = UpsertRefused("Assignar refused it: name is required")
    handler, parking = consumer(FakeUpsert({"intacct:OBJ:1": refusal}))

    outcome = handler.handle(message(1).to_body(), receive_count=1, max_receives=3)

    reason = "clients intacct:OBJ:1: Assignar refused it: name is required"
    assert isinstance(outcome, Parked) and outcome.as_dict() == {"reason": reason}
    assert parking.parked == [(message(1).to_body(), reason)]


def test_a_record_waiting_for_a_dependency_comes_back_until_its_last_delivery_then_is_parked() -> None:
    waiting = DependencyNotReady("projects P-1 waits for clients C-1 to be in Assignar")
    handler, parking = consumer(FakeUpsert({"intacct:OBJ:1": waiting}))
    with pytest.raises(DependencyNotReady):
        handler.handle(message(1).to_body(), receive_count=2, max_receives=3)
    assert parking.parked == []

    outcome = handler.handle(message(1).to_body(), receive_count=3, max_receives=3)

    reason = "gave up after 3 deliveries: projects P-1 waits for clients C-1 to be in Assignar"
    assert outcome == Parked(reason)
    assert parking.parked == [(message(1).to_body(), reason)]


def test_a_body_that_is_not_a_sync_message_is_parked_with_the_reason() -> None:
    handler, parking = consumer(FakeUpsert())
    outcome = handler.handle('{"kind": "upsert"}')
    [(body, reason)] = parking.parked
    assert body == '{"kind": "upsert"}' and reason.startswith("not a valid sync message (version 1)")
    assert outcome == Parked(reason)


def test_prefetch_looks_up_the_batch_and_a_failure_only_costs_the_speed_up() -> None:
    upsert = FakeUpsert()
    handler, _ = consumer(upsert)
    handler.prefetch([message(1).to_body(), "junk", message(2).to_body()])
    assert upsert.prefetched == [["intacct:OBJ:1", "intacct:OBJ:2"]]

    upsert.prefetch_error = ConnectionError("Assignar is down")
    handler.prefetch([message(3).to_body()])  # logged, not raised
