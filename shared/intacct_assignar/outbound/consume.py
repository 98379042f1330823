"""Handling deliveries from the push queue: post the timesheet, retry later, or park it with the reason.

Timesheets the push parks itself (unknown employee, Intacct's refusal) are reported by the push service to
the parked queue, as replayable messages: re-driving one retries the timesheet. Work that must wait (another
worker holds the timesheet, Intacct's answer was lost, an outage) raises, so the queue brings it back; on its
last delivery it is parked here instead, so it reaches an admin with its reason rather than without one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ..inbound.consume import Parking
from .messages import PushMessage, PushMessageError
from .outcomes import PushResult
from .push import PushService

logger = logging.getLogger(__name__)


class PushConsumer:
    def __init__(self, push: PushService, parking: Parking) -> None:
        self.push = push
        self.parking = parking

    def prefetch(self, bodies: Iterable[str]) -> None:
        """Read a batch's timesheets and check their references together; a failure only costs the speed-up."""
        ids = []
        for body in bodies:
            try:
                ids.append(PushMessage.from_body(body).timesheet_id)
            except PushMessageError:
                continue  # handled, and parked, on its own delivery
        try:
            self.push.prefetch(ids)
        except Exception:
            logger.warning("prefetch of a timesheet batch failed; reading timesheets one by one", exc_info=True)

    def handle(self, body: str, *, receive_count: int = 1, max_receives: int | None = None) -> PushResult | None:
        """The result of posting the message's timesheet; None for a body that is not a push message (parked)."""
        try:
            message = PushMessage.from_body(body)
        except PushMessageError as error:
            self.parking.park(body, str(error))
            return None
        try:
            result = self.push.post(message.timesheet_id, retry_parked=message.retry_parked)
        except Exception as error:
            if max_receives is None or receive_count < max_receives:
                raise
            # Last delivery: hand it to a person with the reason; the ledger still guards against doubles.
            reason = f"{self._where(message.timesheet_id)} after {receive_count} deliveries: "
            reason += f"{type(error).__name__}: {error}"
            self.parking.park(message.for_replay().to_body(), reason)
            logger.error("timesheet parked after its last delivery", extra={"timesheet_id": message.timesheet_id})
            return PushResult(message.timesheet_id, "parked", reason=reason)
        return result

    def _where(self, timesheet_id: int) -> str:
        """How far the timesheet got, from the ledger: the reason must not say "not posted" of posted time."""
        try:
            entry = self.push.state.get_ledger(timesheet_id)
        except Exception:
            return "not finished"
        if entry is not None and entry.state == "posted":
            return "posted to Intacct but not marked processed in Assignar"
        return "not posted"
