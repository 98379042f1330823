"""The seeded construction company: deterministic, realistic and quick to build."""

from __future__ import annotations

import re
from collections import Counter

from intacct_assignar_dev.emulators.intacct import (
    LEAN,
    RICH,
    STANDARD,
    CompanyProfile,
    DataType,
    FieldDef,
    IntacctStore,
    generate_company,
)

from .fixtures import FakeClock

STANDARD_OBJECTS = ("LOCATION", "DEPARTMENT", "CUSTOMER", "VENDOR", "CONTACT", "PROJECT", "TASK", "ITEM", "EMPLOYEE")


def _company(employees: int, seed: int, profile: CompanyProfile = STANDARD) -> IntacctStore:
    store = IntacctStore(clock=FakeClock(), profile=profile)
    generate_company(store, employees=employees, seed=seed)
    return store


def test_same_seed_same_company() -> None:
    # Given two stores with the same clock
    # When each gets the company for seed 7
    first, second = _company(300, 7), _company(300, 7)

    # Then every record is identical, and another seed differs
    for obj in ("EMPLOYEE", "PROJECT", "TASK", "CUSTOMER", "ITEM", "CONTACT"):
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
    # jobs numbered like 24-0117 with customers, dates and a job site (the ship-to contact); a few inactive
    assert all(re.fullmatch(r"\d{2}-\d{4}", project["PROJECTID"]) for project in projects)
    assert all(project["CUSTOMERNAME"] and project["SHIPTO.CONTACTNAME"] for project in projects)
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


def test_every_job_site_is_a_contact_the_project_names_as_ship_to() -> None:
    # Given a generated company
    store = _company(300, 5)

    # When each project's ship-to contact is looked up by name
    projects = store.records("PROJECT")
    sites = [store.find("CONTACT", project["SHIPTO.CONTACTNAME"]) for project in projects]

    # Then every job has its own site contact, with a mailing address and a print-as name
    assert len(store.records("CONTACT")) == len(projects)
    assert len({project["SHIPTO.CONTACTNAME"] for project in projects}) == len(projects)
    for project, site in zip(projects, sites, strict=True):
        assert site is not None, project["PROJECTID"]
        assert site["MAILADDRESS.ADDRESS1"] and site["MAILADDRESS.CITY"] and site["MAILADDRESS.ZIP"]
        assert site["MAILADDRESS.STATE"] == "CO"
        assert site["PRINTAS"] == f"{project['NAME']} job site"


def test_a_lean_company_is_the_standard_one_without_the_values_it_lacks() -> None:
    # Given the same seed generated for a standard and a lean company
    standard, lean = _company(300, 7), _company(300, 7, LEAN)

    # When their records are compared field by field
    # Then the lean one has every value the standard one has, except those of the fields it does not offer
    for obj in STANDARD_OBJECTS:
        offered = set(lean.objects[obj].fields)
        expected = [{name: value for name, value in row.items() if name in offered} for row in standard.records(obj)]
        assert lean.records(obj) == expected, obj
    assert all("SHIPTO.CONTACTNAME" not in project for project in lean.records("PROJECT"))
    assert all("BIRTHDATE" not in employee for employee in lean.records("EMPLOYEE"))


def test_a_rich_company_fills_its_custom_fields_and_keeps_every_standard_value() -> None:
    # Given the same seed generated for a standard and a rich company
    standard, rich = _company(300, 7), _company(300, 7, RICH)
    custom = {"JOBSITE_SUPERINTENDENT", "PERMIT_NUMBER", "UNION_LOCAL", "SAFETY_CERT_EXPIRES", "EQUIPMENT_CLASS"}

    # When their records are compared
    def without_custom(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{name: value for name, value in row.items() if name not in custom} for row in rows]

    # Then standard values are identical and the custom fields hold realistic values
    for obj in STANDARD_OBJECTS:
        assert without_custom(rich.records(obj)) == standard.records(obj), obj
    projects, employees, items = rich.records("PROJECT"), rich.records("EMPLOYEE"), rich.records("ITEM")
    assert all(project["JOBSITE_SUPERINTENDENT"] for project in projects)
    assert any(re.fullmatch(r"BLD\d{4}-\d{5}", project["PERMIT_NUMBER"] or "") for project in projects)
    assert any(employee["UNION_LOCAL"] for employee in employees)
    assert all(employee["UNION_LOCAL"] is None for employee in employees if employee["EARNINGTYPENAME"] == "Salary")
    assert any(employee["SAFETY_CERT_EXPIRES"] for employee in employees)
    assert all(item["EQUIPMENT_CLASS"] for item in items if item["GLGROUP"] == "Equipment")
    assert all(item["EQUIPMENT_CLASS"] is None for item in items if item["GLGROUP"] != "Equipment")


def test_a_custom_field_a_test_adds_is_filled_by_its_datatype() -> None:
    # Given a profile with custom fields the generator has no story for
    profile = CompanyProfile(
        "crews",
        custom={
            "TASK": (FieldDef("CREW_SIZE", DataType.INTEGER), FieldDef("SHIFT", DataType.ENUM, ("Day", "Night"))),
            "CUSTOMER": (FieldDef("PORTAL_CODE", DataType.TEXT),),
        },
    )

    # When a company is generated for it
    store = _company(100, 2, profile)

    # Then every such field holds a value of its type
    tasks = store.records("TASK")
    assert all(isinstance(task["CREW_SIZE"], int) and task["SHIFT"] in ("Day", "Night") for task in tasks)
    assert all(customer["PORTAL_CODE"] for customer in store.records("CUSTOMER"))
