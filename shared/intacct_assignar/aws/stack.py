"""A deployed tenant found by its CloudFormation stack's name (`--stack NAME`): the state table and the queues
that template.yaml's Outputs name, so that a command on an admin's machine works against the tenant in AWS."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import ClientError

from .dead_letters import SqsDeadLetterQueue
from .errors import AwsSetupError, aws_errors
from .sqs import QueueMessage, SqsPublisher

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# The stack's outputs a command needs (template.yaml's Outputs), by the field that holds each.
OUTPUTS: Final = {
    "state_table": "StateTableName",
    "upsert_queue_url": "UpsertQueueUrl",
    "push_queue_url": "PushQueueUrl",
    "parked_records_queue_url": "ParkedRecordsQueueUrl",
    "parked_timesheets_queue_url": "ParkedTimesheetsQueueUrl",
}

# Outputs a stack deployed from an older template may lack, for the commands that can do without them.
OPTIONAL_OUTPUTS: Final = {
    "intacct_events_url": "IntacctEventsUrl",
    "events_token_secret_arn": "IntacctEventsTokenSecretArn",
}

# The queues in the admin's words, as `parked list` shows where an item waits.
UPSERT_DEAD_LETTERS: Final = "upsert dead-letter queue"
PUSH_DEAD_LETTERS: Final = "push dead-letter queue"


@dataclass(frozen=True)
class DeployedStack:
    """What a command needs of one tenant's stack, read from its outputs."""

    name: str
    state_table: str
    upsert_queue_url: str
    push_queue_url: str
    parked_records_queue_url: str
    parked_timesheets_queue_url: str
    # Where Intacct's Smart Events post (`smart-events print`); None from a stack of an older template.
    intacct_events_url: str | None = None
    # The secret the stack generated the Smart Event token in; None from a stack of an older template.
    events_token_secret_arn: str | None = None

    @property
    def state_location(self) -> str:
        """The stack's state table as `--state` names it."""
        return f"dynamodb://{self.state_table}"

    def dead_letter_queues(self, *, client: SQSClient | None = None) -> list[SqsDeadLetterQueue]:
        """The records' and the timesheets' dead-letter queues, where the stack parks what needs a person."""
        with aws_errors("reading the stack's dead-letter queues"):
            sqs = client or boto3.client("sqs")
        return [
            SqsDeadLetterQueue(self.parked_records_queue_url, "record", UPSERT_DEAD_LETTERS, client=sqs),
            SqsDeadLetterQueue(self.parked_timesheets_queue_url, "timesheet", PUSH_DEAD_LETTERS, client=sqs),
        ]

    def events_token(self, *, client: SecretsManagerClient | None = None) -> str | None:
        """The Smart Event token in the stack's secret, read with the admin's own credentials (the functions' roles
        are not involved); None when the secret holds no INTACCT_EVENTS_TOKEN. The value is never put in an error."""
        from ..smart_events import TOKEN_SETTING

        if self.events_token_secret_arn is None:
            raise AwsSetupError(
                f"stack {self.name} has no output {OPTIONAL_OUTPUTS['events_token_secret_arn']}: deploy this version "
                "of template.yaml to it (sam deploy), then try again"
            )
        with aws_errors("reading the stack's Smart Event token (secretsmanager:GetSecretValue)"):
            secrets = client or boto3.client("secretsmanager")
            text = secrets.get_secret_value(SecretId=self.events_token_secret_arn).get("SecretString", "")
        try:
            settings = json.loads(text)
        except ValueError:
            return None  # not JSON: said as "not set" by the caller, without quoting what is there
        value = settings.get(TOKEN_SETTING) if isinstance(settings, dict) else None
        return value if isinstance(value, str) else None

    def upsert_queue(self, *, client: SQSClient | None = None) -> SqsPublisher:
        return _AdminPublisher(self.upsert_queue_url, "upsert queue", client=client)

    def push_queue(self, *, client: SQSClient | None = None) -> SqsPublisher:
        return _AdminPublisher(self.push_queue_url, "push queue", client=client)


def find_stack(name: str, *, client: CloudFormationClient | None = None) -> DeployedStack:
    """The stack's outputs (CloudFormation DescribeStacks). Raises `AwsSetupError` naming what is missing: the
    stack itself (in this account and region), or outputs a stack deployed from an older template lacks."""
    doing = f"finding the stack {name} (cloudformation:DescribeStacks)"
    with aws_errors(doing):
        cloudformation: Any = client or boto3.client("cloudformation")
        region = cloudformation.meta.region_name
        try:
            answer = cloudformation.describe_stacks(StackName=name)
        except ClientError as error:
            if "does not exist" not in str(error):
                raise
            raise AwsSetupError(
                f"no CloudFormation stack named {name} in {region}: check --stack, and that AWS_PROFILE and "
                "AWS_REGION point at the tenant's account and region"
            ) from error
    stacks = answer.get("Stacks", [])
    if not stacks:
        raise AwsSetupError(f"no CloudFormation stack named {name} in {region}: check --stack")
    stack = stacks[0]
    outputs = {output["OutputKey"]: output.get("OutputValue", "") for output in stack.get("Outputs", [])}
    missing = [key for key in OUTPUTS.values() if not outputs.get(key)]
    if missing:
        raise AwsSetupError(
            f"stack {name} ({stack.get('StackStatus', 'status unknown')}) has no output {', '.join(missing)}: "
            "deploy this version of template.yaml to it (sam deploy), then try again"
        )
    deployed = DeployedStack(name, **{field: outputs[key] for field, key in OUTPUTS.items()})
    return replace(
        deployed,
        intacct_events_url=outputs.get(OPTIONAL_OUTPUTS["intacct_events_url"]) or None,
        events_token_secret_arn=outputs.get(OPTIONAL_OUTPUTS["events_token_secret_arn"]) or None,
    )


class _AdminPublisher(SqsPublisher):
    """Sends replays to one of the stack's work queues; AWS refusing the admin's request is said as a sentence."""

    def __init__(self, queue_url: str, where: str, *, client: SQSClient | None = None) -> None:
        super().__init__(queue_url, client=client)
        self.where = where

    def publish(self, messages: Sequence[QueueMessage]) -> None:
        with aws_errors(f"sending to the stack's {self.where}"):
            super().publish(messages)
