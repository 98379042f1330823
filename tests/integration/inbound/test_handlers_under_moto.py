"""The real Lambda handlers under moto (SQS with a DLQ, DynamoDB, Secrets Manager) against both emulators over
HTTP: schedules -> puller -> queue -> consumer (partial batch failures, redrive) -> Assignar."""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from intacct_assignar.cli import app
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.observability import logger
from intacct_assignar.runs import RunEntry
from intacct_assignar.runtime import Runtime
from intacct_assignar.state import DynamoStateStore, StateUnavailableError, create_table, open_state
from intacct_assignar_dev.emulators.assignar import AssignarEmulator
from intacct_assignar_dev.emulators.http_api import LocalContext
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from intacct_assignar_dev.local_aws import sqs_record
from moto import mock_aws
from typer.testing import CliRunner

ZONE = ZoneInfo("America/Denver")
EVENTS = Path(__file__).resolve().parents[3] / "events"
# The puller asks how long it has left: ten minutes, so a pull always finishes in one invocation here.
CONTEXT = LocalContext("sync", timeout_s=600)
NOW = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
ENTITIES = ["clients", "projects", "work_orders", "activities", "roles", "workers", "deletions"]


@dataclass
class Stack:
    sqs: Any
    queue_url: str
    dlq_url: str
    puller: ModuleType
    consumer: ModuleType
    intacct: IntacctStore
    assignar: AssignarEmulator

    def pump(self, rounds: int = 60) -> int:
        """Deliver the queue to the consumer like Lambda's event source mapping; failed items come back."""
        delivered = 0
        for _ in range(rounds):
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not received:
                return delivered
            event = {"Records": [sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:upserts") for m in received]}
            answer = self.consumer.lambda_handler(event, LocalContext("consumer"))
            failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
            for message in received:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                    delivered += 1
        raise AssertionError("the queue did not drain")

    def parked(self) -> list[tuple[str, str | None]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        return [(m["Body"], m.get("MessageAttributes", {}).get("reason", {}).get("StringValue")) for m in messages]


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TENANT_ID": "acme",
        "STATE_TABLE": "acme-state",
        "IDEMPOTENCY_TABLE": "acme-idempotency",
        "MAX_RECEIVES": "3",
        "POWERTOOLS_SERVICE_NAME": "intacct-assignar",
    }.items():
        monkeypatch.setenv(name, value)
    store = IntacctStore(timezone=str(ZONE))
    generate_company(store, employees=40, seed=21)
    with mock_aws(), IntacctEmulator(store) as intacct, AssignarEmulator(seed=5) as assignar:
        owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, "acme-state")
        dynamodb.create_table(
            TableName="acme-idempotency",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs")
        dlq_url = sqs.create_queue(QueueName="upserts-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName="upserts",
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
        )["QueueUrl"]
        secrets = boto3.client("secretsmanager")
        intacct_arn = secrets.create_secret(Name="acme/intacct", SecretString=json.dumps(intacct.settings_env()))["ARN"]
        assignar_arn = secrets.create_secret(
            Name="acme/assignar",
            SecretString=json.dumps(assignar.settings_env()),
        )["ARN"]
        monkeypatch.setenv("INTACCT_SECRET_ARN", intacct_arn)
        monkeypatch.setenv("ASSIGNAR_SECRET_ARN", assignar_arn)
        monkeypatch.setenv("UPSERT_QUEUE_URL", queue_url)
        monkeypatch.setenv("PARKED_QUEUE_URL", dlq_url)
        monkeypatch.setenv(
            "TENANT_CONFIG",
            json.dumps({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner["id"]}}}),
        )
        parameters.clear_caches()
        Runtime.reset()
        # Imported here: the handlers read their environment and create AWS clients at import, as in Lambda.
        puller = importlib.reload(importlib.import_module("functions.sync_puller.app"))
        consumer = importlib.reload(importlib.import_module("functions.sync_consumer.app"))
        yield Stack(sqs, queue_url, dlq_url, puller, consumer, store, assignar)
        parameters.clear_caches()
        Runtime.reset()


def run_schedules(stack: Stack) -> None:
    for entity in ENTITIES:
        answer = stack.puller.lambda_handler({"entity": entity}, LocalContext("puller"))
        assert answer["complete"], answer


def test_a_full_sync_through_the_handlers_leaves_assignar_matching_intacct(stack: Stack) -> None:
    # Given a company never synced, and the schedules firing in their order
    # When the puller runs for every entity and the consumer drains the queue
    run_schedules(stack)
    delivered = stack.pump()

    # Then Assignar holds every active client, project, cost code, role, asset and worker of Intacct
    store = stack.intacct
    assert delivered > 0 and stack.parked() == []
    for resource, obj, key, extra in [
        ("clients", "CUSTOMER", "CUSTOMERID", None),
        ("projects", "PROJECT", "PROJECTID", None),
        ("activities", "STANDARDTASK", "STANDARDTASKID", None),
        ("tasks", "ITEM", "ITEMID", "Labor"),
        ("assets", "ITEM", "ITEMID", "Equipment"),
    ]:
        expected = {
            r[key] for r in store.records(obj) if r["STATUS"] == "active" and (extra is None or r["GLGROUP"] == extra)
        }
        got = {r["external_id"] for r in stack.assignar.records(resource) if r.get("active") in (True, 1)}
        assert got == expected, resource
    workers = {e["EMPLOYEEID"] for e in store.records("EMPLOYEE") if e["STATUS"] == "active"}
    got_workers = {u.get("employee_id") for u in stack.assignar.records("users") if u.get("active") in (True, 1)}
    assert got_workers - {None} == workers


def test_the_same_messages_delivered_twice_write_once(stack: Stack) -> None:
    # Given a pull whose messages are all delivered twice (SQS is at-least-once)
    stack.puller.lambda_handler(
        {"entity": "clients"},
        CONTEXT,
    )
    bodies = [
        m["Body"]
        for m in stack.sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get("Messages", [])
    ]
    for body in bodies:
        stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)

    # When the queue drains
    stack.pump()

    # Then each client was created once
    external_ids = [c["external_id"] for c in stack.assignar.records("clients")]
    assert len(external_ids) == len(set(external_ids))
    assert stack.assignar.calls("POST", "/v2/clients") == len(set(external_ids))


def test_bad_messages_and_records_that_never_resolve_are_parked_with_a_reason(stack: Stack) -> None:
    # Given a malformed body, and work orders whose projects never arrive (projects are not pulled)
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody='{"version": 1, "kind": "upsert"}')
    stack.puller.lambda_handler(
        {"entity": "work_orders"},
        CONTEXT,
    )

    # When the queue drains (each waiting message comes back until its third delivery)
    stack.pump()

    # Then nothing was written for them, and each sits in the dead-letter queue with a reason a person can read
    assert stack.assignar.records("orders") == []
    reasons = [reason for _, reason in drain_parked(stack)]
    assert any(r and "not a valid sync message" in r for r in reasons)
    assert any(r and "waits for projects" in r for r in reasons)
    assert all(reasons)


def drain_parked(stack: Stack) -> list[tuple[str, str | None]]:
    parked: list[tuple[str, str | None]] = []
    while batch := stack.parked():
        parked.extend(batch)
    return parked


def test_the_sample_events_drive_the_handlers(stack: Stack) -> None:
    # Given the canonical events kept in events/
    schedule = json.loads((EVENTS / "sync_puller_schedule.json").read_text())
    delivery = json.loads((EVENTS / "sync_consumer_sqs.json").read_text())

    # When each handler gets its event
    pulled = stack.puller.lambda_handler(
        schedule,
        CONTEXT,
    )
    answer = stack.consumer.lambda_handler(
        delivery,
        CONTEXT,
    )

    # Then the schedule's entity was pulled, and the delivered client is in Assignar
    assert pulled["entity"] == "workers" and pulled["complete"]
    assert answer["batchItemFailures"] == []
    assert [c["external_id"] for c in stack.assignar.records("clients")] == ["C-1001"]


def test_a_change_and_its_undo_both_reach_assignar(stack: Stack) -> None:
    # Given a client's record as pulled (A), then renamed in Intacct (B), then renamed back (A again)
    stack.puller.lambda_handler(
        {"entity": "clients"},
        CONTEXT,
    )
    first = SyncMessage.from_body(
        stack.sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=1)["Messages"][0]["Body"]
    )
    stack.pump()
    assert first.record is not None and first.record.modified_at is not None
    original = first.record.model_dump()["name"]
    later = first.record.modified_at + timedelta(minutes=5)
    renamed = first.model_copy(update={"record": first.record.model_copy(update={"name": "B", "modified_at": later})})
    undone = first.model_copy(
        update={"record": first.record.model_copy(update={"modified_at": later + timedelta(minutes=5)})}
    )

    # When B and then A arrive within the idempotency window
    for message in (renamed, undone):
        stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=message.to_body())
        stack.pump()

    # Then Assignar ends with A: the undo was not mistaken for a repeat of the first delivery
    (client,) = [c for c in stack.assignar.records("clients") if c["external_id"] == first.record.source_id]
    assert client["name"] == original


def test_changes_inactivations_deletes_and_hand_made_records_through_the_handlers(stack: Stack) -> None:
    # Given a client typed into Assignar by hand with an Intacct ID, and a cost code no task uses
    store = stack.intacct
    customer = next(c for c in store.records("CUSTOMER") if c["STATUS"] == "active")
    typed = stack.assignar.seed(
        "clients", {"name": "typed by hand", "company_name": "typed by hand", "external_id": customer["CUSTOMERID"]}
    )
    code = store.create("STANDARDTASK", {"STANDARDTASKID": "97-100", "NAME": "Snow Removal"})

    # When the first scheduled cycle runs
    run_schedules(stack)
    stack.pump()

    # Then the hand-made client was adopted (no second one), and every work order is in
    clients = [c for c in stack.assignar.records("clients") if c["external_id"] == customer["CUSTOMERID"]]
    assert [c["id"] for c in clients] == [typed["id"]] and clients[0]["name"] == customer["NAME"]
    live_projects = {p["PROJECTID"] for p in store.records("PROJECT") if p["STATUS"] == "active"}
    live_tasks = [t for t in store.records("TASK") if t["STATUS"] == "active" and t["PROJECTID"] in live_projects]
    assert len([o for o in stack.assignar.records("orders") if o.get("active") in (True, 1)]) == len(live_tasks)

    # When a worker changes, a client turns inactive and the cost code is deleted, and the next cycle runs
    writes = stack.assignar.calls("POST", "/v2") + stack.assignar.calls("PUT", "/v2")
    worker = next(e for e in store.records("EMPLOYEE") if e["STATUS"] == "active")
    store.update("EMPLOYEE", worker["RECORDNO"], {"CONTACT.LASTNAME": "Changed"})
    store.update("CUSTOMER", customer["RECORDNO"], {"STATUS": "inactive"})
    store.delete("STANDARDTASK", code["RECORDNO"])
    run_schedules(stack)
    stack.pump()

    # Then exactly those three were written, and nothing was parked
    assert stack.assignar.calls("POST", "/v2") + stack.assignar.calls("PUT", "/v2") - writes == 3
    users = {u.get("employee_id"): u for u in stack.assignar.records("users")}
    assert users[worker["EMPLOYEEID"]]["last_name"] == "Changed"
    assert next(c for c in stack.assignar.records("clients") if c["id"] == typed["id"])["active"] in (False, 0)
    assert next(a for a in stack.assignar.records("activities") if a["external_id"] == "97-100")["active"] in (
        False,
        0,
    )
    assert drain_parked(stack) == []


def test_a_refused_read_is_one_error_line_with_intaccts_errorno_and_only_that_pull_fails(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an admin who took the Web Services user's permission to list employees away
    stack.intacct.profile = dataclasses.replace(stack.intacct.profile, unreadable=frozenset({"EMPLOYEE"}))
    written = io.StringIO()  # what the function writes to its log (stdout in Lambda)
    monkeypatch.setattr(logger.registered_handler, "stream", written)

    # When the workers' schedule fires
    with pytest.raises(stack.puller.PullFailedError, match="Permission Denied") as failed:
        stack.puller.lambda_handler({"entity": "workers"}, CONTEXT)

    # Then the pull fails (so Lambda retries it and the failed-invocation alarm fires) with one structured ERROR
    # line that carries Intacct's errorno and what to do, no traceback, and no secret
    output = written.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1, errors
    assert errors[0]["errorno"] == "Permission Denied"
    assert errors[0]["message"] == str(failed.value)
    assert "exception" not in errors[0] and "Traceback" not in output
    for secret in ("emulated-sender-password", "emulated-user-password"):
        assert secret not in output

    # And every other schedule still pulls
    assert stack.puller.lambda_handler({"entity": "clients"}, CONTEXT)["complete"]


def log_lines(written: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in written.getvalue().splitlines() if line.startswith("{")]


def test_an_enabled_workflow_missing_its_setting_is_one_error_line_in_checks_words(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stack whose tenant document leaves work orders on but does not name their owner
    monkeypatch.setenv("TENANT_CONFIG", json.dumps({"timezone": str(ZONE)}))
    Runtime.reset()
    written = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", written)

    # When the work orders' schedule fires
    answer = stack.puller.lambda_handler({"entity": "work_orders"}, CONTEXT)

    # Then nothing is read or sent for them, and one ERROR line says what to set, in the words `check` uses
    sentence = "set workflows.work_orders.owner_user_id in the configuration"
    assert answer["complete"] and answer["fetched"] == 0 and answer["cannot_run"] == {"work_orders": sentence}
    errors = [line for line in log_lines(written) if line["level"] == "ERROR"]
    assert len(errors) == 1, errors
    assert errors[0]["message"] == sentence and errors[0]["workflow"] == "work_orders"

    # And the other schedules still pull, without an error
    written.truncate(0)
    assert stack.puller.lambda_handler({"entity": "clients"}, CONTEXT)["published"]["clients"] > 0
    assert [line for line in log_lines(written) if line["level"] == "ERROR"] == []


def test_a_bad_tenant_document_fails_the_pull_naming_the_key_and_the_parameter(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a misspelt section in the stack's TenantConfig parameter
    monkeypatch.setenv("TENANT_CONFIG", json.dumps({"timezone": str(ZONE), "workflows": {"work_order": {}}}))
    Runtime.reset()
    written = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", written)

    # When a schedule fires, Then the pull fails with one ERROR line in the words the CLI uses for the same mistake
    with pytest.raises(stack.puller.PullFailedError) as failed:
        stack.puller.lambda_handler({"entity": "clients"}, CONTEXT)
    assert str(failed.value) == (
        "invalid configuration in the stack's TenantConfig parameter (TENANT_CONFIG):\n"
        "  workflows.work_order: unknown key; did you mean work_orders?"
    )
    errors = [line for line in log_lines(written) if line["level"] == "ERROR"]
    assert [line["message"] for line in errors] == [str(failed.value)]


def test_a_malformed_secret_is_named_by_its_keys_never_its_values(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an Intacct secret without the company ID (pydantic would quote the whole secret in its error)
    value = {
        "INTACCT_SENDER_ID": "acme-sender",
        "INTACCT_SENDER_PASSWORD": "Sender-Pa55-XYZ",
        "INTACCT_USER_ID": "ws-user",
        "INTACCT_USER_PASSWORD": "User-Pa55-QRS",
    }
    arn = boto3.client("secretsmanager").create_secret(Name="acme/intacct-bad", SecretString=json.dumps(value))["ARN"]
    monkeypatch.setenv("INTACCT_SECRET_ARN", arn)
    parameters.clear_caches()
    Runtime.reset()
    written = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", written)

    # When a schedule fires
    with pytest.raises(stack.puller.PullFailedError, match="INTACCT_COMPANY_ID") as failed:
        stack.puller.lambda_handler({"entity": "workers"}, CONTEXT)

    # Then the one ERROR line names the key to set, and no password appears anywhere
    output = written.getvalue()
    assert "missing or invalid settings" in str(failed.value)
    for secret in ("Sender-Pa55-XYZ", "User-Pa55-QRS"):
        assert secret not in output and secret not in str(failed.value)


# --- run history ---------------------------------------------------------------------------------------------------

INBOUND = ["clients", "projects", "work_orders", "activities", "roles", "assets", "workers"]


def test_every_pull_and_upsert_batch_is_in_the_run_history_and_status_reads_it(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When every schedule fires and the queue drains
    run_schedules(stack)
    stack.pump()

    # Then each workflow has its pull and its upsert batches in the state table, and the deletions their pull
    history = open_state("dynamodb://acme-state")
    for workflow in INBOUND:
        runs = history.recent_runs(workflow)
        [pull] = [run for run in runs if run.kind == "pull"]
        batches = [run for run in runs if run.kind == "upsert"]
        assert pull.outcome == "ok" and pull.read > 0 and pull.written > 0, pull
        assert batches and {b.outcome for b in batches} == {"ok"}, batches
        # each message the pull sent ended once, in some batch: written, or found already right (a deactivation of
        # a record never in Assignar); a delivery that waited for its dependency was read again later
        assert sum(b.written + b.unchanged for b in batches) == pull.written, workflow
    [deletions] = history.recent_runs("deletions")
    assert deletions.kind == "pull" and deletions.outcome == "ok"
    # ... with what each cost: Intacct for the pulls, Assignar for the batches
    runs = [run for workflow in INBOUND for run in history.recent_runs(workflow)]
    assert all(run.intacct_transactions > 0 for run in runs if run.kind == "pull" and run.workflow != "assets")
    assert sum(run.assignar_calls for run in runs if run.kind == "upsert") >= stack.assignar.calls("POST", "/v2")
    assert {run.assignar_calls for run in runs if run.kind == "pull"} == {0}

    # And `status` reads them from the table: every inbound workflow ok, its watermark known; time never ran
    monkeypatch.chdir(tmp_path)
    tenant = tmp_path / "tenant.json"
    tenant.write_text(os.environ["TENANT_CONFIG"])
    result = CliRunner().invoke(app, ["status", "--json", "--state", "dynamodb://acme-state", "--config", str(tenant)])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    by_name = {w["workflow"]: w for w in document["workflows"]}
    assert {by_name[w]["outcome"] for w in [*INBOUND, "deletions"]} == {"ok"}
    assert all(by_name[w]["watermark"] is not None for w in [*INBOUND, "deletions"])
    assert by_name["time"]["outcome"] == "never_ran"
    assert document["problems"] == [
        "time has never run: run intacct-assignar push-timesheets, or wait for its schedule"
    ]


def test_a_failed_pull_is_in_the_history_with_the_sentence_it_logged(stack: Stack) -> None:
    # Given an admin who took the Web Services user's permission to list employees away
    stack.intacct.profile = dataclasses.replace(stack.intacct.profile, unreadable=frozenset({"EMPLOYEE"}))

    # When the workers' schedule fires
    with pytest.raises(stack.puller.PullFailedError) as failed:
        stack.puller.lambda_handler({"entity": "workers"}, CONTEXT)

    # Then the workers' last run failed, saying what the function logged
    [run] = open_state("dynamodb://acme-state").recent_runs("workers")
    assert (run.kind, run.outcome, run.detail) == ("pull", "failed", str(failed.value))
    assert "Permission Denied" in str(run.detail)


def test_a_history_that_cannot_be_written_costs_neither_the_pull_nor_the_batch(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a state table that refuses run entries (and only them: watermarks and records still go in)
    def refuse(self: DynamoStateStore, entry: RunEntry) -> None:
        raise StateUnavailableError(f"DynamoDB kept throttling the write of {entry.workflow}'s run")

    monkeypatch.setattr(DynamoStateStore, "record_run", refuse)
    with pytest.raises(StateUnavailableError):  # negative control: the write really fails
        open_state("dynamodb://acme-state").record_run(RunEntry("clients", "pull", NOW, NOW, "ok"))

    # When the clients' schedule fires and the queue drains
    with caplog.at_level(logging.WARNING, logger="intacct_assignar"):
        answer = stack.puller.lambda_handler({"entity": "clients"}, CONTEXT)
        stack.pump()

    # Then the pull finished, every client reached Assignar, and each lost entry is one WARNING line
    assert answer["complete"] and answer["published"]["clients"] > 0
    assert len(stack.assignar.records("clients")) == answer["published"]["clients"]
    lost = [r for r in caplog.records if "was not added to the run history" in r.getMessage()]
    assert lost and all(r.levelno == logging.WARNING and r.exc_info is None for r in lost)
    assert all(r.getMessage().startswith("the clients ") for r in lost)
