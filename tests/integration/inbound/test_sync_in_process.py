"""Inbound sync in one process (`run_sync`, what the CLI runs), against both emulators over HTTP: a full sync,
a quiet re-run, changes, adoption and refusals. The Lambda handlers under moto run the same services."""

from __future__ import annotations

from datetime import timedelta

from .conftest import World


def active(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in records if r.get("active") in (True, 1)]


def test_a_full_sync_leaves_assignar_matching_intacct(world: World) -> None:
    # Given a company never synced
    # When everything is pulled and upserted
    summary = world.sync()

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
    assert summary.ok
    assert all(counts.updated == counts.unchanged == 0 for counts in summary.workflows.values())


def test_a_rerun_with_nothing_changed_writes_nothing(world: World) -> None:
    # Given a synced company
    world.sync()
    writes_before = world.writes()

    # When the scheduled run comes round with nothing changed in Intacct
    summary = world.sync()

    # Then not a single Assignar write
    assert world.writes() == writes_before
    assert summary.ok and summary.plan == []


def test_a_change_an_inactivation_and_a_delete_each_arrive_on_the_next_run(world: World) -> None:
    # Given a synced company with a cost code no task uses
    code = world.store.create("STANDARDTASK", {"STANDARDTASKID": "99-900", "NAME": "Winter Protection"})
    world.sync()
    world.sync()
    writes_before = world.writes()

    # When one worker changes, one client turns inactive and one cost code is deleted in Intacct
    world.clock.at += timedelta(hours=3)
    worker = next(e for e in world.store.records("EMPLOYEE") if e["STATUS"] == "active")
    world.store.update("EMPLOYEE", worker["RECORDNO"], {"CONTACT.LASTNAME": "Renamed"})
    client = next(c for c in world.store.records("CUSTOMER") if c["STATUS"] == "active")
    world.store.update("CUSTOMER", client["RECORDNO"], {"STATUS": "inactive"})
    world.store.delete("STANDARDTASK", code["RECORDNO"])
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
    summary = world.sync()

    # Then that work order is refused, naming the record and the setting to add; every other one is in Assignar
    refused = [(failure.record, failure.reason) for failure in summary.failures]
    assert [source_id for source_id, _ in refused] == [f"{project['PROJECTID']}/{task['TASKID']}"]
    assert "workflows.work_orders.default_start_date" in refused[0][1]
    live_tasks = [
        t
        for t in world.store.records("TASK")
        if t["STATUS"] == "active"
        and any(p["PROJECTID"] == t["PROJECTID"] and p["STATUS"] == "active" for p in world.store.records("PROJECT"))
    ]
    assert len(active(world.assignar.records("orders"))) == len(live_tasks) - 1
