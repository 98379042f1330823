"""`intacct-assignar parked list|replay` on this machine, against both emulators and a SQLite state file: `sync`
parks a record Assignar refuses and `push-timesheets` a timesheet Intacct cannot take; both are listed with
their reasons, stay parked while the cause is there, go through once it is fixed, and a second replay changes
nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar.state import SqliteStateStore
from intacct_assignar_dev.emulators.assignar import LaborEntry

from .tenant import Tenant, emulated_tenant

WORK_DATE = date(2026, 11, 18)


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    monkeypatch.chdir(tmp_path)  # no stray .env or intacct-assignar.toml from the repository
    with emulated_tenant(tmp_path, employees=20, seed=11) as emulated:
        yield emulated


def json_of(tenant: Tenant, *args: str) -> tuple[int, Any]:
    code, output = tenant.run(*args, "--json")
    return code, json.loads(output)


def email_taken_by_hand(tenant: Tenant) -> tuple[dict[str, Any], int]:
    """An Intacct employee whose email an Assignar user typed in by hand already has: Assignar refuses the worker."""
    employee = next(e for e in tenant.intacct.records("EMPLOYEE") if e["STATUS"] == "active" and e["CONTACT.EMAIL1"])
    hand_made = tenant.assignar.seed(
        "users", {"user_type_id": 2, "first_name": "Hand", "last_name": "Made", "email": employee["CONTACT.EMAIL1"]}
    )
    return employee, int(hand_made["id"])


def approved_timesheet_of_an_unknown_employee(tenant: Tenant) -> tuple[int, dict[str, Any]]:
    """An approved timesheet whose worker Assignar names by an employee ID Intacct does not have."""
    worker = next(w for w in tenant.assignar.records("users") if w.get("employee_id"))
    order = next(o for o in tenant.assignar.records("orders") if o.get("active"))
    timesheet_id = tenant.assignar.create_timesheet(
        worker_id=worker["id"],
        project_id=order["project_id"],
        work_order_id=order["id"],
        work_date=WORK_DATE,
        labor=[LaborEntry(tenant.assignar.records("activities")[0]["id"], 480)],
    )
    tenant.assignar.approve_timesheet(timesheet_id, notify=False)
    tenant.assignar.state.update("users", worker["id"], {"employee_id": "E-GONE"})
    return timesheet_id, worker


def test_sync_and_push_park_what_they_cannot_write_and_a_replay_after_the_fix_gets_it_through_once(
    tenant: Tenant,
) -> None:
    # Given a sync that could not write one worker, and a push that could not post one timesheet
    employee, hand_made = email_taken_by_hand(tenant)
    assert tenant.run("sync")[0] == 1
    timesheet_id, worker = approved_timesheet_of_an_unknown_employee(tenant)
    assert tenant.run("push-timesheets")[0] == 1

    # When the parked work is listed (no connection settings needed)
    code, listed = json_of(tenant, "parked", "list")

    # Then both are there with their reasons
    assert code == 0
    parked = {(item["kind"], item["id"]): item for item in listed["parked"]}
    record_id = f"workers:{employee['EMPLOYEEID']}"
    assert set(parked) == {("record", record_id), ("timesheet", str(timesheet_id))}
    assert "email" in parked[("record", record_id)]["reason"].lower()
    assert parked[("record", record_id)]["where"] == "state store"
    assert "E-GONE" in parked[("timesheet", str(timesheet_id))]["reason"]
    assert parked[("timesheet", str(timesheet_id))]["where"] == "ledger"

    # When they are replayed before anything was fixed, they stay parked, each saying why
    code, output = tenant.run("parked", "replay", "--all")
    assert code == 1
    assert f"still parked record {record_id}" in output and f"still parked timesheet {timesheet_id}" in output
    assert len(tenant.intacct.records("TIMESHEET")) == 0

    # When both causes are fixed and everything is replayed
    tenant.assignar.state.update("users", hand_made, {"email": "hand.made@example.com"})
    tenant.assignar.state.update("users", worker["id"], {"employee_id": worker["employee_id"]})
    code, replayed = json_of(tenant, "parked", "replay", "--all")

    # Then both went through: the worker is in Assignar, the timesheet in Intacct, and nothing is parked
    assert code == 0 and replayed["ok"], replayed
    assert {(r["id"], r["outcome"]) for r in replayed["replayed"]} == {
        (record_id, "replayed"),
        (str(timesheet_id), "replayed"),
    }
    employees = [u for u in tenant.assignar.records("users") if u.get("employee_id") == employee["EMPLOYEEID"]]
    assert len(employees) == 1
    assert len(tenant.intacct.records("TIMESHEET")) == 1
    assert json_of(tenant, "parked", "list")[1] == {"parked": []}

    # And a second replay finds nothing and writes nothing anywhere
    writes = tenant.writes()
    code, again = json_of(tenant, "parked", "replay", "--all")
    assert code == 0 and again == {"ok": True, "replayed": [], "unknown": []}
    assert tenant.writes() == writes and len(tenant.intacct.records("TIMESHEET")) == 1


def test_a_replay_names_what_it_replays_and_refuses_to_guess(tenant: Tenant) -> None:
    employee, hand_made = email_taken_by_hand(tenant)
    assert tenant.run("sync")[0] == 1
    record_id = f"workers:{employee['EMPLOYEEID']}"

    # Nothing named, or both ways at once: bad usage, nothing replayed
    code, output = tenant.run("parked", "replay")
    assert code == 2 and "--id ID" in output and "--all" in output
    code, output = tenant.run("parked", "replay", "--all", "--id", record_id)
    assert code == 2 and "not both" in output

    # An id nothing is parked under is said as such, and fails the run
    code, output = tenant.run("parked", "replay", "--id", "workers:E-NOBODY")
    assert code == 1 and "nothing is parked under workers:E-NOBODY" in output

    # The one named goes through once its cause is fixed
    tenant.assignar.state.update("users", hand_made, {"email": "hand.made@example.com"})
    code, output = tenant.run("parked", "replay", "--id", record_id)
    assert code == 0, output
    assert f"replayed record {record_id}" in output


def test_the_next_sync_forgets_a_parked_record_it_got_through(tenant: Tenant) -> None:
    # Given a worker parked by a sync
    employee, hand_made = email_taken_by_hand(tenant)
    assert tenant.run("sync")[0] == 1
    with SqliteStateStore(tenant.state) as store:
        assert [r.key for r in store.iter_parked_records()] == [f"workers:{employee['EMPLOYEEID']}"]

    # When the cause is fixed and the next sync reads the worker again
    tenant.assignar.state.update("users", hand_made, {"email": "hand.made@example.com"})
    code, output = tenant.run("sync")

    # Then it went through, and nothing is left parked
    assert code == 0, output
    assert json_of(tenant, "parked", "list")[1] == {"parked": []}
