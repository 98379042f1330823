"""`run_sync` (what the CLI runs): refusals keep their watermark, deletions stay deleted, projects carry
their work orders with them."""

from __future__ import annotations

from datetime import timedelta

from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.sync import InProcessQueue, run_sync

from .conftest import World


def test_a_record_assignar_refuses_is_reported_and_goes_through_once_fixed(world: World) -> None:
    # Given two workers sharing an email address in Intacct (Assignar keeps emails unique)
    first, second = [e for e in world.store.records("EMPLOYEE") if e["STATUS"] == "active"][:2]
    world.store.update("EMPLOYEE", second["RECORDNO"], {"CONTACT.EMAIL1": first["CONTACT.EMAIL1"]})

    # When the tenant syncs
    summary = world.sync(0)

    # Then the second is refused in Assignar's words, and everyone else is in Assignar
    assert [(f.workflow, f.record) for f in summary.failures] == [("workers", second["EMPLOYEEID"])]
    assert "email" in summary.failures[0].reason.lower()
    employees = {u.get("employee_id") for u in world.assignar.records("users")}
    assert second["EMPLOYEEID"] not in employees and first["EMPLOYEEID"] in employees

    # And once the email is fixed in Intacct, the next run brings the worker in
    world.store.update("EMPLOYEE", second["RECORDNO"], {"CONTACT.EMAIL1": "second.worker@example.com"})
    again = world.sync()
    assert again.ok
    assert second["EMPLOYEEID"] in {u.get("employee_id") for u in world.assignar.records("users")}


def test_an_inactive_project_takes_its_work_orders_with_it(world: World) -> None:
    # Given a synced company
    assert world.sync(0).ok
    project = next(p for p in world.store.records("PROJECT") if p["STATUS"] == "active")
    tasks = {t["TASKID"] for t in world.store.records("TASK") if t["PROJECTID"] == project["PROJECTID"]}

    # When the project is closed in Intacct (its tasks untouched)
    world.store.update("PROJECT", project["RECORDNO"], {"STATUS": "inactive"})
    summary = world.sync()

    # Then its work orders are inactive in Assignar too
    assert summary.ok and summary.workflows["work_orders"].deactivated == len(tasks)
    (assignar_project,) = [p for p in world.assignar.records("projects") if p["external_id"] == project["PROJECTID"]]
    orders = [o for o in world.assignar.records("orders") if o["project_id"] == assignar_project["id"]]
    assert sorted(o["job_number"] for o in orders) == sorted(tasks)
    assert all(o["active"] in (False, 0) for o in orders)


def test_a_late_upsert_does_not_bring_back_a_deleted_record(world: World) -> None:
    # Given a synced cost code, then deleted in Intacct and deactivated in Assignar
    code = world.store.create("STANDARDTASK", {"STANDARDTASKID": "98-100", "NAME": "Dewatering"})
    assert world.sync(0).ok
    stale = next(
        m for m in _messages_for(world, "activities") if m.record is not None and m.record.source_id == "98-100"
    )
    world.store.delete("STANDARDTASK", code["RECORDNO"])
    after_delete = world.sync()
    assert after_delete.workflows["activities"].deactivated == 1, after_delete

    # When the queue delivers an upsert of it that was pulled before the delete (SQS does not keep order)
    result = world.upsert.apply(stale)

    # Then it stays deactivated
    assert result.action == "skipped"
    activity = next(a for a in world.assignar.records("activities") if a["external_id"] == "98-100")
    assert activity["active"] in (False, 0)


def _messages_for(world: World, workflow: str) -> list[SyncMessage]:
    """The messages a full pull of the workflow's source publishes now (read without applying them)."""
    queue = InProcessQueue()
    saved, world.pull.publisher, world.pull.persist_progress = world.pull.publisher, queue, False
    try:
        world.pull.pull("STANDARDTASK", full=True)
    finally:
        world.pull.publisher = saved
    return [SyncMessage.from_body(body) for body in queue.pending if f'"workflow":"{workflow}"' in body]


def test_a_worker_written_before_its_role_existed_gets_it_on_a_later_run(world: World) -> None:
    # Given workers synced before any role (their role, guessed from EMPPOSITIONID, is optional)
    labor = {i["ITEMID"] for i in world.store.records("ITEM") if i["GLGROUP"] == "Labor" and i["STATUS"] == "active"}
    worker = next(
        e for e in world.store.records("EMPLOYEE") if e["STATUS"] == "active" and e.get("EMPPOSITIONID") in labor
    )
    world.clock.at += timedelta(hours=1)
    assert run_sync(world.pull, world.upsert, workflows=["workers"]).ok
    user = next(u for u in world.assignar.records("users") if u.get("employee_id") == worker["EMPLOYEEID"])
    assert not user.get("tasks")

    # When the roles arrive, and the worker is read again (here by a full run; an edit or the lookback does
    # the same) with nothing changed in Intacct
    world.clock.at += timedelta(hours=1)
    assert run_sync(world.pull, world.upsert, workflows=["roles"]).ok
    world.clock.at += timedelta(hours=1)
    summary = run_sync(world.pull, world.upsert, workflows=["workers"], full=True)

    # Then the worker is written once more, now with its role
    role = next(r for r in world.assignar.records("tasks") if r["external_id"] == worker["EMPPOSITIONID"])
    user = next(u for u in world.assignar.records("users") if u.get("employee_id") == worker["EMPLOYEEID"])
    assert [str(t["task_id"]) for t in user["tasks"]] == [str(role["id"])]
    assert summary.workflows["workers"].updated >= 1 and summary.workflows["workers"].created == 0


def test_an_older_version_arriving_late_does_not_overwrite_a_newer_one(world: World) -> None:
    # Given a client as first pulled (version A), then renamed in Intacct and synced (version B)
    customer = next(c for c in world.store.records("CUSTOMER") if c["STATUS"] == "active")
    assert world.sync(0).ok
    queue = InProcessQueue()
    saved, world.pull.publisher, world.pull.persist_progress = world.pull.publisher, queue, False
    world.pull.pull("CUSTOMER", full=True)
    world.pull.publisher = saved
    version_a = next(
        m
        for m in (SyncMessage.from_body(b) for b in queue.pending)
        if m.record is not None and m.record.source_id == customer["CUSTOMERID"]
    )
    world.clock.at += timedelta(minutes=30)
    world.store.update("CUSTOMER", customer["RECORDNO"], {"NAME": "Version B Builders"})
    assert world.sync().ok

    # When version A is delivered again, late (SQS keeps no order)
    result = world.upsert.apply(version_a)

    # Then it is dropped, and Assignar keeps version B
    assert (result.action, result.reason) == ("skipped", "older version")
    (client,) = [c for c in world.assignar.records("clients") if c["external_id"] == customer["CUSTOMERID"]]
    assert client["name"] == "Version B Builders"


def test_a_full_run_puts_hand_edits_in_assignar_right_and_writes_only_those(world: World) -> None:
    # Given a synced company, then a client renamed and a worker switched off by hand in Assignar
    assert world.sync(0).ok
    by_hand = world.upsert.assignar
    client = next(c for c in world.assignar.records("clients") if c.get("integration_id"))
    by_hand.clients.update(client["id"], {"name": "Edited by hand", "company_name": client["company_name"]})
    worker = next(u for u in world.assignar.records("users") if u.get("employee_id") and u.get("active") in (True, 1))
    by_hand.workers.update(worker["id"], {"active": False})
    writes = world.assignar.calls("POST", "/v2") + world.assignar.calls("PUT", "/v2")

    # When the admin runs a full sync
    world.clock.at += timedelta(hours=1)
    summary = run_sync(world.pull, world.upsert, full=True)

    # Then both are as Intacct says again, and nothing else was written
    assert summary.ok
    assert next(c for c in world.assignar.records("clients") if c["id"] == client["id"])["name"] == client["name"]
    assert next(u for u in world.assignar.records("users") if u["id"] == worker["id"])["active"] in (True, 1)
    assert world.assignar.calls("POST", "/v2") + world.assignar.calls("PUT", "/v2") - writes == 2
