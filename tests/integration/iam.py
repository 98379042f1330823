"""Every AWS call a function of the local stack makes, and whether its role in template.yaml would allow it.

moto enforces no IAM, so a call the role does not grant passes every test on the local stack and is refused only
in AWS. `CallRecorder` records the calls (a botocore hook in every session, as moto installs its own stubber);
`Roles` evaluates each against the function's role the way IAM would for this template's statements: action,
resource ARN, and the `dynamodb:LeadingKeys` condition on every partition key the call touches.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.handlers
from aws_lambda_powertools.utilities import parameters
from botocore.model import OperationModel
from intacct_assignar_dev.local_aws import ACCOUNT, REGION, LocalStack, Resources, referenced_id

FUNCTION_NAME_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME"


@dataclass(frozen=True)
class Call:
    """One AWS API call as the code made it; `function` is the deployed name of the function making it, or None
    for a call made outside any function (set-up, the admin's commands)."""

    function: str | None
    service: str
    operation: str
    params: Mapping[str, Any]


@dataclass
class CallRecorder:
    calls: list[Call] = field(default_factory=list)

    def __call__(self, params: Mapping[str, Any], model: OperationModel, **_: Any) -> None:
        # The service's endpoint prefix is its IAM prefix for every service the functions use (dynamodb, sqs,
        # secretsmanager, lambda); botocore has no field for the IAM prefix itself.
        service = model.service_model.endpoint_prefix
        self.calls.append(Call(os.environ.get(FUNCTION_NAME_VARIABLE), service, model.name, dict(params)))

    @contextmanager
    def installed(self) -> Iterator[CallRecorder]:
        """Record calls from every client created while installed, by any session.

        boto3 clients are made inside the handlers, from the default session or a session of their own
        (Powertools' parameters and idempotency make `boto3.session.Session()`): a hook on one session's events
        would miss those. Each new botocore session registers `BUILTIN_HANDLERS`, which is how moto puts its stubber
        in every session too. Sessions made before (a default session, Powertools' cached secrets provider) are
        dropped so that their clients are made again under the hook.
        """
        saved = botocore.handlers.BUILTIN_HANDLERS
        botocore.handlers.BUILTIN_HANDLERS = [*saved, ("provide-client-params", self)]
        boto3.DEFAULT_SESSION = None
        parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
        try:
            yield self
        finally:
            # Sessions made meanwhile carry the hook: dropped too, so nothing records once the test is over.
            botocore.handlers.BUILTIN_HANDLERS = saved
            boto3.DEFAULT_SESSION = None
            parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped


@dataclass(frozen=True)
class Request:
    """One authorisation IAM makes for a call: an action on a resource, for the partition keys it touches."""

    function: str
    action: str
    resource: str
    keys: tuple[str, ...] = ()

    def __str__(self) -> str:
        touched = f" key {', '.join(sorted(set(self.keys)))}" if self.keys else ""
        return f"{self.function}: {self.action} on {self.resource}{touched}"


# Operations authorised as another action (the batch forms of SQS's calls are authorised as the single ones).
SQS_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
# Each item of a transaction needs the action of its kind, on its table, for its key.
TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


@dataclass
class Roles:
    """The functions of a local stack and each one's role statements, their resources resolved to ARNs."""

    stack: LocalStack
    statements: dict[str, list[dict[str, Any]]]  # function logical id -> its role's statements
    # table name -> {index name, or None for the table: the partition key attribute}
    partition_keys: dict[str, dict[str | None, str]]

    @classmethod
    def of(cls, stack: LocalStack, resources: Resources) -> Roles:
        statements: dict[str, list[dict[str, Any]]] = {}
        for logical_id in stack.functions:
            role = resources[referenced_id(resources[logical_id]["Properties"]["Role"])]
            statements[logical_id] = [
                {**statement, "Resource": [_resolved(stack, r) for r in _as_list(statement.get("Resource", []))]}
                for policy in role["Properties"].get("Policies", [])
                for statement in policy["PolicyDocument"]["Statement"]
            ]
        partition_keys: dict[str, dict[str | None, str]] = {}
        for logical_id, table in stack.tables.items():
            properties = resources[logical_id]["Properties"]
            partition_keys[table] = {None: _hash_key(properties["KeySchema"])}
            for index in properties.get("GlobalSecondaryIndexes", []):
                partition_keys[table][index["IndexName"]] = _hash_key(index["KeySchema"])
        return cls(stack, statements, partition_keys)

    def without(self, function: str, sid: str) -> Roles:
        """These roles with one statement taken from one function's role (the negative control)."""
        kept = [s for s in self.statements[function] if s.get("Sid") != sid]
        if len(kept) == len(self.statements[function]):
            raise KeyError(f"{function}'s role has no statement {sid}")
        return Roles(self.stack, {**self.statements, function: kept}, self.partition_keys)

    def with_condition(self, function: str, sid: str, condition: dict[str, Any]) -> Roles:
        """These roles with one statement's condition replaced (the negative control)."""
        changed = [{**s, "Condition": condition} if s.get("Sid") == sid else s for s in self.statements[function]]
        return Roles(self.stack, {**self.statements, function: changed}, self.partition_keys)

    # --- the calls as IAM sees them --------------------------------------------------------------------------

    def function_of(self, call: Call) -> str | None:
        """The logical id of the function that made the call; None outside any function."""
        if call.function is None:
            return None
        for logical_id, function in self.stack.functions.items():
            if function.name == call.function:
                return logical_id
        raise LookupError(f"a call was made by {call.function}, which is not a function of the stack")

    def requests(self, call: Call) -> list[Request]:
        function = self.function_of(call)
        if function is None:
            return []
        p = call.params
        if call.service == "dynamodb":
            return list(self._dynamodb(function, call.operation, p))
        if call.service == "sqs":
            action = f"sqs:{SQS_ACTIONS.get(call.operation, call.operation)}"
            return [Request(function, action, self._queue_arn(str(p["QueueUrl"])))]
        if call.service == "secretsmanager":
            secret = str(p["SecretId"])
            if not secret.startswith("arn:"):
                # IAM checks the secret's ARN; a name would need a lookup the functions never need (they get ARNs).
                raise ValueError(f"{function} read the secret {secret} by name; only ARNs can be checked")
            return [Request(function, f"secretsmanager:{call.operation}", secret)]
        if call.service == "lambda" and call.operation == "Invoke":
            name = str(p["FunctionName"])
            arn = name if name.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            return [Request(function, "lambda:InvokeFunction", arn)]
        # Any other call: no grant in the template names its resource, so it is checked on "*".
        return [Request(function, f"{call.service}:{call.operation}", "*")]

    def _dynamodb(self, function: str, operation: str, p: Mapping[str, Any]) -> Iterator[Request]:
        if operation in ("TransactWriteItems", "TransactGetItems"):
            for item in p["TransactItems"]:
                [(kind, body)] = item.items()
                table = str(body["TableName"])
                key = self._key(table, None, body.get("Key") or body["Item"])
                yield Request(function, f"dynamodb:{TRANSACTION_ACTIONS[kind]}", table_arn(table), (key,))
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            for table, asked in p["RequestItems"].items():
                items = (
                    asked["Keys"]
                    if operation == "BatchGetItem"
                    else [w.get("PutRequest", {}).get("Item") or w["DeleteRequest"]["Key"] for w in asked]
                )
                keys = tuple(self._key(table, None, item) for item in items)
                yield Request(function, f"dynamodb:{operation}", table_arn(table), keys)
        elif operation == "Query":
            table, index = str(p["TableName"]), p.get("IndexName")
            resource = table_arn(table) + (f"/index/{index}" if index else "")
            yield Request(function, "dynamodb:Query", resource, (self._queried_key(table, index, p),))
        else:
            table = str(p["TableName"])
            item = p.get("Key") or p.get("Item")
            keys = (self._key(table, None, item),) if item else ()
            yield Request(function, f"dynamodb:{operation}", table_arn(table), keys)

    def _key(self, table: str, index: str | None, item: Mapping[str, Any]) -> str:
        [value] = item[self.partition_keys[table][index]].values()  # {"S": "RUN#..."}
        return str(value)

    def _queried_key(self, table: str, index: str | None, p: Mapping[str, Any]) -> str:
        attribute = self.partition_keys[table][index]
        names: Mapping[str, str] = p.get("ExpressionAttributeNames", {})
        for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", str(p["KeyConditionExpression"])):
            if names.get(name, name) == attribute:
                [value] = p["ExpressionAttributeValues"][placeholder].values()
                return str(value)
        raise ValueError(f"no partition key in the query {p['KeyConditionExpression']!r} on {table}")

    def _queue_arn(self, url: str) -> str:
        for queue in self.stack.queues.values():
            if queue.url == url:
                return queue.arn
        raise LookupError(f"{url} is not a queue of the stack")

    # --- IAM's decision --------------------------------------------------------------------------------------

    def allows(self, request: Request) -> bool:
        statements = self.statements[request.function]
        if any(_applies(s, request) for s in statements if s["Effect"] == "Deny"):
            return False
        return any(_applies(s, request) for s in statements if s["Effect"] == "Allow")

    def refused(self, calls: Iterable[Call]) -> list[str]:
        """One line per distinct request the roles would refuse (how many times, when more than once)."""
        counts = Counter(str(r) for call in calls for r in self.requests(call) if not self.allows(r))
        return [line if n == 1 else f"{line} (x{n})" for line, n in sorted(counts.items())]


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    unsupported = {"NotAction", "NotResource", "NotPrincipal"} & statement.keys()
    if unsupported:
        # Not in the template today; evaluating them needs their own rules, so say so rather than guess.
        raise NotImplementedError(f"cannot evaluate {sorted(unsupported)} in {request.function}'s role")
    return (
        # Actions are case-insensitive in IAM; resources and condition values are not.
        any(_like(request.action.lower(), a.lower()) for a in _as_list(statement["Action"]))
        and any(_like(request.resource, str(r)) for r in _as_list(statement["Resource"]))
        and _conditions_hold(statement.get("Condition", {}), request)
    )


def _conditions_hold(condition: Mapping[str, Mapping[str, Any]], request: Request) -> bool:
    for operator, tests in condition.items():
        for key, patterns in tests.items():
            if (operator, key) != ("ForAllValues:StringLike", "dynamodb:LeadingKeys"):
                raise NotImplementedError(
                    f"cannot evaluate the condition {operator} {key} in {request.function}'s role"
                )
            # ForAllValues: every key the request touches matches one of the patterns (none touched: it holds).
            if not all(any(_like(k, str(p)) for p in _as_list(patterns)) for k in request.keys):
                return False
    return True


def _like(value: str, pattern: str) -> bool:
    """IAM's wildcard match (StringLike, ARNs, actions): `*` any run of characters, `?` any one, nothing else special
    (fnmatch would also read `[...]`)."""
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, value, flags=re.DOTALL) is not None


def _resolved(stack: LocalStack, resource: Any) -> str:
    try:
        return str(stack.resolve(resource))
    except KeyError:
        # What the local stack does not create (log groups: Lambda writes the logs, not the code) matches no call.
        return f"(not on the local stack: {resource})"


def _as_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else [value]


def _hash_key(schema: Sequence[Mapping[str, str]]) -> str:
    [attribute] = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
    return attribute
