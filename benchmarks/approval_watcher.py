"""Benchmark: what the approval watcher costs when nothing is approved, and how soon approved time reaches Intacct
with the watcher alone (no webhook).

Both parts run the function's own code (`SweepService`, and `PushConsumer` over `PushService`) without the Lambda
wrapper, against the emulators over loopback HTTP, on a simulated clock: simulated time for the waits between
runs, real time for the work (each run and each drain moves the clock on by what it really took).

(a) Idle: one simulated day (`--hours`) of watcher runs at one a minute with nothing approved; the state store on
    DynamoDB (moto). Counts every call the Assignar emulator receives (tokens included) and every DynamoDB request
    (botocore's own events), per incremental run, per full pass and per day.
(b) Approval to Intacct: a company synced into Assignar; `--approvals` timesheets (labor, and equipment for every
    other one) approved at random moments over `--window-minutes`, with no webhook. The watcher runs every minute
    (the schedule's phase is random too); after each run the push consumer drains the queue in batches of ten.
    Emulated latency: Intacct `--intacct-ms` a call (one request at a time per company), Assignar `--assignar-ms`.
    Prints p50/p95/max of `PushResult.approval_to_intacct_s`, the figure the push consumer publishes as
    ApprovalToIntacctSeconds: from the approval (the timesheet's modified_time) to the ledger recording it posted.

    .venv/bin/python benchmarks/approval_watcher.py
    .venv/bin/python benchmarks/approval_watcher.py --approvals 100 --seed 2
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
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
from intacct_assignar.outbound.plan import content_hash
from intacct_assignar.outbound.push import PushService
from intacct_assignar.outbound.sweep import SweepService
from intacct_assignar.runs import RunEntry
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import DynamoStateStore, SqliteStateStore, StateStore, create_table
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company

ZONE = ZoneInfo("America/Denver")
WORK_DATE = date(2026, 11, 18)
MINUTE = timedelta(minutes=1)
# us-east-1 list prices: DynamoDB on demand per million request units; a strongly consistent GetItem of an item
# under 4 KB is one read unit, a PutItem under 1 KB one write unit.
READ_UNIT_USD = 0.125 / 1e6
WRITE_UNIT_USD = 0.625 / 1e6


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class SimClock:
    """Simulated time for the waits, real time for the work: after `jump(to)` it runs on at the real pace."""

    def __init__(self, start: datetime) -> None:
        self._base = start
        self._mark = time.perf_counter()

    def jump(self, to: datetime) -> None:
        self._base = max(to, self.now())  # never backwards
        self._mark = time.perf_counter()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.perf_counter() - self._mark)

    def seconds(self) -> float:
        return self.now().timestamp()


class RunHistory:
    """The watcher's run entries into the state store, as the function records them (one PutItem each)."""

    def __init__(self, state: StateStore) -> None:
        self.state = state

    def record(self, entry: RunEntry) -> None:
        self.state.record_run(entry)


class ListQueue:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def publish(self, messages: Sequence[PushMessage]) -> None:
        self.bodies.extend(message.to_body() for message in messages)

    def park(self, body: str, reason: str) -> None:
        print(f"  parked: {reason}")

    def take(self, limit: int) -> list[str]:
        taken, self.bodies = self.bodies[:limit], self.bodies[limit:]
        return taken


# --- (a) an idle day ---------------------------------------------------------------------------------------


def idle_day(hours: float) -> dict[str, Any]:
    from moto import mock_aws

    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        os.environ.setdefault(name, value)
    clock = SimClock(datetime.now(UTC).replace(second=0, microsecond=0))
    with mock_aws(), AssignarEmulator(seed=1, clock=clock.seconds) as emulator:
        dynamodb: Any = boto3.client("dynamodb")
        create_table(dynamodb, "watcher-state")
        requests: Counter[str] = Counter()
        dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: requests.update([model.name]))
        state = DynamoStateStore("watcher-state", client=dynamodb)
        with AssignarClient(emulator.settings(), requests_per_second=None, clock=clock.seconds) as assignar:
            watcher = SweepService(assignar, state, ListQueue(), clock=clock.now, run_log=RunHistory(state))
            per_look: dict[str, list[Counter[str]]] = {"incremental": [], "full": []}
            runs = round(hours * 60)
            started = time.perf_counter()
            for _ in range(runs):
                calls_before, requests_before = len(emulator.request_log), Counter(requests)
                look = watcher.run().look
                cost = Counter(requests)
                cost.subtract(requests_before)
                cost["assignar"] = len(emulator.request_log) - calls_before
                per_look[look].append(cost)
                clock.jump(clock.now() + MINUTE)
            wall = time.perf_counter() - started
    by_call = Counter(f"{entry.method} {entry.path.split('?')[0]}" for entry in emulator.request_log)
    return {
        "runs": runs,
        "per_look": {look: _mean(costs) for look, costs in per_look.items() if costs},
        "counts": {look: len(costs) for look, costs in per_look.items()},
        "assignar_by_call": dict(by_call),
        "dynamodb": dict(requests),
        "wall_s": wall,
    }


def _mean(costs: list[Counter[str]]) -> dict[str, float]:
    keys = {key for cost in costs for key in cost}
    return {key: sum(cost[key] for cost in costs) / len(costs) for key in sorted(keys)}


# --- (b) approval to Intacct with the watcher alone ----------------------------------------------------------


def watcher_alone(
    approvals: int, window_minutes: float, seed: int, intacct_ms: float, assignar_ms: float
) -> dict[str, Any]:
    rng = random.Random(seed)
    clock = SimClock(datetime.now(UTC).replace(second=0, microsecond=0))
    store = IntacctStore(timezone=str(ZONE))
    generate_company(store, employees=max(60, approvals), seed=17)
    with (
        tempfile.TemporaryDirectory() as scratch,
        IntacctEmulator(store) as intacct_emulator,
        AssignarEmulator(seed=6, clock=clock.seconds) as assignar_emulator,
        SqliteStateStore(Path(scratch) / "state.db") as state,
    ):
        owner = assignar_emulator.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        config = parse_config({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner["id"]}}})
        settings = IntacctSettings.model_validate(intacct_emulator.settings_env())
        intacct = IntacctClient(settings, timezone=ZONE, sessions=MemorySessionCache())
        assignar = AssignarClient(assignar_emulator.settings(), requests_per_second=None, clock=clock.seconds)
        summary = run_sync(
            PullService(intacct, state, InProcessQueue(), config), UpsertService(assignar, state, config)
        )
        assert summary.ok, summary.failures
        ids = _timesheets(assignar_emulator, approvals)

        queue = ListQueue()
        # Two clients, as in AWS: the watcher's function and the push consumer's each have their own.
        watcher_assignar = AssignarClient(assignar_emulator.settings(), requests_per_second=None, clock=clock.seconds)
        fingerprint = partial(content_hash, settings=config.timesheets, entity_id=settings.entity_id)
        watcher = SweepService(watcher_assignar, state, queue, fingerprint=fingerprint, clock=clock.now)
        consumer = PushConsumer(PushService(assignar, intacct, state, config, clock=clock.now), queue)
        intacct_emulator.latency_s = intacct_ms / 1000
        assignar_emulator.latency_s = assignar_ms / 1000
        transactions_before = intacct.counters.api_transactions
        calls_before = assignar.calls.total

        start = clock.now()
        watcher.run()  # the watcher was running before the first approval: its first full pass is behind it
        phase = timedelta(seconds=rng.uniform(0, 60))
        moments = sorted((start + timedelta(minutes=rng.uniform(0, window_minutes)), i) for i in ids)
        pending = list(moments)
        lags: dict[int, float] = {}
        runs = 0
        tick = start + phase
        while len(lags) < len(ids):
            tick += MINUTE
            while pending and pending[0][0] <= tick:
                approved_at, timesheet_id = pending.pop(0)
                clock.jump(approved_at)  # Assignar stamps the approval (modified_time) now
                assignar_emulator.approve_timesheet(timesheet_id, notify=False)
            clock.jump(tick)
            watcher.run()
            runs += 1
            while batch := queue.take(10):
                consumer.prefetch(batch)
                for body in batch:
                    result = consumer.handle(body)
                    seconds = result.approval_to_intacct_s if result is not None else None
                    if result is not None and seconds is not None:
                        lags[result.timesheet_id] = seconds
            if runs > window_minutes + 30:
                raise RuntimeError(f"only {len(lags)} of {len(ids)} posted after {runs} watcher runs")
        values = list(lags.values())
        return {
            "approvals": len(ids),
            "posted": len(lags),
            "watcher_runs": runs,
            "p50_s": percentile(values, 0.5),
            "p95_s": percentile(values, 0.95),
            "max_s": max(values),
            "min_s": min(values),
            "intacct_transactions_per_timesheet": (intacct.counters.api_transactions - transactions_before) / len(ids),
            "push_assignar_calls_per_timesheet": (assignar.calls.total - calls_before) / len(ids),
            "watcher_assignar_calls_per_run": watcher_assignar.calls.total / (runs + 1),
        }


def _timesheets(emulator: AssignarEmulator, count: int) -> list[int]:
    people = [w for w in emulator.records("users") if w.get("employee_id") and w.get("active")]
    orders = [o for o in emulator.records("orders") if o.get("active")]
    activities = [a["id"] for a in emulator.records("activities") if a.get("active")]
    assets = [a["id"] for a in emulator.records("assets") if a.get("active")]
    roles = [r["id"] for r in emulator.records("tasks") if r.get("active")]
    ids = []
    for number in range(count):
        order = orders[number % len(orders)]
        ids.append(
            emulator.create_timesheet(
                worker_id=people[number % len(people)]["id"],
                project_id=order["project_id"],
                work_order_id=order["id"],
                role_id=roles[number % len(roles)],
                work_date=WORK_DATE,
                labor=[LaborEntry(activities[number % len(activities)], 240), LaborEntry(activities[0], 225)],
                equipment=[EquipmentEntry(assets[number % len(assets)], 180)] if number % 2 == 0 else [],
            )
        )
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--approvals", type=int, default=100)
    parser.add_argument("--window-minutes", type=float, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--intacct-ms", type=float, default=250)
    parser.add_argument("--assignar-ms", type=float, default=80)
    parser.add_argument("--skip-idle", action="store_true")
    args = parser.parse_args()
    print(f"machine load (1/5/15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")

    if not args.skip_idle:
        idle = idle_day(args.hours)
        counts = idle["counts"]
        print(
            f"\n(a) Idle watcher: {idle['runs']} runs at 1/minute over {args.hours:g} simulated hours, nothing "
            f"approved ({counts['full']} full passes, {counts['incremental']} incremental looks; "
            f"{idle['wall_s']:.1f} s wall)"
        )
        for look, cost in idle["per_look"].items():
            dynamo = ", ".join(f"{cost[k]:.2f} {k}" for k in cost if k != "assignar")
            print(f"  per {look} run: {cost.get('assignar', 0):.2f} Assignar calls; DynamoDB {dynamo}")
        reads = sum(n for op, n in idle["dynamodb"].items() if op.startswith(("Get", "Query", "BatchGet")))
        writes = sum(n for op, n in idle["dynamodb"].items() if op.startswith(("Put", "Update", "Delete")))
        per_day = 24 / args.hours
        assignar_total = sum(idle["assignar_by_call"].values())
        print(f"  per day: {assignar_total * per_day:.0f} Assignar calls {idle['assignar_by_call']}")
        print(f"  per day: DynamoDB {reads * per_day:.0f} reads, {writes * per_day:.0f} writes {idle['dynamodb']}")
        cost = (reads * READ_UNIT_USD + writes * WRITE_UNIT_USD) * per_day
        print(f"  DynamoDB on demand: ${cost:.5f} a day, ${cost * 30:.3f} a month (us-east-1 list prices)")

    print(
        f"\n(b) Approval to Intacct with the watcher alone: {args.approvals} approvals at random moments over "
        f"{args.window_minutes:g} minutes, no webhook, watcher every minute, seed {args.seed}; "
        f"Intacct {args.intacct_ms:.0f} ms/call, Assignar {args.assignar_ms:.0f} ms/call"
    )
    figures = watcher_alone(args.approvals, args.window_minutes, args.seed, args.intacct_ms, args.assignar_ms)
    print(
        f"  posted {figures['posted']}/{figures['approvals']} after {figures['watcher_runs']} watcher runs: "
        f"p50 {figures['p50_s']:.1f} s   p95 {figures['p95_s']:.1f} s   max {figures['max_s']:.1f} s   "
        f"(min {figures['min_s']:.1f} s)"
    )
    print(
        f"  per timesheet: {figures['intacct_transactions_per_timesheet']:.2f} Intacct API transactions, "
        f"{figures['push_assignar_calls_per_timesheet']:.2f} Assignar calls by the push; "
        f"{figures['watcher_assignar_calls_per_run']:.2f} Assignar calls per watcher run"
    )


if __name__ == "__main__":
    main()
