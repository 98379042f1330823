"""The pull service against the Intacct emulator over HTTP: full and incremental pulls, continuation from a
checkpoint, deletions, refused records and workflows that cannot run yet."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from intacct_assignar.config import TenantConfig, parse_config
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.run_entries import entries_from_pull
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.sources import SOURCES
from intacct_assignar.state import SqliteStateStore
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company

from .company_clock import START, ZONE, Clock


@dataclass
class ListPublisher:
    messages: list[SyncMessage] = field(default_factory=list)

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        # Round-trip through the wire format, as SQS would carry it.
        self.messages.extend(SyncMessage.from_body(m.to_body()) for m in messages)


@dataclass
class World:
    clock: Clock
    store: IntacctStore
    emulator: IntacctEmulator
    service: PullService
    publisher: ListPublisher
    state: SqliteStateStore
    client: IntacctClient


CONFIG = parse_config({"timezone": "America/Denver", "workflows": {"work_orders": {"owner_user_id": 7}}})


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = Clock()
    store = IntacctStore(timezone=str(ZONE), clock=clock.company)
    generate_company(store, employees=120, seed=5)
    with IntacctEmulator(store) as emulator, SqliteStateStore(tmp_path / "state.db") as state:
        client = IntacctClient(
            IntacctSettings.model_validate(emulator.settings_env()),
            timezone=ZONE,
            sessions=MemorySessionCache(),
            clock=lambda: clock.at.timestamp(),
        )
        publisher = ListPublisher()
        service = PullService(client, state, publisher, CONFIG, clock=clock, pagesize=25)
        yield World(clock, store, emulator, service, publisher, state, client)


def pulled(world: World, config: TenantConfig = CONFIG) -> Counter[str]:
    return Counter(m.workflow for m in world.publisher.messages)


def test_full_pull_publishes_every_record_of_every_workflow_and_sets_the_watermark(world: World) -> None:
    # Given a company pulled for the first time
    # When every source is pulled
    reports = [world.service.pull(source.object_name) for source in SOURCES]

    # Then one message per record and workflow (an ITEM feeds both roles and assets), and watermarks are set
    expected = Counter(
        {
            "clients": len(world.store.records("CUSTOMER")),
            "projects": len(world.store.records("PROJECT")),
            "work_orders": len(world.store.records("TASK")),
            "activities": len(world.store.records("STANDARDTASK")),
            "roles": len(world.store.records("ITEM")),
            "assets": len(world.store.records("ITEM")),
            "workers": len(world.store.records("EMPLOYEE")),
        }
    )
    assert pulled(world) == expected
    assert all(r.complete and r.full and not r.problems for r in reports)
    employees = next(r for r in reports if r.source == "EMPLOYEE")
    assert world.state.get_watermark(employees.progress_key) == START
    labor = {i["ITEMID"] for i in world.store.records("ITEM") if i["GLGROUP"] == "Labor"}
    roles = [m.record for m in world.publisher.messages if m.workflow == "roles" and m.record and m.record.active]
    assert {r.source_id for r in roles if r is not None} == labor


def test_work_orders_take_their_project_dates_and_status(world: World) -> None:
    # Given a task without dates under a project that has them
    project = next(p for p in world.store.records("PROJECT") if p.get("BEGINDATE") and p["STATUS"] == "active")
    task = next(t for t in world.store.records("TASK") if t["PROJECTID"] == project["PROJECTID"])
    world.store.update("TASK", task["RECORDNO"], {"PBEGINDATE": None, "PENDDATE": None})

    # When the tasks are pulled
    world.service.pull("TASK")

    # Then its work order carries the project's dates
    (message,) = [
        m
        for m in world.publisher.messages
        if m.record
        and m.record.source_id.endswith("/" + task["TASKID"])
        and m.record.source_id.startswith(project["PROJECTID"] + "/")
    ]
    assert message.record is not None
    assert message.record.start_date == project["BEGINDATE"]  # type: ignore[union-attr]


def test_incremental_pull_publishes_only_what_changed(world: World) -> None:
    # Given a completed full pull
    for source in SOURCES:
        world.service.pull(source.object_name)
    world.publisher.messages.clear()

    # When, three hours later, one worker changes and one project is made inactive
    world.clock.at = START + timedelta(hours=3)
    worker = world.store.records("EMPLOYEE")[3]
    world.store.update("EMPLOYEE", worker["RECORDNO"], {"CONTACT.PHONE1": "(720) 555-0100"})
    project = next(p for p in world.store.records("PROJECT") if p["STATUS"] == "active")
    world.store.update("PROJECT", project["RECORDNO"], {"STATUS": "inactive"})
    world.clock.at = START + timedelta(hours=3, minutes=5)
    world.client.connect()  # three quiet hours outlive the session; a new one costs one call, counted apart
    before = world.client.counters.api_transactions
    lookups_before = world.client.counters.by_function["lookup"]
    reports = {s.object_name: world.service.pull(s.object_name) for s in SOURCES}

    # Then exactly those travel, the inactive project as a deactivation together with its work orders (they
    # copy its status), for one query per object, one for the changed project's tasks and one for its job-site
    # contact; the object definitions read on the first pull are not asked for again
    tasks = [t for t in world.store.records("TASK") if t["PROJECTID"] == project["PROJECTID"]]
    assert [(m.workflow, m.record.source_id if m.record else None) for m in world.publisher.messages] == [
        ("projects", project["PROJECTID"]),
        *[("work_orders", f"{project['PROJECTID']}/{t['TASKID']}") for t in tasks],
        ("workers", worker["EMPLOYEEID"]),
    ]
    assert reports["PROJECT"].deactivations == {"projects": 1, "work_orders": len(tasks)}
    assert world.client.counters.api_transactions - before == len(SOURCES) + 2
    assert world.client.counters.by_function["lookup"] == lookups_before


def test_a_pull_out_of_time_continues_from_its_checkpoint(world: World) -> None:
    # Given an invocation that runs out of time after two pages
    calls = iter([100.0, 100.0, 0.0])

    # When the employees are pulled, then pulled again by the follow-up invocation
    first = world.service.pull("EMPLOYEE", time_left_s=lambda: next(calls), safety_s=10)
    checkpoint = world.state.get_checkpoint(first.progress_key)
    watermark_while_paused = world.state.get_watermark(first.progress_key)
    second = world.service.pull("EMPLOYEE")

    # Then the first stopped at a checkpoint without moving the watermark, and together they published
    # every employee exactly once
    assert not first.complete and checkpoint is not None and checkpoint.after_recordno is not None
    assert watermark_while_paused is None
    assert second.complete and world.state.get_checkpoint(first.progress_key) is None
    ids = [m.integration_id for m in world.publisher.messages]
    assert len(ids) == len(set(ids)) == len(world.store.records("EMPLOYEE"))
    assert first.fetched == 75 and second.fetched == len(ids) - 75


def test_a_pull_continued_from_its_checkpoint_is_one_run_from_the_first_invocations_start(world: World) -> None:
    # Given a pull that runs out of time, and the follow-up invocation a quarter of an hour later
    calls = iter([100.0, 0.0])
    began = world.clock.at
    first = world.service.pull("EMPLOYEE", time_left_s=lambda: next(calls), safety_s=10)
    world.clock.at += timedelta(minutes=15)
    second = world.service.pull("EMPLOYEE")

    # When each invocation records what it finished
    paused = entries_from_pull(first, ended_at=began + timedelta(minutes=1))
    [workers] = entries_from_pull(second, ended_at=world.clock.at)

    # Then the paused one is no run yet, and the finished one spans both invocations
    assert not first.complete and paused == []
    assert workers.started_at == began and workers.ended_at == began + timedelta(minutes=15)
    assert (workers.kind, workers.outcome, workers.read) == ("pull", "ok", second.fetched)


def test_deleted_records_become_deactivations(world: World) -> None:
    # Given deletions being watched since a first run
    world.service.pull_deletions()
    world.clock.at = START + timedelta(minutes=30)
    task = world.store.records("TASK")[-1]
    item = world.store.records("ITEM")[-1]
    world.store.delete("TASK", task["RECORDNO"])
    world.store.delete("ITEM", item["RECORDNO"])
    world.clock.at = START + timedelta(minutes=45)

    # When
    report = world.service.pull_deletions()

    # Then each deleted record is deactivated in every workflow it fed
    assert report.deactivations == {"work_orders": 1, "roles": 1, "assets": 1}
    assert {(m.kind, m.workflow, m.integration_id) for m in world.publisher.messages} == {
        ("deactivate", "work_orders", f"intacct:TASK:{task['RECORDNO']}"),
        ("deactivate", "roles", f"intacct:ITEM:{item['RECORDNO']}"),
        ("deactivate", "assets", f"intacct:ITEM:{item['RECORDNO']}"),
    }


def test_a_workflow_missing_a_setting_says_which_key_and_others_run(world: World, tmp_path: Path) -> None:
    # Given no work-order owner configured
    service = PullService(world.client, world.state, world.publisher, TenantConfig(timezone="America/Denver"))

    # When tasks and employees are pulled
    tasks = service.pull("TASK")
    workers = service.pull("EMPLOYEE")

    # Then the work orders say what to set (a failure to report, not a workflow switched off), and the workers
    # went through
    assert tasks.cannot_run == {"work_orders": "set workflows.work_orders.owner_user_id in the configuration"}
    assert tasks.skipped_workflows == {} and tasks.as_dict()["cannot_run"] == tasks.cannot_run
    assert pulled(world) == Counter({"workers": len(world.store.records("EMPLOYEE"))})
    assert workers.complete


def test_a_full_pull_out_of_time_continues_instead_of_starting_over(world: World) -> None:
    # Given a full resync that runs out of time after two pages (its continuation repeats `full`)
    calls = iter([100.0, 0.0])
    first = world.service.pull("EMPLOYEE", full=True, time_left_s=lambda: next(calls), safety_s=10)

    # When the follow-up invocation asks for the same full pull
    second = world.service.pull("EMPLOYEE", full=True)

    # Then it resumed from the checkpoint: every employee exactly once, none twice
    ids = [m.integration_id for m in world.publisher.messages]
    assert not first.complete and second.complete
    assert len(ids) == len(set(ids)) == len(world.store.records("EMPLOYEE"))


def test_changing_a_workflow_filter_resends_its_records(world: World) -> None:
    # Given workers synced with every department
    world.service.pull("EMPLOYEE")
    world.publisher.messages.clear()

    # When the tenant narrows workers to the FIELD department (and nothing changed in Intacct)
    narrowed = parse_config({"timezone": "America/Denver", "workflows": {"workers": {"departments": ["FIELD"]}}})
    service = PullService(world.client, world.state, world.publisher, narrowed, clock=world.clock, pagesize=25)
    service.pull("EMPLOYEE")

    # Then every worker is sent again: office staff now as deactivations, naming the filter
    office = [e for e in world.store.records("EMPLOYEE") if e["DEPARTMENTID"] != "FIELD" and e["STATUS"] == "active"]
    messages = {m.record.source_id: m.record for m in world.publisher.messages if m.record is not None}
    assert len(messages) == len(world.store.records("EMPLOYEE"))
    assert office and all(not messages[e["EMPLOYEEID"]].active for e in office)
    assert "FIELD" in (messages[office[0]["EMPLOYEEID"]].inactive_reason or "")


def test_a_record_the_pull_cannot_map_is_parked_with_its_reason(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a client Intacct holds in a shape we cannot map (simulated: mapping refuses one client)
    from intacct_assignar.inbound import pull as pull_module
    from intacct_assignar.inbound.records import MappingError

    refused = world.store.records("CUSTOMER")[0]["CUSTOMERID"]
    real = pull_module.normalize

    def normalize(workflow: str, record: dict[str, object], config: TenantConfig, **kwargs: object) -> object:
        if record.get("CUSTOMERID") == refused:
            raise MappingError(f"CUSTOMER {refused}", "NAME", "unreadable")
        return real(workflow, record, config, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pull_module, "normalize", normalize)
    parked: list[tuple[str, str]] = []
    world.service.parking = type("Parking", (), {"park": lambda self, body, reason: parked.append((body, reason))})()

    # When the clients are pulled
    report = world.service.pull("CUSTOMER")

    # Then it is reported and parked with the reason, and the other clients are published
    assert [p.source_id for p in report.problems] == [refused]
    (body, reason) = parked[0]
    assert "NAME" in reason and json.loads(body)["source_id"] == refused and json.loads(body)["kind"] == "unmapped"
    assert pulled(world)["clients"] == len(world.store.records("CUSTOMER")) - 1
