"""From an Assignar timesheet to Intacct documents: hours, weeks, dimensions, and refusals that name the record."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from intacct_assignar.assignar.models import Timesheet
from intacct_assignar.config import Timesheets
from intacct_assignar.outbound.documents import (
    UnpostableError,
    build_posting,
    controlid,
    hours,
    labelled,
    render,
    revision_of,
    week_start,
)


def timesheet(**changes: Any) -> Timesheet:
    data: dict[str, Any] = {
        "id": 812,
        "status": "APPROVED",
        "user_id": 5,
        "project_id": 20,
        "task_id": 30,
        "order_id": 40,
        "start_datetime": "2026-11-18T07:00:00.000Z",
        "total_time": "08:00",
        "user": {"user_id": 5, "full_name": "Ana Ruiz", "employee_id": "E-1005"},
        "project": {"name": "Depot 4", "external_id": "P-2001"},
        "task": {"name": "Carpenter", "external_id": "LAB-CARP"},
        "order": {"id": 40, "job_number": "T-01", "job_description": "Framing"},
        "activity_entries": [
            {"id": 1, "duration": 240, "activity": {"id": 7, "name": "Formwork", "external_id": "03-100"}},
            {"id": 2, "duration": 200, "activity": {"id": 8, "name": "Pour", "external_id": "03-300"}},
        ],
        "asset_entries": [{"id": 3, "duration": 180, "asset": {"id": 9, "name": "Excavator", "external_id": "EQ-EX1"}}],
    }
    data.update(changes)
    return Timesheet.model_validate(data)


def test_labor_becomes_one_timesheet_with_an_entry_per_activity() -> None:
    posting = build_posting(timesheet(), Timesheets(), entity_id="E100")
    assert posting.labor is not None
    fields = posting.labor.fields
    assert fields["EMPLOYEEID"] == "E-1005"
    assert fields["BEGINDATE"] == date(2026, 11, 15)
    assert fields["STATE"] == "Submitted"
    assert fields["DESCRIPTION"] == labelled(812, posting.labor.revision)
    entries = fields["TIMESHEETENTRIES"]["TIMESHEETENTRY"]
    assert [e["QTY"] for e in entries] == [Decimal("4.00"), Decimal("3.33")]
    assert {(e["PROJECTID"], e["TASKID"], e["ITEMID"], e["COSTTYPEID"], e["LOCATIONID"]) for e in entries} == {
        ("P-2001", "T-01", "LAB-CARP", "LAB", "E100")
    }
    assert [e["NOTES"] for e in entries] == ["Activity: Formwork", "Activity: Pour"]
    assert "DEPARTMENTID" not in entries[0] and "TIMETYPE" not in entries[0]


def test_equipment_becomes_a_purchasing_transaction_by_default() -> None:
    posting = build_posting(timesheet(), Timesheets())
    assert posting.equipment is not None
    body = posting.equipment.fields
    assert list(body) == ["transactiontype", "datecreated", "vendorid", "referenceno", "message", "potransitems"]
    assert body["transactiontype"] == "Equipment Usage" and body["vendorid"] == "V-INTERNAL"
    assert body["datecreated"] == {"year": "2026", "month": "11", "day": "18"}
    assert revision_of(812, body["referenceno"]) == posting.equipment.revision
    assert revision_of(812, body["message"]) == posting.equipment.revision
    [line] = body["potransitems"]["potransitem"]
    assert line == {
        "itemid": "EQ-EX1",
        "quantity": Decimal("3.00"),
        "memo": f"Excavator, Ana Ruiz; {labelled(812, posting.equipment.revision)}",
        "projectid": "P-2001",
        "taskid": "T-01",
        "costtypeid": "EQP",
    }
    assert posting.references.vendor == "V-INTERNAL"
    assert posting.references.items == {"LAB-CARP", "EQ-EX1"}


def test_equipment_as_timesheet_lines_or_off() -> None:
    lines = build_posting(timesheet(), Timesheets(equipment_mode="timesheet"))
    assert lines.equipment is None and lines.labor is not None
    last = lines.labor.fields["TIMESHEETENTRIES"]["TIMESHEETENTRY"][-1]
    assert (last["ITEMID"], last["QTY"], last["COSTTYPEID"]) == ("EQ-EX1", Decimal("3.00"), "EQP")
    off = build_posting(timesheet(), Timesheets(equipment_mode="off"))
    assert off.equipment is None and off.references.items == {"LAB-CARP"}


def test_without_activity_entries_the_shift_total_is_one_entry() -> None:
    posting = build_posting(timesheet(activity_entries=[], total_time="07:45"), Timesheets())
    assert posting.labor is not None
    [entry] = posting.labor.fields["TIMESHEETENTRIES"]["TIMESHEETENTRY"]
    assert entry["QTY"] == Decimal("7.75")


def test_without_a_work_order_there_is_no_task_and_so_no_cost_type() -> None:
    posting = build_posting(timesheet(order_id=None, order=None), Timesheets())
    assert posting.labor is not None
    entry = posting.labor.fields["TIMESHEETENTRIES"]["TIMESHEETENTRY"][0]
    assert "TASKID" not in entry and "COSTTYPEID" not in entry
    assert posting.references.tasks == frozenset()


def test_configured_dimensions_and_time_type_are_on_every_entry() -> None:
    settings = Timesheets(department_id="FIELD", location_id="DEN", time_type="Regular", state="Draft")
    posting = build_posting(timesheet(), settings, entity_id="E100")
    assert posting.labor is not None
    assert posting.labor.fields["STATE"] == "Draft"
    for entry in posting.labor.fields["TIMESHEETENTRIES"]["TIMESHEETENTRY"]:
        assert (entry["DEPARTMENTID"], entry["LOCATIONID"], entry["TIMETYPE"]) == ("FIELD", "DEN", "Regular")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"user": {"user_id": 5, "full_name": "Ana Ruiz", "employee_id": None}}, "worker Ana Ruiz (Assignar user 5)"),
        ({"project": {"name": "Depot 4", "external_id": ""}}, "project Depot 4 (Assignar 20)"),
        ({"task": {"name": "Carpenter"}}, "role Carpenter (Assignar 30)"),
        ({"asset_entries": [{"duration": 60, "asset": {"id": 9, "name": "Skid steer"}}]}, "asset Skid steer"),
        ({"order": {"id": 40}}, "work order ? (Assignar 40)"),
        ({"order": {"id": 40, "job_description": "Framing"}}, "work order Framing (Assignar 40)"),
    ],
)
def test_a_record_without_an_intacct_id_is_refused_by_name(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(UnpostableError) as refused:
        build_posting(timesheet(**changes), Timesheets())
    assert words in refused.value.reason and "no Intacct ID" in refused.value.reason


def test_the_work_date_is_read_as_written_not_converted() -> None:
    # 23:30 local on the 21st (a Saturday) stays on Saturday's week, whatever the zone.
    posting = build_posting(timesheet(start_datetime="2026-11-21T23:30:00.000Z"), Timesheets())
    assert posting.work_date == date(2026, 11, 21)
    assert posting.labor is not None and posting.labor.fields["BEGINDATE"] == date(2026, 11, 15)


def test_changed_content_changes_the_revision_and_the_control_id() -> None:
    first = build_posting(timesheet(), Timesheets())
    same = build_posting(timesheet(), Timesheets())
    changed = build_posting(timesheet(total_time="09:00", activity_entries=[]), Timesheets())
    assert first.content_hash == same.content_hash
    assert first.labor is not None and changed.labor is not None
    assert first.labor.revision != changed.labor.revision
    assert first.equipment == changed.equipment
    assert controlid(812, "labor", first.labor.revision, 1) != controlid(812, "labor", changed.labor.revision, 1)
    # The same content written again (after a change back) is a new write: a new generation, a new ID.
    assert controlid(812, "labor", first.labor.revision, 1) != controlid(812, "labor", first.labor.revision, 3)
    assert len(controlid(10**12, "labor-update", first.labor.revision, 10**6)) <= 256


def test_descriptions_of_other_timesheets_are_not_taken_for_ours() -> None:
    assert revision_of(81, labelled(812, "abc")) is None
    assert revision_of(812, "Assignar timesheet 812") is None
    assert revision_of(812, labelled(812, "abc")) == "abc"
    # The marker may follow other words (a message, a line memo), never run on from a longer number.
    assert revision_of(812, f"Equipment time from {labelled(812, 'abc')}") == "abc"
    assert revision_of(812, f"Excavator, Ana; {labelled(812, 'abc')}") == "abc"
    assert revision_of(12, f"Equipment time from {labelled(812, 'abc')}") is None
    assert revision_of(812, "Assignar timesheet 812 (rev abc") is None


@pytest.mark.parametrize(
    ("day", "first", "start"),
    [
        (date(2026, 11, 18), "sunday", date(2026, 11, 15)),
        (date(2026, 11, 15), "sunday", date(2026, 11, 15)),
        (date(2026, 11, 15), "monday", date(2026, 11, 9)),
        (date(2026, 11, 21), "saturday", date(2026, 11, 21)),
    ],
)
def test_week_start(day: date, first: str, start: date) -> None:
    assert week_start(day, first) == start


def test_hours_add_up_to_the_rounded_total() -> None:
    thirds = hours([20, 20, 20])
    assert sorted(thirds) == [Decimal("0.33"), Decimal("0.33"), Decimal("0.34")] and sum(thirds) == 1
    assert hours([]) == []


@given(st.lists(st.integers(min_value=1, max_value=24 * 60), min_size=1, max_size=12))
def test_hours_always_add_up_and_stay_within_a_hundredth(minutes: list[int]) -> None:
    quantities = hours(minutes)
    total = (Decimal(sum(minutes)) / 60).quantize(Decimal("0.01"))
    assert sum(quantities) == total
    for quantity, each in zip(quantities, minutes, strict=True):
        assert abs(quantity - Decimal(each) / 60) < Decimal("0.011")


def test_a_dry_run_renders_the_xml_intacct_would_receive() -> None:
    posting = build_posting(timesheet(), Timesheets())
    assert posting.labor is not None and posting.equipment is not None
    labor = render("TIMESHEET", posting.labor.fields)
    assert "<create>" in labor and "<BEGINDATE>11/15/2026</BEGINDATE>" in labor and "<QTY>3.33</QTY>" in labor
    assert "<create_potransaction>" in render("create_potransaction", posting.equipment.fields)
