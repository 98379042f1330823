"""Publishing queue messages (sync records, timesheets to post) to SQS in batches of ten, retrying entries SQS
reports as failed; and parking refused work on a dead-letter queue with its reason."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)

SQS_BATCH = 10  # SendMessageBatch takes at most ten entries
ATTEMPTS = 3


class QueueMessage(Protocol):
    def to_body(self) -> str: ...


class PublishError(RuntimeError):
    """Messages SQS would not take after retries: the pull stops before moving its checkpoint."""


class SqsPublisher:
    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._sqs: Any = client or boto3.client("sqs")
        self.sent = 0

    def publish(self, messages: Sequence[QueueMessage]) -> None:
        for start in range(0, len(messages), SQS_BATCH):
            self._send(messages[start : start + SQS_BATCH])

    def _send(self, batch: Sequence[QueueMessage]) -> None:
        pending = {str(index): message for index, message in enumerate(batch)}
        for _attempt in range(ATTEMPTS):
            reply = self._sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": key, "MessageBody": message.to_body()} for key, message in pending.items()],
            )
            for ok in reply.get("Successful", []):
                pending.pop(ok["Id"], None)
                self.sent += 1
            failed = reply.get("Failed", [])
            # Sender faults (a malformed entry) will not heal by retrying: stop at once with SQS's reason.
            if any(f.get("SenderFault") for f in failed) or not pending:
                break
        if pending:
            reasons = "; ".join(f"{f.get('Code')}: {f.get('Message')}" for f in reply.get("Failed", []))
            raise PublishError(f"SQS refused {len(pending)} of {len(batch)} messages: {reasons}")


class SqsParking:
    """Parks a refused message on the dead-letter queue, with the reason as a message attribute admins see."""

    def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
        self.queue_url = queue_url
        self._sqs: Any = client or boto3.client("sqs")

    def park(self, body: str, reason: str) -> None:
        self._sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            # SQS caps attribute values at 256 KiB; a reason is a line, kept well under.
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:4000]}},
        )
