"""Handling deliveries from the upsert queue: validate, upsert, or park with the reason (`consumer.py`'s rules).

Bad bodies and records Assignar cannot take are parked at once (retrying cannot help) where an admin sees
them with the reason and can replay them. A record waiting for a dependency raises, so the queue brings it
back later, until its last delivery, when it is parked with the reason too. Assignar being unavailable raises
as well, for the same reason. The Lambda handler and the CLI's in-memory queue both go through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..consumer import Parking, QueueConsumer, QueueWork
from .messages import SyncMessage
from .upsert import UpsertResult, UpsertService


class SyncWork(QueueWork[SyncMessage, UpsertResult]):
    what = "sync message"

    def __init__(self, upsert: UpsertService) -> None:
        self.upsert = upsert

    def read(self, body: str) -> SyncMessage:
        return SyncMessage.from_body(body)

    def prefetch(self, messages: Sequence[SyncMessage]) -> None:
        """Look up the Assignar records of a batch together."""
        self.upsert.prefetch(messages)

    def apply(self, message: SyncMessage, body: str) -> UpsertResult:
        return self.upsert.apply(message)

    def log_fields(self, message: SyncMessage) -> dict[str, Any]:
        return {"workflow": message.workflow, "integration_id": message.integration_id}

    def about(self, message: SyncMessage) -> str:
        return f"{message.workflow} {message.integration_id}"


class SyncConsumer(QueueConsumer[SyncMessage, UpsertResult]):
    def __init__(self, upsert: UpsertService, parking: Parking) -> None:
        super().__init__(SyncWork(upsert), parking)
        self.upsert = upsert
