"""Exactly once under chaos: several push workers (processes) share one ledger while Intacct commits writes and
loses their answers, both services throttle and fail, and workers are killed with SIGKILL at random.

The harness is the product's own push (`PushService` with its real clients, over HTTP to both emulators), run
by worker processes (`tests/chaos/worker.py`) the way the push queue's consumers would: anything raised is
retried later. Afterwards it counts what Intacct holds against what Assignar approved. Used by the integration
test (small, in CI) and by `benchmarks/push_chaos.py` (large).
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import boto3
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.config import parse_config
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.outbound.push import PushService
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import SqliteStateStore, StateStore
from intacct_assignar.state.dynamodb import DynamoStateStore, create_table
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.http import FaultPlan
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company

from tests.integration.inbound.company_clock import ZONE
from tests.integration.outbound.conftest import Crew, sync_company

ROOT = Path(__file__).resolve().parents[2]
WORK_DATE = date(2026, 11, 18)
TABLE = "chaos-ledger"
# What the moto server's clients sign with: any value does, none is a secret.
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "chaos", "AWS_SECRET_ACCESS_KEY": "chaos", "AWS_DEFAULT_REGION": "us-east-1"}
_MARKER = re.compile(r"Assignar timesheet (\d+) \(rev [0-9a-f]+\)")


@dataclass(frozen=True)
class ChaosPlan:
    timesheets: int = 12  # approved, of which `unpostable` cannot be posted (a worker without an employee ID)
    unpostable: int = 2
    waves: int = 2
    wave_interval_s: float = 1.0
    workers: int = 3
    ledger: Literal["sqlite", "dynamodb"] = "sqlite"
    # SIGKILL one live worker every so often (uniformly between the two) while timesheets arrive, and a little
    # after; then the survivors finish.
    kill_every_s: tuple[float, float] = (0.6, 1.8)
    storm_after_last_wave_s: float = 4.0
    # Intacct: writes that commit and lose their answer (or never arrive: 502, 429) and reads that fail.
    write_fault_rate: float = 0.35
    write_fault_kinds: tuple[str, ...] = ("drop", "524", "late", "timeout", "429", "502")
    read_fault_rate: float = 0.05
    read_fault_kinds: tuple[str, ...] = ("429", "502")
    assignar_fault_rate: float = 0.05
    assignar_fault_kinds: tuple[str, ...] = ("429", "500", "503", "disconnect", "commit_then_500")
    late_commit_s: float = 2.5  # a write's commit landing this long after its answer was lost
    answer_hold_s: float = 2.0  # a "timeout": the answer held back this long; the client gives up sooner
    client_timeout_s: float = 1.0
    # The push's in-doubt window and lease, in seconds: safe when the window outlasts the late commit.
    doubt_window_seconds: int = 4
    lease_seconds: int = 2
    deadline_s: float = 90.0
    seed: int = 1


@dataclass
class ChaosReport:
    plan: ChaosPlan
    approved: int = 0
    with_equipment: int = 0
    kills: int = 0
    lost_answers: int = 0  # writes whose answer was lost: dropped, 524, late or timed out
    late_commits: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    assignar_faults: dict[str, int] = field(default_factory=dict)
    duplicates: dict[int, list[str]] = field(default_factory=dict)  # timesheet → its documents, when > 1
    missing: list[int] = field(default_factory=list)  # approved, postable, not in Intacct
    wrong_hours: dict[int, str] = field(default_factory=dict)
    not_processed: list[int] = field(default_factory=list)
    parked: dict[int, str] = field(default_factory=dict)
    unparked_unpostable: list[int] = field(default_factory=list)
    unexpected_errors: dict[str, int] = field(default_factory=dict)
    retried_errors: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0
    finished_in_time: bool = False

    @property
    def ok(self) -> bool:
        return (
            not (
                self.duplicates
                or self.missing
                or self.wrong_hours
                or self.not_processed
                or self.unparked_unpostable
                or self.unexpected_errors
            )
            and self.finished_in_time
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def summary(self) -> str:
        return (
            f"{self.approved} approved timesheets ({self.with_equipment} with equipment, {self.plan.unpostable} "
            f"unpostable), {self.plan.workers} workers on the {self.plan.ledger} ledger: {self.kills} SIGKILLs, "
            f"{self.lost_answers} lost answers ({self.late_commits} commits landing late), "
            f"{sum(self.faults.values())} Intacct and {sum(self.assignar_faults.values())} Assignar faults; "
            f"duplicates {len(self.duplicates)}, missing {len(self.missing)}, wrong hours {len(self.wrong_hours)}, "
            f"not processed {len(self.not_processed)}, parked {len(self.parked)}, unexpected errors "
            f"{sum(self.unexpected_errors.values())}; {self.elapsed_s:.1f} s"
        )


def run_chaos(plan: ChaosPlan, workdir: Path | None = None) -> ChaosReport:
    with tempfile.TemporaryDirectory(prefix="chaos-") as scratch:
        return _Run(plan, workdir or Path(scratch)).run()


class _Run:
    def __init__(self, plan: ChaosPlan, workdir: Path) -> None:
        self.plan = plan
        self.dir = workdir
        self.rng = random.Random(plan.seed)
        self.report = ChaosReport(plan)
        self.ids_file = workdir / "timesheets.json"
        self.stop_file = workdir / "stop"
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def run(self) -> ChaosReport:
        started = time.monotonic()
        store = IntacctStore(timezone=str(ZONE))
        generate_company(store, employees=30, seed=5)
        with (
            IntacctEmulator(
                store, timeout_hold_s=self.plan.answer_hold_s, late_commit_s=self.plan.late_commit_s
            ) as intacct_emulator,
            AssignarEmulator(seed=3) as assignar,
            self._ledger() as (ledger, ledger_env),
        ):
            intacct = IntacctClient(
                IntacctSettings.model_validate(intacct_emulator.settings_env()),
                timezone=ZONE,
                sessions=MemorySessionCache(),
            )
            crew, owner = sync_company(intacct, assignar, ledger)
            config = self._write_config(intacct_emulator, assignar, owner, ledger_env)
            timesheets = self._plan_timesheets(assignar, crew)
            first = self._first_day(intacct, assignar, ledger, owner, timesheets)
            intacct.close()
            self._write_ids([first])
            # The storm: both services fail from here on.
            intacct_emulator.faults = FaultPlan(self.plan.read_fault_rate, self.plan.read_fault_kinds, self.plan.seed)
            intacct_emulator.write_faults = FaultPlan(
                self.plan.write_fault_rate, self.plan.write_fault_kinds, self.plan.seed + 1
            )
            assignar.faults = FaultPlan(self.plan.assignar_fault_rate, self.plan.assignar_fault_kinds, self.plan.seed)
            assignar_faults: Counter[str] = Counter()
            draw = assignar.draw_fault

            def counted(method: str, path: str) -> str | None:
                kind = draw(method, path)
                if kind is not None:
                    assignar_faults[kind] += 1
                return kind

            assignar.draw_fault = counted  # type: ignore[method-assign]
            for index in range(self.plan.workers):
                self._start_worker(index, config)
            storm_over = threading.Event()
            killer = threading.Thread(target=self._kill_at_random, args=(storm_over,), daemon=True)
            killer.start()
            approved = self._approve_in_waves(assignar, timesheets, first)
            time.sleep(self.plan.storm_after_last_wave_s)
            storm_over.set()
            killer.join()
            self._wait_until_done(assignar, ledger, approved, timesheets, started)
            self._stop_workers()
            intacct_emulator.settle_late_commits(self.plan.late_commit_s + 5)
            self.report.faults = dict(intacct_emulator.stats.faults)
            self.report.assignar_faults = dict(assignar_faults)
            self.report.late_commits = int(getattr(intacct_emulator.stats, "late_commits_landed", 0))
            self.report.lost_answers = sum(
                count
                for kind, count in intacct_emulator.stats.faults.items()
                if kind in {"drop", "524", "late", "timeout"}
            )
            self._count(store, assignar, ledger, approved, timesheets)
            self._collect_worker_errors()
        self.report.elapsed_s = time.monotonic() - started
        return self.report

    # --- set-up ---------------------------------------------------------------------------------------

    @contextmanager
    def _ledger(self) -> Iterator[tuple[StateStore, dict[str, str]]]:
        if self.plan.ledger == "sqlite":
            path = self.dir / "ledger.db"
            with SqliteStateStore(path) as state:
                yield state, {"kind": "sqlite", "path": str(path)}
            return
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            client = boto3.client("dynamodb", endpoint_url=endpoint, **_boto_credentials())
            create_table(client, TABLE)
            yield DynamoStateStore(TABLE, client=client), {"kind": "dynamodb", "endpoint": endpoint, "table": TABLE}
        finally:
            server.stop()

    def _write_config(
        self, intacct: IntacctEmulator, assignar: AssignarEmulator, owner: int, ledger: dict[str, str]
    ) -> Path:
        config = {
            "intacct": intacct.settings_env(),
            "assignar": assignar.settings_env(),
            "zone": str(ZONE),
            "tenant": {"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner}}},
            "doubt_window_s": self.plan.doubt_window_seconds,
            "lease_s": self.plan.lease_seconds,
            "ledger": ledger,
            "client_timeout_s": self.plan.client_timeout_s,
            "ids_file": str(self.ids_file),
            "stop_file": str(self.stop_file),
            "errors_dir": str(self.dir),
            "seed": self.plan.seed,
        }
        path = self.dir / "worker.json"
        path.write_text(json.dumps(config))
        return path

    def _plan_timesheets(self, assignar: AssignarEmulator, crew: Crew) -> list[_Planned]:
        """Every timesheet, created unapproved: labor and (most) equipment, varied minutes, a few unpostable."""
        planned = []
        strangers = [
            assignar.seed(
                "users",
                {"user_type_id": 2, "first_name": "Casual", "last_name": f"Hand {n}"},
            )
            for n in range(self.plan.unpostable)
        ]
        for n in range(self.plan.timesheets):
            unpostable = n < self.plan.unpostable
            worker = strangers[n] if unpostable else crew.workers[n % len(crew.workers)]
            job = crew.orders[n % len(crew.orders)]
            labor = [self.rng.choice((60, 95, 120, 240, 300)) for _ in range(self.rng.randint(1, 3))]
            equipment = [self.rng.choice((30, 90, 180)) for _ in range(self.rng.choice((0, 1, 1, 2)))]
            timesheet_id = assignar.create_timesheet(
                worker_id=worker["id"],
                project_id=job["project_id"],
                work_order_id=job["id"],
                role_id=crew.roles[n % len(crew.roles)]["id"],
                work_date=WORK_DATE + timedelta(days=n % 3),
                labor=[LaborEntry(crew.activities[i % len(crew.activities)]["id"], m) for i, m in enumerate(labor)],
                equipment=[EquipmentEntry(crew.assets[i % len(crew.assets)]["id"], m) for i, m in enumerate(equipment)],
            )
            planned.append(_Planned(timesheet_id, unpostable, sum(labor), tuple(equipment)))
        return planned

    # --- the storm ------------------------------------------------------------------------------------

    def _first_day(
        self,
        intacct: IntacctClient,
        assignar: AssignarEmulator,
        ledger: StateStore,
        owner: int,
        timesheets: list[_Planned],
    ) -> int:
        """One equipment timesheet posted before the storm, as on a tenant's first day: the push learns which
        purchasing fields hold what it writes (a lost answer before that is handed to a person)."""
        first = next(t for t in timesheets if t.equipment and not t.unpostable)
        assignar.approve_timesheet(first.id, notify=False)
        tenant = parse_config({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner}}})
        with AssignarClient(assignar.settings(), requests_per_second=None) as client:
            result = PushService(client, intacct, ledger, tenant).post(first.id)
        assert result.outcome == "posted", result
        return first.id

    def _approve_in_waves(self, assignar: AssignarEmulator, timesheets: list[_Planned], first: int) -> list[int]:
        approved: list[int] = [first]
        size = -(-len(timesheets) // self.plan.waves)
        order = [t for t in timesheets if t.id != first]
        self.rng.shuffle(order)
        for start in range(0, len(order), size):
            for planned in order[start : start + size]:
                assignar.approve_timesheet(planned.id, notify=False)
                approved.append(planned.id)
            self._write_ids(approved)
            time.sleep(self.plan.wave_interval_s)
        self.report.approved = len(approved)
        self.report.with_equipment = sum(1 for t in timesheets if t.equipment and not t.unpostable)
        return approved

    def _write_ids(self, ids: list[int]) -> None:
        # Written whole and renamed, so a worker never reads half a list.
        partial = self.ids_file.with_suffix(".tmp")
        partial.write_text(json.dumps(ids))
        partial.replace(self.ids_file)

    def _start_worker(self, index: int, config: Path) -> None:
        env = {**os.environ, **FAKE_AWS, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        process = subprocess.Popen(  # noqa: S603  # fixed argument list, no shell
            [sys.executable, "-m", "tests.chaos.worker", str(config), str(index)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / f"worker-{index}.log").open("ab"),
        )
        with self._lock:
            self.workers[index] = process

    def _kill_at_random(self, storm_over: threading.Event) -> None:
        config = self.dir / "worker.json"
        while not storm_over.wait(self.rng.uniform(*self.plan.kill_every_s)):
            with self._lock:
                index = self.rng.randrange(len(self.workers))
                process = self.workers[index]
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
                self.report.kills += 1
            self._start_worker(index, config)

    def _wait_until_done(
        self,
        assignar: AssignarEmulator,
        ledger: StateStore,
        approved: list[int],
        timesheets: list[_Planned],
        started: float,
    ) -> None:
        unpostable = {t.id for t in timesheets if t.unpostable}
        while time.monotonic() - started < self.plan.deadline_s:
            processed = _processed(assignar, approved)
            parked = {i for i in unpostable if (e := ledger.get_ledger(i)) is not None and e.state == "parked"}
            if all(i in processed for i in approved if i not in unpostable) and parked == unpostable:
                self.report.finished_in_time = True
                return
            time.sleep(0.25)

    def _stop_workers(self) -> None:
        self.stop_file.write_text("stop")
        with self._lock:
            processes = list(self.workers.values())
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # --- counting -------------------------------------------------------------------------------------

    def _count(
        self,
        store: IntacctStore,
        assignar: AssignarEmulator,
        ledger: StateStore,
        approved: list[int],
        timesheets: list[_Planned],
    ) -> None:
        planned = {t.id: t for t in timesheets}
        labor: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for sheet in store.records("TIMESHEET"):
            if (match := _MARKER.search(sheet.get("DESCRIPTION") or "")) is not None:
                labor[int(match.group(1))].append(sheet)
        equipment: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for document in store.records("PODOCUMENT"):
            if (match := _MARKER.search(document.get("MESSAGE") or "")) is not None:
                equipment[int(match.group(1))].append(document)
        processed = _processed(assignar, approved)
        for timesheet_id in approved:
            want = planned[timesheet_id]
            sheets, documents = labor.get(timesheet_id, []), equipment.get(timesheet_id, [])
            entry = ledger.get_ledger(timesheet_id)
            if entry is not None and entry.state == "parked":
                self.report.parked[timesheet_id] = entry.reason or ""
            if want.unpostable:
                if sheets or documents or entry is None or entry.state != "parked" or not entry.reason:
                    self.report.unparked_unpostable.append(timesheet_id)
                continue
            if len(sheets) > 1 or len(documents) > 1:
                self.report.duplicates[timesheet_id] = [f"TIMESHEET {s['RECORDNO']}" for s in sheets] + [
                    f"PODOCUMENT {d['DOCID']}" for d in documents
                ]
            if not sheets or (want.equipment and not documents):
                self.report.missing.append(timesheet_id)
                continue
            hours = sum((line["QTY"] for line in store.lines("TIMESHEET", sheets[0]["RECORDNO"])), Decimal(0))
            if hours != _hours(want.labor_minutes):
                self.report.wrong_hours[timesheet_id] = f"labor {hours} h, approved {_hours(want.labor_minutes)} h"
            if documents:
                used = sum(
                    (line["QUANTITY"] for line in store.lines("PODOCUMENT", documents[0]["RECORDNO"])), Decimal(0)
                )
                if used != _hours(sum(want.equipment)):
                    self.report.wrong_hours[timesheet_id] = (
                        f"equipment {used} h, approved {_hours(sum(want.equipment))} h"
                    )
            if timesheet_id not in processed:
                self.report.not_processed.append(timesheet_id)

    def _collect_worker_errors(self) -> None:
        unexpected: Counter[str] = Counter()
        retried: Counter[str] = Counter()
        for path in self.dir.glob("errors-*.json"):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # a worker killed while writing it: its counts are lost, not wrong
            unexpected.update(data.get("unexpected", {}))
            retried.update(data.get("retried", {}))
        # A worker that died of its own accord (not SIGKILLed) left its traceback in its log.
        crashes = sum(path.read_text(errors="replace").count("Traceback") for path in self.dir.glob("worker-*.log"))
        if crashes:
            unexpected["worker crashed"] += crashes
        self.report.unexpected_errors = dict(unexpected)
        self.report.retried_errors = dict(retried)


@dataclass(frozen=True)
class _Planned:
    id: int
    unpostable: bool
    labor_minutes: int
    equipment: tuple[int, ...]


def _processed(assignar: AssignarEmulator, ids: list[int]) -> set[int]:
    return {i for i in ids if assignar.state.get_timesheet(i).get("processed_at")}


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"))


def _boto_credentials() -> dict[str, str]:
    return {
        "region_name": FAKE_AWS["AWS_DEFAULT_REGION"],
        "aws_access_key_id": FAKE_AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
    }
