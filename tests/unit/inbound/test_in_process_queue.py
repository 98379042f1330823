"""The CLI's in-memory queue: what Assignar failing costs while it drains (a record, a workflow, or the run)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from intacct_assignar.assignar.errors import AuthenticationError, ServerError, ValidationError
from intacct_assignar.inbound.consume import SyncConsumer
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.sync import InProcessQueue
from intacct_assignar.inbound.upsert import UpsertResult

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def message(workflow: str, n: int) -> SyncMessage:
    return SyncMessage.deactivate(workflow, f"intacct:OBJ:{n}", "deleted in Intacct", run_id="r", pulled_at=NOW)


class Consumer:
    """Stands in for `SyncConsumer`: each workflow answers as scripted; records what it was asked."""

    def __init__(self, answers: dict[str, Exception | None]) -> None:
        self.answers = answers
        self.handled: list[str] = []

    def handle(self, body: str, **_: Any) -> UpsertResult:
        parsed = SyncMessage.from_body(body)
        self.handled.append(parsed.integration_id)
        answer = self.answers.get(parsed.workflow)
        if answer is not None:
            raise answer
        return UpsertResult(parsed.workflow, parsed.integration_id, None, "deactivated")


def drain(consumer: Consumer, messages: list[SyncMessage]) -> tuple[list[UpsertResult], list[tuple[str, str]]]:
    queue = InProcessQueue()
    queue.publish(messages)
    return queue.drain(cast(SyncConsumer, consumer))


def test_assignar_refusing_one_workflows_resource_fails_its_records_without_a_call_each() -> None:
    # Given Assignar refusing /tasks (the API client lacks that permission) and accepting everything else
    refused = AuthenticationError("Assignar refused the access token", method="PUT", path="/tasks/7", status=403)
    consumer = Consumer({"roles": refused})
    messages = [message("roles", n) for n in range(5)] + [message("clients", n) for n in range(5, 8)]

    # When the queue drains
    done, failed = drain(consumer, messages)

    # Then every role failed with the reason, only the first cost a call, and the clients went through
    assert [r.workflow for r in done] == ["clients"] * 3
    assert len(failed) == 5
    assert all("may use /tasks/7" in reason for _, reason in failed)
    assert sum(1 for key in consumer.handled if key in {f"intacct:OBJ:{n}" for n in range(5)}) == 1


def test_one_record_assignar_fails_on_costs_that_record() -> None:
    # Given a server error on one record (after the client's own retries) between good ones
    class OneBad(Consumer):
        def handle(self, body: str, **_: Any) -> UpsertResult:
            if SyncMessage.from_body(body).integration_id == "intacct:OBJ:1":
                raise ServerError("Assignar server error: HTTP 500", path="/clients/1", status=500)
            return super().handle(body)

    done, failed = drain(OneBad({}), [message("clients", n) for n in range(3)])
    assert len(done) == 2 and len(failed) == 1


def test_assignar_down_ends_the_run_rather_than_failing_every_record_slowly() -> None:
    # Given Assignar answering nothing but server errors
    down = ServerError("Assignar server error: HTTP 503", path="/clients", status=503)

    # When the queue drains, the run stops after a few records in a row, with Assignar's error
    with pytest.raises(ServerError):
        drain(Consumer({"clients": down}), [message("clients", n) for n in range(50)])


def test_refused_credentials_end_the_run_at_once() -> None:
    token = AuthenticationError(
        "Assignar refused the client credentials", method="POST", path="https://login.example/oauth2/token"
    )
    with pytest.raises(AuthenticationError):
        drain(Consumer({"clients": token}), [message("clients", n) for n in range(3)])


def test_a_refusal_of_one_records_payload_is_not_assignar_being_down() -> None:
    # Validation errors are the upsert's to park; here they only must not count towards "Assignar is down"
    consumer = Consumer({"clients": ValidationError("bad", path="/clients", status=400)})
    done, failed = drain(consumer, [message("clients", n) for n in range(10)])
    assert not done and len(failed) == 10
