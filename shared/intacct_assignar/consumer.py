"""One delivery from a work queue, handled the same way for every queue: done, parked for a person, or retried.

- A body that is not a message, and work refused with `ParkForPerson`, are parked at once with the reason.
- Work that must wait (`RetryLater`) raises, so the record fails alone and the queue brings it back; so does a
  failure nobody classified (an outage a client reported in its own words, a bug a deploy fixes).
- On the last delivery (the queue's maxReceiveCount) the work is parked with "gave up after N deliveries: <why>"
  instead, so it reaches a person with its reason rather than the dead-letter queue without one.

What a message is and how it is applied plugs in as a `QueueWork`. Knows nothing of Lambda or SQS: the handlers
pass the receive count, and `Parking` is the dead-letter queue in AWS or a list in the CLI.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import ValidationError

from .outcomes import ParkForPerson, RetryLater

logger = logging.getLogger(__name__)

M = TypeVar("M")
R = TypeVar("R")


class Parking(Protocol):
    """Where refused work waits for an admin: the dead-letter queue in AWS, a list in the CLI's report."""

    def park(self, body: str, reason: str) -> None: ...


@dataclass
class Parked(Generic[M]):
    """A delivery handed to a person: the reason parked with it, and the message when the body was one."""

    reason: str
    message: M | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"reason": self.reason}


class QueueWork(ABC, Generic[M, R]):
    """What one queue's messages are and how one is applied; the rest of a delivery is `QueueConsumer`'s."""

    what = "message"  # names the work in log lines: "<what> parked"

    @abstractmethod
    def read(self, body: str) -> M:
        """The message in a body; raises `ParkForPerson` (with what is wrong) for a body that is not one."""

    @abstractmethod
    def apply(self, message: M, body: str) -> R:
        """Do the work; raises `RetryLater` for work that must wait and `ParkForPerson` for work a person must fix."""

    def prefetch(self, messages: Sequence[M]) -> None:
        """Read what a batch needs together (a speed-up only: `apply` reads whatever was not prefetched)."""

    def about(self, message: M) -> str | None:
        """What a refusal's reason starts with, so a person knows which record it is (None: the reason says)."""
        return None

    def log_fields(self, message: M) -> dict[str, Any]:
        """What names the message in the ERROR line a park writes (a timesheet's id, a record's key)."""
        return {}

    def progress(self, message: M) -> str | None:
        """How far the work got, said in the reason parked on its last delivery (None: nothing worth saying)."""
        return None

    def replay_body(self, message: M, body: str) -> str:
        """The body parked for a person: moving it back to the queue must retry the work."""
        return body


Apply = Callable[[M, str], R]


class QueueConsumer(Generic[M, R]):
    def __init__(self, work: QueueWork[M, R], parking: Parking) -> None:
        self.work = work
        self.parking = parking

    def prefetch(self, bodies: Iterable[str]) -> None:
        """Prefetch a batch's messages; a failure only costs the speed-up (each is then read on its own)."""
        messages = []
        for body in bodies:
            try:
                messages.append(self.work.read(body))
            except ParkForPerson:
                continue  # handled, and parked, on its own delivery
        try:
            self.work.prefetch(messages)
        except Exception:
            logger.warning("prefetch of a batch failed; reading its work one by one", exc_info=True)

    def handle(
        self,
        body: str,
        *,
        receive_count: int = 1,
        max_receives: int | None = None,
        apply: Apply[M, R] | None = None,
    ) -> R | Parked[M]:
        """One delivery. `max_receives` is the queue's maxReceiveCount (None: the queue never gives up, as the
        CLI's does not); `apply` stands in for the work's own (the sync consumer's idempotency wrapper)."""
        try:
            message = self.work.read(body)
        except ParkForPerson as refused:
            return self.park(body, refused.reason)
        try:
            return (apply or self.work.apply)(message, body)
        except ParkForPerson as refused:
            about = self.work.about(message)
            return self.park(self.work.replay_body(message, body), _joined(about, refused.reason), message)
        except Exception as error:
            # RetryLater, and any failure nobody classified as well: an outage a client reports in its own words
            # passes by itself, and if it does not, a person gets it with its reason, not the DLQ without one.
            if max_receives is None or receive_count < max_receives:
                raise
            progress = self.work.progress(message)
            reason = f"gave up after {receive_count} deliveries{f' ({progress})' if progress else ''}: {_why(error)}"
            return self.park(self.work.replay_body(message, body), reason, message)

    def park(self, body: str, reason: str, message: M | None = None) -> Parked[M]:
        named = self.work.log_fields(message) if message is not None else {}
        logger.error("%s parked", self.work.what, extra={**named, "reason": reason})
        self.parking.park(body, reason)
        return Parked(reason, message)


def _joined(about: str | None, reason: str) -> str:
    return f"{about}: {reason}" if about else reason


def _why(error: Exception) -> str:
    """`RetryLater`'s own words; anything else is named by its type as well (a client's error, a bug)."""
    return str(error) if isinstance(error, RetryLater) else f"{type(error).__name__}: {error}"


def validation_problems(error: ValidationError, limit: int = 5) -> str:
    """A queue body's first problems, each as `field.path: what is wrong` (a whole-body problem as `body`)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in detail['loc']) or 'body'}: {detail['msg']}" for detail in error.errors()[:limit]
    )
