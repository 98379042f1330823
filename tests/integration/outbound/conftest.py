"""The outbound tests' tenant: both emulators over HTTP, a company synced into Assignar by the real inbound
sync, a SQLite ledger, and the push service the Lambdas and the CLI run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.config import TenantConfig, parse_config
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.sync import InProcessQueue, run_sync
from intacct_assignar.inbound.upsert import UpsertService
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.outbound.push import PushService
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import SqliteStateStore, StateStore
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from intacct_assignar_dev.emulators.intacct.profiles import STANDARD, CompanyProfile

from ..inbound.company_clock import ZONE, Clock

WORK_DATE = date(2026, 11, 18)  # a Wednesday: its Intacct week (Sunday start) begins 2026-11-15


@dataclass
class Crew:
    """Assignar records the inbound sync wrote, to build timesheets from."""

    workers: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    roles: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    assets: list[dict[str, Any]]
    projects: dict[int, dict[str, Any]]

    @classmethod
    def of(cls, assignar: AssignarEmulator) -> Crew:
        crew = cls(
            workers=[w for w in assignar.records("users") if w.get("employee_id") and w.get("active")],
            orders=[o for o in assignar.records("orders") if o.get("active")],
            roles=[r for r in assignar.records("tasks") if r.get("active")],
            activities=[a for a in assignar.records("activities") if a.get("active")],
            assets=[a for a in assignar.records("assets") if a.get("active")],
            projects={p["id"]: p for p in assignar.records("projects")},
        )
        assert len(crew.workers) >= 10 and crew.orders and crew.roles and crew.activities and crew.assets
        return crew


def sync_company(
    intacct: IntacctClient, assignar: AssignarEmulator, state: StateStore, *, clock: Clock | None = None
) -> tuple[Crew, int]:
    """Assignar filled by the real inbound sync (in process): what the push then reads.

    Returns the crew and the Assignar user who owns work orders (the tenant document needs it)."""
    owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
    config = parse_config({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner["id"]}}})
    timing = {"clock": clock} if clock is not None else {}
    with AssignarClient(assignar.settings(), requests_per_second=None) as client:
        summary = run_sync(
            PullService(intacct, state, InProcessQueue(), config, **timing),
            UpsertService(client, state, config, **timing),
        )
    assert summary.ok, summary.failures
    return Crew.of(assignar), int(owner["id"])


@dataclass
class TimeWorld:
    clock: Clock
    store: IntacctStore
    intacct_emulator: IntacctEmulator
    assignar: AssignarEmulator
    intacct: IntacctClient
    assignar_client: AssignarClient
    state: SqliteStateStore
    config: TenantConfig
    crew: Crew
    push: PushService
    _next: int = field(default=0)

    def timesheet(
        self,
        *,
        worker: int = 0,
        labor: tuple[int, ...] = (240, 240),
        equipment: tuple[int, ...] = (180,),
        work_date: date = WORK_DATE,
        order: int = 0,
        approve: bool = True,
    ) -> int:
        """A worker's day on a work order with a role, activity entries (minutes) and asset entries (minutes)."""
        person = self.crew.workers[worker]
        job = self.crew.orders[order]
        timesheet_id = self.assignar.create_timesheet(
            worker_id=person["id"],
            project_id=job["project_id"],
            work_order_id=job["id"],
            role_id=self.crew.roles[worker % len(self.crew.roles)]["id"],
            work_date=work_date,
            labor=[
                LaborEntry(self.crew.activities[i % len(self.crew.activities)]["id"], m) for i, m in enumerate(labor)
            ],
            equipment=[
                EquipmentEntry(self.crew.assets[i % len(self.crew.assets)]["id"], m) for i, m in enumerate(equipment)
            ],
        )
        if approve:
            self.assignar.approve_timesheet(timesheet_id, notify=False)
        return timesheet_id

    def first_day(self) -> int:
        """The company's first equipment posting, answered: the push learns which purchasing fields hold what it
        writes, and so can look for a transaction whose answer is lost (before that, a person is asked)."""
        timesheet_id = self.timesheet(worker=9, order=1)
        assert self.push.post(timesheet_id).outcome == "posted"
        return timesheet_id

    def intacct_timesheets(self) -> list[dict[str, Any]]:
        return self.store.records("TIMESHEET")

    def equipment_documents(self) -> list[dict[str, Any]]:
        return self.store.records("PODOCUMENT")

    def timesheet_lines(self, recordno: int) -> list[dict[str, Any]]:
        return self.store.lines("TIMESHEET", recordno)

    def push_lease(self) -> timedelta:
        """Just past a holder's lease: a claim left by a crash can be taken over."""
        return timedelta(seconds=self.push.lease_s + 1)

    def processed(self, timesheet_id: int) -> bool:
        return self.assignar_client.timesheets.get(timesheet_id).is_processed


def synced_world(
    tmp_path: Path, *, timesheets: dict[str, Any] | None = None, profile: CompanyProfile = STANDARD
) -> Iterator[TimeWorld]:
    clock = Clock()
    store = IntacctStore(timezone=str(ZONE), clock=clock.company, profile=profile)
    generate_company(store, employees=30, seed=5)
    with (
        IntacctEmulator(store, timeout_hold_s=3.0) as intacct_emulator,
        AssignarEmulator(seed=3) as assignar_emulator,
        SqliteStateStore(tmp_path / "state.db") as state,
    ):
        intacct = IntacctClient(
            IntacctSettings.model_validate(intacct_emulator.settings_env()),
            timezone=ZONE,
            sessions=MemorySessionCache(),
            clock=lambda: clock.at.timestamp(),
            # Short, so an answer held back by a "timeout" fault is given up on (the emulator holds it longer).
            timeout_s=1.5,
        )
        crew, owner = sync_company(intacct, assignar_emulator, state, clock=clock)
        config = parse_config(
            {
                "timezone": str(ZONE),
                "workflows": {"work_orders": {"owner_user_id": owner}},
                "timesheets": timesheets or {},
            }
        )
        assignar = AssignarClient(assignar_emulator.settings(), requests_per_second=None)
        push = PushService(assignar, intacct, state, config, clock=clock)
        yield TimeWorld(clock, store, intacct_emulator, assignar_emulator, intacct, assignar, state, config, crew, push)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[TimeWorld]:
    yield from synced_world(tmp_path)
