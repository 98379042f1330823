"""Benchmark: what the inbound sync of a construction company costs in Intacct transactions and Assignar calls.

Runs the same pull and upsert services the Lambdas run (in one process, against both emulators over loopback
HTTP) for (a) the initial sync, (b) a re-run with nothing changed, (c) a re-run after 1% of the records
changed, (d) a run a day later with nothing changed (the object definitions' day is over), and prints the calls
each needed, `lookup` calls (the company's fields, asked once a day) among the Intacct transactions. With
--realistic it adds latency and rate limits (Intacct 250 ms a call; Assignar 50-150 ms a call, 10 requests/s
at the server, the client pacing itself at 8/s) and prints the initial sync's wall time beside the floor those
limits allow.

    .venv/bin/python benchmarks/inbound_sync.py --employees 5000
    .venv/bin/python benchmarks/inbound_sync.py --employees 1000 --realistic
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from intacct_assignar.assignar import AssignarClient
from intacct_assignar.config import parse_config
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.sync import InProcessQueue, SyncSummary, run_sync
from intacct_assignar.inbound.upsert import UpsertService
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import SqliteStateStore
from intacct_assignar_dev.emulators.assignar import AssignarEmulator
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company

ZONE = ZoneInfo("America/Denver")


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def company(self) -> datetime:
        return self.at.astimezone(ZONE).replace(tzinfo=None)


@dataclass
class Run:
    name: str
    intacct_transactions: int
    lookups: int
    assignar_reads: int
    assignar_writes: int
    written: int
    seconds: float


def change_one_percent(store: IntacctStore, rng: random.Random) -> int:
    """Edit 1% of the records the sync reads, spread over every object; returns how many."""
    changed = 0
    for obj, field in [
        ("EMPLOYEE", "CONTACT.LASTNAME"),
        ("CUSTOMER", "DISPLAYCONTACT.PHONE1"),
        ("PROJECT", "NAME"),
        ("TASK", "NAME"),
        ("ITEM", "NAME"),
    ]:
        rows = [r for r in store.records(obj) if r.get("STATUS") == "active"]
        for row in rng.sample(rows, max(1, len(rows) // 100)):
            value = (
                f"(303) 555-{rng.randint(1000, 9999)}"
                if "PHONE" in field
                else f"{row[field]} Jr"
                if "LAST" in field
                else f"{row[field]} (rev)"
            )
            store.update(obj, row["RECORDNO"], {field: value})
            changed += 1
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--realistic", action="store_true", help="latency and rate limits as described above")
    args = parser.parse_args()

    clock = Clock(datetime(2026, 11, 20, 6, 0, tzinfo=ZONE))
    store = IntacctStore(timezone=str(ZONE), clock=clock.company)
    generate_company(store, employees=args.employees, seed=17)
    intacct_latency = 0.25 if args.realistic else 0.0
    assignar_options: dict[str, object] = {"latency_s": (0.05, 0.15), "rate_limit_per_s": 10} if args.realistic else {}
    with (
        IntacctEmulator(store, latency_s=intacct_latency) as intacct_emulator,
        AssignarEmulator(seed=1, max_page_size=1000, **assignar_options) as assignar_emulator,  # type: ignore[arg-type]
        SqliteStateStore(":memory:") as state,
    ):
        owner = assignar_emulator.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        config = parse_config({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner["id"]}}})
        intacct = IntacctClient(
            IntacctSettings.model_validate(intacct_emulator.settings_env()),
            timezone=ZONE,
            sessions=MemorySessionCache(),
            clock=lambda: clock.at.timestamp(),
        )
        assignar = AssignarClient(
            assignar_emulator.settings(), requests_per_second=8.0 if args.realistic else None, page_size=1000
        )
        pull = PullService(intacct, state, InProcessQueue(), config, clock=clock)
        upsert = UpsertService(assignar, state, config, clock=clock)

        def measured(name: str) -> tuple[Run, SyncSummary]:
            intacct.connect()  # a session, if one lapsed, is counted apart from the sync
            tx, reads = intacct.counters.api_transactions, assignar_emulator.calls("GET", "/v2")
            lookups = intacct.counters.by_function["lookup"]
            writes = assignar_emulator.calls("POST", "/v2") + assignar_emulator.calls("PUT", "/v2")
            started = time.perf_counter()
            summary = run_sync(pull, upsert)
            elapsed = time.perf_counter() - started
            written = sum(c.created + c.updated + c.deactivated for c in summary.workflows.values())
            return (
                Run(
                    name,
                    intacct.counters.api_transactions - tx,
                    intacct.counters.by_function["lookup"] - lookups,
                    assignar_emulator.calls("GET", "/v2") - reads,
                    assignar_emulator.calls("POST", "/v2") + assignar_emulator.calls("PUT", "/v2") - writes,
                    written,
                    elapsed,
                ),
                summary,
            )

        first, summary = measured("(a) initial sync")
        records = sum(c.fetched for c in summary.workflows.values())
        clock.at += timedelta(hours=3)
        second, _ = measured("(b) re-run, nothing changed")
        clock.at += timedelta(hours=3)
        changed = change_one_percent(store, random.Random(3))
        clock.at += timedelta(minutes=5)
        third, _ = measured(f"(c) re-run, {changed} records changed (1%)")
        clock.at += timedelta(days=1)
        fourth, _ = measured("(d) a day later, nothing changed")

    print(f"Inbound sync of a {args.employees}-employee company ({records} workflow records), both emulators over HTTP")
    print(
        f"{'run':<40}{'Intacct tx':>11}{'(lookups)':>10}{'Assignar GET':>13}{'POST+PUT':>10}{'written':>9}"
        f"{'seconds':>9}"
    )
    for run in (first, second, third, fourth):
        print(
            f"{run.name:<40}{run.intacct_transactions:>11}{run.lookups:>10}{run.assignar_reads:>13}"
            f"{run.assignar_writes:>10}{run.written:>9}{run.seconds:>9.1f}"
        )
    if args.realistic:
        calls = first.assignar_reads + first.assignar_writes
        floor = first.assignar_writes / 8.0
        print(
            f"\ninitial sync wall time {first.seconds:.0f}s for {calls} Assignar calls at 8/s; floor "
            f"{floor:.0f}s = one create per record ({first.assignar_writes}) at the 8/s pace, since Assignar has "
            "no bulk create"
        )


if __name__ == "__main__":
    main()
