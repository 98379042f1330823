"""Every AWS call each function makes while the whole system runs is one its role in template.yaml allows.

moto enforces no IAM: a call the role does not grant passes every other test and is refused only in AWS (as the push
consumer's PutItem of DEFINITION# items once was, under a RUN#-only condition). The demo runs every function on the
local stack (pulls, upserts, the webhook receiver, the push consumer, the approval watcher); each call is recorded
with the function making it and checked against that function's role as IAM would: action, resource, and the
`dynamodb:LeadingKeys` condition on every partition key. Calls outside the functions (set-up, the admin's view)
are not the roles' to allow. The negative controls take grants out of the parsed template and check the same
recorded calls are then refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from intacct_assignar_dev.local_aws import LocalStack, translate
from intacct_assignar_dev.system_demo import run_system_demo

from .iam import Call, CallRecorder, Roles


@dataclass
class Run:
    calls: list[Call]
    roles: Roles

    def by(self, function: str) -> set[str]:
        """The actions one function's calls asked for."""
        return {r.action for call in self.calls for r in self.roles.requests(call) if r.function == function}


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    stacks: list[LocalStack] = []
    create = LocalStack.create

    def create_and_keep(*args: Any, **kwargs: Any) -> LocalStack:
        # The demo keeps its stack to itself; the checker needs its queues, tables, secrets and function names.
        stack = create(*args, **kwargs)
        stacks.append(stack)
        return stack

    with pytest.MonkeyPatch.context() as patch, CallRecorder().installed() as recorder:
        patch.setattr(LocalStack, "create", create_and_keep)
        # Only the local stack's functions set it: a value from outside would make the test's own calls theirs.
        patch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
        report = run_system_demo(employees=30)
    assert report.ok, report.problems
    [stack] = stacks
    _, resources = translate(parameters=stack.parameters)
    yield Run(recorder.calls, Roles.of(stack, resources))


def test_every_call_a_function_makes_is_allowed_by_its_role(run: Run) -> None:
    refused = run.roles.refused(run.calls)
    assert not refused, "calls the functions' roles in template.yaml do not allow:\n" + "\n".join(refused)


def test_the_recorder_saw_every_function_and_every_kind_of_client_they_make(run: Run) -> None:
    # Given what the demo runs: each function, the clients made inside handlers from the default session, and the
    # ones Powertools makes from sessions of its own (secrets; the upsert consumer's idempotency store)
    seen = {run.roles.function_of(call) for call in run.calls}

    # Then a call of every function was recorded, and each kind of client was heard from
    assert seen == {*run.roles.stack.functions, None}
    assert "secretsmanager:GetSecretValue" in run.by("PushConsumerFunction")
    assert "secretsmanager:GetSecretValue" in run.by("WebhookReceiverFunction")
    assert "sqs:SendMessage" in run.by("WebhookReceiverFunction")
    assert {"secretsmanager:GetSecretValue", "sqs:SendMessage"} <= run.by("SmartEventReceiverFunction")
    assert {"dynamodb:BatchGetItem", "dynamodb:PutItem", "sqs:SendMessage"} <= run.by("TargetedPullerFunction")
    assert {"dynamodb:PutItem", "dynamodb:GetItem"} <= run.by("SyncConsumerFunction")
    idempotency = run.roles.stack.tables["IdempotencyTable"]
    assert any(c.params.get("TableName") == idempotency for c in run.calls if c.function)


@pytest.mark.parametrize(
    ("function", "sid", "refused"),
    [
        # The push consumer's run entries and its Intacct definitions
        ("PushConsumerFunction", "RunHistoryAndDefinitions", ["dynamodb:PutItem", "key DEFINITION#", "key RUN#"]),
        # The webhook receiver's only way to hand on an approval
        ("WebhookReceiverFunction", "Enqueue", ["sqs:SendMessage", "PushQueue"]),
        # The puller's Intacct settings
        ("SyncPullerFunction", "IntacctSecret", ["secretsmanager:GetSecretValue", "IntacctSecretArn"]),
        # The Smart Event receiver's token (its own secret), and its only way to hand on a notice
        (
            "SmartEventReceiverFunction",
            "EventsTokenSecret",
            ["secretsmanager:GetSecretValue", "IntacctEventsTokenSecret"],
        ),
        ("SmartEventReceiverFunction", "Enqueue", ["sqs:SendMessage", "EventQueue"]),
        # The targeted puller's reads of what was written, its records for Assignar and its run entries
        ("TargetedPullerFunction", "State", ["dynamodb:BatchGetItem", "StateTable"]),
        ("TargetedPullerFunction", "Publish", ["sqs:SendMessage", "UpsertQueue"]),
        ("TargetedPullerFunction", "RunHistoryAndDefinitions", ["dynamodb:PutItem", "key RUN#"]),
    ],
)
def test_a_grant_taken_out_of_the_template_refuses_the_calls_that_needed_it(
    run: Run, function: str, sid: str, refused: list[str]
) -> None:
    # Given the template with one statement taken out of one function's role
    narrower = run.roles.without(function, sid)

    # When the calls already recorded are checked against it
    lines = narrower.refused(run.calls)

    # Then that function's calls which needed it are refused, and nothing else is
    assert lines
    assert all(line.startswith(f"{function}: ") for line in lines), lines
    for part in refused:
        assert any(part in line for line in lines), (part, lines)


def test_a_leading_keys_condition_without_definitions_refuses_the_push_consumers_definitions(run: Run) -> None:
    # Given the push consumer's grant to put whole items held to run entries only, as it was when AWS refused it
    narrower = run.roles.with_condition(
        "PushConsumerFunction",
        "RunHistoryAndDefinitions",
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RUN#*"]}},
    )

    # When the recorded calls are checked against it
    lines = narrower.refused(run.calls)

    # Then the puts of definitions are refused, and the run entries still pass
    assert lines and all("dynamodb:PutItem" in line and "key DEFINITION#" in line for line in lines), lines


def test_the_smart_event_receiver_reads_its_token_secret_and_no_other_secret(run: Run) -> None:
    # Given the secrets the receiver read while the demo's Smart Event came in
    stack = run.roles.stack
    token_secret = stack.secrets["IntacctEventsTokenSecret"]
    read = {
        r.resource
        for call in run.calls
        for r in run.roles.requests(call)
        if r.function == "SmartEventReceiverFunction" and r.action == "secretsmanager:GetSecretValue"
    }

    # Then it read the token's own secret, never the Intacct secret (the passwords) nor Assignar's
    assert read == {token_secret}
    assert token_secret not in {stack.parameters["IntacctSecretArn"], stack.parameters["AssignarSecretArn"]}


@pytest.mark.parametrize("parameter", ["IntacctSecretArn", "AssignarSecretArn"])
def test_negative_control_a_read_of_the_tenants_other_secrets_by_the_receiver_would_be_denied(
    run: Run, parameter: str
) -> None:
    # Given a read of the Intacct (or Assignar) secret, as the receiver made when the token was kept there
    stack = run.roles.stack
    secret = stack.parameters[parameter]
    receiver = stack.functions["SmartEventReceiverFunction"].name
    call = Call(receiver, "secretsmanager", "GetSecretValue", {"SecretId": secret})

    # Then its role refuses it
    assert run.roles.refused([call]) == [f"SmartEventReceiverFunction: secretsmanager:GetSecretValue on {secret}"]
    # And the check can allow a read: the same read of the token's secret, and the one the Intacct secret's readers make
    assert (
        run.roles.refused(
            [
                Call(
                    receiver,
                    "secretsmanager",
                    "GetSecretValue",
                    {"SecretId": stack.secrets["IntacctEventsTokenSecret"]},
                )
            ]
        )
        == []
    )
    reader = "TargetedPullerFunction" if parameter == "IntacctSecretArn" else "WebhookReceiverFunction"
    assert (
        run.roles.refused(
            [Call(stack.functions[reader].name, "secretsmanager", "GetSecretValue", {"SecretId": secret})]
        )
        == []
    )
