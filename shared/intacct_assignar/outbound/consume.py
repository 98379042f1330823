"""Handling deliveries from the push queue: post the timesheet, retry later, or park it with the reason
(`consumer.py`'s rules).

Timesheets the push parks itself (unknown employee, Intacct's refusal) are reported by the push service to
the parked queue, as replayable messages: re-driving one retries the timesheet. Work that must wait (another
worker holds the timesheet, Intacct's answer was lost, an outage) raises, so the queue brings it back; on its
last delivery it is parked here instead, so it reaches an admin with its reason rather than without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..consumer import Parked, Parking, QueueConsumer, QueueWork
from .messages import PushMessage
from .push import PushService
from .results import PushResult


class PushWork(QueueWork[PushMessage, PushResult]):
    what = "push message"

    def __init__(self, push: PushService) -> None:
        self.push = push

    def read(self, body: str) -> PushMessage:
        return PushMessage.from_body(body)

    def prefetch(self, messages: Sequence[PushMessage]) -> None:
        """Post the batch together: its timesheets read in one Assignar call, their references checked in one
        Intacct request and all their writes sent in one more (`PushService.post_together`). Each message then
        takes its own timesheet's outcome in `apply`, so a failure still costs only its own message."""
        requests: dict[int, bool] = {}
        for message in messages:
            requests.setdefault(message.timesheet_id, message.retry_parked)
        self.push.post_together(requests)

    def apply(self, message: PushMessage, body: str) -> PushResult:
        # Everything `post` raises means "try again later" (its contract); what a person must look at comes back
        # as a "parked" result, already reported to the parked queue by the push service.
        return self.push.post(message.timesheet_id, retry_parked=message.retry_parked)

    def log_fields(self, message: PushMessage) -> dict[str, Any]:
        return {"timesheet_id": message.timesheet_id}

    def progress(self, message: PushMessage) -> str:
        """How far the timesheet got, from the ledger: the reason must not say "not posted" of posted time."""
        try:
            entry = self.push.state.get_ledger(message.timesheet_id)
        except Exception:
            return "not finished"
        if entry is not None and entry.state == "posted":
            return "posted to Intacct but not marked processed in Assignar"
        return "not posted"

    def replay_body(self, message: PushMessage, body: str) -> str:
        # The ledger still guards against doubles when a person re-drives it.
        return message.for_replay().to_body()


class PushConsumer:
    """The push queue's consumer, answering in push results: a parked timesheet is a "parked" `PushResult`."""

    def __init__(self, push: PushService, parking: Parking) -> None:
        self.push = push
        self.consumer = QueueConsumer(PushWork(push), parking)

    def prefetch(self, bodies: Iterable[str]) -> None:
        self.consumer.prefetch(bodies)

    def handle(self, body: str, *, receive_count: int = 1, max_receives: int | None = None) -> PushResult | None:
        """The result of posting the message's timesheet; None for a body that is not a push message (parked)."""
        outcome = self.consumer.handle(body, receive_count=receive_count, max_receives=max_receives)
        if not isinstance(outcome, Parked):
            return outcome
        if outcome.message is None:
            return None
        return PushResult(outcome.message.timesheet_id, "parked", reason=outcome.reason)
