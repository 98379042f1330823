"""The stack of template.yaml stood up on moto from the template itself, running the real handlers against
both emulators: every schedule, both queues, the webhook route. What the demo runs, and what deploys."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.assignar.emulator import WebhookConfig
from intacct_assignar_dev.emulators.http_api import LocalHttpApi
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from intacct_assignar_dev.local_aws import LocalStack, translate
from pydantic import SecretStr

WEBHOOK_SECRET = "local-stack-webhook-secret"


def test_the_local_stack_has_exactly_the_templates_queues_tables_functions_and_wiring(aws: None) -> None:
    stack = LocalStack.create(
        {
            "IntacctSecretArn": {"INTACCT_SENDER_ID": "x"},
            "AssignarSecretArn": {"ASSIGNAR_CLIENT_ID": "x"},
        },
        parameters={"TenantId": "acme"},
    )
    _, resources = translate(parameters=stack.parameters)
    declared = {
        kind: {n for n, r in resources.items() if r["Type"] == kind}
        for kind in ("AWS::SQS::Queue", "AWS::DynamoDB::Table", "AWS::Lambda::Function")
    }
    assert set(stack.queues) == declared["AWS::SQS::Queue"]
    assert set(stack.tables) == declared["AWS::DynamoDB::Table"]
    assert set(stack.functions) == declared["AWS::Lambda::Function"]
    assert {(s.function, s.queue) for s in stack.event_sources} == {
        ("SyncConsumerFunction", "UpsertQueue"),
        ("PushConsumerFunction", "PushQueue"),
        ("TargetedPullerFunction", "EventQueue"),
    }
    assert stack.routes == {
        "POST /webhooks/assignar": "WebhookReceiverFunction",
        "POST /intacct-events": "SmartEventReceiverFunction",
    }
    assert len(stack.schedules) == 14
    consumer = stack.functions["PushConsumerFunction"].environment
    assert consumer["PARKED_QUEUE_URL"] == stack.queues["PushDeadLetterQueue"].url
    assert consumer["STATE_TABLE"] == stack.tables["StateTable"]


def test_schedules_queues_and_the_webhook_carry_a_company_both_ways(aws: None) -> None:
    store = IntacctStore(timezone="America/Denver")
    generate_company(store, employees=25, seed=31)
    with IntacctEmulator(store) as intacct, AssignarEmulator(seed=9) as assignar_emulator:
        owner = assignar_emulator.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        stack = LocalStack.create(
            {
                "IntacctSecretArn": intacct.settings_env(),
                "AssignarSecretArn": assignar_emulator.settings_env(ASSIGNAR_WEBHOOK_SECRET=WEBHOOK_SECRET),
            },
            parameters={
                "TenantId": "acme",
                "TenantConfig": json.dumps(
                    {"timezone": "America/Denver", "workflows": {"work_orders": {"owner_user_id": owner["id"]}}}
                ),
            },
        )
        # Every incremental schedule once (the first run of each reads everything), then the upsert queue.
        pulls = [s for s in stack.schedules if s.function == "SyncPullerFunction" and not s.payload["full"]]
        summaries: list[dict[str, Any]] = [stack.invoke_schedule(s) for s in pulls]
        assert all(summary["complete"] for summary in summaries)
        [upserts] = [e for e in stack.event_sources if e.queue == "UpsertQueue"]
        sent = sum(sum(s["published"].values()) + sum(s["deactivations"].values()) for s in summaries)
        assert stack.pump(upserts) == sent
        assert stack.messages("UpsertDeadLetterQueue") == []
        workers = [w for w in assignar_emulator.records("users") if w.get("employee_id") and w.get("active")]
        assert workers
        # An approval: the signed webhook goes over HTTP to the receiver route, then the push queue.
        with LocalHttpApi(stack.handler_for_route("POST /webhooks/assignar"), path="/webhooks/assignar") as api:
            assignar_emulator.webhook = WebhookConfig(url=api.endpoint, secret=SecretStr(WEBHOOK_SECRET))
            order = next(o for o in assignar_emulator.records("orders") if o.get("active"))
            timesheet_id = assignar_emulator.create_timesheet(
                worker_id=workers[0]["id"],
                project_id=order["project_id"],
                work_order_id=order["id"],
                work_date=date(2026, 11, 18),
                labor=[LaborEntry(assignar_emulator.records("activities")[0]["id"], 480)],
                equipment=[EquipmentEntry(assignar_emulator.records("assets")[0]["id"], 120)],
            )
            delivery = assignar_emulator.approve_timesheet(timesheet_id)
            assert delivery is not None and delivery.status_code == 202
        [pushes] = [e for e in stack.event_sources if e.queue == "PushQueue"]
        assert stack.pump(pushes) == 1
        assert len(store.records("TIMESHEET")) == 1 and len(store.records("PODOCUMENT")) == 1
        assert stack.messages("PushDeadLetterQueue") == []
        # The sweep finds nothing left to do.
        [sweep] = [s for s in stack.schedules if s.function == "TimesheetSweepFunction"]
        assert stack.invoke_schedule(sweep)["queued"] == 0
