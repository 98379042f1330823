"""A stack's dead-letter queue read without consuming it, for `parked list` and `parked replay` on an admin's
machine (`parked.DeadLetterQueue`). No function imports this: they only ever park (`sqs.SqsParking`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import boto3

from ..parked import DeadLetter, ParkedKind
from .errors import aws_errors
from .sqs import SQS_BATCH

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

# How many messages one look at a dead-letter queue reads at most: a queue holding more has a cause to fix first,
# and the first thousand name it.
DEAD_LETTER_LIMIT: Final = 1000


class SqsDeadLetterQueue:
    """Each message is held invisible while it is looked at, then given back at once (ChangeMessageVisibility 0),
    or deleted once what it holds was replayed.

    Long polling (`wait_s`) asks every SQS server, so a queue holding a few messages is never read as empty, as a
    short poll may; it costs that wait once, when the queue has nothing more to give.
    """

    def __init__(
        self, queue_url: str, kind: ParkedKind, where: str, *, client: SQSClient | None = None, wait_s: int = 1
    ) -> None:
        self.queue_url = queue_url
        self.kind = kind
        self.where = where
        self.wait_s = wait_s
        self._sqs: Any = client or boto3.client("sqs")

    def hold(self, seconds: int) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        seen: set[str] = set()
        repeats: list[DeadLetter] = []  # a standard queue may deliver one message twice: given back at once
        while len(letters) < DEAD_LETTER_LIMIT:
            with aws_errors(f"reading the {self.where}"):
                answer = self._sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=SQS_BATCH,
                    VisibilityTimeout=seconds,
                    WaitTimeSeconds=self.wait_s,
                    AttributeNames=["SentTimestamp"],
                    MessageAttributeNames=["reason"],
                )
            messages = answer.get("Messages", [])
            if not messages:
                break
            for message in messages:
                letter = _letter(message)
                if message["MessageId"] in seen:
                    repeats.append(letter)
                    continue
                seen.add(message["MessageId"])
                letters.append(letter)
        else:
            logger.warning(
                "more parked messages than one look reads; the first are shown",
                extra={"queue": self.where, "shown": len(letters)},
            )
        self.release(repeats)
        return letters

    def release(self, letters: Sequence[DeadLetter]) -> None:
        for start in range(0, len(letters), SQS_BATCH):
            batch = letters[start : start + SQS_BATCH]
            with aws_errors(f"giving messages back to the {self.where}"):
                reply = self._sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": letter.receipt, "VisibilityTimeout": 0}
                        for index, letter in enumerate(batch)
                    ],
                )
            for failed in reply.get("Failed", []):
                # Not given back early, it comes back by itself when its hold ends.
                logger.debug("message not given back early", extra={"queue": self.where, "code": failed.get("Code")})

    def delete(self, letter: DeadLetter) -> None:
        with aws_errors(f"removing a replayed message from the {self.where}"):
            self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=letter.receipt)


def _letter(message: dict[str, Any]) -> DeadLetter:
    sent = str(message.get("Attributes", {}).get("SentTimestamp", ""))
    reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
    return DeadLetter(
        body=message["Body"],
        reason=reason or None,
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent.isdigit() else None,
        receipt=message["ReceiptHandle"],
    )
