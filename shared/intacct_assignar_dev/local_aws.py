"""The tenant stack of `template.yaml`, stood up on moto in this process, with the real Lambda handlers.

Everything comes from the template itself, translated by SAM's own translator: the queues with their
redrive policies and visibility timeouts, the tables with their keys and indexes, each function's environment,
its SQS event source (batch size), its schedules (their input) and its HTTP route. Nothing here is a second,
hand-written list of resources, so the demo and the tests exercise the wiring that deploys.

Used by `intacct-assignar demo` and the end-to-end tests; needs the `demo` extra (moto, aws-sam-translator), which
`make demo` installs. Functions run one at a time, each with its own environment (its name in
AWS_LAMBDA_FUNCTION_NAME too), its own warm `Runtime` and its own cache of secrets, as separate Lambda containers
would.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS
from intacct_assignar.runtime import Runtime

from .emulators.http_api import LocalContext

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ACCOUNT = "123456789012"
REGION = "us-east-1"

Resources = dict[str, dict[str, Any]]


def translate(
    template: Path = TEMPLATE, parameters: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], Resources]:
    """The SAM template as written, and the CloudFormation resources SAM's translator makes of it (offline)."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.yaml_helper import yaml_parse

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    sam: dict[str, Any] = yaml_parse(template.read_text())
    prepared = json.loads(json.dumps(sam))
    for resource in prepared["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                # The translator wants S3 locations; here the code is read from the folders themselves.
                properties[key] = "s3://local/code.zip"
    translated = Translator(managed_policy_map=None, sam_parser=Parser()).translate(
        sam_template=prepared, parameter_values=dict(parameters or {})
    )
    resources: Resources = translated["Resources"]
    return sam, resources


@dataclass
class Queue:
    logical_id: str
    url: str
    arn: str


@dataclass
class EventSource:
    """An SQS event source mapping: `function` polls `queue`, `batch_size` messages at a time."""

    function: str
    queue: str
    batch_size: int


@dataclass
class Schedule:
    function: str
    name: str
    payload: dict[str, Any]


@dataclass
class LocalFunction:
    """One function of the stack: its handler module, environment and warm runtime (one "container")."""

    logical_id: str
    # As deployed: the template's FunctionName, or the stack's name and the logical id as CloudFormation makes one.
    name: str
    code: Path
    environment: dict[str, str]
    timeout_s: float
    module: ModuleType | None = None
    runtime: Runtime | None = None
    # Powertools' parameter providers with the secrets they cache: a container's own, as its warm runtime is.
    providers: dict[str, Any] = field(default_factory=dict)
    invocations: int = 0

    def invoke(self, event: dict[str, Any]) -> Any:
        # One invocation at a time in the whole process: each swaps the process environment and the runtime
        # (the webhook route runs on the local HTTP API's threads).
        with _INVOKING, self._container():
            if self.module is None:
                self.module = _load_handler(self.logical_id, self.code / "app.py")
            self.invocations += 1
            context = LocalContext(
                self.name,
                invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}",
                aws_request_id=uuid.uuid4().hex,
                timeout_s=self.timeout_s,
            )
            return self.module.lambda_handler(event, context)

    @contextmanager
    def _container(self) -> Iterator[None]:
        saved, outside = dict(os.environ), dict(DEFAULT_PROVIDERS)
        os.environ.update(self.environment)
        # Lambda sets it in every container; Powertools reads it (idempotency keys), and the IAM test tells by it
        # which function made an AWS call.
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = self.name
        Runtime._current = self.runtime
        # Powertools keeps them in one dict for the process; a secret another function read must not be served
        # from its cache, or this function's own read (and its role's grant to make it) would never happen.
        DEFAULT_PROVIDERS.clear()
        DEFAULT_PROVIDERS.update(self.providers)
        try:
            yield
        finally:
            self.runtime = Runtime._current
            Runtime._current = None
            self.providers = dict(DEFAULT_PROVIDERS)
            DEFAULT_PROVIDERS.clear()
            DEFAULT_PROVIDERS.update(outside)
            os.environ.clear()
            os.environ.update(saved)


_INVOKING = threading.RLock()


def _load_handler(logical_id: str, path: Path) -> ModuleType:
    # A module name per function: the handlers are all called `app`, as Lambda loads each from its own folder.
    name = f"local_lambda_{logical_id}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the handler of {logical_id} from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class LocalStack:
    """The stack's resources on moto (call inside `moto.mock_aws()`), and its functions, ready to invoke."""

    name: str
    parameters: dict[str, str]
    queues: dict[str, Queue] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    # The template's own secrets (the Smart Event token's): logical id -> ARN.
    secrets: dict[str, str] = field(default_factory=dict)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    event_sources: list[EventSource] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    routes: dict[str, str] = field(default_factory=dict)  # "POST /path" -> function

    @classmethod
    def create(
        cls,
        secrets: Mapping[str, Mapping[str, Any]],
        *,
        name: str = "intacct-assignar-demo",
        parameters: Mapping[str, str] | None = None,
        template: Path = TEMPLATE,
        environment: Mapping[str, str] | None = None,
    ) -> LocalStack:
        """Create the template's queues, tables and secrets (generated) and the given ones on moto, and wire its
        functions.

        `secrets`: the settings for each secret parameter, e.g. {"IntacctSecretArn": {...}}; each becomes a
        Secrets Manager secret whose ARN is passed as that parameter. `environment` overrides variables in
        every function (the demo quiets their logs).
        """
        client = boto3.client("secretsmanager", region_name=REGION)
        values = dict(parameters or {})
        for parameter, settings in secrets.items():
            secret = client.create_secret(Name=f"{name}/{parameter}", SecretString=json.dumps(dict(settings)))
            values[parameter] = secret["ARN"]
        sam, resources = translate(template, values)
        stack = cls(name, _with_defaults(sam, values))
        stack._create_queues(resources)
        stack._create_tables(resources)
        stack._create_secrets(resources)
        stack._wire_functions(sam, resources)
        for function in stack.functions.values():
            function.environment.update(environment or {})
        stack._register_outputs(sam)
        return stack

    # --- resources ----------------------------------------------------------------------------------------

    def _create_queues(self, resources: Resources) -> None:
        sqs: Any = boto3.client("sqs", region_name=REGION)
        queues = {n: r for n, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
        # Dead-letter queues first: a redrive policy names its target's ARN.
        for logical_id in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n].get("Properties", {})):
            properties = queues[logical_id].get("Properties", {})
            attributes: dict[str, str] = {}
            for key in ("VisibilityTimeout", "MessageRetentionPeriod"):
                if key in properties:
                    attributes[key] = str(self.resolve(properties[key]))
            if "RedrivePolicy" in properties:
                policy = properties["RedrivePolicy"]
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": self.resolve(policy["deadLetterTargetArn"]),
                        "maxReceiveCount": str(self.resolve(policy["maxReceiveCount"])),
                    }
                )
            url = sqs.create_queue(QueueName=f"{self.name}-{logical_id}", Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.queues[logical_id] = Queue(logical_id, url, arn)

    def _create_tables(self, resources: Resources) -> None:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::DynamoDB::Table":
                continue
            properties = resource["Properties"]
            table = f"{self.name}-{logical_id}"
            arguments: dict[str, Any] = {
                key: properties[key]
                for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")
                if key in properties
            }
            dynamodb.create_table(TableName=table, **arguments)
            ttl = properties.get("TimeToLiveSpecification")
            if ttl:
                dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
            self.tables[logical_id] = table

    def _create_secrets(self, resources: Resources) -> None:
        """The template's own secrets, generated as CloudFormation would (GenerateSecretString: Secrets Manager's
        random password of that length and alphabet, under its key in the JSON template)."""
        client: Any = boto3.client("secretsmanager", region_name=REGION)
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::SecretsManager::Secret":
                continue
            generate = resource["Properties"]["GenerateSecretString"]
            options = {
                key: generate[key]
                for key in ("PasswordLength", "ExcludePunctuation", "ExcludeCharacters", "IncludeSpace")
                if key in generate
            }
            password = client.get_random_password(**options)["RandomPassword"]
            value = {**json.loads(generate["SecretStringTemplate"]), generate["GenerateStringKey"]: password}
            created = client.create_secret(Name=f"{self.name}/{logical_id}", SecretString=json.dumps(value))
            self.secrets[logical_id] = created["ARN"]

    def secret_settings(self, logical_id: str) -> dict[str, Any]:
        """What one of the template's own secrets holds now (as the admin reads it with `smart-events print`)."""
        client: Any = boto3.client("secretsmanager", region_name=REGION)
        settings: dict[str, Any] = json.loads(
            client.get_secret_value(SecretId=self.secrets[logical_id])["SecretString"]
        )
        return settings

    def _wire_functions(self, sam: dict[str, Any], resources: Resources) -> None:
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            properties = resource["Properties"]
            code = ROOT / str(sam["Resources"][logical_id]["Properties"]["CodeUri"])
            environment = {
                key: str(self.resolve(value)) for key, value in properties["Environment"]["Variables"].items()
            }
            deployed = str(self.resolve(properties["FunctionName"])) if "FunctionName" in properties else None
            self.functions[logical_id] = LocalFunction(
                logical_id, deployed or f"{self.name}-{logical_id}", code, environment, float(properties["Timeout"])
            )
            for name, event in sam["Resources"][logical_id]["Properties"].get("Events", {}).items():
                event_properties = event.get("Properties", {})
                if event["Type"] == "ScheduleV2":
                    self.schedules.append(Schedule(logical_id, name, json.loads(event_properties["Input"])))
                elif event["Type"] == "HttpApi":
                    self.routes[f"{event_properties['Method'].upper()} {event_properties['Path']}"] = logical_id
        for resource in resources.values():
            if resource["Type"] == "AWS::Lambda::EventSourceMapping":
                properties = resource["Properties"]
                self.event_sources.append(
                    EventSource(
                        function=referenced_id(properties["FunctionName"]),
                        queue=referenced_id(properties["EventSourceArn"]),
                        batch_size=int(properties.get("BatchSize", 10)),
                    )
                )

    def _register_outputs(self, sam: dict[str, Any]) -> None:
        """A CloudFormation stack under this stack's name whose outputs are the template's, resolved to what was
        created here, so `--stack NAME` finds the table and queues as it would in AWS. Outputs naming what the local
        stack does not create (the HTTP API's URL, the dashboard) are left out, as a failed deploy leaves them."""
        outputs: dict[str, dict[str, str]] = {}
        for name, output in sam.get("Outputs", {}).items():
            try:
                value = self.resolve(output["Value"])
            except KeyError:
                continue
            if isinstance(value, str):
                outputs[name] = {"Value": value}
        # One resource that creates nothing: CloudFormation needs one, and moto only records this type.
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": outputs,
        }
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*WaitConditionHandle.*")
            boto3.client("cloudformation", region_name=REGION).create_stack(
                StackName=self.name, TemplateBody=json.dumps(template)
            )

    def resolve(self, value: Any) -> Any:
        """A template value with Ref/GetAtt/Sub resolved to what this local stack created."""
        if isinstance(value, dict) and "Ref" in value:
            target = value["Ref"]
            if target in self.queues:
                return self.queues[target].url
            if target in self.tables:
                return self.tables[target]
            if target in self.secrets:
                return self.secrets[target]  # a secret's Ref is its ARN
            if target in self.parameters:
                return self.parameters[target]
            raise KeyError(f"no local value for Ref {target}")
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target, attribute = value["Fn::GetAtt"]
            if target in self.queues and attribute == "Arn":
                return self.queues[target].arn
            if target in self.queues and attribute == "QueueName":
                return f"{self.name}-{target}"
            if target in self.tables and attribute == "Arn":
                return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.tables[target]}"
            raise KeyError(f"no local value for GetAtt {target}.{attribute}")
        if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
            # e.g. the metrics namespace, "intacct-assignar/${AWS::StackName}"
            return re.sub(r"\$\{([^}!]+)\}", lambda match: str(self._substitute(match.group(1))), value["Fn::Sub"])
        return value

    def _substitute(self, name: str) -> Any:
        pseudo = {
            "AWS::StackName": self.name,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        target, _, attribute = name.partition(".")
        return self.resolve({"Fn::GetAtt": [target, attribute]} if attribute else {"Ref": target})

    # --- running ------------------------------------------------------------------------------------------

    def invoke_schedule(self, schedule: Schedule) -> Any:
        return self.functions[schedule.function].invoke(dict(schedule.payload))

    def handler_for_route(self, route: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        function = self.functions[self.routes[route]]

        def handle(event: dict[str, Any], _context: Any) -> dict[str, Any]:
            answer: dict[str, Any] = function.invoke(event)
            return answer

        return handle

    def pump(self, source: EventSource, *, rounds: int = 1000) -> int:
        """Deliver the queue to its function as the event source mapping would, until it is empty.

        Failed records become visible again at once (instead of after the visibility timeout), so retries
        and, after maxReceiveCount, the dead-letter queue happen within the run. Returns the records delivered.
        """
        sqs: Any = boto3.client("sqs", region_name=REGION)
        queue = self.queues[source.queue]
        delivered = 0
        for _ in range(rounds):
            received = self._batch(sqs, queue.url, source.batch_size)
            if not received:
                return delivered
            event = {"Records": [sqs_record(message, queue.arn) for message in received]}
            answer = self.functions[source.function].invoke(event)
            failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
            for message in received:
                if message["MessageId"] in failed:
                    sqs.change_message_visibility(
                        QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    sqs.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
                    delivered += 1
        raise RuntimeError(f"{source.queue} did not drain in {rounds} rounds")

    @staticmethod
    def _batch(sqs: Any, url: str, size: int) -> list[dict[str, Any]]:
        """Up to `size` messages, as a mapping with a batching window gathers them (SQS gives ten at a time)."""
        batch: list[dict[str, Any]] = []
        while len(batch) < size:
            received = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(size - len(batch), 10),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            batch.extend(received)
        return batch

    def messages(self, queue: str) -> list[tuple[str, str | None]]:
        """Bodies and reasons waiting on a queue (e.g. a dead-letter queue), left there."""
        sqs: Any = boto3.client("sqs", region_name=REGION)
        found: list[tuple[str, str | None]] = []
        seen: set[str] = set()
        while True:
            batch = sqs.receive_message(
                QueueUrl=self.queues[queue].url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                return found
            for message in fresh:
                seen.add(message["MessageId"])
                reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
                found.append((message["Body"], reason))


def _with_defaults(sam: dict[str, Any], values: Mapping[str, str]) -> dict[str, str]:
    parameters = {name: str(p["Default"]) for name, p in sam.get("Parameters", {}).items() if "Default" in p}
    return {**parameters, **values}


def referenced_id(value: Any) -> str:
    """The logical id a translated template's {"Ref": X} or {"Fn::GetAtt": [X, attribute]} names."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise ValueError(f"not a reference to a resource: {value!r}")


def sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """A message from ReceiveMessage as Lambda's SQS event source mapping hands it to the function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
