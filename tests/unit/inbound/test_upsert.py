"""The upsert on an in-memory Assignar: create, update, leave alone, adopt, deactivate, wait for a link, refuse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from intacct_assignar.config import parse_config
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.normalize import normalize
from intacct_assignar.inbound.upsert import DependencyNotReady, UpsertRefused, UpsertService
from intacct_assignar.state import SqliteStateStore

from .fakes import InMemoryAssignar, Write
from .intacct_records import customer, employee, item, project, task

CONFIG = parse_config(
    {
        "timezone": "America/Denver",
        "workflows": {
            "work_orders": {"owner_user_id": 12},
            "workers": {"position_roles": {"FOREMAN": "LAB-FOREMAN"}},
        },
    }
)
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


@dataclass
class World:
    assignar: InMemoryAssignar
    state: SqliteStateStore
    upsert: UpsertService

    def synced(self, workflow: str, integration_id: str) -> int | None:
        """The Assignar id the state store remembers writing for the record, if any."""
        found = self.state.get_synced(workflow, [integration_id]).get(integration_id)
        return found.assignar_id if found is not None else None


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    assignar = InMemoryAssignar()
    state = SqliteStateStore(tmp_path / "state.db")
    yield World(assignar, state, UpsertService(assignar, state, CONFIG, clock=lambda: NOW))
    state.close()


def client_deleted(integration_id: str) -> SyncMessage:
    return SyncMessage.deactivate("clients", integration_id, "deleted in Intacct", run_id="run-1", pulled_at=NOW)


def test_a_new_client_is_created_with_its_mapped_fields_and_remembered(world: World) -> None:
    # Given a client Assignar has never seen
    record = normalize("clients", customer(), CONFIG)

    # When it is upserted
    result = world.upsert.upsert(record)

    # Then Assignar holds it under our integration_id, and the state store remembers its id
    (created,) = world.assignar.clients.list()
    assert (result.action, result.assignar_id) == ("created", created.id)
    assert (created.name, created.external_id) == ("Summit Builders", "C-1001")
    assert created.integration_id == "intacct:CUSTOMER:300001"
    assert [(w.kind, w.record_id) for w in world.assignar.writes] == [("create", created.id)]
    assert world.synced("clients", record.integration_id) == created.id


def test_the_same_content_again_writes_nothing(world: World) -> None:
    # Given a client already written
    record = normalize("clients", customer(), CONFIG)
    world.upsert.upsert(record)

    # When the same content arrives again (the pull's lookback re-reads it)
    again = world.upsert.upsert(record)

    # Then it is unchanged and Assignar was not written to again
    assert again.action == "unchanged"
    assert len(world.assignar.writes) == 1


def test_a_changed_client_is_updated_in_place(world: World) -> None:
    # Given a client already written
    world.upsert.upsert(normalize("clients", customer(), CONFIG))

    # When Intacct renames it
    renamed = normalize("clients", customer(NAME="Summit Builders West", WHENMODIFIED="11/24/2026 09:00:00"), CONFIG)
    result = world.upsert.upsert(renamed)

    # Then the same Assignar record carries the new name; nothing new was created
    (client,) = world.assignar.clients.list()
    assert (result.action, result.assignar_id) == ("updated", client.id)
    assert (client.name, client.company_name) == ("Summit Builders West", "Summit Builders West")
    assert [w.kind for w in world.assignar.writes] == ["create", "update"]


def test_a_full_pull_puts_a_hand_edit_right_and_sends_only_that_field(world: World) -> None:
    # Given a client written, then its email changed by hand in Assignar
    record = normalize("clients", customer(), CONFIG)
    assignar_id = world.upsert.upsert(record).assignar_id
    assert assignar_id is not None
    world.assignar.clients.rows[assignar_id]["email"] = "typo@example.com"

    # When a full pull sends the same content, asking to verify it
    result = world.upsert.upsert(record, verify=True)

    # Then only the email is sent back to what Intacct says
    assert result.action == "updated"
    assert result.changes == {"email": ("typo@example.com", "ana.lopez@summitbuilders.example.com")}
    assert world.assignar.writes[-1] == Write(
        "clients", "update", assignar_id, {"email": "ana.lopez@summitbuilders.example.com"}
    )


def test_a_full_pull_of_a_record_assignar_holds_as_written_reads_it_and_writes_nothing(world: World) -> None:
    # Given a client written and left alone in Assignar
    record = normalize("clients", customer(), CONFIG)
    world.upsert.upsert(record)
    reads = world.assignar.clients.reads

    # When a full pull sends it again, asking to verify it
    result = world.upsert.upsert(record, verify=True)

    # Then Assignar's record was read once, found as Intacct says, and not written
    assert (result.action, result.changes) == ("unchanged", {})
    assert world.assignar.clients.reads == reads + 1
    assert len(world.assignar.writes) == 1


def test_a_client_typed_into_assignar_by_hand_is_adopted_not_duplicated(world: World) -> None:
    # Given the client was typed into Assignar by hand, with its Intacct ID
    typed = world.assignar.clients.seed(name="Summit", company_name="Summit", external_id="C-1001")

    # When Intacct's client is upserted
    result = world.upsert.upsert(normalize("clients", customer(), CONFIG))

    # Then that record is taken over (stamped with our integration_id), not created again
    (client,) = world.assignar.clients.list()
    assert (result.action, result.assignar_id, client.id) == ("updated", typed.id, typed.id)
    assert (client.name, client.integration_id) == ("Summit Builders", "intacct:CUSTOMER:300001")


def test_a_client_deleted_in_intacct_is_deactivated_once_and_not_brought_back(world: World) -> None:
    # Given a client written
    record = normalize("clients", customer(), CONFIG)
    assignar_id = world.upsert.upsert(record).assignar_id

    # When its deletion arrives twice, then a late copy of the upsert pulled before it
    first = world.upsert.apply(client_deleted(record.integration_id))
    second = world.upsert.apply(client_deleted(record.integration_id))
    late = world.upsert.upsert(record)

    # Then it was switched off in Assignar with one write, and stays off
    assert (first.action, second.action, late.action, late.reason) == ("deactivated", "unchanged", "skipped", "deleted")
    assert world.assignar.writes[1:] == [Write("clients", "update", assignar_id or 0, {"active": False})]
    assert world.assignar.clients.list()[0].active is False


def test_an_inactive_client_never_in_assignar_is_not_created(world: World) -> None:
    # When a client inactive in Intacct arrives before it was ever synced
    result = world.upsert.upsert(normalize("clients", customer(STATUS="inactive"), CONFIG))

    # Then nothing is written: there is nothing to switch off
    assert (result.action, result.reason) == ("skipped", "inactive in Intacct")
    assert world.assignar.writes == []


def test_a_project_waits_for_its_client_then_links_to_it(world: World) -> None:
    # Given a project whose client is not in Assignar yet
    job = normalize("projects", project(), CONFIG)

    # When it is upserted, it waits (the queue retries it later) and nothing is written
    with pytest.raises(DependencyNotReady, match="projects 24-0117 waits for clients C-1001"):
        world.upsert.upsert(job)
    assert world.assignar.writes == []

    # When the client is written and the project retried, it links to that client
    client_id = world.upsert.upsert(normalize("clients", customer(), CONFIG)).assignar_id
    world.upsert.upsert(job)
    (created,) = world.assignar.projects.list()
    assert created.client_id == client_id


def test_a_worker_links_to_its_role_user_type_and_employment_type(world: World) -> None:
    # Given the foreman role synced, and the default user and employment types in Assignar
    role_id = world.upsert.upsert(normalize("roles", item(), CONFIG)).assignar_id

    # When a foreman is upserted
    world.upsert.upsert(normalize("workers", employee(), CONFIG))

    # Then the worker carries the ids of all three
    (worker,) = world.assignar.workers.list()
    (user_type,) = world.assignar.user_types.list()
    (employment,) = world.assignar.employment_types.list()
    assert [link.task_id for link in worker.tasks] == [role_id]
    assert (worker.user_type_id, worker.employment_type) == (user_type.id, employment.id)


def test_assignars_refusal_is_an_upsert_refusal_in_its_words_and_nothing_is_remembered(world: World) -> None:
    # Given Assignar refuses the write
    world.assignar.clients.refusal = "email must be a valid email address"
    record = normalize("clients", customer(), CONFIG)

    # When the client is upserted, it is refused with Assignar's words (parked for a person, not retried)
    with pytest.raises(UpsertRefused, match="email must be a valid email address"):
        world.upsert.upsert(record)

    # Then nothing is remembered, so the next delivery tries again
    assert world.synced("clients", record.integration_id) is None


def test_a_work_order_of_a_project_without_a_customer_is_refused_saying_what_to_fix(world: World) -> None:
    # Given an internal project (no customer) synced
    world.upsert.upsert(normalize("projects", project(CUSTOMERID=None), CONFIG))

    # When one of its tasks is upserted (Assignar orders need a client)
    with pytest.raises(UpsertRefused, match="give the project a customer in Intacct"):
        world.upsert.upsert(normalize("work_orders", task(), CONFIG))

    # Then no order was written
    assert world.assignar.work_orders.list() == []


def test_a_create_that_another_consumer_beat_updates_their_record(world: World) -> None:
    # Given another consumer creates the same client just before ours reaches Assignar
    record = normalize("clients", customer(), CONFIG)
    world.assignar.clients.before_create = lambda: world.assignar.clients.seed(
        name="Summit (older copy)", integration_id=record.integration_id
    )

    # When ours is upserted (Assignar refuses a second record with that integration_id)
    result = world.upsert.upsert(record)

    # Then that record is brought up to date instead of parking ours
    (client,) = world.assignar.clients.list()
    assert (result.action, result.assignar_id, client.name) == ("updated", client.id, "Summit Builders")


def test_a_dry_run_reports_what_it_would_write_and_writes_nothing(world: World) -> None:
    # Given a preview run
    preview = UpsertService(world.assignar, world.state, CONFIG, dry_run=True, clock=lambda: NOW)

    # When a new client is upserted
    result = preview.upsert(normalize("clients", customer(), CONFIG))

    # Then it says it would create it, and neither Assignar nor the state store changed
    assert (result.action, result.changes["name"]) == ("created", (None, "Summit Builders"))
    assert world.assignar.writes == []
    assert world.synced("clients", result.integration_id) is None


def test_prefetch_looks_a_batch_up_in_one_read_per_key_then_adopts_without_more(world: World) -> None:
    # Given two clients typed into Assignar by hand, and a batch of messages for them
    ids = (("300001", "C-1001"), ("300002", "C-1002"))
    for _, customer_id in ids:
        world.assignar.clients.seed(name=customer_id, company_name=customer_id, external_id=customer_id)
    messages = [
        SyncMessage.upsert(
            normalize("clients", customer(RECORDNO=recordno, CUSTOMERID=customer_id), CONFIG),
            run_id="run-1",
            pulled_at=NOW,
        )
        for recordno, customer_id in ids
    ]

    # When the batch is prefetched, then applied
    world.upsert.prefetch(messages)
    reads_to_prefetch = world.assignar.clients.reads
    results = [world.upsert.apply(message) for message in messages]

    # Then two reads (by integration_id, then by Intacct ID) found both, which were adopted without another read
    assert reads_to_prefetch == 2
    assert world.assignar.clients.reads == 2
    assert [r.action for r in results] == ["updated", "updated"]
    assert [w.kind for w in world.assignar.writes] == ["update", "update"]
