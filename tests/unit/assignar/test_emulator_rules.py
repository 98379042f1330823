"""The emulated tenant's rules, without HTTP: constraints, links, partial updates, lists, timesheet processing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from intacct_assignar_dev.emulators.assignar import EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.assignar.query import QueryError
from intacct_assignar_dev.emulators.assignar.store import ApiError, TenantState


@pytest.fixture
def tenant() -> TenantState:
    return TenantState()


def client_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Acme",
        "company_name": "Acme Pty",
        "external_id": "C-1",
        "integration_id": "customer:1",
    } | overrides


def refusal(call: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as raised:
        call(*args)
    return raised.value.status, raised.value.message


def test_a_create_answers_with_what_was_sent_plus_id_defaults_and_audit(tenant: TenantState) -> None:
    created = tenant.create("clients", client_payload())
    assert created["id"] > 0
    assert created["active"] is True
    assert created["modified_by"]
    assert "client" not in created


@pytest.mark.parametrize("key", ["external_id", "integration_id"])
def test_external_and_integration_ids_are_unique(tenant: TenantState, key: str) -> None:
    tenant.create("clients", client_payload())
    other = client_payload(external_id="C-2", integration_id="customer:2") | {key: client_payload()[key]}
    assert refusal(tenant.create, "clients", other) == (400, f"[400] Unique Constraint Error - {key}")


def test_an_email_is_unique_among_active_users_of_one_type(tenant: TenantState) -> None:
    # Given an active worker with an email
    worker = {"user_type_id": 2, "first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    first = tenant.create("users", worker)

    # Then another active worker cannot take it, an office user can, and so can anyone once the first is inactive
    assert refusal(tenant.create, "users", worker | {"email": "ANN@example.com"})[1].endswith("email")
    tenant.create("users", worker | {"user_type_id": 1})
    tenant.update("users", first["id"], {"active": False})
    tenant.create("users", worker)


def test_links_must_point_at_existing_records(tenant: TenantState) -> None:
    assert refusal(tenant.create, "projects", {"name": "Depot", "client_id": 999}) == (
        400,
        "[400] Foreign Key Constraint Error",
    )
    role = {"user_type_id": 2, "first_name": "A", "last_name": "B", "tasks": [{"task_id": 5}]}
    assert refusal(tenant.create, "users", role)[1] == "[400] Foreign Key Constraint Error"
    assert refusal(tenant.create, "users", role | {"user_type_id": 9, "tasks": []})[1].startswith("[400] Foreign")


@pytest.mark.parametrize(
    ("table", "payload", "message"),
    [
        ("clients", {"name": "Acme"}, "[400] Missing required field: company_name"),
        ("orders", {"client_id": 1}, "[400] Missing required field: order_owner, start_date, end_date"),
        ("tasks", {}, "[400] Missing payload."),
        ("tasks", {"name": "Lab", "colour": "red"}, "[400] Unknown field: colour"),
        ("tasks", {"name": 5}, "[400] Invalid value for name"),
        ("activities", {"name": "Dig", "billable": True}, "[400] Invalid value for billable"),
    ],
)
def test_payloads_are_checked_as_assignar_does(
    tenant: TenantState, table: str, payload: dict[str, Any], message: str
) -> None:
    assert refusal(tenant.create, table, payload) == (400, message)


def test_a_put_changes_only_the_fields_sent(tenant: TenantState) -> None:
    created = tenant.create("clients", client_payload(city="Denver"))
    tenant.update("clients", created["id"], {"active": False})
    record = tenant.get("clients", created["id"])
    assert (record["active"], record["city"], record["name"]) == (False, "Denver", "Acme")


def test_a_put_cannot_take_another_records_key(tenant: TenantState) -> None:
    tenant.create("clients", client_payload())
    second = tenant.create("clients", client_payload(external_id="C-2", integration_id="customer:2"))
    assert refusal(tenant.update, "clients", second["id"], {"external_id": "C-1"})[0] == 400


def test_missing_records_are_404_in_assignars_words(tenant: TenantState) -> None:
    assert refusal(tenant.get, "clients", 42) == (404, "[404] Object Not Found - Client (id:42)")
    assert refusal(tenant.update, "tasks", 42, {"name": "x"}) == (404, "[404] Object Not Found - Task (id:42)")


def test_lists_filter_sort_and_page(tenant: TenantState) -> None:
    for n in range(1, 8):
        tenant.create("tasks", {"name": f"Role {n}", "external_id": f"R-{n}", "active": n % 2 == 1})
    rows, total = tenant.query(
        "tasks", {"active": "true", "sort": "-external_id", "page": "2", "page_size": "2"}, max_page_size=100
    )
    assert total == 4
    assert [row["external_id"] for row in rows] == ["R-3", "R-1"]
    rows, _ = tenant.query("tasks", {"external_id__in": "R-2,R-5,R-9"}, max_page_size=100)
    assert sorted(row["external_id"] for row in rows) == ["R-2", "R-5"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"colour": "red"}, "[400] Unknown field: colour"),
        ({"name__like": "x"}, "[400] Unsupported filter operator: like"),
        ({"page_size": "5000"}, "[400] page_size must be at most 1000"),
        ({"page": "0", "page_size": "10"}, "[400] page must be a positive integer"),
        ({"sort": "colour"}, "[400] Unknown sort field: colour"),
    ],
)
def test_bad_list_queries_are_refused(tenant: TenantState, params: dict[str, str], message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        tenant.query("tasks", params, max_page_size=1000)


def seeded_timesheet(tenant: TenantState, status: str = "SUBMITTED") -> int:
    client = tenant.create("clients", client_payload())
    project = tenant.create("projects", {"name": "Depot", "client_id": client["id"]})
    worker = tenant.create("users", {"user_type_id": 2, "first_name": "A", "last_name": "B", "employee_id": "E1"})
    activity = tenant.create("activities", {"name": "Dig", "external_id": "DIG"})
    asset = tenant.create("assets", {"name": "Dozer", "external_id": "EQ-1"})
    return tenant.create_timesheet(
        worker_id=worker["id"],
        project_id=project["id"],
        work_date=date(2026, 11, 23),
        labor=[LaborEntry(activity["id"], 240), LaborEntry(activity["id"], 180)],
        equipment=[EquipmentEntry(asset["id"], 120)],
        status=status,
    )


def test_a_timesheet_shows_its_labor_and_equipment(tenant: TenantState) -> None:
    timesheet = tenant.get_timesheet(seeded_timesheet(tenant))
    assert timesheet["total_time"] == "07:00"
    assert [entry["duration"] for entry in timesheet["activity_entries"]] == [240, 180]
    assert timesheet["asset_entries"][0]["asset"]["external_id"] == "EQ-1"
    assert timesheet["user"]["employee_id"] == "E1"
    assert timesheet["client"] == {"name": "Acme", "external_id": "C-1"}


def test_only_an_approved_unprocessed_timesheet_can_be_processed(tenant: TenantState) -> None:
    # Given a submitted timesheet
    timesheet_id = seeded_timesheet(tenant)

    # Then processing is refused until it is approved, and refused again once done
    assert refusal(tenant.process_timesheet, timesheet_id) == (
        400,
        "[400] Timesheet must be completed before processing",
    )
    tenant.set_timesheet_status(timesheet_id, "APPROVED_WITH_PAY_RATES")
    tenant.process_timesheet(timesheet_id)
    assert tenant.get_timesheet(timesheet_id)["processed_at"]
    assert refusal(tenant.process_timesheet, timesheet_id) == (400, "[400] Timesheet already processed")
    assert refusal(tenant.process_timesheet, 1) == (404, "[404] Object Not Found - Timesheet (id:1)")


def test_unprocessed_approved_timesheets_are_found_by_filter(tenant: TenantState) -> None:
    approved = seeded_timesheet(tenant, status="APPROVED")
    rows, _ = tenant.query_timesheets(
        {"status__in": "APPROVED,APPROVED_WITH_PAY_RATES", "processed_at__is": "null"}, max_page_size=100
    )
    assert [row["id"] for row in rows] == [approved]
    tenant.process_timesheet(approved)
    rows, _ = tenant.query_timesheets({"processed_at__is": "null"}, max_page_size=100)
    assert rows == []


def test_a_time_filter_compares_points_in_time_whatever_the_text_looks_like() -> None:
    # Given a timesheet approved at 16:00:05.250 UTC, as Assignar writes it ("2026-11-20T16:00:05.250Z")
    now = datetime(2026, 11, 20, 16, 0, 5, 250000, tzinfo=UTC)
    tenant = TenantState(clock=lambda: now)
    approved = seeded_timesheet(tenant, status="APPROVED")
    assert tenant.get_timesheet(approved)["modified_time"] == "2026-11-20T16:00:05.250Z"

    def found(**params: str) -> list[int]:
        rows, _ = tenant.query_timesheets(params, max_page_size=100)
        return [row["id"] for row in rows]

    # Then the same moment written with an offset, or in another zone, compares as that moment, not as text
    assert found(modified_time__gte="2026-11-20T16:00:05.250+00:00") == [approved]
    assert found(modified_time__gte="2026-11-20T09:00:05-07:00") == [approved]
    assert found(modified_time__gt="2026-11-20T09:00:05.251-07:00") == []
    assert found(modified_time__lt="2026-11-20T16:00:06Z") == [approved]
    assert found(modified_time__between="2026-11-20,2026-11-21") == [approved]
    # ... and a value that is no time at all is refused, not compared as text
    with pytest.raises(QueryError, match="Invalid date"):
        found(modified_time__gte="yesterday")


def test_a_reopened_timesheet_shows_its_new_entries_and_can_be_processed_again(tenant: TenantState) -> None:
    # Given a timesheet that was approved and processed
    timesheet_id = seeded_timesheet(tenant, status="APPROVED")
    tenant.process_timesheet(timesheet_id)
    before = tenant.get_timesheet(timesheet_id)
    activity = tenant.create("activities", {"name": "Backfill", "external_id": "FILL"})
    asset = tenant.create("assets", {"name": "Loader", "external_id": "EQ-2"})

    # When an admin reopens it with other labor and equipment, and it is approved again
    tenant.reopen_timesheet(
        timesheet_id,
        labor=[LaborEntry(activity["id"], 300)],
        equipment=[EquipmentEntry(asset["id"], 90, uses_whole_shift=True)],
    )
    reopened = tenant.get_timesheet(timesheet_id)
    tenant.set_timesheet_status(timesheet_id, "APPROVED")
    timesheet = tenant.get_timesheet(timesheet_id)

    # Then it shows the new entries and times, unprocessed, and processing works again
    assert reopened["status"] == "SUBMITTED"
    assert "completed_at" not in reopened
    assert [(entry["activity"]["external_id"], entry["duration"]) for entry in timesheet["activity_entries"]] == [
        ("FILL", 300)
    ]
    assert [(entry["asset"]["external_id"], entry["duration"]) for entry in timesheet["asset_entries"]] == [
        ("EQ-2", 90)
    ]
    assert timesheet["asset_entries"][0]["uses_whole_shift"] is True
    assert not {entry["id"] for entry in timesheet["activity_entries"]} & {
        entry["id"] for entry in before["activity_entries"]
    }
    assert (timesheet["start_datetime"], timesheet["end_datetime"]) == (
        "2026-11-23T07:00:00.000Z",
        "2026-11-23T12:00:00.000Z",
    )
    assert (timesheet["end_time"], timesheet["total_time"]) == ("12:00", "05:00")
    assert "processed_at" not in timesheet
    assert timesheet["status"] == "APPROVED"
    tenant.process_timesheet(timesheet_id)
    assert tenant.get_timesheet(timesheet_id)["processed_at"]


def test_reopening_without_entries_keeps_them(tenant: TenantState) -> None:
    # Given a processed timesheet
    timesheet_id = seeded_timesheet(tenant, status="APPROVED")
    tenant.process_timesheet(timesheet_id)
    before = tenant.get_timesheet(timesheet_id)

    # When it is reopened with new labor only
    activity_id = before["activity_entries"][0]["activity"]["id"]
    tenant.reopen_timesheet(timesheet_id, labor=[LaborEntry(activity_id, 60)])
    after = tenant.get_timesheet(timesheet_id)

    # Then the equipment is untouched and the times follow the new labor
    assert after["asset_entries"] == before["asset_entries"]
    assert [entry["duration"] for entry in after["activity_entries"]] == [60]
    assert after["total_time"] == "01:00"


def test_reopening_refuses_unknown_timesheets_statuses_and_records(tenant: TenantState) -> None:
    # Given a processed timesheet
    timesheet_id = seeded_timesheet(tenant, status="APPROVED")
    tenant.process_timesheet(timesheet_id)
    before = tenant.get_timesheet(timesheet_id)

    # Then an unknown timesheet is a 404 in Assignar's words, and a bad status or activity changes nothing
    assert refusal(tenant.reopen_timesheet, 1) == (404, "[404] Object Not Found - Timesheet (id:1)")
    with pytest.raises(ValueError, match="unknown timesheet status"):
        tenant.reopen_timesheet(timesheet_id, status="REOPENED")
    with pytest.raises(ApiError, match=r"Activity \(id:4242\)"):
        tenant.reopen_timesheet(timesheet_id, labor=[LaborEntry(4242, 60)])
    assert tenant.get_timesheet(timesheet_id) == before
