"""Inbound sync in one process, against both emulators over HTTP: pull -> messages -> upsert into Assignar.

A small queue stands in for SQS here (a message whose dependency is not in Assignar yet goes to the back);
the Lambda handlers and SQS under moto are exercised on top of the same services elsewhere.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.config import TenantConfig, parse_config
from intacct_assignar.emulators.assignar import AssignarEmulator
from intacct_assignar.emulators.intacct import IntacctEmulator, IntacctStore, generate_company
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.upsert import DependencyNotReady, UpsertRefused, UpsertResult, UpsertService
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.sources import SOURCES
from intacct_assignar.state import SqliteStateStore

from .company_clock import START, ZONE, Clock


@dataclass
class Queue:
    """Delivers each published message to the upsert; dependencies not ready go round again."""

    upsert: UpsertService
    pending: deque[SyncMessage] = field(default_factory=deque)
    results: list[UpsertResult] = field(default_factory=list)
    refused: list[tuple[SyncMessage, str]] = field(default_factory=list)  # what a DLQ would hold, with why

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        self.pending.extend(SyncMessage.from_body(m.to_body()) for m in messages)

    def drain(self) -> None:
        stalled = 0
        while self.pending and stalled <= len(self.pending):
            message = self.pending.popleft()
            try:
                self.results.append(self.upsert.apply(message))
                stalled = 0
            except DependencyNotReady:
                self.pending.append(message)
                stalled += 1
            except UpsertRefused as refused:
                self.refused.append((message, str(refused)))

    def actions(self) -> Counter[tuple[str, str]]:
        return Counter((r.workflow, r.action) for r in self.results)


@dataclass
class World:
    clock: Clock
    store: IntacctStore
    assignar: AssignarEmulator
    pull: PullService
    queue: Queue
    config: TenantConfig

    def sync(self) -> None:
        for source in SOURCES:
            self.pull.pull(source.object_name)
        self.pull.pull_deletions()
        self.queue.drain()

    def writes(self) -> int:
        return self.assignar.calls("POST", "/v2") + self.assignar.calls("PUT", "/v2")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = Clock()
    store = IntacctStore(timezone=str(ZONE), clock=clock.company)
    generate_company(store, employees=60, seed=9)
    with (
        IntacctEmulator(store) as intacct_emulator,
        AssignarEmulator(seed=3) as assignar_emulator,
        SqliteStateStore(tmp_path / "state.db") as state,
    ):
        owner = assignar_emulator.seed(
            "users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner", "email": "olive@example.com"}
        )
        config = parse_config(
            {"timezone": "America/Denver", "workflows": {"work_orders": {"owner_user_id": owner["id"]}}}
        )
        intacct = IntacctClient(
            IntacctSettings.model_validate(intacct_emulator.settings_env()),
            timezone=ZONE,
            sessions=MemorySessionCache(),
            clock=lambda: clock.at.timestamp(),
        )
        assignar = AssignarClient(assignar_emulator.settings(), requests_per_second=None)
        queue = Queue(UpsertService(assignar, state, config, clock=clock))
        pull = PullService(intacct, state, queue, config, clock=clock)
        yield World(clock, store, assignar_emulator, pull, queue, config)


def active(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in records if r.get("active") in (True, 1)]


def test_a_full_sync_leaves_assignar_matching_intacct(world: World) -> None:
    # Given a company never synced
    # When everything is pulled and upserted
    world.sync()

    # Then every active Intacct record is in Assignar, once, keyed by its integration_id
    store = world.store
    expected = {
        "clients": {c["CUSTOMERID"] for c in store.records("CUSTOMER") if c["STATUS"] == "active"},
        "projects": {p["PROJECTID"] for p in store.records("PROJECT") if p["STATUS"] == "active"},
        "activities": {t["STANDARDTASKID"] for t in store.records("STANDARDTASK") if t["STATUS"] == "active"},
        "tasks": {i["ITEMID"] for i in store.records("ITEM") if i["STATUS"] == "active" and i["GLGROUP"] == "Labor"},
        "assets": {
            i["ITEMID"] for i in store.records("ITEM") if i["STATUS"] == "active" and i["GLGROUP"] == "Equipment"
        },
    }
    for resource, ids in expected.items():
        got = [r["external_id"] for r in active(world.assignar.records(resource))]
        assert sorted(got) == sorted(ids), resource
    workers = {e["EMPLOYEEID"] for e in store.records("EMPLOYEE") if e["STATUS"] == "active"}
    assert {u["employee_id"] for u in active(world.assignar.records("users")) if u.get("employee_id")} == workers
    integration_ids = [r["integration_id"] for r in world.assignar.records("clients")]
    assert len(integration_ids) == len(set(integration_ids))
    assert not [r for r in world.queue.results if r.action not in ("created", "skipped")]


def test_a_rerun_with_nothing_changed_writes_nothing(world: World) -> None:
    # Given a synced company
    world.sync()
    writes_before = world.writes()
    world.queue.results.clear()

    # When the scheduled run comes round with nothing changed in Intacct
    world.clock.at = START + timedelta(hours=3)
    world.sync()

    # Then not a single Assignar write
    assert world.writes() == writes_before
    assert {r.action for r in world.queue.results} <= {"unchanged"}


def test_a_change_an_inactivation_and_a_delete_each_arrive_on_the_next_run(world: World) -> None:
    # Given a synced company with a cost code no task uses
    code = world.store.create("STANDARDTASK", {"STANDARDTASKID": "99-900", "NAME": "Winter Protection"})
    world.sync()
    world.clock.at = START + timedelta(hours=3)
    world.sync()
    writes_before = world.writes()
    world.queue.results.clear()

    # When one worker changes, one client turns inactive and one cost code is deleted in Intacct
    world.clock.at = START + timedelta(hours=6)
    worker = next(e for e in world.store.records("EMPLOYEE") if e["STATUS"] == "active")
    world.store.update("EMPLOYEE", worker["RECORDNO"], {"CONTACT.LASTNAME": "Renamed"})
    client = next(c for c in world.store.records("CUSTOMER") if c["STATUS"] == "active")
    world.store.update("CUSTOMER", client["RECORDNO"], {"STATUS": "inactive"})
    world.store.delete("STANDARDTASK", code["RECORDNO"])
    world.clock.at = START + timedelta(hours=6, minutes=10)
    world.sync()

    # Then exactly those three are written in Assignar
    assert world.writes() - writes_before == 3
    users = {u.get("employee_id"): u for u in world.assignar.records("users")}
    assert users[worker["EMPLOYEEID"]]["last_name"] == "Renamed"
    clients = {c["external_id"]: c for c in world.assignar.records("clients")}
    assert clients[client["CUSTOMERID"]]["active"] in (False, 0)
    activities = {a["external_id"]: a for a in world.assignar.records("activities")}
    assert activities[code["STANDARDTASKID"]]["active"] in (False, 0)


def test_records_made_by_hand_in_assignar_are_adopted_not_duplicated(world: World) -> None:
    # Given a client someone typed into Assignar with the Intacct ID, before the first sync
    customer = next(c for c in world.store.records("CUSTOMER") if c["STATUS"] == "active")
    typed = world.assignar.seed(
        "clients", {"name": "typed by hand", "company_name": "typed by hand", "external_id": customer["CUSTOMERID"]}
    )

    # When
    world.sync()

    # Then that record now carries Intacct's data and key, and there is no second one
    matching = [c for c in world.assignar.records("clients") if c["external_id"] == customer["CUSTOMERID"]]
    assert [c["id"] for c in matching] == [typed["id"]]
    assert matching[0]["name"] == customer["NAME"]
    assert matching[0]["integration_id"] == f"intacct:CUSTOMER:{customer['RECORDNO']}"


def test_a_record_that_cannot_be_written_is_refused_with_its_reason_and_the_rest_sync(world: World) -> None:
    # Given a task with no dates, under a project with none, and no default dates configured
    project = next(p for p in world.store.records("PROJECT") if p["STATUS"] == "active")
    world.store.update("PROJECT", project["RECORDNO"], {"BEGINDATE": None, "ENDDATE": None})
    task = next(t for t in world.store.records("TASK") if t["PROJECTID"] == project["PROJECTID"])
    world.store.update("TASK", task["RECORDNO"], {"PBEGINDATE": None, "PENDDATE": None})

    # When
    world.sync()

    # Then that work order is refused, naming the record and the setting to add; every other one is in Assignar
    refused = [(m.record.source_id if m.record else "", why) for m, why in world.queue.refused]
    assert [source_id for source_id, _ in refused] == [f"{project['PROJECTID']}/{task['TASKID']}"]
    assert "workflows.work_orders.default_start_date" in refused[0][1]
    live_tasks = [
        t
        for t in world.store.records("TASK")
        if t["STATUS"] == "active"
        and any(p["PROJECTID"] == t["PROJECTID"] and p["STATUS"] == "active" for p in world.store.records("PROJECT"))
    ]
    assert len(active(world.assignar.records("orders"))) == len(live_tasks) - 1
