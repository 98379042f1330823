"""Starting a Lambda function without waiting for it: the puller continuing a long pull in a fresh invocation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class LambdaInvoker:
    def __init__(self, *, client: LambdaClient | None = None) -> None:
        self._lambda: LambdaClient = client or boto3.client("lambda")

    def start(self, function_arn: str, payload: str) -> None:
        """Queue an invocation of `function_arn` with the JSON `payload` (an asynchronous "Event" invocation: Lambda
        retries it on its own and sends it to the function's failure destination if it keeps failing)."""
        self._lambda.invoke(FunctionName=function_arn, InvocationType="Event", Payload=payload.encode())
