"""Handling one message from the upsert queue: validate it, upsert it, or park it with the reason.

Bad bodies and records Assignar cannot take are parked at once (retrying cannot help) where an admin sees
them with the reason and can replay them; a record waiting for a dependency raises, so the queue brings it
back later; Assignar being unavailable raises too, for the same reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from .messages import MessageError, SyncMessage
from .upsert import UpsertRefused, UpsertResult, UpsertService

logger = logging.getLogger(__name__)


class Parking(Protocol):
    """Where refused work waits for an admin: the dead-letter queue in AWS, a list in the CLI's report."""

    def park(self, body: str, reason: str) -> None: ...


@dataclass
class Parked:
    reason: str
    workflow: str | None = None
    integration_id: str | None = None


class SyncConsumer:
    def __init__(self, upsert: UpsertService, parking: Parking) -> None:
        self.upsert = upsert
        self.parking = parking

    def handle(self, body: str) -> UpsertResult | Parked:
        try:
            message = SyncMessage.from_body(body)
        except MessageError as exc:
            logger.error("sync message refused", extra={"reason": str(exc)})
            self.parking.park(body, str(exc))
            return Parked(str(exc))
        return self.apply(message, body)

    def park(self, body: str, reason: str) -> Parked:
        logger.error("sync message parked", extra={"reason": reason})
        self.parking.park(body, reason)
        return Parked(reason)

    def apply(self, message: SyncMessage, body: str | None = None) -> UpsertResult | Parked:
        try:
            return self.upsert.apply(message)
        except UpsertRefused as exc:
            reason = f"{message.workflow} {message.integration_id}: {exc}"
            logger.error("record refused", extra={"workflow": message.workflow, "reason": reason})
            self.parking.park(body or message.to_body(), reason)
            return Parked(reason, message.workflow, message.integration_id)
