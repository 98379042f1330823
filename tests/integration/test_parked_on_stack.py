"""`parked list|replay --stack NAME` against the stack of template.yaml on moto (its real dead-letter queues and
DynamoDB table, found from the stack's outputs) with the real handlers and both emulators: a worker Assignar
refuses and a timesheet Intacct cannot take are parked by the functions, listed without being consumed, stay
parked while their cause is there, go through once it is fixed, and a second replay changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from intacct_assignar.cli import app
from intacct_assignar.runtime import Runtime
from intacct_assignar.state import DynamoStateStore
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, LaborEntry
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from intacct_assignar_dev.local_aws import LocalStack, translate
from moto import mock_aws
from typer.testing import CliRunner

from .iam import CallRecorder, Roles

STACK = "intacct-assignar-acme"
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "COLUMNS": "200",
}
runner = CliRunner()


@dataclass
class Tenant:
    stack: LocalStack
    intacct: IntacctStore
    assignar: AssignarEmulator
    # Both emulators' connection settings, for the commands that read Intacct and Assignar (reconcile).
    settings: dict[str, str] = field(default_factory=dict)

    def cli(self, *args: str) -> tuple[int, str]:
        # No Intacct or Assignar settings here: against a stack, the admin's machine needs only AWS credentials.
        result = runner.invoke(app, [*args, "--stack", STACK], env=ENV)
        return result.exit_code, result.output

    def json(self, *args: str) -> tuple[int, Any]:
        # stdout alone: the sentences saying why a command exits 1 go to stderr
        result = runner.invoke(app, [*args, "--stack", STACK, "--json"], env=ENV)
        return result.exit_code, json.loads(result.stdout)

    def pump(self, queue: str) -> int:
        [source] = [e for e in self.stack.event_sources if e.queue == queue]
        return self.stack.pump(source)

    def visible(self, queue: str) -> int:
        sqs: Any = boto3.client("sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=self.stack.queues[queue].url, AttributeNames=["All"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def waiting(self, queue: str) -> int:
        """Messages on a queue, visible or held by someone (listing must leave them where they are)."""
        sqs: Any = boto3.client("sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=self.stack.queues[queue].url, AttributeNames=["All"])
        counts = attributes["Attributes"]
        return int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def tenant(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    parameters.clear_caches()
    Runtime.reset()
    store = IntacctStore(timezone="America/Denver")
    generate_company(store, employees=20, seed=17)
    with mock_aws(), IntacctEmulator(store) as intacct, AssignarEmulator(seed=6) as assignar:
        owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        stack = LocalStack.create(
            {"IntacctSecretArn": intacct.settings_env(), "AssignarSecretArn": assignar.settings_env()},
            name=STACK,
            parameters={
                "TenantId": "acme",
                "TenantConfig": json.dumps(
                    {"timezone": "America/Denver", "workflows": {"work_orders": {"owner_user_id": owner["id"]}}}
                ),
            },
        )
        yield Tenant(stack, store, assignar, intacct.settings_env() | assignar.settings_env())
    parameters.clear_caches()
    Runtime.reset()


def sync_through_the_stack(tenant: Tenant) -> None:
    for schedule in tenant.stack.schedules:
        if schedule.function == "SyncPullerFunction" and not schedule.payload["full"]:
            assert tenant.stack.invoke_schedule(schedule)["complete"]
    tenant.pump("UpsertQueue")


def sweep_and_push(tenant: Tenant) -> None:
    [sweep] = [s for s in tenant.stack.schedules if s.function == "TimesheetSweepFunction"]
    tenant.stack.invoke_schedule(sweep)
    tenant.pump("PushQueue")


def approved_day(tenant: Tenant) -> tuple[dict[str, Any], int]:
    """A synced worker's approved eight-hour day on an active work order (no webhook: the sweep finds it)."""
    worker = next(w for w in tenant.assignar.records("users") if w.get("employee_id"))
    order = next(o for o in tenant.assignar.records("orders") if o.get("active"))
    timesheet_id = tenant.assignar.create_timesheet(
        worker_id=worker["id"],
        project_id=order["project_id"],
        work_order_id=order["id"],
        work_date=date(2026, 11, 18),
        labor=[LaborEntry(tenant.assignar.records("activities")[0]["id"], 480)],
    )
    tenant.assignar.approve_timesheet(timesheet_id, notify=False)
    return worker, timesheet_id


def hand_made_user(tenant: Tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    """An active Intacct employee, and a user typed into Assignar by hand with their email: Assignar refuses the
    worker's upsert, so the record is parked."""
    employee = next(e for e in tenant.intacct.records("EMPLOYEE") if e["STATUS"] == "active" and e["CONTACT.EMAIL1"])
    hand_made = tenant.assignar.seed(
        "users", {"user_type_id": 2, "first_name": "Hand", "last_name": "Made", "email": employee["CONTACT.EMAIL1"]}
    )
    return employee, hand_made


def test_parked_work_on_a_stack_is_listed_replayed_after_the_fix_and_a_second_replay_changes_nothing(
    tenant: Tenant,
) -> None:
    # Given a worker Assignar refuses (an Assignar user typed in by hand has their email) ...
    employee, hand_made = hand_made_user(tenant)
    sync_through_the_stack(tenant)
    # ... and an approved timesheet whose worker Assignar names by an employee ID Intacct does not have
    worker, timesheet_id = approved_day(tenant)
    tenant.assignar.state.update("users", worker["id"], {"employee_id": "E-GONE"})
    sweep_and_push(tenant)
    assert tenant.waiting("UpsertDeadLetterQueue") == 1 and tenant.waiting("PushDeadLetterQueue") == 1

    # When the admin lists parked work by the stack's name
    code, listed = tenant.json("parked", "list")

    # Then both are there once, with the functions' reasons, and still on their dead-letter queues
    assert code == 0, listed
    parked = {(item["kind"], item["id"]): item for item in listed["parked"]}
    record_id = f"workers:{employee['EMPLOYEEID']}"
    assert set(parked) == {("record", record_id), ("timesheet", str(timesheet_id))}
    assert "email" in parked[("record", record_id)]["reason"].lower()
    assert parked[("record", record_id)]["where"] == "upsert dead-letter queue"
    assert "E-GONE" in parked[("timesheet", str(timesheet_id))]["reason"]
    assert parked[("timesheet", str(timesheet_id))]["where"] == "push dead-letter queue, ledger"
    # Given back at once, not merely left to reappear when a hold ends: the next reader sees them now
    assert tenant.visible("UpsertDeadLetterQueue") == 1 and tenant.visible("PushDeadLetterQueue") == 1

    # And `status --stack` lists the same two with their reasons, from the same queues and table, and exits 1
    code, status = tenant.json("status")
    assert code == 1, status
    assert {(item["kind"], item["id"]) for item in status["parked"]} == set(parked)
    assert {w["workflow"]: w["outcome"] for w in status["workflows"]}["workers"] in ("ok", "parked")
    assert tenant.visible("UpsertDeadLetterQueue") == 1 and tenant.visible("PushDeadLetterQueue") == 1

    # When the timesheet is replayed before its cause is fixed, the push parks it again, with its reason
    code, output = tenant.cli("parked", "replay", "--id", str(timesheet_id))
    assert code == 0 and f"queued timesheet {timesheet_id}" in output
    assert tenant.waiting("PushDeadLetterQueue") == 0 and tenant.waiting("PushQueue") == 1
    tenant.pump("PushQueue")
    [again] = [item for item in tenant.json("parked", "list")[1]["parked"] if item["kind"] == "timesheet"]
    assert again["id"] == str(timesheet_id) and "E-GONE" in again["reason"]
    assert tenant.waiting("PushDeadLetterQueue") == 1 and tenant.intacct.records("TIMESHEET") == []

    # When both causes are fixed and everything is replayed
    tenant.assignar.state.update("users", hand_made["id"], {"email": "hand.made@example.com"})
    tenant.assignar.state.update("users", worker["id"], {"employee_id": worker["employee_id"]})
    code, replayed = tenant.json("parked", "replay", "--all")
    assert code == 0 and replayed["ok"], replayed
    assert {(r["id"], r["outcome"]) for r in replayed["replayed"]} == {
        (record_id, "queued"),
        (str(timesheet_id), "queued"),
    }
    assert tenant.waiting("UpsertDeadLetterQueue") == 0 and tenant.waiting("PushDeadLetterQueue") == 0
    assert tenant.pump("UpsertQueue") == 1 and tenant.pump("PushQueue") == 1

    # Then both went through the stack's functions: the worker is in Assignar, the time in Intacct, once
    assert [u for u in tenant.assignar.records("users") if u.get("employee_id") == employee["EMPLOYEEID"]]
    assert len(tenant.intacct.records("TIMESHEET")) == 1
    assert tenant.json("parked", "list") == (0, {"parked": []})
    assert tenant.json("status")[1]["parked"] == []

    # And a second replay finds nothing and queues nothing: no second Intacct document, no second worker
    code, again = tenant.json("parked", "replay", "--all")
    assert code == 0 and again == {"ok": True, "replayed": [], "unknown": []}
    assert tenant.waiting("UpsertQueue") == 0 and tenant.waiting("PushQueue") == 0
    assert len(tenant.intacct.records("TIMESHEET")) == 1
    assert len([u for u in tenant.assignar.records("users") if u.get("employee_id") == employee["EMPLOYEEID"]]) == 1


def test_a_replay_of_a_timesheet_twice_before_the_push_runs_posts_it_once(tenant: Tenant) -> None:
    # Given a timesheet parked by the push, whose cause is then fixed
    sync_through_the_stack(tenant)
    worker, timesheet_id = approved_day(tenant)
    tenant.assignar.state.update("users", worker["id"], {"employee_id": "E-GONE"})
    sweep_and_push(tenant)
    tenant.assignar.state.update("users", worker["id"], {"employee_id": worker["employee_id"]})

    # When it is replayed twice before the push consumer runs (the ledger still says parked the second time)
    assert tenant.cli("parked", "replay", "--all")[0] == 0
    code, output = tenant.json("parked", "replay", "--all")
    assert code == 0 and [(r["id"], r["outcome"]) for r in output["replayed"]] == [(str(timesheet_id), "queued")]
    assert tenant.waiting("PushQueue") == 2

    # Then the push posts it once: the ledger turns the second message into "already posted"
    tenant.pump("PushQueue")
    assert len(tenant.intacct.records("TIMESHEET")) == 1
    assert tenant.json("parked", "list") == (0, {"parked": []})


@pytest.mark.filterwarnings("ignore:Tried to parse AWS.*WaitConditionHandle")
def test_a_stack_that_is_not_there_or_lacks_an_output_is_one_sentence_and_exit_2(tenant: Tenant) -> None:
    result = runner.invoke(app, ["parked", "list", "--stack", "intacct-assignar-nobody"], env=ENV)
    assert result.exit_code == 2
    assert "no CloudFormation stack named intacct-assignar-nobody in us-east-1" in result.output
    assert "Traceback" not in result.output

    # A stack deployed from an older template, without the outputs a command needs
    boto3.client("cloudformation").create_stack(
        StackName="intacct-assignar-old",
        TemplateBody=json.dumps(
            {
                "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {"StateTableName": {"Value": tenant.stack.tables["StateTable"]}},
            }
        ),
    )
    result = runner.invoke(app, ["parked", "replay", "--all", "--stack", "intacct-assignar-old"], env=ENV)
    assert result.exit_code == 2
    assert "stack intacct-assignar-old" in result.output and "has no output UpsertQueueUrl" in result.output


def test_reconcile_on_a_stack_finds_a_timesheet_deleted_in_intacct_and_repairs_it_through_the_push_queue(
    tenant: Tenant,
) -> None:
    # Given a timesheet posted by the stack's push function, then deleted by hand in Intacct
    sync_through_the_stack(tenant)
    _, timesheet_id = approved_day(tenant)
    sweep_and_push(tenant)
    [posted] = tenant.intacct.records("TIMESHEET")
    tenant.intacct.delete("TIMESHEET", posted["RECORDNO"])
    reconcile = ["reconcile", "time", "--from", "2026-11-15", "--to", "2026-11-21", "--stack", STACK, "--json"]

    # When the admin reconciles the week against the stack's ledger, and repairs
    found = runner.invoke(app, reconcile, env=ENV | tenant.settings)
    repaired = runner.invoke(app, [*reconcile, "--repair"], env=ENV | tenant.settings)

    # Then the timesheet is reported missing, and the repair queued it for the stack's push function (not posted
    # from this machine), which posts it once
    assert found.exit_code == 1, found.output
    assert [i["timesheet_id"] for i in json.loads(found.stdout)["missing_in_intacct"]] == [timesheet_id]
    assert [r["outcome"] for r in json.loads(repaired.stdout)["repaired"]] == ["queued"], repaired.output
    assert tenant.intacct.records("TIMESHEET") == [] and tenant.waiting("PushQueue") == 1
    assert tenant.pump("PushQueue") == 1
    assert len(tenant.intacct.records("TIMESHEET")) == 1
    again = runner.invoke(app, reconcile, env=ENV | tenant.settings)
    assert again.exit_code == 0, again.output
    # And the three reconciles are in the stack's run history, which status reads: two found it off, the last clean
    history = DynamoStateStore(tenant.stack.tables["StateTable"]).recent_runs("time")
    reconciles = [entry.outcome for entry in history if entry.kind == "reconcile"]
    assert reconciles == ["ok", "parked", "parked"]


def test_parking_and_replaying_on_the_stack_asks_only_what_each_functions_role_allows(tenant: Tenant) -> None:
    # The demo parks nothing, so its IAM check (test_iam_covers_every_call.py) never sees a function send to a
    # dead-letter queue: here a record and a timesheet are parked, and replayed, under the same recorder.
    with CallRecorder().installed() as recorder:
        hand_made_user(tenant)
        sync_through_the_stack(tenant)
        worker, _ = approved_day(tenant)
        tenant.assignar.state.update("users", worker["id"], {"employee_id": "E-GONE"})
        sweep_and_push(tenant)
        assert tenant.waiting("UpsertDeadLetterQueue") == 1 and tenant.waiting("PushDeadLetterQueue") == 1
        assert tenant.cli("parked", "replay", "--all")[0] == 0  # both queued again ...
        tenant.pump("UpsertQueue")
        tenant.pump("PushQueue")
        # ... and, nothing being fixed, parked again by the functions
        assert tenant.waiting("UpsertDeadLetterQueue") == 1 and tenant.waiting("PushDeadLetterQueue") == 1

    _, resources = translate(parameters=tenant.stack.parameters)
    roles = Roles.of(tenant.stack, resources)
    parking = {r.action for call in recorder.calls for r in roles.requests(call) if r.action == "sqs:SendMessage"}
    assert parking, "no function sent anything: the recorder heard nothing"
    refused = roles.refused(recorder.calls)
    assert not refused, "calls the functions' roles in template.yaml do not allow:\n" + "\n".join(refused)
