"""The seeded construction company: deterministic, realistic and quick to build."""

from __future__ import annotations

import re
from collections import Counter

from intacct_assignar.emulators.intacct import IntacctStore, generate_company

from .fixtures import FakeClock


def _company(employees: int, seed: int) -> IntacctStore:
    store = IntacctStore(clock=FakeClock())
    generate_company(store, employees=employees, seed=seed)
    return store


def test_same_seed_same_company() -> None:
    # Given two stores with the same clock
    # When each gets the company for seed 7
    first, second = _company(300, 7), _company(300, 7)

    # Then every record is identical, and another seed differs
    for obj in ("EMPLOYEE", "PROJECT", "TASK", "CUSTOMER", "ITEM"):
        assert first.records(obj) == second.records(obj)
    assert _company(300, 8).records("EMPLOYEE") != first.records("EMPLOYEE")


def test_summary_counts_scale_with_employees() -> None:
    # Given a large company
    store = IntacctStore(clock=FakeClock())

    # When 5,000 employees are generated (speed is measured in benchmarks/, never asserted in a test)
    summary = generate_company(store, employees=5000, seed=7)

    # Then sizes are those of a real mid-size contractor
    assert summary["EMPLOYEE"] == 5000
    assert 200 <= summary["PROJECT"] <= 500
    assert 1000 <= summary["TASK"] <= 3500
    assert summary == {obj: len(store.records(obj)) for obj in summary}
    assert store.records("AUDITHISTORY") == []


def test_records_look_like_a_construction_company() -> None:
    # Given a generated company
    store = _company(1000, 11)
    employees = store.records("EMPLOYEE")
    items = store.records("ITEM")
    projects = store.records("PROJECT")
    tasks = store.records("TASK")

    # When its records are examined
    labor_ids = {item["ITEMID"] for item in items if item["GLGROUP"] == "Labor"}
    field = [e for e in employees if e["DEPARTMENTID"] in ("FIELD", "SHOP")]
    groups = Counter(item["GLGROUP"] for item in items)

    # Then about 80% are field staff whose positions name labor items (or FOREMAN, mapped per tenant)
    assert 0.74 < len(field) / len(employees) < 0.86
    assert {e["EMPPOSITIONID"] for e in field} <= labor_ids | {"FOREMAN"}
    assert all(e["EARNINGTYPENAME"] == "Hourly" for e in field)
    assert all(e["CONTACT.EMAIL1"] and e["CONTACT.FIRSTNAME"] and e["BIRTHDATE"] for e in employees)
    assert len({e["CONTACT.EMAIL1"] for e in employees}) == len(employees)
    assert any(e["STATUS"] == "inactive" for e in employees)
    # items: labor roles, equipment with descriptions, materials
    assert groups["Labor"] >= 10 and groups["Equipment"] >= 50 and groups["Materials"] >= 5
    assert all(item["EXTENDED_DESCRIPTION"] for item in items if item["GLGROUP"] == "Equipment")
    # jobs numbered like 24-0117 with customers, dates and a job-site address; a few inactive
    assert all(re.fullmatch(r"\d{2}-\d{4}", project["PROJECTID"]) for project in projects)
    assert all(project["CUSTOMERNAME"] and project["SHIPTO.MAILADDRESS.CITY"] for project in projects)
    assert any(project["STATUS"] == "inactive" for project in projects)
    # 3-8 cost-code tasks per project, unique within the project
    per_project = Counter(task["PROJECTID"] for task in tasks)
    assert set(per_project) == {project["PROJECTID"] for project in projects}
    assert all(3 <= count <= 8 for count in per_project.values())
    assert len({(task["PROJECTID"], task["TASKID"]) for task in tasks}) == len(tasks)
    assert store.find("VENDOR", "V-INTERNAL") is not None
    assert {row["STANDARDTASKID"] for row in store.records("STANDARDTASK")} >= {"01-100", "03-300"}


def test_timestamps_are_in_the_past_of_the_company_clock() -> None:
    # Given a fixed company clock
    clock = FakeClock()
    store = IntacctStore(clock=clock)

    # When the company is generated
    generate_company(store, employees=200, seed=1)

    # Then every record was created and modified before now, modified not before created
    for obj in ("EMPLOYEE", "PROJECT", "TASK"):
        for record in store.records(obj):
            assert record["WHENCREATED"] <= record["WHENMODIFIED"] < clock.now
