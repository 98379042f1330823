"""Handling deliveries from the upsert queue: validate, upsert, or park with the reason.

Bad bodies and records Assignar cannot take are parked at once (retrying cannot help) where an admin sees
them with the reason and can replay them. A record waiting for a dependency raises, so the queue brings it
back later, until its last delivery, when it is parked with the reason too. Assignar being unavailable raises
as well, for the same reason. The Lambda handler and the CLI's in-memory queue both go through here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from .messages import MessageError, SyncMessage
from .upsert import DependencyNotReady, UpsertRefused, UpsertResult, UpsertService

logger = logging.getLogger(__name__)

Apply = Callable[[SyncMessage, str], UpsertResult]
"""How a message is applied: the upsert itself, or (in Lambda) the upsert behind Powertools idempotency."""


class Parking(Protocol):
    """Where refused work waits for an admin: the dead-letter queue in AWS, a list in the CLI's report."""

    def park(self, body: str, reason: str) -> None: ...


@dataclass
class Parked:
    reason: str


class SyncConsumer:
    def __init__(self, upsert: UpsertService, parking: Parking) -> None:
        self.upsert = upsert
        self.parking = parking

    def prefetch(self, bodies: Iterable[str]) -> None:
        """Look up the Assignar records of a batch together; a failure only costs the speed-up."""
        messages = []
        for body in bodies:
            try:
                messages.append(SyncMessage.from_body(body))
            except MessageError:
                continue  # handled, and parked, on its own delivery
        try:
            self.upsert.prefetch(messages)
        except Exception:
            logger.warning("prefetch of Assignar records failed; looking records up one by one", exc_info=True)

    def handle(
        self,
        body: str,
        *,
        receive_count: int = 1,
        max_receives: int | None = None,
        apply: Apply | None = None,
    ) -> UpsertResult | Parked:
        """One delivery. `max_receives` is the queue's maxReceiveCount: on that delivery a record still waiting
        for a dependency is parked with the reason instead of reaching the dead-letter queue without one."""
        try:
            message = SyncMessage.from_body(body)
        except MessageError as refused:
            return self.park(body, str(refused))
        try:
            return (apply or self._apply)(message, body)
        except UpsertRefused as refused:
            return self.park(body, f"{message.workflow} {message.integration_id}: {refused}")
        except DependencyNotReady as waiting:
            if max_receives is None or receive_count < max_receives:
                raise
            return self.park(body, f"gave up after {max_receives} deliveries: {waiting}")

    def park(self, body: str, reason: str) -> Parked:
        logger.error("sync message parked", extra={"reason": reason})
        self.parking.park(body, reason)
        return Parked(reason)

    def _apply(self, message: SyncMessage, _body: str) -> UpsertResult:
        return self.upsert.apply(message)
