"""Intacct record -> normalized record -> Assignar payload, for every workflow, on realistic records."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from intacct_assignar.config import TenantConfig, parse_config
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.normalize import normalize, records_from
from intacct_assignar.inbound.payloads import LinkSpec, UnresolvedLinkError, links_needed, to_assignar
from intacct_assignar.inbound.records import (
    Address,
    AssetRecord,
    ClientRecord,
    MappingError,
    ProjectRecord,
    RecordRef,
    RoleRecord,
    WorkerRecord,
    WorkOrderRecord,
)
from intacct_assignar.sources import (
    CUSTOMERS,
    EMPLOYEES,
    ITEMS,
    PROJECTS,
    SOURCES,
    STANDARD_TASKS,
    TASKS,
    IntacctSource,
)

from .intacct_records import company_records, customer, employee, equipment, item, project, standard_task, task

DENVER = ZoneInfo("America/Denver")


def tenant(**workflows: dict[str, object]) -> TenantConfig:
    """PRODUCT.md's example tenant, with workflow settings replaced as given."""
    document: dict[str, object] = {
        "timezone": "America/Denver",
        "workflows": {
            "work_orders": {"owner_user_id": 12},
            "workers": {"position_roles": {"FOREMAN": "LAB-FOREMAN"}},
            **workflows,
        },
    }
    return parse_config(document)


# --- the generated company, end to end ---------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.object_name)
def test_every_record_of_the_generated_company_maps_and_builds_a_payload(source: IntacctSource) -> None:
    # Given the emulator's construction company, read with each source's fields
    config = tenant()
    for raw in company_records(source.object_name):
        # When each record is normalized for every workflow it feeds, with all links resolved
        for record in records_from(source, raw, config):
            links = {spec.field: 41 for spec in links_needed(record)}
            payload = to_assignar(record, links, config)

            # Then every payload carries the keys the upsert adopts by, and a reason for every inactive record
            assert payload["integration_id"] == record.integration_id
            assert payload["active"] is record.active
            assert record.active or record.inactive_reason
            assert record.integration_id == f"intacct:{source.object_name}:{raw['RECORDNO']}"


def test_the_generated_company_splits_items_into_roles_and_assets_by_gl_group() -> None:
    # Given every ITEM of the generated company
    config = tenant()
    records = [record for raw in company_records("ITEM") for record in records_from(ITEMS, raw, config)]

    # When we count the live roles and assets
    roles = [r for r in records if isinstance(r, RoleRecord)]
    assets = [r for r in records if isinstance(r, AssetRecord)]

    # Then each item gave one of each; live roles are the labor items, live assets active equipment only
    assert len(roles) == len(assets) == len(company_records("ITEM"))
    assert {r.source_id for r in roles if r.active} == {
        raw["ITEMID"] for raw in company_records("ITEM") if raw["GLGROUP"] == "Labor"
    }
    assert {r.source_id for r in assets if r.active} == {
        raw["ITEMID"] for raw in company_records("ITEM") if raw["GLGROUP"] == "Equipment" and raw["STATUS"] == "active"
    }
    assert any(r.inactive_reason == "GL group Materials is not Equipment" for r in assets)


def test_the_generated_company_foremen_carry_the_mapped_role() -> None:
    # Given the company's employees with the short position FOREMAN
    config = tenant()
    foremen = [raw for raw in company_records("EMPLOYEE") if raw["EMPPOSITIONID"] == "FOREMAN"]
    assert foremen

    # When they are normalized
    workers = [normalize("workers", raw, config) for raw in foremen]

    # Then they link to the labor item the tenant mapped, as a required link
    assert {worker.role for worker in workers} == {RecordRef(workflow="roles", source_id="LAB-FOREMAN")}


# --- clients ------------------------------------------------------------------------------------------------


def test_a_client_maps_name_contact_and_address() -> None:
    # Given an active Intacct customer
    config = tenant()

    # When it is normalized and mapped
    record = normalize("clients", customer(), config)
    payload = to_assignar(record, {}, config)

    # Then Assignar gets the name twice, the display contact and its mailing address, and both keys
    assert record == ClientRecord(
        integration_id="intacct:CUSTOMER:300001",
        source_id="C-1001",
        active=True,
        modified_at=datetime(2026, 11, 20, 8, 15, tzinfo=DENVER),
        name="Summit Builders",
        email="ana.lopez@summitbuilders.example.com",
        office_phone="(303) 555-0142",
        mobile="(720) 555-0199",
        address=Address(
            line1="1644 Platte St", line2="Suite 200", city="Denver", state="CO", postcode="80202", country=None
        ),
    )
    assert payload == {
        "name": "Summit Builders",
        "company_name": "Summit Builders",
        "email": "ana.lopez@summitbuilders.example.com",
        "office_phone": "(303) 555-0142",
        "mobile": "(720) 555-0199",
        "address_1": "1644 Platte St",
        "address_2": "Suite 200",
        "city": "Denver",
        "state": "CO",
        "postcode": "80202",
        "external_id": "C-1001",
        "integration_id": "intacct:CUSTOMER:300001",
        "active": True,
    }
    assert links_needed(record) == []


def test_an_inactive_client_is_deactivated_and_emptied_fields_are_cleared() -> None:
    # Given a customer made inactive in Intacct, whose email and mobile were removed
    config = tenant()
    raw = customer(STATUS="inactive", **{"DISPLAYCONTACT.EMAIL1": None, "DISPLAYCONTACT.CELLPHONE": "  "})

    # When it is mapped
    record = normalize("clients", raw, config)
    payload = to_assignar(record, {}, config)

    # Then it is kept, inactive with the reason, and the removed fields are cleared in Assignar
    assert (record.active, record.inactive_reason) == (False, "inactive in Intacct")
    assert (payload["active"], payload["email"], payload["mobile"]) == (False, "", "")


# --- projects -----------------------------------------------------------------------------------------------


def test_a_project_links_to_its_client_and_sends_the_job_site_address() -> None:
    # Given an Intacct project of customer C-1001
    config = tenant()

    # When it is normalized, its links resolved and mapped
    record = normalize("projects", project(), config)
    needed = links_needed(record)
    payload = to_assignar(record, {"client_id": 17}, config)

    # Then the client is found by its Intacct ID and the job site goes in Assignar's address fields
    assert needed == [LinkSpec(field="client_id", target="clients", key="C-1001")]
    assert payload == {
        "name": "Lowry Medical Office Building",
        "client_id": 17,
        "address": "7400 E Lowry Blvd, Denver, CO 80230, United States",
        "suburb": "Denver",
        "state": "CO",
        "postcode": "80230",
        "external_id": "24-0117",
        "integration_id": "intacct:PROJECT:500007",
        "active": True,
    }
    assert (record.start_date, record.end_date) == (date(2026, 3, 1), date(2026, 12, 18))


def test_a_project_is_not_written_before_its_client_is_in_assignar() -> None:
    # Given a project whose client was not found in Assignar
    config = tenant()
    record = normalize("projects", project(), config)

    # When the payload is asked for without the link
    with pytest.raises(UnresolvedLinkError) as caught:
        to_assignar(record, {}, config)

    # Then the error says which record waits on what
    assert str(caught.value) == "PROJECT 500007 (24-0117): client_id: clients C-1001 is not in Assignar yet"


def test_an_internal_project_has_no_client_and_an_inactive_one_waits_on_nothing() -> None:
    # Given a project without customer, and an inactive one with a customer
    config = tenant()
    internal = normalize("projects", project(CUSTOMERID=None), config)
    closed = normalize("projects", project(STATUS="inactive"), config)

    # When their links are listed
    # Then the internal job needs none, and the deactivation may go without its client
    assert internal.client is None and links_needed(internal) == []
    assert "client_id" not in to_assignar(internal, {}, config)
    assert [spec.required for spec in links_needed(closed)] == [False]
    assert to_assignar(closed, {}, config)["active"] is False


# --- work orders --------------------------------------------------------------------------------------------


def test_a_task_becomes_a_work_order_of_its_project_and_client() -> None:
    # Given an Intacct task with its own dates
    config = tenant()

    # When it is normalized and mapped with its project's Assignar ids
    record = normalize("work_orders", task(), config)
    needed = links_needed(record)
    payload = to_assignar(record, {"project_id": 5, "client_id": 17}, config)

    # Then it is keyed by project and task, and the client comes via the synced project
    assert record.source_id == "24-0117/03-300"
    assert needed == [
        LinkSpec(field="project_id", target="projects", key="24-0117"),
        LinkSpec(field="client_id", target="projects", key="24-0117", attribute="client_id"),
    ]
    assert payload == {
        "job_number": "03-300",
        "job_description": "Cast-in-Place Concrete",
        "project_id": 5,
        "client_id": 17,
        "order_owner": 12,
        "start_date": "2026-04-06",
        "end_date": "2026-07-31",
        "integration_id": "intacct:TASK:600031",
        "active": True,
    }


def test_a_task_without_dates_takes_its_projects_then_the_configured_ones() -> None:
    # Given a task without dates, its project with dates, and configured defaults
    config = tenant(
        work_orders={"owner_user_id": 12, "default_start_date": "2026-01-05", "default_end_date": "2026-12-31"}
    )
    undated = task(PBEGINDATE=None, PENDDATE=None)
    job = normalize("projects", project(), config)

    # When it is normalized with and without its project
    with_project = normalize("work_orders", undated, config, project=job)
    without_project = normalize("work_orders", undated, config)
    half = normalize("work_orders", task(PENDDATE=None), config, project=job)

    # Then the project's dates come first, the defaults after, field by field
    assert (with_project.start_date, with_project.end_date) == (date(2026, 3, 1), date(2026, 12, 18))
    assert (without_project.start_date, without_project.end_date) == (date(2026, 1, 5), date(2026, 12, 31))
    assert (half.start_date, half.end_date) == (date(2026, 4, 6), date(2026, 12, 18))


def test_a_work_order_without_any_date_names_the_key_to_set() -> None:
    # Given a task and project without dates, and no defaults configured
    config = tenant()
    record = normalize("work_orders", task(PBEGINDATE=None), config)

    # When the payload is built
    with pytest.raises(MappingError) as caught:
        to_assignar(record, {"project_id": 5, "client_id": 17}, config)

    # Then the error names the record and the key that would fix it
    assert caught.value.field == "workflows.work_orders.default_start_date"
    assert str(caught.value) == (
        "TASK 600031 (24-0117/03-300): workflows.work_orders.default_start_date: "
        "the task and its project have no start date: set this default"
    )


def test_a_work_order_waits_for_its_projects_client() -> None:
    # Given a task whose project is in Assignar but without a client
    config = tenant()
    record = normalize("work_orders", task(), config)

    # When the payload is asked for with only the project found
    with pytest.raises(UnresolvedLinkError) as caught:
        to_assignar(record, {"project_id": 5}, config)

    # Then the error says what the order waits on
    assert str(caught.value) == (
        "TASK 600031 (24-0117/03-300): client_id: projects 24-0117 has no client_id in Assignar (yet)"
    )


def test_an_inactive_work_order_without_dates_can_still_be_deactivated() -> None:
    # Given an inactive task without dates
    config = tenant()
    record = normalize("work_orders", task(STATUS="inactive", PBEGINDATE=None, PENDDATE=None), config)

    # When mapped without any link resolved
    payload = to_assignar(record, {}, config)

    # Then the deactivation goes without dates or links
    assert payload["active"] is False
    assert "start_date" not in payload and "project_id" not in payload


def test_a_work_order_ending_before_it_starts_is_refused() -> None:
    # Given a task whose end date is before its start
    config = tenant()
    record = normalize("work_orders", task(PENDDATE="03/01/2026"), config)

    # When mapped, Then the dates are named
    with pytest.raises(MappingError, match=r"end_date: 2026-03-01 is before the start 2026-04-06"):
        to_assignar(record, {"project_id": 5, "client_id": 17}, config)


def test_work_orders_name_the_owner_key_while_it_is_unset() -> None:
    # Given a tenant without a work-order owner
    config = parse_config({"timezone": "America/Denver"})
    record = normalize("work_orders", task(), config)

    # When the payload is built
    with pytest.raises(MappingError) as caught:
        to_assignar(record, {"project_id": 5, "client_id": 17}, config)

    # Then the key to set is named
    assert caught.value.field == "workflows.work_orders.owner_user_id"
    assert record.owner_user_id is None


def test_a_task_of_an_inactive_project_is_deactivated_with_it() -> None:
    # Given an active task of a project closed in Intacct
    config = tenant()
    job = normalize("projects", project(STATUS="inactive"), config)

    # When the task is normalized with its project
    record = normalize("work_orders", task(), config, project=job)

    # Then it is inactive, saying why
    assert (record.active, record.inactive_reason) == (False, "project 24-0117 is inactive")


def test_a_task_given_another_projects_record_is_a_programming_error() -> None:
    config = tenant()
    other = normalize("projects", project(PROJECTID="25-0001"), config)
    with pytest.raises(ValueError, match="belongs to project 24-0117, not 25-0001"):
        normalize("work_orders", task(), config, project=other)


# --- activities, roles, assets ------------------------------------------------------------------------------


def test_a_standard_task_becomes_an_activity() -> None:
    # Given an Intacct standard task (cost code), active and inactive
    config = tenant()

    # When mapped
    live = to_assignar(normalize("activities", standard_task(), config), {}, config)
    retired = normalize("activities", standard_task(STATUS="inactive"), config)

    # Then the cost code is the external id
    assert live == {
        "name": "Cast-in-Place Concrete",
        "external_id": "03-300",
        "integration_id": "intacct:STANDARDTASK:700008",
        "active": True,
    }
    assert (retired.active, retired.inactive_reason) == (False, "inactive in Intacct")


def test_a_labor_item_is_a_role_and_never_an_asset() -> None:
    # Given a labor item
    config = tenant()

    # When routed by its source
    role, asset = records_from(ITEMS, item(), config)

    # Then it is a live role, and an asset only to deactivate one synced before
    assert isinstance(role, RoleRecord) and isinstance(asset, AssetRecord)
    assert to_assignar(role, {}, config) == {
        "name": "Foreman",
        "external_id": "LAB-FOREMAN",
        "integration_id": "intacct:ITEM:800001",
        "active": True,
    }
    assert (asset.active, asset.inactive_reason) == (False, "GL group Labor is not Equipment")


def test_an_equipment_item_is_an_asset_with_its_description() -> None:
    # Given an equipment item
    config = tenant()

    # When normalized as an asset and as a role
    asset = normalize("assets", equipment(), config)
    role = normalize("roles", equipment(), config)

    # Then the asset carries the extended description; the role is inactive with the reason
    assert to_assignar(asset, {}, config) == {
        "name": "CAT 320 Excavator (E-101)",
        "description": "20-ton hydraulic excavator; unit E-101, model year 2019",
        "external_id": "EQ-EXC-001",
        "integration_id": "intacct:ITEM:800015",
        "active": True,
    }
    assert role.inactive_reason == "GL group Equipment is not Labor"


def test_an_item_in_neither_group_deactivates_both_and_names_are_configurable() -> None:
    # Given a materials item, an item without group, and a tenant whose labor group is "Field Labor"
    config = tenant(roles={"gl_group": "Field Labor"})

    # When routed
    materials = records_from(ITEMS, item(GLGROUP="Materials"), config)
    ungrouped = records_from(ITEMS, item(GLGROUP=None), config)
    renamed = normalize("roles", item(GLGROUP="Field Labor"), config)

    # Then both records are inactive with reasons, and the configured name is the one matched
    assert [(r.workflow, r.active, r.inactive_reason) for r in materials] == [
        ("roles", False, "GL group Materials is not Field Labor"),
        ("assets", False, "GL group Materials is not Equipment"),
    ]
    assert [r.inactive_reason for r in ungrouped] == ["no GL group, not Field Labor", "no GL group, not Equipment"]
    assert renamed.active


def test_a_disabled_workflow_gets_no_records() -> None:
    # Given assets disabled
    config = tenant(assets={"enabled": False})

    # When an equipment item is routed
    records = records_from(ITEMS, equipment(), config)

    # Then only the role decision comes back (a disabled workflow is left alone in Assignar)
    assert [r.workflow for r in records] == ["roles"]
    assert records_from(STANDARD_TASKS, standard_task(), tenant(activities={"enabled": False})) == []


# --- workers ------------------------------------------------------------------------------------------------


def test_an_employee_becomes_a_worker_with_role_user_type_and_employment_type() -> None:
    # Given a field foreman
    config = tenant()

    # When normalized, its links listed and resolved, and mapped
    record = normalize("workers", employee(), config)
    needed = links_needed(record)
    payload = to_assignar(record, {"user_type_id": 2, "employment_type": 1, "task_id": 97}, config)

    # Then the employee id is the key, the mobile is the contact number, and the role is the mapped labor item
    assert needed == [
        LinkSpec(field="user_type_id", target="user_types", key="worker"),
        LinkSpec(field="employment_type", target="employment_types", key="Full Time"),
        LinkSpec(field="task_id", target="roles", key="LAB-FOREMAN"),
    ]
    assert payload == {
        "employee_id": "E1001",
        "integration_id": "intacct:EMPLOYEE:900001",
        "first_name": "Maria",
        "last_name": "Garcia",
        "email": "maria.garcia@peakbuilders.example.com",
        "contact": "(720) 555-0102",
        "dob": "1988-07-14",
        "address": "1200 Federal Blvd, Apt 4",
        "suburb": "Denver",
        "state": "CO",
        "postcode": "80204",
        "user_type_id": 2,
        "employment_type": 1,
        "tasks": [{"task_id": 97}],
        "active": True,
    }


def test_a_position_that_is_not_mapped_is_a_guessed_optional_role() -> None:
    # Given a carpenter (position = labor item), a project manager (no such item) and someone without position
    config = tenant()
    carpenter = normalize("workers", employee(EMPPOSITIONID="LAB-CARP-JM"), config)
    manager = normalize("workers", employee(EMPPOSITIONID="PM", **{"CONTACT.CELLPHONE": None}), config)
    nobody = normalize("workers", employee(EMPPOSITIONID=None, BIRTHDATE=None), config)

    # When mapped without the role found in Assignar
    payload = to_assignar(manager, {"user_type_id": 2, "employment_type": 1}, config)

    # Then the guessed role is optional, the worker is written without it, on the office phone
    assert carpenter.role == RecordRef(workflow="roles", source_id="LAB-CARP-JM", required=False)
    assert [spec.required for spec in links_needed(manager) if spec.field == "task_id"] == [False]
    assert "tasks" not in payload and payload["contact"] == "(303) 555-0101"
    assert nobody.role is None and "dob" not in to_assignar(nobody, {"user_type_id": 2, "employment_type": 1}, config)


def test_a_mapped_role_must_be_in_assignar_before_the_worker_is_written() -> None:
    config = tenant()
    record = normalize("workers", employee(), config)
    with pytest.raises(UnresolvedLinkError, match=r"EMPLOYEE 900001 \(E1001\): task_id: roles LAB-FOREMAN"):
        to_assignar(record, {"user_type_id": 2, "employment_type": 1}, config)


@pytest.mark.parametrize(
    ("workers", "fields", "reason"),
    [
        ({"departments": ["FIELD", "SHOP"]}, {"DEPARTMENTID": "OFFICE"}, "department OFFICE not in [FIELD, SHOP]"),
        ({"departments": ["FIELD"]}, {"DEPARTMENTID": None}, "department (none) not in [FIELD]"),
        ({"earning_types": ["Hourly"]}, {"EARNINGTYPENAME": "Salary"}, "earning type Salary not in [Hourly]"),
        ({"employee_types": ["Full Time"]}, {"EMPLOYEETYPE": "Seasonal"}, "employee type Seasonal not in [Full Time]"),
    ],
)
def test_an_employee_outside_a_filter_is_deactivated_saying_which(
    workers: dict[str, object], fields: dict[str, str | None], reason: str
) -> None:
    # Given a tenant filtering workers, and an employee outside the filter
    config = tenant(workers=workers)

    # When normalized
    record = normalize("workers", employee(**fields), config)

    # Then it is inactive with the filter named, and an employee inside the filter stays active
    assert (record.active, record.inactive_reason) == (False, f"left the filter: {reason}")
    assert normalize("workers", employee(), config).active


def test_inactive_in_intacct_is_the_reason_even_outside_the_filter() -> None:
    config = tenant(workers={"departments": ["FIELD"]})
    record = normalize("workers", employee(STATUS="inactive", DEPARTMENTID="OFFICE"), config)
    assert record.inactive_reason == "inactive in Intacct"


def test_user_and_employment_type_names_are_configurable() -> None:
    config = tenant(workers={"user_type": "Field Worker", "employment_type": "Casual"})
    record = normalize("workers", employee(EMPPOSITIONID=None), config)
    assert [(spec.target, spec.key) for spec in links_needed(record)] == [
        ("user_types", "Field Worker"),
        ("employment_types", "Casual"),
    ]


def test_an_inactive_worker_is_deactivated_without_waiting_on_any_link() -> None:
    config = tenant()
    record = normalize("workers", employee(STATUS="inactive"), config)
    assert not any(spec.required for spec in links_needed(record))
    assert to_assignar(record, {}, config)["active"] is False


# --- records that cannot be mapped --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workflow", "raw", "message"),
    [
        ("workers", employee(**{"CONTACT.FIRSTNAME": None}), "EMPLOYEE 900001 (E1001): CONTACT.FIRSTNAME: is empty"),
        ("workers", employee(BIRTHDATE="1988-07-14"), "EMPLOYEE 900001 (E1001): BIRTHDATE: expected an Intacct date"),
        ("clients", customer(NAME=""), "CUSTOMER 300001 (C-1001): NAME: is empty"),
        ("clients", customer(STATUS="T"), "CUSTOMER 300001 (C-1001): STATUS: expected active or inactive, got 'T'"),
        ("clients", customer(CUSTOMERID=None), "CUSTOMER 300001: CUSTOMERID: is empty"),
        ("projects", project(RECORDNO="n/a"), "PROJECT n/a (24-0117): RECORDNO: expected a number, got 'n/a'"),
        ("projects", project(ENDDATE="31/12/2026"), "PROJECT 500007 (24-0117): ENDDATE: expected an Intacct date"),
        ("work_orders", task(PROJECTID=None), "TASK 600031 (03-300): PROJECTID: is empty"),
        ("work_orders", task(PBEGINDATE="April 6"), "TASK 600031 (03-300): PBEGINDATE: expected an Intacct date"),
        ("activities", standard_task(WHENMODIFIED="yesterday"), "STANDARDTASK 700008 (03-300): WHENMODIFIED: expected"),
        ("roles", item(NAME=None), "ITEM 800001 (LAB-FOREMAN): NAME: is empty"),
    ],
)
def test_a_record_that_does_not_fit_names_itself_and_the_field(
    workflow: str, raw: dict[str, object], message: str
) -> None:
    # Given an Intacct record with one field that cannot be mapped
    config = tenant()

    # When it is normalized
    with pytest.raises(MappingError) as caught:
        normalize(workflow, raw, config)  # type: ignore[call-overload]  # workflow names from the table above

    # Then the error names the object, RECORDNO, ID and the field
    assert str(caught.value).startswith(message)


def test_a_value_that_is_not_text_is_refused_naming_the_field() -> None:
    raw = customer(NAME=None)
    raw["NAME"] = {"#text": "Summit"}
    with pytest.raises(MappingError, match=r"NAME: expected text, got dict"):
        normalize("clients", raw, tenant())


def test_nested_contact_parts_read_like_flat_ones() -> None:
    # Given an employee whose contact came back nested instead of as dotted names
    flat = employee()
    nested = {key: value for key, value in flat.items() if not key.startswith("CONTACT.")}
    nested["CONTACT"] = {
        "FIRSTNAME": "Maria",
        "LASTNAME": "Garcia",
        "EMAIL1": "maria.garcia@peakbuilders.example.com",
        "PHONE1": "(303) 555-0101",
        "CELLPHONE": "(720) 555-0102",
        "MAILADDRESS": {
            "ADDRESS1": "1200 Federal Blvd",
            "ADDRESS2": "Apt 4",
            "CITY": "Denver",
            "STATE": "CO",
            "ZIP": "80204",
            "COUNTRY": "United States",
        },
    }

    # When both are normalized, Then they are the same worker
    config = tenant()
    assert normalize("workers", nested, config) == normalize("workers", flat, config)


def test_modified_at_is_read_in_the_company_zone() -> None:
    # Given the same record read by tenants in two zones
    denver = normalize("clients", customer(), tenant())
    utc = normalize("clients", customer(), TenantConfig())

    # Then WHENMODIFIED is the company-local wall time in each
    assert denver.modified_at == datetime(2026, 11, 20, 8, 15, tzinfo=DENVER)
    assert utc.modified_at is not None and utc.modified_at.utcoffset() is not None
    assert denver.modified_at != utc.modified_at


def test_sources_route_to_their_workflows() -> None:
    # Given one record per source
    config = tenant()
    routed = {
        source.object_name: [r.workflow for r in records_from(source, raw, config)]
        for source, raw in (
            (CUSTOMERS, customer()),
            (PROJECTS, project()),
            (TASKS, task()),
            (STANDARD_TASKS, standard_task()),
            (ITEMS, item()),
            (EMPLOYEES, employee()),
        )
    }

    # Then each object feeds the workflows sources.py names
    assert routed == {
        "CUSTOMER": ["clients"],
        "PROJECT": ["projects"],
        "TASK": ["work_orders"],
        "STANDARDTASK": ["activities"],
        "ITEM": ["roles", "assets"],
        "EMPLOYEE": ["workers"],
    }
    assert isinstance(records_from(PROJECTS, project(), config)[0], ProjectRecord)
    assert isinstance(records_from(TASKS, task(), config)[0], WorkOrderRecord)
    assert isinstance(records_from(EMPLOYEES, employee(), config)[0], WorkerRecord)


def _without(record: dict[str, str | None], *prefixes: str) -> dict[str, str | None]:
    """The record as a company that does not offer these fields returns it: the fields are absent, not empty."""
    return {name: value for name, value in record.items() if not name.startswith(prefixes)}


def test_fields_the_company_does_not_offer_are_left_alone_in_assignar_not_cleared() -> None:
    # Given a worker from a company whose EMPLOYEE offers no mobile, phone or address fields
    config = parse_config({"timezone": "America/Denver"})
    raw = _without(employee(), "CONTACT.CELLPHONE", "CONTACT.PHONE1", "CONTACT.MAILADDRESS.")

    # When mapped
    worker = normalize("workers", raw, config)
    payload = to_assignar(worker, {"user_type_id": 2, "employment_type": 1}, config)

    # Then the record says what Intacct could not tell, and the payload leaves those Assignar fields out
    assert worker.not_offered == ("address", "contact", "postcode", "state", "suburb")
    assert not {"contact", "address", "suburb", "state", "postcode"} & set(payload)
    assert payload["email"] == "maria.garcia@peakbuilders.example.com"


def test_an_empty_field_the_company_offers_still_clears_assignar() -> None:
    # Given the same worker with the fields offered but empty in Intacct
    config = parse_config({"timezone": "America/Denver"})
    raw = employee(**{"CONTACT.CELLPHONE": None, "CONTACT.PHONE1": None, "CONTACT.MAILADDRESS.CITY": None})

    # When mapped, Intacct's empty value is written (clearing a field in Intacct clears it in Assignar)
    worker = normalize("workers", raw, config)
    payload = to_assignar(worker, {"user_type_id": 2, "employment_type": 1}, config)
    assert worker.not_offered is None
    assert payload["contact"] == "" and payload["suburb"] == ""


def test_a_project_without_an_offered_ship_to_contact_keeps_its_assignar_address() -> None:
    # Given a project from a company whose PROJECT offers no ship-to contact (so the pull adds no address)
    config = parse_config({"timezone": "America/Denver"})
    record = normalize("projects", _without(project(), "SHIPTO."), config)

    # Then nothing of the address is written
    payload = to_assignar(record, {"client_id": 5}, config)
    assert record.not_offered == ("address", "postcode", "state", "suburb")
    assert not {"address", "suburb", "state", "postcode"} & set(payload)


def test_a_company_lacking_one_part_of_an_address_leaves_that_part_alone_and_writes_the_rest() -> None:
    # Given a worker from a company whose EMPLOYEE offers no ZIP, but the rest of the address
    config = parse_config({"timezone": "America/Denver"})
    worker = normalize("workers", _without(employee(), "CONTACT.MAILADDRESS.ZIP"), config)

    # Then the postcode is left as Assignar has it, and the street, suburb and state are written
    payload = to_assignar(worker, {"user_type_id": 2, "employment_type": 1}, config)
    assert worker.not_offered == ("postcode",)
    assert "postcode" not in payload
    assert (payload["address"], payload["suburb"], payload["state"]) == ("1200 Federal Blvd, Apt 4", "Denver", "CO")


def test_a_worker_with_a_phone_but_no_mobile_offered_gets_the_phone() -> None:
    config = parse_config({"timezone": "America/Denver"})
    worker = normalize("workers", _without(employee(), "CONTACT.CELLPHONE"), config)
    assert worker.not_offered is None
    assert to_assignar(worker, {"user_type_id": 2, "employment_type": 1}, config)["contact"] == "(303) 555-0101"


def test_records_of_companies_offering_every_field_hash_as_before() -> None:
    # The hash of a record with nothing missing must not change with this version: otherwise every record
    # of every tenant would be written to Assignar again after the upgrade.
    import hashlib
    import json

    config = parse_config({"timezone": "America/Denver"})
    worker = normalize("workers", employee(), config)
    content = worker.model_dump(mode="json", exclude={"inactive_reason", "modified_at", "not_offered"})
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert worker.content_hash() == hashlib.sha256(canonical.encode("ascii")).hexdigest()
    assert worker.model_copy(update={"not_offered": ("contact",)}).content_hash() != worker.content_hash()
    # and its queue message is what a consumer of the previous version reads: no new key in the body
    body = SyncMessage.upsert(worker, run_id="r", pulled_at=datetime(2026, 12, 3, tzinfo=ZoneInfo("UTC"))).to_body()
    assert "not_offered" not in body
