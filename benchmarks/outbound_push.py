"""Benchmark: how fast an approval is acknowledged, and how long until its time is in Intacct.

(1) Webhook acknowledgement: the real receiver handler (HTTP API v2 event -> signature check -> body check ->
    SQS SendMessage on moto) called in-process, `--deliveries` times; prints p50/p99.
(2) Approval to Intacct: a company synced into Assignar; then `--approvals` timesheets (labor and equipment)
    approved at once, as a supervisor approves a crew's day. Each approval's signed webhook goes over HTTP to
    the real receiver handler, into a queue, and `--workers` push consumers (the push function's concurrency)
    post them to Intacct, each taking up to ten messages a batch and waiting up to `--batch-window-s` to fill
    one (the push queue's event source: BatchSize 10, MaximumBatchingWindowInSeconds 5). Emulated latency:
    Intacct `--intacct-ms` a request plus `--per-function-ms` for each function in it (one request at a time
    per company, as Intacct runs them; how its time divides between the two is not published, so run several);
    Assignar `--assignar-ms` a call. Prints p50/p95/max from approval to posted, the wall time, and the API
    calls per timesheet.

    .venv/bin/python benchmarks/outbound_push.py
    .venv/bin/python benchmarks/outbound_push.py --approvals 20 --per-function-ms 250 --skip-ack
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.config import parse_config
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.sync import InProcessQueue, run_sync
from intacct_assignar.inbound.upsert import UpsertService
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.outbound.consume import PushConsumer
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.push import PushService
from intacct_assignar.outbound.receiver import WebhookReceiver
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import SqliteStateStore
from intacct_assignar.webhook_signature import signature_headers
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.http_api import LocalContext, LocalHttpApi, http_api_event
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from pydantic import SecretStr

# The Lambda handlers live in functions/ at the top of the repository, beside (not inside) the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ZONE = ZoneInfo("America/Denver")
SECRET = "benchmark-webhook-secret"
WORK_DATE = date(2026, 11, 18)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def webhook_ack(deliveries: int) -> dict[str, float]:
    """The receiver handler in-process, SQS on moto: what a delivery waits for its 202."""
    from moto import mock_aws

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "benchmark")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "benchmark")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "intacct-assignar")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    with mock_aws():
        from intacct_assignar.aws.sqs import SqsPublisher

        from functions.webhook_receiver import app

        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="push")["QueueUrl"]
        receiver = WebhookReceiver(SecretStr(SECRET), parse_config({}).webhook, SqsPublisher(url, client=sqs))
        app.receiver = lambda: receiver  # the handler's seam for its receiver
        timings = []
        queued = 0
        for number in range(1, deliveries + 1):
            body = json.dumps({"event": "timesheet.approved", "timesheet_id": number}).encode()
            headers = {key.lower(): value for key, value in signature_headers(body, SECRET).items()}
            event = http_api_event("POST", "/webhooks/assignar", headers, body, "POST /webhooks/assignar")
            started = time.perf_counter()
            answer = app.lambda_handler(event, LocalContext("webhook-receiver"))
            timings.append(time.perf_counter() - started)
            assert answer["statusCode"] == 202, answer
            if number % 50 == 0 or number == deliveries:
                # Drained as the push consumer would (untimed): moto's SendMessage slows as its queue grows.
                queued += drain(sqs, url)
        assert queued == deliveries, (queued, deliveries)
    return {"p50_ms": percentile(timings, 0.5) * 1000, "p99_ms": percentile(timings, 0.99) * 1000}


def drain(sqs: Any, url: str) -> int:
    count = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        count += len(messages)
    return count


class ThreadQueue:
    """The push queue in-process: what SQS and the event source mapping do, minus the network."""

    def __init__(self) -> None:
        self.items: queue.Queue[str | None] = queue.Queue()

    def publish(self, messages: Sequence[PushMessage]) -> None:
        for message in messages:
            self.items.put(message.to_body())

    def park(self, body: str, reason: str) -> None:
        print(f"  parked: {reason}")


def approval_to_intacct(
    approvals: int,
    workers: int,
    intacct_ms: float,
    assignar_ms: float,
    *,
    per_function_ms: float = 0.0,
    batch_window_s: float = 5.0,
    fresh_company: bool = False,
) -> dict[str, Any]:
    store = IntacctStore(timezone=str(ZONE))
    generate_company(store, employees=max(60, approvals), seed=17)
    pushes = ThreadQueue()
    receiver = WebhookReceiver(SecretStr(SECRET), parse_config({}).webhook, pushes)

    def handle(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        from functions.webhook_receiver import app

        app.receiver = lambda: receiver
        return app.lambda_handler(event, LocalContext("webhook-receiver"))

    with (
        tempfile.TemporaryDirectory() as scratch,
        IntacctEmulator(store) as intacct_emulator,
        LocalHttpApi(handle, path="/webhooks/assignar") as api,
        AssignarEmulator(seed=6, webhook_url=api.endpoint, webhook_secret=SECRET) as assignar_emulator,
        SqliteStateStore(Path(scratch) / "state.db") as state,
    ):
        owner = assignar_emulator.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        config = parse_config({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner["id"]}}})

        def intacct_client() -> IntacctClient:
            settings = IntacctSettings.model_validate(intacct_emulator.settings_env())
            return IntacctClient(settings, timezone=ZONE, sessions=MemorySessionCache())

        assignar = AssignarClient(assignar_emulator.settings(), requests_per_second=None)
        summary = run_sync(
            PullService(intacct_client(), state, InProcessQueue(), config), UpsertService(assignar, state, config)
        )
        assert summary.ok, summary.failures
        people = [w for w in assignar_emulator.records("users") if w.get("employee_id") and w.get("active")]
        orders = [o for o in assignar_emulator.records("orders") if o.get("active")]
        activities = [a["id"] for a in assignar_emulator.records("activities") if a.get("active")]
        assets = [a["id"] for a in assignar_emulator.records("assets") if a.get("active")]
        roles = [r["id"] for r in assignar_emulator.records("tasks") if r.get("active")]
        ids = []
        for number in range(approvals + (0 if fresh_company else 1)):
            order = orders[number % len(orders)]
            ids.append(
                assignar_emulator.create_timesheet(
                    worker_id=people[number % len(people)]["id"],
                    project_id=order["project_id"],
                    work_order_id=order["id"],
                    role_id=roles[number % len(roles)],
                    work_date=WORK_DATE,
                    labor=[LaborEntry(activities[number % len(activities)], 240), LaborEntry(activities[0], 225)],
                    equipment=[EquipmentEntry(assets[number % len(assets)], 180)]
                    if number % 2 == 0 or number == approvals
                    else [],
                )
            )

        if not fresh_company:
            # A company past its first day: one equipment timesheet posted earlier, which showed the push the
            # purchasing fields its marker lands in (before that, each transaction goes in a request of its own).
            earlier = ids.pop()
            assignar_emulator.approve_timesheet(earlier, notify=False)
            warm = PushService(
                AssignarClient(assignar_emulator.settings(), requests_per_second=None), intacct_client(), state, config
            )
            assert warm.post(earlier).outcome == "posted"
        intacct_emulator.latency_s = intacct_ms / 1000
        intacct_emulator.per_function_s = per_function_ms / 1000
        assignar_emulator.latency_s = assignar_ms / 1000
        # One Intacct client per push worker (each Lambda container has its own), one ledger.
        clients = [intacct_client() for _ in range(workers)]
        assignar_clients = [
            AssignarClient(assignar_emulator.settings(), requests_per_second=None) for _ in range(workers)
        ]
        posted_at: dict[int, float] = {}
        batches: list[int] = []
        lock = threading.Lock()

        def worker(index: int) -> None:
            consumer = PushConsumer(PushService(assignar_clients[index], clients[index], state, config), pushes)
            while (first := pushes.items.get()) is not None:
                # Like the event source mapping: up to ten messages a batch, gathered for up to the batching window.
                batch = [first]
                closes = time.perf_counter() + batch_window_s
                while len(batch) < 10:
                    try:
                        more = pushes.items.get(timeout=max(0.0, closes - time.perf_counter()))
                    except queue.Empty:
                        break
                    if more is None:
                        pushes.items.put(None)
                        break
                    batch.append(more)
                with lock:
                    batches.append(len(batch))
                consumer.prefetch(batch)
                for body in batch:
                    try:
                        result = consumer.handle(body)
                    except Exception as error:  # a busy or unfinished one comes back, as SQS re-delivers
                        print(f"  retry: {type(error).__name__}: {error}")
                        time.sleep(0.5)
                        pushes.items.put(body)
                        continue
                    if result is not None and result.outcome == "posted":
                        with lock:
                            posted_at[result.timesheet_id] = time.perf_counter()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        approved_at: dict[int, float] = {}
        started = time.perf_counter()
        try:
            for timesheet_id in ids:
                approved_at[timesheet_id] = time.perf_counter()
                delivery = assignar_emulator.approve_timesheet(timesheet_id)
                assert delivery is not None and delivery.status_code == 202, delivery
            while len(posted_at) < approvals and time.perf_counter() - started < 600:
                time.sleep(0.05)
            wall = time.perf_counter() - started
        finally:
            # The workers stop before the ledger closes, however the run ended.
            for _ in threads:
                pushes.items.put(None)
            for thread in threads:
                thread.join()
        lags = [posted_at[i] - approved_at[i] for i in ids if i in posted_at]
        transactions = sum(c.counters.api_transactions for c in clients)
        requests = sum(c.counters.http_requests for c in clients)
        writes = sum(
            c.counters.by_function[name] for c in clients for name in ("create", "update", "create_potransaction")
        )
        assignar_calls = sum(c.calls.total for c in assignar_clients)
        return {
            "approvals": approvals,
            "posted": len(posted_at),
            # Without the one posted before, on a company past its first day.
            "intacct_timesheets": len(store.records("TIMESHEET")) - (0 if fresh_company else 1),
            "intacct_equipment_transactions": len(store.records("PODOCUMENT")) - (0 if fresh_company else 1),
            "wall_s": wall,
            "p50_s": percentile(lags, 0.5),
            "p95_s": percentile(lags, 0.95),
            "max_s": max(lags),
            "intacct_requests_per_timesheet": requests / approvals,
            "intacct_requests": requests,
            "intacct_writes": writes,
            "intacct_functions": dict(sum((c.counters.by_function for c in clients), Counter())),
            "batches": batches,
            "intacct_transactions_per_timesheet": transactions / approvals,
            "assignar_calls_per_timesheet": assignar_calls / approvals,
            "throttled_by_intacct": intacct_emulator.stats.throttled,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--approvals", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)  # the template's PushMaxConcurrency default
    parser.add_argument("--intacct-ms", type=float, default=250)
    parser.add_argument("--assignar-ms", type=float, default=80)
    parser.add_argument("--per-function-ms", type=float, default=0)
    parser.add_argument("--batch-window-s", type=float, default=5.0)
    parser.add_argument("--skip-ack", action="store_true", help="only the approval-to-Intacct part")
    parser.add_argument(
        "--fresh-company", action="store_true", help="no equipment posted before (purchasing fields not yet proven)"
    )
    args = parser.parse_args()

    if not args.skip_ack:
        ack = webhook_ack(args.deliveries)
        print(f"Webhook acknowledgement, {args.deliveries} deliveries (handler in-process, SQS on moto):")
        print(f"  p50 {ack['p50_ms']:.2f} ms   p99 {ack['p99_ms']:.2f} ms")
    print(
        f"\nApproval to Intacct, {args.approvals} approvals at once, {args.workers} push workers "
        f"(batching window {args.batch_window_s:g} s), Intacct {args.intacct_ms:.0f} ms a request + "
        f"{args.per_function_ms:.0f} ms a function, Assignar {args.assignar_ms:.0f} ms/call "
        f"(load {os.getloadavg()[0]:.1f}){', a fresh company' if args.fresh_company else ''}:"
    )
    figures = approval_to_intacct(
        args.approvals,
        args.workers,
        args.intacct_ms,
        args.assignar_ms,
        per_function_ms=args.per_function_ms,
        batch_window_s=args.batch_window_s,
        fresh_company=args.fresh_company,
    )
    print(
        f"  posted {figures['posted']}/{figures['approvals']}: {figures['intacct_timesheets']} Intacct timesheets, "
        f"{figures['intacct_equipment_transactions']} equipment transactions"
    )
    lag = f"p50 {figures['p50_s']:.1f} s   p95 {figures['p95_s']:.1f} s   max {figures['max_s']:.1f} s"
    print(f"  approval -> in Intacct: {lag}")
    print(f"  all {figures['approvals']} in Intacct after {figures['wall_s']:.1f} s")
    print(
        f"  per timesheet: {figures['intacct_requests_per_timesheet']:.2f} Intacct requests "
        f"({figures['intacct_transactions_per_timesheet']:.2f} API transactions), "
        f"{figures['assignar_calls_per_timesheet']:.2f} Assignar calls"
    )
    print(
        f"  Intacct requests {figures['intacct_requests']}, documents written {figures['intacct_writes']}; "
        f"functions {figures['intacct_functions']}; batches taken {figures['batches']}"
    )
    print(f"  Intacct answers 'one at a time' (throttled, retried): {figures['throttled_by_intacct']}")


if __name__ == "__main__":
    main()
