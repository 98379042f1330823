"""The inbound tests' tenant: both emulators over HTTP, a seeded company, a SQLite state file, and the same
pull and upsert services the Lambdas and the CLI run, driven by `run_sync`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.config import TenantConfig, parse_config
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.sync import InProcessQueue, SyncSummary, run_sync
from intacct_assignar.inbound.upsert import UpsertService
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import SqliteStateStore
from intacct_assignar_dev.emulators.assignar import AssignarEmulator
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company

from .company_clock import ZONE, Clock


@dataclass
class World:
    clock: Clock
    store: IntacctStore
    assignar: AssignarEmulator
    pull: PullService
    upsert: UpsertService
    config: TenantConfig

    def sync(self, hours_later: float = 3) -> SyncSummary:
        self.clock.at += timedelta(hours=hours_later)
        return run_sync(self.pull, self.upsert)

    def writes(self) -> int:
        return self.assignar.calls("POST", "/v2") + self.assignar.calls("PUT", "/v2")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = Clock()
    store = IntacctStore(timezone=str(ZONE), clock=clock.company)
    generate_company(store, employees=40, seed=12)
    with (
        IntacctEmulator(store) as intacct_emulator,
        AssignarEmulator(seed=8) as assignar_emulator,
        SqliteStateStore(tmp_path / "state.db") as state,
    ):
        owner = assignar_emulator.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        config = parse_config({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner["id"]}}})
        intacct = IntacctClient(
            IntacctSettings.model_validate(intacct_emulator.settings_env()),
            timezone=ZONE,
            sessions=MemorySessionCache(),
            clock=lambda: clock.at.timestamp(),
        )
        assignar = AssignarClient(assignar_emulator.settings(), requests_per_second=None)
        pull = PullService(intacct, state, InProcessQueue(), config, clock=clock)
        upsert = UpsertService(assignar, state, config, clock=clock)
        yield World(clock, store, assignar_emulator, pull, upsert, config)
