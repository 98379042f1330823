"""The puller's continuation: one asynchronous invocation of the function, carrying the request (no sockets:
botocore's stubber answers in place of Lambda)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber
from intacct_assignar.aws.invoke import LambdaInvoker

ARN = "arn:aws:lambda:us-east-1:123456789012:function:acme-sync-puller"


def test_a_continuation_is_an_event_invocation_of_the_function_with_the_payload() -> None:
    # Given Lambda expecting one asynchronous invocation
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as lambda_:
        lambda_.add_response(
            "invoke",
            {"StatusCode": 202},
            {"FunctionName": ARN, "InvocationType": "Event", "Payload": b'{"entity":"workers","full":true}'},
        )

        # When the puller continues
        LambdaInvoker(client=client).start(ARN, '{"entity":"workers","full":true}')

        # Then exactly that invocation was made
        lambda_.assert_no_pending_responses()
