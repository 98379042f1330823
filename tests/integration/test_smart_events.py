"""Smart Events through the stack of template.yaml on moto: the emulated Intacct posts what `smart-events print`
describes to the /intacct-events route over HTTP, the targeted puller reads the records with the real Intacct client
against the emulator, and the upsert consumer writes them to Assignar."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import httpx
import pytest
from aws_lambda_powertools.utilities import parameters
from intacct_assignar.cli import app
from intacct_assignar.config import parse_config
from intacct_assignar.runtime import Runtime
from intacct_assignar.smart_events import ROUTE_PATH, TOKEN_SETTING, setups
from intacct_assignar.state import DynamoStateStore
from intacct_assignar.status import build_status
from intacct_assignar_dev.emulators.assignar import AssignarEmulator
from intacct_assignar_dev.emulators.http_api import LocalHttpApi
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, SmartEventCallouts, generate_company
from intacct_assignar_dev.local_aws import LocalStack
from typer.testing import CliRunner

TOKEN_SECRET = "IntacctEventsTokenSecret"
runner = CliRunner()


def events_token(stack: LocalStack) -> str:
    """The token the stack generated in its own secret, as `smart-events print --stack` reads it."""
    return str(stack.secret_settings(TOKEN_SECRET)[TOKEN_SETTING])


@pytest.fixture
def tenant(aws: None) -> Iterator[tuple[IntacctStore, IntacctEmulator, AssignarEmulator, LocalStack, dict[str, Any]]]:
    store = IntacctStore(timezone="America/Denver")
    generate_company(store, employees=150, seed=17)
    with IntacctEmulator(store) as intacct, AssignarEmulator(seed=5) as assignar:
        owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        config = {"timezone": "America/Denver", "workflows": {"work_orders": {"owner_user_id": owner["id"]}}}
        stack = LocalStack.create(
            {
                # No token here: the stack generates it in a secret of its own.
                "IntacctSecretArn": intacct.settings_env(),
                "AssignarSecretArn": assignar.settings_env(),
            },
            parameters={"TenantId": "acme", "TenantConfig": json.dumps(config)},
        )
        yield store, intacct, assignar, stack, config


def source(stack: LocalStack, queue: str) -> Any:
    [found] = [e for e in stack.event_sources if e.queue == queue]
    return found


def test_a_burst_of_100_changes_costs_a_handful_of_intacct_requests_and_reaches_assignar(tenant: Any) -> None:
    store, intacct, assignar, stack, config = tenant
    token = events_token(stack)
    # Given the company in Assignar (one run of every schedule), and its Smart Events set up as print says
    for schedule in [s for s in stack.schedules if s.function == "SyncPullerFunction" and not s.payload["full"]]:
        stack.invoke_schedule(schedule)
    stack.pump(source(stack, "UpsertQueue"))
    workers = [e for e in store.records("EMPLOYEE") if e.get("STATUS") == "active"][:100]
    assert len(workers) == 100
    route = stack.handler_for_route(f"POST {ROUTE_PATH}")
    with (
        LocalHttpApi(route, path=ROUTE_PATH) as api,
        SmartEventCallouts(store, setups(parse_config(config), api.endpoint, token)) as callouts,
    ):
        # When 100 workers' mobile numbers change in Intacct at once
        for number, worker in enumerate(workers):
            store.update("EMPLOYEE", worker["RECORDNO"], {"CONTACT.CELLPHONE": f"(303) 555-{number:04d}"})
        before = intacct.stats.api_transactions
        delivered = stack.pump(source(stack, "EventQueue"))
        read_cost = intacct.stats.api_transactions - before
        stack.pump(source(stack, "UpsertQueue"))

    # Then every notice was accepted and read in one batch: a handful of Intacct transactions, not 100
    assert [d.status for d in callouts.deliveries] == [202] * 100
    assert delivered == 100
    assert read_cost <= 3, read_cost  # the query, and at most the definitions and a session on a cold container
    # And every change is in Assignar
    mobiles = {u.get("employee_id"): u.get("contact") for u in assignar.records("users")}  # the mobile, else phone
    assert all(mobiles[w["EMPLOYEEID"]] == f"(303) 555-{n:04d}" for n, w in enumerate(workers))
    # And status shows the targeted pull as the workers' newest run, ok
    status = build_status(DynamoStateStore(stack.tables["StateTable"]), parse_config(config))
    [workers_status] = [w for w in status.workflows if w.workflow == "workers"]
    events = [e for e in DynamoStateStore(stack.tables["StateTable"]).recent_runs("workers") if e.kind == "event"]
    assert events and events[0].outcome == "ok" and events[0].written == 100
    assert workers_status.ok

    # Negative control: the same 100 notices delivered one at a time cost one query each
    with (
        LocalHttpApi(route, path=ROUTE_PATH) as api,
        SmartEventCallouts(store, setups(parse_config(config), api.endpoint, token)),
    ):
        for number, worker in enumerate(workers):
            store.update("EMPLOYEE", worker["RECORDNO"], {"CONTACT.CELLPHONE": f"(970) 555-{number:04d}"})
        before = intacct.stats.api_transactions
        stack.pump(replace(source(stack, "EventQueue"), batch_size=1))
        assert intacct.stats.api_transactions - before >= 100


def test_a_forged_notice_is_refused_at_the_route_and_queues_nothing(tenant: Any) -> None:
    store, _intacct, _assignar, stack, config = tenant
    token = events_token(stack)
    worker = store.records("EMPLOYEE")[0]
    [setup] = [s for s in setups(parse_config(config), "http://x", token) if s.object_name == "EMPLOYEE"]
    body = setup.body.replace("{!EMPLOYEE.RECORDNO!}", str(worker["RECORDNO"]))
    body = body.replace("{!EMPLOYEE.WHENMODIFIED!}", store.now().strftime("%m/%d/%Y %H:%M:%S"))
    with LocalHttpApi(stack.handler_for_route(f"POST {ROUTE_PATH}"), path=ROUTE_PATH) as api:
        forged = httpx.post(f"{api.endpoint}?token=guessed", content=body.encode())
        oversized = httpx.post(f"{api.endpoint}?token={token}", content=b"x" * 5000)
        assert (forged.status_code, oversized.status_code) == (401, 413)
        assert stack.messages("EventQueue") == []
        # Negative control: the same body with the tenant's token is queued
        assert httpx.post(f"{api.endpoint}?token={token}", content=body.encode()).status_code == 202
        assert len(stack.messages("EventQueue")) == 1


def test_print_with_the_stack_puts_the_token_the_stack_generated_in_every_url(
    tenant: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store, _intacct, _assignar, stack, config = tenant
    (tmp_path / "tenant.json").write_text(json.dumps(config))
    url = "https://abc123.execute-api.us-east-1.amazonaws.com/intacct-events"
    # Given a token the admin once had in the environment (before the stack kept it), and the stack's own
    stale = "an-old-token-from-the-environment-0123456789"
    monkeypatch.setenv(TOKEN_SETTING, stale)
    generated = events_token(stack)
    assert len(generated) >= 40 and generated != stale

    # When the admin prints the Smart Events of the stack (the local stack has no HTTP API: its URL is given)
    printed = runner.invoke(
        app,
        [
            "smart-events",
            "print",
            "--stack",
            stack.name,
            "--url",
            url,
            "--config",
            str(tmp_path / "tenant.json"),
            "--json",
        ],
    )

    # Then every URL carries the stack's token, read from its secret with the admin's credentials
    assert printed.exit_code == 0, printed.output
    urls = [s["url"] for s in json.loads(printed.stdout)]
    assert urls and all(u == f"{url}?token={generated}" for u in urls)
    assert stale not in printed.output
    # And the receiver takes what was printed (the same token, one secret)
    assert urls[0].endswith(events_token(stack))

    # Negative control: without --stack, the token comes from the environment, as for the demo or a copied URL
    offline = runner.invoke(
        app, ["smart-events", "print", "--url", url, "--config", str(tmp_path / "tenant.json"), "--json"]
    )
    assert offline.exit_code == 0, offline.output
    assert all(s["url"] == f"{url}?token={stale}" for s in json.loads(offline.stdout))


def test_print_refuses_a_token_of_the_wrong_shape_naming_the_setting_not_the_value(
    tenant: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store, _intacct, _assignar, stack, config = tenant
    (tmp_path / "tenant.json").write_text(json.dumps(config))
    config_option = ["--config", str(tmp_path / "tenant.json")]
    # Given a short token in the environment, When the admin prints without the stack
    monkeypatch.setenv(TOKEN_SETTING, "hunter2-short")
    refused = runner.invoke(app, ["smart-events", "print", "--url", "https://x.example/intacct-events", *config_option])

    # Then nothing is printed but one sentence naming the setting and the fix
    assert refused.exit_code == 2
    assert TOKEN_SETTING in refused.output and "hunter2" not in refused.output
    assert "token=" not in refused.output

    # And a bad value put into the stack's secret is refused the same way, naming the secret
    client = boto3.client("secretsmanager")
    client.put_secret_value(SecretId=stack.secrets[TOKEN_SECRET], SecretString=json.dumps({TOKEN_SETTING: "hunter2 x"}))
    refused = runner.invoke(
        app, ["smart-events", "print", "--stack", stack.name, "--url", "https://x.example/e", *config_option]
    )
    assert refused.exit_code == 2
    assert TOKEN_SECRET in refused.output and "hunter2" not in refused.output

    # And so does the receiver, once its cached copy is gone: 503 until the token is put right, nothing logged of it
    parameters.clear_caches()
    Runtime.reset()
    with LocalHttpApi(stack.handler_for_route(f"POST {ROUTE_PATH}"), path=ROUTE_PATH) as api:
        answer = httpx.post(f"{api.endpoint}?token=hunter2-x", content=b"{}")
    assert answer.status_code == 503
    assert stack.messages("EventQueue") == []
