"""The outbound-time Lambda handlers under moto (SQS with a DLQ, DynamoDB, Secrets Manager) against both emulators
over HTTP: Assignar approves -> signed webhook -> local HTTP API -> receiver -> push queue -> push consumer ->
Intacct, and the scheduled sweep for deliveries that never came."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest
from aws_lambda_powertools.utilities import parameters
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.assignar.webhooks import TimesheetEvent
from intacct_assignar.cli import app
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.runs import RunEntry
from intacct_assignar.runtime import Runtime
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import (
    DynamoStateStore,
    LedgerEntry,
    SqliteStateStore,
    StateStore,
    StateUnavailableError,
    create_table,
    open_state,
)
from intacct_assignar.webhook_signature import signature_headers
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.http_api import LocalContext, LocalHttpApi
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from intacct_assignar_dev.local_aws import sqs_record
from moto import mock_aws
from typer.testing import CliRunner

from ..inbound.company_clock import ZONE
from .conftest import Crew, sync_company

WEBHOOK_PATH = "/webhooks/assignar"
WEBHOOK_SECRET = "a-long-random-shared-secret-for-the-webhook"
WORK_DATE = date(2026, 11, 18)  # a Wednesday: its Intacct week (Sunday start) begins 2026-11-15
WEEK_START = date(2026, 11, 15)
MAX_RECEIVES = 3
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
SCHEDULED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-20T16:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/acme-timesheet-sweep"],
    "detail": {},
}


@dataclass
class Stack:
    sqs: Any
    push_queue_url: str
    push_queue_arn: str
    dlq_url: str
    receiver: ModuleType
    consumer: ModuleType
    sweeper: ModuleType
    api: LocalHttpApi
    store: IntacctStore
    intacct: IntacctEmulator
    assignar: AssignarEmulator
    assignar_client: AssignarClient
    ledger: StateStore
    crew: Crew

    # --- Assignar ------------------------------------------------------------------------------------------

    def timesheet(
        self,
        *,
        worker: int = 0,
        labor: tuple[int, ...] = (240, 240),
        equipment: tuple[int, ...] = (180,),
        order: int = 0,
    ) -> int:
        """A worker's day (submitted, not approved yet): activity entries and asset entries, in minutes."""
        person = self.crew.workers[worker]
        job = self.crew.orders[order]
        return self.assignar.create_timesheet(
            worker_id=person["id"],
            project_id=job["project_id"],
            work_order_id=job["id"],
            role_id=self.role(worker)["id"],
            work_date=WORK_DATE,
            labor=[
                LaborEntry(self.crew.activities[i % len(self.crew.activities)]["id"], m) for i, m in enumerate(labor)
            ],
            equipment=[
                EquipmentEntry(self.crew.assets[i % len(self.crew.assets)]["id"], m) for i, m in enumerate(equipment)
            ],
        )

    def role(self, worker: int) -> dict[str, Any]:
        return self.crew.roles[worker % len(self.crew.roles)]

    def processed(self, timesheet_id: int) -> bool:
        return self.assignar_client.timesheets.get(timesheet_id).is_processed

    # --- AWS -----------------------------------------------------------------------------------------------

    def pump(self, rounds: int = 30) -> int:
        """Deliver the push queue to the consumer like Lambda's event source mapping (batches of up to ten);
        failed items become visible again at once. Returns how many messages were handled and deleted."""
        handled = 0
        for _ in range(rounds):
            received = self.sqs.receive_message(
                QueueUrl=self.push_queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                return handled
            event = {"Records": [sqs_record(m, self.push_queue_arn) for m in received]}
            answer = self.consumer.lambda_handler(event, LocalContext("push-consumer"))
            failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
            for message in received:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.push_queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    self.sqs.delete_message(QueueUrl=self.push_queue_url, ReceiptHandle=message["ReceiptHandle"])
                    handled += 1
        raise AssertionError("the push queue did not drain")

    def queued(self) -> int:
        """Messages on the push queue, visible or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.push_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def take_parked(self) -> list[tuple[str, str | None]]:
        """Everything on the dead-letter queue (body, reason attribute), removed as an admin handling it would."""
        parked: list[tuple[str, str | None]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return parked
            for message in messages:
                reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
                parked.append((message["Body"], reason))
                self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])

    def redrive(self, body: str) -> None:
        """An admin moving a parked message back to the push queue."""
        self.sqs.send_message(QueueUrl=self.push_queue_url, MessageBody=body)

    def sweep(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.sweeper.lambda_handler(SCHEDULED_EVENT, LocalContext("timesheet-sweep"))
        return answer

    def entry(self, timesheet_id: int) -> LedgerEntry:
        entry = self.ledger.get_ledger(timesheet_id)
        assert entry is not None, f"no ledger entry for timesheet {timesheet_id}"
        return entry

    # --- Intacct -------------------------------------------------------------------------------------------

    def intacct_timesheets(self) -> list[dict[str, Any]]:
        return self.store.records("TIMESHEET")

    def equipment_documents(self) -> list[dict[str, Any]]:
        return self.store.records("PODOCUMENT")


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Stack]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "TENANT_ID": "acme",
        "STATE_TABLE": "acme-state",
        "MAX_RECEIVES": str(MAX_RECEIVES),
        "POWERTOOLS_SERVICE_NAME": "intacct-assignar",
    }.items():
        monkeypatch.setenv(name, value)
    store = IntacctStore(timezone=str(ZONE))
    generate_company(store, employees=30, seed=5)
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    Runtime.reset()
    with mock_aws(), IntacctEmulator(store) as intacct:
        # Imported here: the handlers read their environment (MAX_RECEIVES) and build their processors at import,
        # as in Lambda; each builds its Runtime (secrets, clients) on its first invocation.
        receiver = importlib.reload(importlib.import_module("functions.webhook_receiver.app"))
        consumer = importlib.reload(importlib.import_module("functions.push_consumer.app"))
        sweeper = importlib.reload(importlib.import_module("functions.timesheet_sweep.app"))
        with (
            LocalHttpApi(receiver.lambda_handler, path=WEBHOOK_PATH) as api,
            AssignarEmulator(seed=3, webhook_url=api.endpoint, webhook_secret=WEBHOOK_SECRET) as assignar,
            AssignarClient(assignar.settings(), requests_per_second=None) as assignar_client,
        ):
            with (
                IntacctClient(
                    IntacctSettings.model_validate(intacct.settings_env()), timezone=ZONE, sessions=MemorySessionCache()
                ) as client,
                SqliteStateStore(tmp_path / "inbound.db") as inbound_state,
            ):
                crew, owner_id = sync_company(client, assignar, inbound_state)
            dynamodb = boto3.client("dynamodb")
            create_table(dynamodb, "acme-state")
            sqs = boto3.client("sqs")
            dlq_url = sqs.create_queue(QueueName="acme-push-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            push_queue_url = sqs.create_queue(
                QueueName="acme-push",
                Attributes={
                    "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
                },
            )["QueueUrl"]
            secrets = boto3.client("secretsmanager")
            intacct_arn = secrets.create_secret(Name="acme/intacct", SecretString=json.dumps(intacct.settings_env()))[
                "ARN"
            ]
            assignar_arn = secrets.create_secret(
                Name="acme/assignar",
                SecretString=json.dumps(assignar.settings_env(ASSIGNAR_WEBHOOK_SECRET=WEBHOOK_SECRET)),
            )["ARN"]
            monkeypatch.setenv("INTACCT_SECRET_ARN", intacct_arn)
            monkeypatch.setenv("ASSIGNAR_SECRET_ARN", assignar_arn)
            monkeypatch.setenv("PUSH_QUEUE_URL", push_queue_url)
            monkeypatch.setenv("PARKED_QUEUE_URL", dlq_url)
            monkeypatch.setenv(
                "TENANT_CONFIG",
                json.dumps({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner_id}}}),
            )
            ledger = open_state("dynamodb://acme-state")
            try:
                yield Stack(
                    sqs=sqs,
                    push_queue_url=push_queue_url,
                    push_queue_arn=sqs.get_queue_attributes(QueueUrl=push_queue_url, AttributeNames=["QueueArn"])[
                        "Attributes"
                    ]["QueueArn"],
                    dlq_url=dlq_url,
                    receiver=receiver,
                    consumer=consumer,
                    sweeper=sweeper,
                    api=api,
                    store=store,
                    intacct=intacct,
                    assignar=assignar,
                    assignar_client=assignar_client,
                    ledger=ledger,
                    crew=crew,
                )
            finally:
                # The next test is a cold container: no runtime, clients or cached secrets from this one.
                parameters.clear_caches()  # type: ignore[no-untyped-call]
                Runtime.reset()


def test_an_approval_webhook_becomes_one_intacct_timesheet_and_one_equipment_transaction(stack: Stack) -> None:
    # Given a worker's day with two activity entries and one asset entry
    timesheet_id = stack.timesheet(labor=(240, 200), equipment=(180,))

    # When a supervisor approves it: Assignar signs and posts the webhook, the receiver queues it, the consumer runs
    delivery = stack.assignar.approve_timesheet(timesheet_id)
    assert delivery is not None and delivery.status_code == 202, delivery
    assert stack.queued() == 1
    assert stack.pump() == 1

    # Then Intacct holds exactly one timesheet for the worker's week, with the job, role and cost type on each line
    person = stack.crew.workers[0]
    order = stack.crew.orders[0]
    project = stack.crew.projects[order["project_id"]]
    [sheet] = stack.intacct_timesheets()
    assert sheet["EMPLOYEEID"] == person["employee_id"]
    assert sheet["BEGINDATE"] == WEEK_START
    assert sheet["DESCRIPTION"].startswith(f"Assignar timesheet {timesheet_id} (rev ")
    lines = stack.store.lines("TIMESHEET", sheet["RECORDNO"])
    assert [line["QTY"] for line in lines] == [Decimal("4.00"), Decimal("3.33")]
    assert {line["ENTRYDATE"] for line in lines} == {WORK_DATE}
    assert {line["PROJECTID"] for line in lines} == {project["external_id"]}
    assert {line["TASKID"] for line in lines} == {order["job_number"]}
    assert {line["ITEMID"] for line in lines} == {stack.role(0)["external_id"]}
    assert {line["COSTTYPEID"] for line in lines} == {"LAB"}
    # ... and one purchasing transaction with the equipment hours
    [po] = stack.equipment_documents()
    assert po["DOCPARID"] == "Equipment Usage"
    assert po["CUSTVENDID"] == "V-INTERNAL"
    [po_line] = stack.store.lines("PODOCUMENT", po["RECORDNO"])
    assert po_line["ITEMID"] == stack.crew.assets[0]["external_id"]
    assert po_line["QUANTITY"] == Decimal("3.00")
    assert po_line["PROJECTID"] == project["external_id"]
    assert po_line["TASKID"] == order["job_number"]
    assert po_line["COSTTYPEID"] == "EQP"
    # ... Assignar shows it processed, the ledger knows both documents, and nothing is left or parked
    processed = stack.assignar_client.timesheets.get(timesheet_id)
    assert processed.processed_at is not None
    entry = stack.entry(timesheet_id)
    assert entry.state == "posted" and entry.attempts == 1
    assert entry.intacct_keys["timesheet"] == str(sheet["RECORDNO"])
    assert entry.intacct_keys["equipment"] == po["DOCID"]
    assert [d.status_code for d in stack.assignar.webhook_deliveries] == [202]
    assert stack.api.answers == [202]
    assert stack.queued() == 0
    assert stack.take_parked() == []


def test_the_same_webhook_delivered_three_times_at_once_posts_once(stack: Stack) -> None:
    # Given an approved timesheet, and a warm receiver (in AWS each concurrent delivery has its own container;
    # here they share one process, so the container's runtime is built once before they race)
    timesheet_id = stack.timesheet()
    stack.assignar.approve_timesheet(timesheet_id, notify=False)
    stack.receiver.receiver()
    event = TimesheetEvent(timesheet_id=timesheet_id)

    # When Assignar delivers the same event three times concurrently
    start = threading.Barrier(3)

    def deliver() -> None:
        start.wait()
        stack.assignar.send_webhook(event)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then each was accepted and queued, and once the queue drains Intacct holds the time exactly once
    assert [d.status_code for d in stack.assignar.webhook_deliveries] == [202, 202, 202]
    assert stack.queued() == 3
    assert stack.pump() == 3
    assert len(stack.intacct_timesheets()) == 1
    assert len(stack.equipment_documents()) == 1
    assert stack.intacct.stats.functions["create"] == 1
    assert stack.intacct.stats.functions["create_potransaction"] == 1
    assert stack.entry(timesheet_id).state == "posted"
    assert stack.processed(timesheet_id)
    assert stack.queued() == 0
    assert stack.take_parked() == []


def test_a_lost_answer_on_the_timesheet_create_still_posts_exactly_once(stack: Stack) -> None:
    # Given Intacct will commit the next TIMESHEET create but lose its answer behind the CDN (HTTP 524)
    timesheet_id = stack.timesheet()
    stack.intacct.fail_next("524", function="create")

    # When the approval arrives and the consumer runs
    delivery = stack.assignar.approve_timesheet(timesheet_id)
    assert delivery is not None and delivery.status_code == 202
    stack.pump()

    # Then the timesheet was looked up rather than sent again: one in Intacct, posted in the ledger, processed
    assert stack.intacct.stats.faults["524"] == 1
    assert stack.intacct.stats.functions["create"] == 1, "the create whose answer was lost was not re-sent"
    assert stack.intacct.stats.functions["create_potransaction"] == 1
    [sheet] = stack.intacct_timesheets()
    assert sheet["DESCRIPTION"].startswith(f"Assignar timesheet {timesheet_id} (rev ")
    assert len(stack.equipment_documents()) == 1
    entry = stack.entry(timesheet_id)
    assert entry.state == "posted" and entry.intacct_keys["timesheet"] == str(sheet["RECORDNO"])
    assert stack.processed(timesheet_id)
    assert stack.queued() == 0
    assert stack.take_parked() == []


def test_an_unknown_employee_is_parked_replayable_and_posts_once_fixed_and_redriven(stack: Stack) -> None:
    # Given a worker whose employee ID in Assignar names nobody in Intacct
    timesheet_id = stack.timesheet()
    worker = stack.crew.workers[0]
    stack.assignar_client.workers.update(worker["id"], {"employee_id": "E-NOBODY"})

    # When the timesheet is approved and the consumer runs
    delivery = stack.assignar.approve_timesheet(timesheet_id)
    assert delivery is not None and delivery.status_code == 202
    stack.pump()

    # Then nothing reached Intacct, and one replayable message waits on the DLQ with the reason
    assert stack.intacct_timesheets() == [] and stack.equipment_documents() == []
    assert stack.intacct.stats.functions["create"] == 0
    [(body, reason)] = stack.take_parked()
    message = PushMessage.from_body(body)
    assert message.timesheet_id == timesheet_id and message.retry_parked and message.trigger == "replay"
    assert reason is not None and "E-NOBODY" in reason and "does not exist in Intacct" in reason
    entry = stack.entry(timesheet_id)
    assert entry.state == "parked" and entry.reason == reason
    assert not stack.processed(timesheet_id)
    assert stack.queued() == 0

    # When a person fixes the worker and moves the parked message back to the push queue
    stack.assignar_client.workers.update(worker["id"], {"employee_id": worker["employee_id"]})
    stack.redrive(body)
    assert stack.pump() == 1

    # Then it is posted once, under the right employee
    [sheet] = stack.intacct_timesheets()
    assert sheet["EMPLOYEEID"] == worker["employee_id"]
    assert len(stack.equipment_documents()) == 1
    assert stack.entry(timesheet_id).state == "posted"
    assert stack.processed(timesheet_id)
    assert stack.take_parked() == []


def test_deliveries_that_are_not_authentic_or_not_readable_are_refused_and_queue_nothing(stack: Stack) -> None:
    timesheet_id = stack.timesheet()
    stack.assignar.approve_timesheet(timesheet_id, notify=False)
    body = TimesheetEvent(timesheet_id=timesheet_id).to_body()
    json_type = {"Content-Type": "application/json"}

    # A valid notice signed with the wrong secret
    forged = httpx.post(
        stack.api.endpoint, content=body, headers={**json_type, **signature_headers(body, "not-the-shared-secret")}
    )
    assert forged.status_code == 401, forged.text
    assert "does not match" in forged.json()["error"]

    # Signed with the right secret, but not JSON
    garbled = b"timesheet_id=%d" % timesheet_id
    malformed = httpx.post(
        stack.api.endpoint, content=garbled, headers={**json_type, **signature_headers(garbled, WEBHOOK_SECRET)}
    )
    assert malformed.status_code == 400, malformed.text
    assert "not JSON" in malformed.json()["error"]

    # Far larger than any notice (refused before the signature is even computed)
    huge = json.dumps({"event": "timesheet.approved", "timesheet_id": timesheet_id, "pad": "x" * 20_000}).encode()
    oversized = httpx.post(
        stack.api.endpoint, content=huge, headers={**json_type, **signature_headers(huge, WEBHOOK_SECRET)}
    )
    assert oversized.status_code == 413, oversized.text

    # Nothing was queued, written or claimed
    assert stack.api.answers == [401, 400, 413]
    assert stack.queued() == 0
    assert stack.intacct_timesheets() == []
    assert stack.ledger.get_ledger(timesheet_id) is None
    assert not stack.processed(timesheet_id)


def test_the_sweep_queues_a_timesheet_whose_webhook_never_came(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a timesheet approved without a webhook (a lost delivery, or a tenant with no webhook sender)
    timesheet_id = stack.timesheet()
    assert stack.assignar.approve_timesheet(timesheet_id, notify=False) is None
    approved_at = stack.assignar_client.timesheets.get(timesheet_id).approved_at
    assert stack.queued() == 0

    # When the scheduled watcher runs (its first run: a full pass), and the consumer drains what it queued
    report = stack.sweep()
    assert approved_at is not None
    assert report == {
        "pass": "full",
        "found": 1,
        "queued": 1,
        "left_parked": [],
        "in_progress": [],
        "oldest_pending_approval": approved_at.isoformat(),
    }
    assert stack.queued() == 1
    assert stack.pump() == 1

    # Then it is posted and processed
    assert len(stack.intacct_timesheets()) == 1
    assert len(stack.equipment_documents()) == 1
    assert stack.entry(timesheet_id).state == "posted"
    assert stack.processed(timesheet_id)

    # When the watcher runs again, it looks only at what changed since, and finds nothing left to do
    again = {"pass": "incremental", "found": 0, "queued": 0, "left_parked": [], "in_progress": []}
    assert stack.sweep() == again
    assert stack.queued() == 0
    assert len(stack.intacct_timesheets()) == 1
    assert stack.assignar.webhook_deliveries == []

    # And each run is in the state store's history, and each function published its metrics as it ended
    # (the second look found nothing: its metrics count it, its watermark says when it was, the history skips it)
    history = stack.ledger.recent_runs("time")
    [first] = [entry for entry in history if entry.kind == "sweep"]
    [push] = [entry for entry in history if entry.kind == "push"]
    assert (first.kind, first.read, first.written, first.extra["pass"]) == ("sweep", 1, 1, "full")
    assert (push.read, push.written) == (1, 1)
    assert first.assignar_calls >= 1
    published = emf_values(capsys.readouterr().out)
    assert published["TimesheetsQueued"] == [1.0]
    assert len(published["OldestUnpostedApprovalSeconds"]) == 1
    assert len(published["ApprovalToIntacctSeconds"]) == 1
    # the full pass, the push batch, and the idle look (1 list call)
    assert published["AssignarCalls"] == [float(first.assignar_calls), float(push.assignar_calls), 1.0]


def emf_values(output: str) -> dict[str, list[float]]:
    """The metrics the handlers printed as EMF lines (workflow "time"), by name, in order."""
    values: dict[str, list[float]] = {}
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        assert document["workflow"] == "time" and document["service"] == "intacct-assignar"
        for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = document[metric["Name"]]
            values.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return values


def test_one_inactive_employee_of_ten_is_parked_and_the_other_nine_post(stack: Stack) -> None:
    # Given ten workers' days, and the fourth worker's employee made inactive in Intacct
    ids = [stack.timesheet(worker=index) for index in range(10)]
    refused_worker = stack.crew.workers[3]
    employee = next(e for e in stack.store.records("EMPLOYEE") if e["EMPLOYEEID"] == refused_worker["employee_id"])
    stack.store.update("EMPLOYEE", employee["RECORDNO"], {"STATUS": "inactive"})

    # When all ten are approved (ten webhooks) and the queue drains
    for timesheet_id in ids:
        delivery = stack.assignar.approve_timesheet(timesheet_id)
        assert delivery is not None and delivery.status_code == 202
    assert stack.queued() == 10
    assert stack.pump() == 10

    # Then nine timesheets are in Intacct, none for the inactive employee
    sheets = stack.intacct_timesheets()
    assert len(sheets) == 9
    assert {t["EMPLOYEEID"] for t in sheets} == {
        w["employee_id"] for i, w in enumerate(stack.crew.workers[:10]) if i != 3
    }
    assert len(stack.equipment_documents()) == 9
    assert [stack.processed(i) for i in ids] == [i != ids[3] for i in ids]
    # ... and the tenth waits on the DLQ and in the ledger with a reason naming the inactive employee
    [(body, reason)] = stack.take_parked()
    assert PushMessage.from_body(body).timesheet_id == ids[3]
    assert reason is not None and "inactive" in reason and refused_worker["employee_id"] in reason
    assert [entry.timesheet_id for entry in stack.ledger.iter_ledger("parked")] == [ids[3]]
    assert stack.entry(ids[3]).reason == reason
    assert len(list(stack.ledger.iter_ledger("posted"))) == 9


# --- run history ---------------------------------------------------------------------------------------------------


def test_each_push_batch_is_one_time_run_in_the_history_and_a_parked_one_says_why(stack: Stack) -> None:
    # Given two approvals, one of a worker Intacct does not know
    stack.assignar_client.workers.update(stack.crew.workers[1]["id"], {"employee_id": "E-NOBODY"})
    first, second = stack.timesheet(worker=0), stack.timesheet(worker=1)
    for timesheet_id in (first, second):
        stack.assignar.approve_timesheet(timesheet_id, notify=False)
        stack.redrive(PushMessage(timesheet_id=timesheet_id, trigger="webhook").to_body())

    # When the consumer takes them in one batch
    assert stack.pump() == 2

    # Then the state table holds one "time" push entry for the batch: one posted, one parked with its reason
    [run] = stack.ledger.recent_runs("time")
    assert (run.kind, run.outcome, run.read, run.written, run.parked) == ("push", "parked", 2, 1, 1)
    assert run.detail is not None and run.detail.startswith(f"timesheet {second}: ") and "E-NOBODY" in run.detail
    assert run.intacct_transactions > 0 and run.assignar_calls > 0

    # And `status` reads it from the table: the parked timesheet listed with the ledger's reason, exit 1
    result = CliRunner().invoke(app, ["status", "--json", "--state", "dynamodb://acme-state"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    time = next(w for w in document["workflows"] if w["workflow"] == "time")
    assert time["outcome"] == "parked" and time["last_run"]["run_id"] == run.run_id
    assert document["time"]["posted_last_24h"] == 1 and document["time"]["parked"] == 1
    assert document["parked"] == [{"kind": "timesheet", "id": str(second), "reason": stack.entry(second).reason}]


def test_a_push_whose_history_cannot_be_written_still_posts(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a state table that refuses run entries (negative control: the write really fails)
    def refuse(self: DynamoStateStore, entry: RunEntry) -> None:
        raise StateUnavailableError("DynamoDB kept throttling")

    monkeypatch.setattr(DynamoStateStore, "record_run", refuse)
    with pytest.raises(StateUnavailableError):
        stack.ledger.record_run(RunEntry("time", "push", NOW, NOW, "ok"))

    # When a timesheet is approved and the consumer runs
    timesheet_id = stack.timesheet()
    stack.assignar.approve_timesheet(timesheet_id)
    assert stack.pump() == 1

    # Then it is in Intacct, and the batch reported no failure (nothing comes back)
    assert len(stack.intacct_timesheets()) == 1 and stack.entry(timesheet_id).state == "posted"
    assert stack.queued() == 0 and stack.take_parked() == []
