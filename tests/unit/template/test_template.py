"""The SAM template, transformed offline by SAM's own translator, checked the way a cloud engineer would.

Every event source mapping reports batch item failures and caps its concurrency; every consumed queue has a
dead-letter queue, and the consumers park on their last delivery exactly when SQS would move the message;
visibility timeouts follow AWS's six-times rule; schedules have no fixed names; no IAM statement grants a
wildcard action, or "*" where a resource can be named; no secret reaches an environment variable; each
function's role names only its own queues, tables and secrets. The functions' metrics reach the alarms and the
dashboard under the names, namespace and dimensions the code publishes. cfn-lint (a version that still checks SAM)
and `sam validate` must be clean too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar.aws.stack import OPTIONAL_OUTPUTS
from intacct_assignar.config import (
    STACK_PARAMETER_MAX_LENGTH,
    WORKFLOWS,
    Timesheets,
    parse_config,
    parse_config_json,
    stack_parameter,
)
from intacct_assignar.metrics import METRIC_NAMES, WORKFLOW_DIMENSION
from intacct_assignar.runs import TIME_WORKFLOW
from intacct_assignar.smart_events import TOKEN_SETTING, TOKEN_SHAPE
from intacct_assignar.state import TABLE_DEFINITION
from intacct_assignar.state.dynamodb import TTL_ATTRIBUTE
from samcli.cli.types import CfnParameterOverridesType
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
PARAMETERS = {
    "TenantId": "acme",
    "IntacctSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/intacct-AbCdEf",
    "AssignarSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/assignar-AbCdEf",
}
ENTITIES = {"clients", "projects", "work_orders", "activities", "roles", "workers"}
LAYER_REQUIREMENTS = ROOT / "layers" / "dependencies" / "requirements.txt"

Resources = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    document: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    return document


@pytest.fixture(scope="module")
def cfn(sam: dict[str, Any]) -> Resources:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = json.loads(json.dumps(sam))
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                # The translator wants S3 locations; `sam build`/`sam deploy` put the local folders there.
                properties[key] = "s3://placeholder/code.zip"
    # managed_policy_map=None: the translator uses its bundled map of AWS managed policies, no IAM call.
    translated = Translator(managed_policy_map=None, sam_parser=Parser()).translate(
        sam_template=template, parameter_values=dict(PARAMETERS)
    )
    resources: Resources = translated["Resources"]
    return resources


def of_type(resources: Resources, kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def ref_name(value: Any) -> str:
    """The logical id behind {"Fn::GetAtt": [X, ...]} or {"Ref": X}."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    raise AssertionError(f"not a reference: {value!r}")


def statements(resources: Resources) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- queues and consumers ---------------------------------------------------------------------------------


def test_every_event_source_mapping_reports_batch_item_failures_and_caps_concurrency(cfn: Resources) -> None:
    mappings = of_type(cfn, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 3
    for name, mapping in mappings.items():
        properties = mapping["Properties"]
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert "MaximumConcurrency" in properties["ScalingConfig"], name
        if ref_name(properties["FunctionName"]) == "TargetedPullerFunction":
            # A burst of Smart Events read together, one Intacct query per object: a batching window gathers it.
            assert properties["BatchSize"] == 100 and 1 <= properties["MaximumBatchingWindowInSeconds"] <= 5, name
        else:
            assert properties["BatchSize"] <= 10, name


def test_every_consumed_queue_has_a_dead_letter_queue_and_parks_on_the_same_delivery(cfn: Resources) -> None:
    functions = of_type(cfn, "AWS::Lambda::Function")
    for name, mapping in of_type(cfn, "AWS::Lambda::EventSourceMapping").items():
        queue_name = ref_name(mapping["Properties"]["EventSourceArn"])
        queue = cfn[queue_name]["Properties"]
        redrive = queue["RedrivePolicy"]
        assert ref_name(redrive["deadLetterTargetArn"]) in of_type(cfn, "AWS::SQS::Queue"), name
        function = functions[ref_name(mapping["Properties"]["FunctionName"])]
        env = function["Properties"]["Environment"]["Variables"]
        # The consumer parks a record with its reason on the delivery after which SQS would move it silently.
        assert env["MAX_RECEIVES"] == redrive["maxReceiveCount"] == {"Ref": "MaxReceives"}, name
        assert ref_name(env["PARKED_QUEUE_URL"]) == ref_name(redrive["deadLetterTargetArn"]), name


def test_the_containers_calling_assignar_at_once_are_the_ones_that_share_its_pace(cfn: Resources) -> None:
    # Each container paces itself at the tenant's pace divided by MAX_CONCURRENCY (runtime.Runtime.assignar_pace):
    # that must be as many as may run at once, or together they would send Assignar more than the pace.
    functions = of_type(cfn, "AWS::Lambda::Function")
    consumers = set()
    for name, mapping in of_type(cfn, "AWS::Lambda::EventSourceMapping").items():
        consumer = ref_name(mapping["Properties"]["FunctionName"])
        env = functions[consumer]["Properties"]["Environment"]["Variables"]
        if "ASSIGNAR_SECRET_ARN" not in env:
            continue  # the targeted puller reads Intacct and queues; it never calls Assignar
        assert env["MAX_CONCURRENCY"] == mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"], name
        consumers.add(consumer)
    assert consumers == {"SyncConsumerFunction", "PushConsumerFunction"}
    # The approval watcher calls Assignar too: one execution at a time, the default of one container.
    watcher = functions["TimesheetSweepFunction"]["Properties"]
    assert watcher["ReservedConcurrentExecutions"] == 1 and "MAX_CONCURRENCY" not in watcher["Environment"]["Variables"]


def test_visibility_timeouts_are_six_times_the_consumer_timeout_plus_its_batching_window(cfn: Resources) -> None:
    functions = of_type(cfn, "AWS::Lambda::Function")
    for mapping in of_type(cfn, "AWS::Lambda::EventSourceMapping").values():
        properties = mapping["Properties"]
        queue = cfn[ref_name(properties["EventSourceArn"])]["Properties"]
        timeout = functions[ref_name(properties["FunctionName"])]["Properties"]["Timeout"]
        window = properties.get("MaximumBatchingWindowInSeconds", 0)
        assert queue["VisibilityTimeout"] >= 6 * timeout + window


def test_dead_letter_queues_keep_messages_fourteen_days_and_every_queue_is_encrypted(cfn: Resources) -> None:
    queues = of_type(cfn, "AWS::SQS::Queue")
    targets = {
        ref_name(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    for name, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, name
        if name in targets or "RedrivePolicy" not in queue["Properties"]:
            assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600, name


def test_the_push_consumer_finishes_well_inside_the_ledger_lease(cfn: Resources) -> None:
    timeout = cfn["PushConsumerFunction"]["Properties"]["Timeout"]
    assert timeout * 2 <= Timesheets().lease_seconds  # the default `timesheets.lease_seconds`


# --- schedules --------------------------------------------------------------------------------------------


def test_one_schedule_per_entity_for_changes_and_for_the_weekly_repair_plus_deletions_and_the_sweep(
    cfn: Resources,
) -> None:
    schedules = of_type(cfn, "AWS::Scheduler::Schedule")
    inputs = [json.loads(s["Properties"]["Target"]["Input"]) for s in schedules.values()]
    incremental = {i["entity"] for i in inputs if i.get("entity") and not i["full"]}
    full = {i["entity"] for i in inputs if i.get("entity") and i["full"]}
    assert incremental == ENTITIES | {"deletions"}
    assert full == ENTITIES
    assert sum(1 for i in inputs if i == {}) == 1  # the sweep


def test_no_schedule_has_a_fixed_name_and_each_retries_then_dead_letters(cfn: Resources) -> None:
    for name, schedule in of_type(cfn, "AWS::Scheduler::Schedule").items():
        properties = schedule["Properties"]
        # A fixed name (SAM's default is the logical id) would collide between two tenants' stacks.
        assert "Name" not in properties, name
        target = properties["Target"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
        assert ref_name(target["DeadLetterConfig"]["Arn"]) == "ScheduleDeadLetterQueue", name


def test_asynchronous_functions_send_failed_invocations_to_a_queue(cfn: Resources) -> None:
    configs = of_type(cfn, "AWS::Lambda::EventInvokeConfig")
    by_function = {ref_name(c["Properties"]["FunctionName"]): c["Properties"] for c in configs.values()}
    assert set(by_function) == {"SyncPullerFunction", "TimesheetSweepFunction"}
    for properties in by_function.values():
        assert ref_name(properties["DestinationConfig"]["OnFailure"]["Destination"]) == "FailedInvocationQueue"


def test_the_puller_runs_one_at_a_time_and_may_start_its_own_continuation(cfn: Resources) -> None:
    puller = cfn["SyncPullerFunction"]["Properties"]
    assert puller["ReservedConcurrentExecutions"] == 1
    assert grants(cfn, "SyncPullerRole")["lambda:InvokeFunction"] == {
        "${AWS::StackName}-sync-puller",
        "${AWS::StackName}-sync-puller:*",
    }
    assert puller["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-sync-puller"}


# --- IAM --------------------------------------------------------------------------------------------------


def test_no_statement_grants_a_wildcard_action_or_a_star_resource(cfn: Resources) -> None:
    for role, statement in statements(cfn):
        actions = as_list(statement["Action"])
        assert not any("*" in action for action in actions), (role, actions)
        assert "*" not in as_list(statement.get("Resource")), (role, actions)


def test_a_function_traces_only_with_the_sdk_in_its_layer_and_the_grants_to_send_traces(cfn: Resources) -> None:
    # Tracing: Active without Powertools' Tracer (which needs aws-xray-sdk) records only Lambda's own segments; with
    # it, the role must be allowed to send them. Either all three are there, or none is.
    sdk = re.search(r"^aws-xray-sdk==", LAYER_REQUIREMENTS.read_text(), re.MULTILINE) is not None
    for name, function in of_type(cfn, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        traced = properties.get("TracingConfig", {}).get("Mode") == "Active"
        role = ref_name(properties["Role"])
        sends = any(a.startswith("xray:") for r, s in statements(cfn) if r == role for a in as_list(s["Action"]))
        assert traced == sends == sdk, (name, traced, sends, sdk)


def test_functions_carry_no_managed_policies_that_reach_beyond_them(cfn: Resources) -> None:
    for name, function in of_type(cfn, "AWS::Lambda::Function").items():
        role = cfn[ref_name(function["Properties"]["Role"])]["Properties"]
        assert not role.get("ManagedPolicyArns"), name


def granted(cfn: Resources, role: str, action: str) -> set[str]:
    """Logical ids of the resources a role is granted `action` on."""
    names: set[str] = set()
    for name, statement in statements(cfn):
        if name == role and action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                if isinstance(resource, dict) and "Fn::Sub" in resource:
                    names.update(re.findall(r"\$\{(\w+)\.Arn\}", str(resource["Fn::Sub"])))
                elif isinstance(resource, dict):
                    names.add(ref_name(resource))
    return names


SECRET_READ = "secretsmanager:GetSecretValue"
STATE = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"]
CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]


def grants(cfn: Resources, role: str) -> dict[str, set[str]]:
    """Action -> logical ids (or parameter names) of what the role may do it on; logs aside."""
    found: dict[str, set[str]] = {}
    for name, statement in statements(cfn):
        if name != role:
            continue
        for action in as_list(statement["Action"]):
            if action.startswith("logs:"):
                continue
            for resource in as_list(statement["Resource"]):
                if isinstance(resource, dict) and "Fn::Sub" in resource:
                    target = str(resource["Fn::Sub"]).rsplit(":function:", 1)[-1]
                else:
                    target = ref_name(resource)
                found.setdefault(action, set()).add(target)
    return found


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "SyncPullerRole",
            {
                "secretsmanager:GetSecretValue": {"IntacctSecretArn"},
                **{key: {"StateTable"} for key in STATE},
                "sqs:SendMessage": {"UpsertQueue", "UpsertDeadLetterQueue", "FailedInvocationQueue"},
                "lambda:InvokeFunction": {"${AWS::StackName}-sync-puller", "${AWS::StackName}-sync-puller:*"},
            },
        ),
        (
            "SyncConsumerRole",
            {
                "secretsmanager:GetSecretValue": {"AssignarSecretArn"},
                **{key: {"StateTable", "IdempotencyTable"} for key in STATE},
                "dynamodb:BatchGetItem": {"StateTable"},
                **{key: {"UpsertQueue"} for key in CONSUME},
                "sqs:SendMessage": {"UpsertDeadLetterQueue"},
            },
        ),
        (
            "WebhookReceiverRole",
            {"secretsmanager:GetSecretValue": {"AssignarSecretArn"}, "sqs:SendMessage": {"PushQueue"}},
        ),
        (
            # The token's own secret, never the Intacct secret (the sender and user passwords) nor Assignar's:
            # this function answers the internet.
            "SmartEventReceiverRole",
            {"secretsmanager:GetSecretValue": {"IntacctEventsTokenSecret"}, "sqs:SendMessage": {"EventQueue"}},
        ),
        (
            "TargetedPullerRole",
            {
                "secretsmanager:GetSecretValue": {"IntacctSecretArn"},
                # What was written, the definitions; run entries and definitions only (see the test below).
                "dynamodb:GetItem": {"StateTable"},
                "dynamodb:BatchGetItem": {"StateTable"},
                "dynamodb:PutItem": {"StateTable"},
                **{key: {"EventQueue"} for key in CONSUME},
                "sqs:SendMessage": {"UpsertQueue", "UpsertDeadLetterQueue"},
            },
        ),
        (
            "PushConsumerRole",
            {
                "secretsmanager:GetSecretValue": {"IntacctSecretArn", "AssignarSecretArn"},
                "dynamodb:GetItem": {"StateTable"},
                "dynamodb:UpdateItem": {"StateTable"},
                "dynamodb:PutItem": {"StateTable"},  # run history only (see the test below)
                **{key: {"PushQueue"} for key in CONSUME},
                "sqs:SendMessage": {"PushDeadLetterQueue"},
            },
        ),
        (
            "TimesheetSweepRole",
            {
                "secretsmanager:GetSecretValue": {"IntacctSecretArn", "AssignarSecretArn"},
                # The ledger; the watcher's two watermarks and its run history.
                "dynamodb:GetItem": {"StateTable"},
                "dynamodb:PutItem": {"StateTable"},
                "sqs:SendMessage": {"PushQueue", "FailedInvocationQueue"},
            },
        ),
    ],
)
def test_each_function_may_do_exactly_what_it_does_on_its_own_resources(
    cfn: Resources, role: str, expected: dict[str, set[str]]
) -> None:
    assert grants(cfn, role) == expected


@pytest.mark.parametrize(
    ("role", "prefixes"),
    [
        # run entries, and the Intacct definitions and field proofs the push keeps a day
        ("PushConsumerRole", ["RUN#*", "DEFINITION#*"]),
        # the watcher's two watermarks and its run entries
        ("TimesheetSweepRole", ["WATERMARK#assignar:timesheets*", "RUN#*"]),
        # the targeted puller's run entries and the Intacct definitions it reads again: never a watermark
        ("TargetedPullerRole", ["RUN#*", "DEFINITION#*"]),
    ],
)
def test_the_time_functions_may_put_whole_items_only_under_their_own_keys(
    cfn: Resources, role: str, prefixes: list[str]
) -> None:
    # Given the role's grants to put whole items
    puts = [s for r, s in statements(cfn) if r == role and "dynamodb:PutItem" in as_list(s["Action"])]

    # Then there is one, held to those partition keys: a ledger entry changes only by conditional updates
    assert len(puts) == 1
    assert puts[0]["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": prefixes}}


def test_each_function_writes_logs_only_to_its_own_log_group(cfn: Resources) -> None:
    for name, function in of_type(cfn, "AWS::Lambda::Function").items():
        properties = function["Properties"]
        group = ref_name(properties["LoggingConfig"]["LogGroup"])
        role = ref_name(properties["Role"])
        logs = [s for r, s in statements(cfn) if r == role and "logs:PutLogEvents" in as_list(s["Action"])]
        assert [ref_name(s["Resource"]) for s in logs] == [group], name


def test_schedules_share_one_role_trusted_only_for_this_account(cfn: Resources) -> None:
    roles = {ref_name(s["Properties"]["Target"]["RoleArn"]) for s in of_type(cfn, "AWS::Scheduler::Schedule").values()}
    assert roles == {"SchedulerRole"}
    trust = cfn["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert grants(cfn, "SchedulerRole") == {
        "lambda:InvokeFunction": {"${AWS::StackName}-sync-puller", "${AWS::StackName}-timesheet-sweep"},
        "sqs:SendMessage": {"ScheduleDeadLetterQueue"},
    }


# --- secrets and configuration ----------------------------------------------------------------------------


def test_no_secret_reaches_an_environment_variable(cfn: Resources) -> None:
    assert "resolve:secretsmanager" not in TEMPLATE.read_text()
    for name, function in of_type(cfn, "AWS::Lambda::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        for key, value in variables.items():
            if key == "SECRETS_REVISION":
                assert value == {"Ref": "SecretsRevision"}  # a label to bump after a rotation, not a secret
            elif re.search(r"SECRET|PASSWORD|TOKEN", key):
                # Only the ARN, read at run time through Powertools' parameters.
                assert key.endswith("_SECRET_ARN") and value in (
                    {"Ref": "IntacctSecretArn"},
                    {"Ref": "AssignarSecretArn"},
                    {"Ref": "IntacctEventsTokenSecret"},
                ), (name, key)


def test_the_smart_event_token_is_a_secret_of_its_own_generated_long_and_url_safe_by_the_stack(
    sam: dict[str, Any], cfn: Resources
) -> None:
    # Given the stack's secrets (the Intacct and Assignar ones are parameters: the admin makes them)
    [(name, secret)] = of_type(cfn, "AWS::SecretsManager::Secret").items()
    generated = secret["Properties"]["GenerateSecretString"]

    # Then the token's is generated at creation, as JSON of the setting the receiver reads, long and URL-safe
    assert name == "IntacctEventsTokenSecret"
    assert generated["GenerateStringKey"] == TOKEN_SETTING and json.loads(generated["SecretStringTemplate"]) == {}
    assert generated["ExcludePunctuation"] is True and generated["PasswordLength"] >= 40
    assert not generated.get("IncludeSpace") and "ExcludeCharacters" not in generated
    # letters and digits of that length are what the receiver accepts
    assert TOKEN_SHAPE.fullmatch("aZ9" * (generated["PasswordLength"] // 3))
    # And only the Smart Event receiver may read it; the admin finds it from the stack's outputs
    readers = {role for role in of_type(cfn, "AWS::IAM::Role") if name in granted(cfn, role, SECRET_READ)}
    assert readers == {"SmartEventReceiverRole"}
    assert sam["Outputs"]["IntacctEventsTokenSecretArn"]["Value"] == {"Ref": name}
    assert OPTIONAL_OUTPUTS["events_token_secret_arn"] == "IntacctEventsTokenSecretArn"
    assert cfn["SmartEventReceiverFunction"]["Properties"]["Environment"]["Variables"][
        "INTACCT_EVENTS_TOKEN_SECRET_ARN"
    ] == {"Ref": name}


def test_negative_control_the_receiver_is_no_longer_given_or_granted_the_intacct_secret(cfn: Resources) -> None:
    variables = cfn["SmartEventReceiverFunction"]["Properties"]["Environment"]["Variables"]
    assert "INTACCT_SECRET_ARN" not in variables and "ASSIGNAR_SECRET_ARN" not in variables
    assert not {"IntacctSecretArn", "AssignarSecretArn"} & granted(cfn, "SmartEventReceiverRole", SECRET_READ)
    # the check can see a grant: the targeted puller, beside it, is granted the Intacct secret
    assert "IntacctSecretArn" in granted(cfn, "TargetedPullerRole", SECRET_READ)


def test_every_handler_in_functions_is_deployed_with_its_code(sam: dict[str, Any]) -> None:
    deployed = {
        Path(r["Properties"]["CodeUri"]).name
        for r in sam["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    present = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    assert deployed == present
    for folder in present:
        assert "def lambda_handler" in (ROOT / "functions" / folder / "app.py").read_text(), folder


def test_each_layer_is_built_by_the_makefile_beside_its_content_for_the_functions_architecture(
    sam: dict[str, Any],
) -> None:
    # `sam build` runs `make build-<LogicalId>` with the Makefile in ContentUri: the project's own build, no Docker.
    # tests/integration/test_built_layers.py runs it and checks what it makes.
    architectures = sam["Globals"]["Function"]["Architectures"]
    layers = {name: r for name, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::LayerVersion"}
    assert set(layers) == {"DependenciesLayer", "SharedLayer"}
    assert sam["Globals"]["Function"]["Layers"] == [{"Ref": name} for name in ("DependenciesLayer", "SharedLayer")]
    for name, layer in layers.items():
        assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": architectures[0]}, name
        assert layer["Properties"]["CompatibleArchitectures"] == architectures, name
        makefile = ROOT / layer["Properties"]["ContentUri"] / "Makefile"
        assert re.search(rf"^build-{name}:", makefile.read_text(), re.MULTILINE), f"{makefile} builds no {name}"


def test_functions_get_the_settings_their_runtime_reads(cfn: Resources) -> None:
    needs = {
        "SyncPullerFunction": {"INTACCT_SECRET_ARN", "UPSERT_QUEUE_URL", "PARKED_QUEUE_URL"},
        "SyncConsumerFunction": {"ASSIGNAR_SECRET_ARN", "PARKED_QUEUE_URL", "IDEMPOTENCY_TABLE", "MAX_RECEIVES"},
        "WebhookReceiverFunction": {"ASSIGNAR_SECRET_ARN", "PUSH_QUEUE_URL"},
        "PushConsumerFunction": {"INTACCT_SECRET_ARN", "ASSIGNAR_SECRET_ARN", "PARKED_QUEUE_URL", "MAX_RECEIVES"},
        "TimesheetSweepFunction": {"INTACCT_SECRET_ARN", "ASSIGNAR_SECRET_ARN", "PUSH_QUEUE_URL"},
        "SmartEventReceiverFunction": {"INTACCT_EVENTS_TOKEN_SECRET_ARN", "EVENT_QUEUE_URL"},
        "TargetedPullerFunction": {"INTACCT_SECRET_ARN", "UPSERT_QUEUE_URL", "PARKED_QUEUE_URL", "MAX_RECEIVES"},
    }
    for name, keys in needs.items():
        variables = cfn[name]["Properties"]["Environment"]["Variables"]
        assert keys | {"TENANT_ID", "TENANT_CONFIG", "STATE_TABLE"} <= set(variables), name


# --- tables -----------------------------------------------------------------------------------------------


def test_the_state_table_is_the_one_the_code_creates(cfn: Resources) -> None:
    table = cfn["StateTable"]["Properties"]
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode"):
        assert table[key] == TABLE_DEFINITION[key], key  # type: ignore[literal-required]
    assert cfn["StateTable"]["DeletionPolicy"] == "Retain"
    # Run history expires by the attribute the store writes; nothing else in the table carries it.
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_tables_are_on_demand_with_point_in_time_recovery_and_idempotency_records_expire(cfn: Resources) -> None:
    for name, table in of_type(cfn, "AWS::DynamoDB::Table").items():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST", name
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
    idempotency = cfn["IdempotencyTable"]["Properties"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    # Powertools' DynamoDBPersistenceLayer writes its expiry in "expiration".
    assert idempotency["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


# --- alarms, API, outputs ---------------------------------------------------------------------------------


def test_alarms_watch_every_dead_letter_queue_both_queues_ages_and_every_function(cfn: Resources) -> None:
    alarms = of_type(cfn, "AWS::CloudWatch::Alarm").values()
    on_aws = [a for a in alarms if str(a["Properties"].get("Namespace", "")).startswith("AWS/")]
    watched = {(a["Properties"]["MetricName"], ref_name(a["Properties"]["Dimensions"][0]["Value"])) for a in on_aws}
    queues = of_type(cfn, "AWS::SQS::Queue")
    for name, queue in queues.items():
        if "RedrivePolicy" in queue["Properties"]:
            assert ("ApproximateAgeOfOldestMessage", name) in watched
        else:
            assert ("ApproximateNumberOfMessagesVisible", name) in watched
    for name in of_type(cfn, "AWS::Lambda::Function"):
        assert ("Errors", name) in watched
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_webhook_api_answers_are_alarmed_since_the_receiver_turns_failures_into_answers(cfn: Resources) -> None:
    alarms = of_type(cfn, "AWS::CloudWatch::Alarm").values()
    api = {
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"])
        for a in alarms
        if "Namespace" in a["Properties"] and isinstance(a["Properties"]["Namespace"], str)
    }
    assert {("AWS/ApiGateway", "5xx"), ("AWS/ApiGateway", "4xx")} <= api


def test_alarms_can_publish_to_the_topic(cfn: Resources) -> None:
    # CloudWatch cannot publish to a topic encrypted with aws/sns (its key policy cannot grant CloudWatch).
    topic = cfn["AlarmTopic"]["Properties"]
    assert topic.get("KmsMasterKeyId") in (None, {"Ref": "AlarmKey"})


def test_the_access_log_goes_under_vendedlogs_so_the_account_log_policy_does_not_grow(cfn: Resources) -> None:
    [stage] = of_type(cfn, "AWS::ApiGatewayV2::Stage").values()
    group = cfn[ref_name(stage["Properties"]["AccessLogSettings"]["DestinationArn"])]["Properties"]
    assert group["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/")
    for name, log_group in of_type(cfn, "AWS::Logs::LogGroup").items():
        assert log_group["Properties"]["RetentionInDays"] >= 30, name


def test_names_that_must_be_unique_in_the_account_carry_the_stack_name(cfn: Resources) -> None:
    named = [
        cfn["Dashboard"]["Properties"]["DashboardName"],
        *(
            f["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
            for f in of_type(cfn, "AWS::Lambda::Function").values()
        ),
        *(
            f["Properties"]["FunctionName"]
            for f in of_type(cfn, "AWS::Lambda::Function").values()
            if "FunctionName" in f["Properties"]
        ),
        *(g["Properties"]["LogGroupName"] for g in of_type(cfn, "AWS::Logs::LogGroup").values()),
    ]
    for name in named:
        assert "${AWS::StackName}" in name["Fn::Sub"], name


def test_the_webhook_api_is_throttled_and_its_url_is_an_output(sam: dict[str, Any], cfn: Resources) -> None:
    [stage] = of_type(cfn, "AWS::ApiGatewayV2::Stage").values()
    route = stage["Properties"]["DefaultRouteSettings"]
    assert route["ThrottlingRateLimit"] == {"Ref": "WebhookRateLimit"}
    assert route["ThrottlingBurstLimit"] == {"Ref": "WebhookBurstLimit"}
    assert "/webhooks/assignar" in sam["Outputs"]["WebhookUrl"]["Value"]["Fn::Sub"]


def test_an_alarm_email_is_subscribed_only_when_given(sam: dict[str, Any]) -> None:
    assert sam["Resources"]["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


# --- metrics: where the functions publish, where the alarms and the dashboard look ---------------------------


def function_variable(sam: dict[str, Any], name: str) -> Any:
    return sam["Globals"]["Function"]["Environment"]["Variables"][name]


def metric_alarms(cfn: Resources) -> dict[str, list[dict[str, Any]]]:
    """The alarms on the functions' own metrics, each with the metrics it reads (one, or several summed)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, alarm in of_type(cfn, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        if "Metrics" in properties:
            found[name] = [m["MetricStat"]["Metric"] for m in properties["Metrics"] if "MetricStat" in m]
        elif not str(properties["Namespace"]).startswith("AWS/"):
            found[name] = [{key: properties[key] for key in ("Namespace", "MetricName", "Dimensions")}]
    return found


def dimensions(metric: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in metric["Dimensions"]}


def test_alarms_on_the_functions_metrics_read_what_the_functions_publish(sam: dict[str, Any], cfn: Resources) -> None:
    namespace = function_variable(sam, "POWERTOOLS_METRICS_NAMESPACE")
    service = function_variable(sam, "POWERTOOLS_SERVICE_NAME")
    alarms = metric_alarms(cfn)
    assert alarms
    for name, metrics in alarms.items():
        for metric in metrics:
            # CloudWatch matches a metric by namespace, name and the exact set of dimensions: Powertools adds
            # `service`, metrics.py the workflow, and nothing else.
            assert metric["Namespace"] == namespace, name
            assert metric["MetricName"] in METRIC_NAMES, name
            assert dimensions(metric) == {
                "service": service,
                WORKFLOW_DIMENSION: dimensions(metric)[WORKFLOW_DIMENSION],
            }
        assert cfn[name]["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_parked_work_of_every_workflow_and_the_oldest_unposted_approval_are_alarmed(
    sam: dict[str, Any], cfn: Resources
) -> None:
    alarms = metric_alarms(cfn)
    watched = {(m["MetricName"], dimensions(m)[WORKFLOW_DIMENSION]) for metrics in alarms.values() for m in metrics}
    assert {("RecordsParked", workflow) for workflow in (*WORKFLOWS, "deletions")} <= watched
    assert {("TimesheetsParked", TIME_WORKFLOW), ("OldestUnpostedApprovalSeconds", TIME_WORKFLOW)} <= watched
    [oldest] = [
        cfn[n]["Properties"] for n, ms in alarms.items() if ms[0]["MetricName"] == "OldestUnpostedApprovalSeconds"
    ]
    assert oldest["Threshold"] == {"Ref": "OldestApprovalAlarmSeconds"}
    assert sam["Parameters"]["OldestApprovalAlarmSeconds"]["Default"] == 1800
    # Measured only by full passes: between them the alarm keeps its state instead of clearing for lack of data.
    assert oldest["TreatMissingData"] == "ignore"
    assert oldest["Period"] >= Timesheets().full_sweep_minutes * 60


def dashboard_metrics(sam: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[Any]]]:
    """(widget title, widget properties, metric) for every metric or expression the dashboard graphs."""
    body = sam["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text = re.sub(r"\$\{[^}]+\}", lambda m: "STACK" if m.group(0) == "${AWS::StackName}" else "0", body)
    widgets = json.loads(text)["widgets"]
    return [
        (w["properties"]["title"], w["properties"], metric) for w in widgets for metric in w["properties"]["metrics"]
    ]


def test_the_dashboard_shows_every_metric_the_functions_publish_where_they_publish_it(sam: dict[str, Any]) -> None:
    namespace = function_variable(sam, "POWERTOOLS_METRICS_NAMESPACE")["Fn::Sub"].replace("${AWS::StackName}", "STACK")
    service = function_variable(sam, "POWERTOOLS_SERVICE_NAME")
    shown: set[str] = set()
    for title, _, metric in dashboard_metrics(sam):
        if isinstance(metric[0], dict):
            expression = metric[0]["expression"]
            for searched_namespace, name in re.findall(
                r'SEARCH\(\'\{"([^"]+)",service,workflow\} MetricName="(\w+)"', expression
            ):
                assert searched_namespace == namespace, title
                shown.add(name)
        elif metric[0] == namespace:
            assert metric[2:6] == ["service", service, WORKFLOW_DIMENSION, TIME_WORKFLOW], title
            shown.add(metric[1])
    assert shown == METRIC_NAMES


def test_the_dashboard_sums_intacct_api_transactions_per_day(sam: dict[str, Any]) -> None:
    [(_, properties, _)] = [
        (t, p, m)
        for t, p, m in dashboard_metrics(sam)
        if isinstance(m[0], dict) and "IntacctTransactions" in m[0]["expression"]
    ]
    assert properties["period"] == 86400 and properties["stat"] == "Sum"


def test_the_approval_watcher_runs_every_minute_and_one_at_a_time(sam: dict[str, Any], cfn: Resources) -> None:
    assert sam["Parameters"]["SweepSchedule"]["Default"] == "rate(1 minute)"
    [watcher] = [
        s
        for s in of_type(cfn, "AWS::Scheduler::Schedule").values()
        if json.loads(s["Properties"]["Target"]["Input"]) == {}
    ]
    assert watcher["Properties"]["ScheduleExpression"] == {"Ref": "SweepSchedule"}
    # Its two watermarks have one writer: a run overlapping another could move one back.
    assert cfn["TimesheetSweepFunction"]["Properties"]["ReservedConcurrentExecutions"] == 1


# --- the tools a cloud engineer runs -----------------------------------------------------------------------


def tool(name: str) -> str:
    found = Path(sys.executable).parent / name
    if found.exists():
        return str(found)
    located = shutil.which(name)
    assert located, f"{name} is not installed (it is in the development set `make test` installs)"
    return located


def test_cfn_lint_is_clean() -> None:
    result = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        [tool("cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_is_clean() -> None:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        [tool("sam"), "validate", "--lint", "--region", "us-east-1", "--template-file", str(TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_the_example_tenant_in_samconfig_deploys_with_valid_parameters(sam: dict[str, Any]) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    deploy = config["acme"]["deploy"]["parameters"]
    # Read as `sam deploy` reads them: SAM splits unquoted values at spaces and double quotes.
    overrides: dict[str, str] = CfnParameterOverridesType().convert(deploy["parameter_overrides"], None, None)
    parameters = sam["Parameters"]
    assert set(overrides) <= set(parameters), set(overrides) - set(parameters)
    required = {name for name, p in parameters.items() if "Default" not in p}
    assert required <= set(overrides)
    for name, value in overrides.items():
        if pattern := parameters[name].get("AllowedPattern"):
            assert re.fullmatch(pattern, value), (name, value)
    assert overrides["PullSchedule"] == "rate(15 minutes)"
    parse_config_json(overrides["TenantConfig"], "TenantConfig")
    assert "CAPABILITY_IAM" in deploy["capabilities"] and deploy["stack_name"].endswith("acme")


def pasted(line: str) -> dict[str, str]:
    """What `sam deploy` passes after `line` is pasted into samconfig.toml the way DEPLOY.md says."""
    samconfig = f'parameter_overrides = [\n    """TenantConfig=\'{line}\'""",\n]\n'
    overrides: dict[str, str] = CfnParameterOverridesType().convert(
        tomllib.loads(samconfig)["parameter_overrides"], None, None
    )
    return overrides


def test_what_config_to_json_prints_reaches_the_stack_unchanged_when_pasted_into_samconfig(sam: dict[str, Any]) -> None:
    # Given a tenant document with spaces and non-ASCII text, as `intacct-assignar config to-json` prints it
    config = parse_config(
        {
            "timezone": "America/Denver",
            "workflows": {"assets": {"gl_group": "Équipement lourd"}, "work_orders": {"owner_user_id": 12}},
        }
    )
    line = stack_parameter(config)

    # When it is pasted into parameter_overrides and SAM reads samconfig.toml
    overrides = pasted(line)

    # Then the stack gets exactly that line, within the parameter's limits, and it is the same document
    parameter = sam["Parameters"]["TenantConfig"]
    assert overrides == {"TenantConfig": line}
    assert re.fullmatch(parameter["AllowedPattern"], line)
    assert parameter["MaxLength"] == STACK_PARAMETER_MAX_LENGTH
    assert parse_config_json(overrides["TenantConfig"], "TenantConfig") == config


@pytest.mark.parametrize("value", ["Owner's Labor", 'Labor "A"', "Labor\\A"])
def test_a_quote_or_backslash_would_not_survive_samconfig_which_is_why_to_json_refuses_them(value: str) -> None:
    # Given JSON holding a value with a quote or backslash, pasted as it is
    line = json.dumps({"workflows": {"roles": {"gl_group": value}}}, ensure_ascii=False, separators=(",", ":"))

    # When SAM reads it from samconfig.toml
    reached = pasted(line)["TenantConfig"]

    # Then the stack would get something else: cut at the quote, or with a quote or backslash escape lost
    assert reached != line


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        ("PullSchedule", ["rate(15 minutes)", "rate(1 hour)", "cron(0 9 ? * SUN *)"], ["rate(15", "15 minutes", ""]),
        (
            "IntacctSecretArn",
            ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:intacct-assignar/acme/intacct-Ab12Cd"],
            ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:intacct-assignar/acme/intacct", "acme/intacct"],
        ),
        ("TenantConfig", ["{}", '{"timezone":"UTC"}'], ["{", "timezone=UTC"]),
    ],
)
def test_parameters_refuse_values_that_would_fail_later(
    sam: dict[str, Any], parameter: str, good: list[str], bad: list[str]
) -> None:
    pattern = sam["Parameters"][parameter]["AllowedPattern"]
    for value in good:
        assert re.fullmatch(pattern, value), value
    for value in bad:
        assert not re.fullmatch(pattern, value), value
    default = sam["Parameters"][parameter].get("Default")
    if default is not None:
        assert re.fullmatch(pattern, default)
