"""`intacct-assignar demo`: the system running on this machine against embedded emulators, with no credentials.

Today it exercises the Intacct side end to end: a seeded construction company in the Intacct emulator, a full
pull of every object the integration reads, a few edits (a change, an inactivation, a delete, a new record),
then the incremental pull a scheduled run would make, and a run where nothing changed. It checks that each
pull saw exactly what it should and reports records and Intacct API transactions per object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from .intacct import ChangePull, IntacctClient, MemorySessionCache, Window, deletions
from .settings import IntacctSettings
from .sources import SOURCES, IntacctSource

Progress = Callable[[str], None]


@dataclass
class ObjectPull:
    object_name: str
    workflows: list[str]
    records: int
    transactions: int
    http_requests: int


@dataclass
class PullRun:
    name: str
    objects: list[ObjectPull]
    deleted: int = 0
    deletion_transactions: int = 0
    session_transactions: int = 0

    @property
    def transactions(self) -> int:
        return sum(o.transactions for o in self.objects) + self.deletion_transactions + self.session_transactions


@dataclass
class DemoReport:
    company: dict[str, int]
    runs: list[PullRun]
    sessions_opened: int
    wall_time_s: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["ok"] = self.ok
        for run, raw in zip(self.runs, data["runs"], strict=True):
            raw["transactions"] = run.transactions
        return data


class _DemoClock:
    """The emulated company's wall clock, so the company can be 'created yesterday' and edited 'now'."""

    def __init__(self, zone: ZoneInfo, start: datetime) -> None:
        self.zone = zone
        self.at = start

    def __call__(self) -> datetime:
        return self.at.astimezone(self.zone).replace(tzinfo=None)


def _pull(client: IntacctClient, source: IntacctSource, window: Window) -> tuple[ObjectPull, set[int]]:
    before_tx, before_http = client.counters.api_transactions, client.counters.http_requests
    seen = {int(r["RECORDNO"]) for r in ChangePull(client, source.object_name, source.fields, window).records()}
    pulled = ObjectPull(
        source.object_name,
        list(source.workflows),
        len(seen),
        client.counters.api_transactions - before_tx,
        client.counters.http_requests - before_http,
    )
    return pulled, seen


def run_demo(
    *,
    employees: int = 500,
    seed: int = 7,
    timezone: str = "America/Denver",
    latency_s: float = 0.0,
    lookback: timedelta = timedelta(minutes=120),
    progress: Progress = lambda _message: None,
) -> DemoReport:
    started = time.perf_counter()
    zone = ZoneInfo(timezone)
    now = datetime.now(zone).replace(microsecond=0)
    clock = _DemoClock(zone, now - timedelta(days=1))
    store = IntacctStore(timezone=timezone, clock=clock)
    progress(f"Seeding a construction company with {employees} employees (seed {seed})")
    company = dict(generate_company(store, employees=employees, seed=seed))
    problems: list[str] = []
    runs: list[PullRun] = []

    with IntacctEmulator(store, latency_s=latency_s) as emulator:
        settings = IntacctSettings.model_validate(emulator.settings_env())
        # The client reads session timeouts against the emulated company's clock, which the demo moves.
        client = IntacctClient(
            settings, timezone=zone, sessions=MemorySessionCache(), clock=lambda: clock.at.timestamp()
        )

        # 1. Full pull, as on the first scheduled run.
        clock.at = now
        progress("Full pull of every Intacct object through the XML gateway")
        full = PullRun("full", [])
        full.session_transactions = _connect(client)
        for source in SOURCES:
            pulled, seen = _pull(client, source, Window(None, now))
            full.objects.append(pulled)
            expected = {int(r["RECORDNO"]) for r in store.records(source.object_name)}
            if seen != expected:
                problems.append(
                    f"full pull of {source.object_name} read {len(seen)} records, Intacct has {len(expected)}"
                )
        runs.append(full)

        # 2. Someone edits Intacct: a change, an inactivation, a delete and a new record.
        clock.at = now + timedelta(minutes=10)
        progress("Editing Intacct: a changed worker, an inactive project, a deleted task, a new client")
        worker = store.records("EMPLOYEE")[0]
        store.update("EMPLOYEE", worker["RECORDNO"], {"CONTACT.PHONE1": "(303) 555-0199"})
        project = next(p for p in store.records("PROJECT") if p.get("STATUS") == "active")
        store.update("PROJECT", project["RECORDNO"], {"STATUS": "inactive"})
        task = store.records("TASK")[-1]
        store.delete("TASK", task["RECORDNO"])
        client_record = store.create("CUSTOMER", {"CUSTOMERID": "C-DEMO-NEW", "NAME": "Front Range Water District"})
        expected_changes = {
            "EMPLOYEE": {int(worker["RECORDNO"])},
            "PROJECT": {int(project["RECORDNO"])},
            "CUSTOMER": {int(client_record["RECORDNO"])},
        }

        # 3. The next scheduled run: incremental from the full pull's watermark, with the lookback.
        second = now + timedelta(minutes=15)
        clock.at = second
        progress("Incremental pull: only what changed since the last run travels")
        incremental = _incremental(client, Window.incremental(now, lookback, second), "incremental", problems)
        for pulled in incremental.objects:
            wanted = expected_changes.get(pulled.object_name, set())
            if pulled.records != len(wanted):
                problems.append(
                    f"incremental pull of {pulled.object_name} read {pulled.records}, expected {len(wanted)}"
                )
        if incremental.deleted != 1:
            problems.append(f"the deletions check found {incremental.deleted} deleted records, expected 1")
        runs.append(incremental)

        # 4. The runs after it: the lookback re-reads the recent edits once more (at no extra transaction)...
        third = second + timedelta(minutes=15)
        clock.at = third
        progress("Next run: the lookback window re-reads recent edits, so late commits are never missed")
        again = _incremental(client, Window.incremental(second, lookback, third), "lookback re-read", problems)
        runs.append(again)

        # 5. ...and once the edits are older than the lookback, a run with nothing changed reads nothing.
        fourth = third + lookback + timedelta(minutes=15)
        clock.at = fourth
        progress("A scheduled run with nothing changed")
        quiet = _incremental(
            client, Window.incremental(fourth - timedelta(minutes=15), lookback, fourth), "nothing changed", problems
        )
        if any(o.records for o in quiet.objects) or quiet.deleted:
            problems.append("a run with nothing changed still read records")
        runs.append(quiet)

    return DemoReport(company, runs, client.counters.sessions_opened, time.perf_counter() - started, problems)


def _connect(client: IntacctClient) -> int:
    """Make sure a session is open (a scheduled run after a long quiet spell needs a new one); its cost."""
    before = client.counters.api_transactions
    client.connect()
    return client.counters.api_transactions - before


def _incremental(client: IntacctClient, window: Window, name: str, problems: list[str]) -> PullRun:
    run = PullRun(name, [])
    run.session_transactions = _connect(client)
    for source in SOURCES:
        pulled, _ = _pull(client, source, window)
        run.objects.append(pulled)
    before = client.counters.api_transactions
    run.deleted = sum(1 for _ in deletions(client, [s.object_name for s in SOURCES], window))
    run.deletion_transactions = client.counters.api_transactions - before
    return run
