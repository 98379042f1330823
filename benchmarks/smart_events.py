"""Benchmark: Intacct change to Assignar write with Smart Events, and the Intacct API transactions they cost a day.

The stack of template.yaml on moto with the real handlers (as `make demo`), both emulators over loopback HTTP with no
emulated latency, and the emulated Intacct's Smart Events set up as `smart-events print` describes (each change posts
its notice to the /intacct-events route). Every figure is counted, not assumed: the Intacct emulator's own count of
API transactions (one per query, each record written one).

(a) Latency: `--changes` workers changed one at a time; for each, the time from the change in Intacct to the record
    written in Assignar: the notice over HTTP to the receiver, the event queue to the targeted puller, its one read,
    the upsert queue to the upsert consumer. The queues are drained at once (no SQS batching windows, no Lambda
    start): in AWS add the event source's batching window (2 s) and the upsert queue's (5 s), and cold starts.
(b) Cost: the Intacct API transactions of one notice per object (warm), and of `--per-day` changes a day in a
    realistic mix (workers, projects, tasks, customers, items), delivered one at a time (every change alone: the
    worst case), in bursts of 10 holding one object each (the plan in object order: the best case, one query a
    burst) and in bursts of 10 as they come (the plan shuffled with each of `--plan-seeds`: a burst holds several
    objects, one query each); next to the scheduled pulls' floor, which Smart Events leave as it is.

    .venv/bin/python benchmarks/smart_events.py
    .venv/bin/python benchmarks/smart_events.py --changes 50 --per-day 200
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities import parameters
from intacct_assignar.config import parse_config
from intacct_assignar.runtime import Runtime
from intacct_assignar.smart_events import ROUTE_PATH, TOKEN_SETTING, setups
from intacct_assignar_dev.emulators.assignar import AssignarEmulator
from intacct_assignar_dev.emulators.http_api import LocalHttpApi
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, SmartEventCallouts, generate_company
from intacct_assignar_dev.local_aws import EventSource, LocalStack
from moto import mock_aws

# Scheduled pulls: 6 objects every 15 minutes, one AUDITHISTORY query an hour (README, "What a scheduled run costs").
SCHEDULED_FLOOR_PER_DAY = 6 * 96 + 24
# 200 changes a day, as a construction company's office makes them (most are people; then jobs; a few customers).
MIX = {"EMPLOYEE": 0.6, "TASK": 0.15, "PROJECT": 0.1, "CUSTOMER": 0.1, "ITEM": 0.05}
FIELD_TO_CHANGE = {
    "EMPLOYEE": "CONTACT.PHONE1",
    "TASK": "NAME",
    "PROJECT": "NAME",
    "CUSTOMER": "NAME",
    "ITEM": "NAME",
}


@contextmanager
def environment() -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
    Runtime.reset()
    try:
        with mock_aws():
            yield
    finally:
        Runtime.reset()
        os.environ.clear()
        os.environ.update(saved)


def source(stack: LocalStack, queue: str) -> EventSource:
    [found] = [e for e in stack.event_sources if e.queue == queue]
    return found


def change(store: IntacctStore, object_name: str, record: dict[str, Any], number: int) -> None:
    field = FIELD_TO_CHANGE[object_name]
    value = f"(303) 555-{number % 10000:04d}" if field.endswith("PHONE1") else f"{record.get(field)} #{number}"
    store.update(object_name, record["RECORDNO"], {field: value})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=500)
    parser.add_argument("--changes", type=int, default=30, help="changes timed one at a time (a)")
    parser.add_argument("--per-day", type=int, default=200, help="changes a day for the cost (b)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--plan-seeds",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1, 2, 3],
        help="seeds for shuffling the day's changes into bursts (comma-separated)",
    )
    args = parser.parse_args()
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    store = IntacctStore(timezone="America/Denver")
    generate_company(store, employees=args.employees, seed=args.seed)
    with environment(), IntacctEmulator(store) as intacct, AssignarEmulator(seed=args.seed) as assignar:
        owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        config = {"timezone": "America/Denver", "workflows": {"work_orders": {"owner_user_id": owner["id"]}}}
        stack = LocalStack.create(
            {
                "IntacctSecretArn": intacct.settings_env(),
                "AssignarSecretArn": assignar.settings_env(),
            },
            parameters={"TenantId": "bench", "TenantConfig": json.dumps(config)},
            environment={"POWERTOOLS_LOG_LEVEL": "ERROR"},
        )
        for schedule in [s for s in stack.schedules if s.function == "SyncPullerFunction" and not s.payload["full"]]:
            stack.invoke_schedule(schedule)
        stack.pump(source(stack, "UpsertQueue"))
        # The token the stack generated in its own secret, as `smart-events print --stack` reads it.
        token = str(stack.secret_settings("IntacctEventsTokenSecret")[TOKEN_SETTING])
        notices, upserts = source(stack, "EventQueue"), source(stack, "UpsertQueue")
        route = stack.handler_for_route(f"POST {ROUTE_PATH}")
        with (
            LocalHttpApi(route, path=ROUTE_PATH) as api,
            SmartEventCallouts(store, setups(parse_config(config), api.endpoint, token)) as callouts,
        ):
            # (a) one change at a time, change to Assignar
            workers = [e for e in store.records("EMPLOYEE") if e.get("STATUS") == "active"]
            latencies = []
            for number in range(args.changes):
                worker = workers[number % len(workers)]
                started = time.perf_counter()
                change(store, "EMPLOYEE", worker, number)
                stack.pump(notices)
                stack.pump(upserts)
                latencies.append(time.perf_counter() - started)
            refused = [d for d in callouts.deliveries if d.status != 202]
            print(
                f"(a) {args.changes} changes, one at a time: change -> Assignar write "
                f"min {min(latencies) * 1000:.0f} ms, median {statistics.median(latencies) * 1000:.0f} ms, "
                f"max {max(latencies) * 1000:.0f} ms (notices refused: {len(refused)})"
            )

            # (b) one notice per object, warm
            per_object: dict[str, int] = {}
            for object_name in MIX:
                record = next(r for r in store.records(object_name) if r.get("STATUS") == "active")
                before = intacct.stats.api_transactions
                change(store, object_name, record, 1)
                stack.pump(notices)
                per_object[object_name] = intacct.stats.api_transactions - before
                stack.pump(upserts)
            print(
                "(b) Intacct API transactions for one notice: "
                + ", ".join(f"{name} {cost}" for name, cost in per_object.items())
            )

            # (b) a day's changes in the mix: each alone; in bursts of 10 holding one object each (the plan in
            # object order: the best case, one query a burst); and in bursts of 10 as they come (the plan shuffled
            # with fixed seeds: a burst then holds several objects, and each costs its own query).
            plan = [name for name, share in MIX.items() for _ in range(round(share * args.per_day))]
            pools = {name: [r for r in store.records(name) if r.get("STATUS") == "active"] for name in MIX}
            runs: list[tuple[str, int, list[str]]] = [
                ("each alone", 1, plan),
                ("bursts of 10, one object each", 10, plan),
            ]
            for plan_seed in args.plan_seeds:
                shuffled = list(plan)
                random.Random(plan_seed).shuffle(shuffled)
                runs.append((f"bursts of 10, shuffled (seed {plan_seed})", 10, shuffled))
            shuffled_costs: list[int] = []
            for round_number, (label, burst, day) in enumerate(runs, start=1):
                before = intacct.stats.api_transactions
                for start in range(0, len(day), burst):
                    for offset, name in enumerate(day[start : start + burst]):
                        pool = pools[name]
                        change(store, name, pool[(start + offset) % len(pool)], start + offset + round_number * 1000)
                    stack.pump(replace(notices, batch_size=100))
                    stack.pump(upserts)
                spent = intacct.stats.api_transactions - before
                if "shuffled" in label:
                    shuffled_costs.append(spent)
                print(
                    f"(b) {len(day)} changes a day, {label}: "
                    f"{spent} transactions for the Smart Events, + {SCHEDULED_FLOOR_PER_DAY} for the scheduled "
                    f"pulls = {spent + SCHEDULED_FLOOR_PER_DAY} a day ({spent / len(day):.2f} per change)"
                )
            if shuffled_costs:
                print(
                    f"(b) bursts of 10 as they come, over {len(shuffled_costs)} seeds: "
                    f"{min(shuffled_costs)}-{max(shuffled_costs)} transactions a day for the Smart Events"
                )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
