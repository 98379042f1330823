"""The emulated company's records: stamps, audit trail, keys, references and timesheet rules."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal

import pytest
from intacct_assignar_dev.emulators.intacct import IntacctError, IntacctStore, audit_object_key

from .fixtures import WEEK_START, FakeClock, small_company


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> IntacctStore:
    store = IntacctStore(clock=clock)
    small_company(store)
    return store


def _errornos(error: pytest.ExceptionInfo[IntacctError]) -> list[str]:
    return [detail.errorno for detail in error.value.errors]


def _timesheet(**entry: object) -> dict[str, object]:
    line = {"ENTRYDATE": "06/04/2024", "QTY": "8", "PROJECTID": "24-0117", "TASKID": "03-300", **entry}
    return {"EMPLOYEEID": "E1001", "BEGINDATE": WEEK_START, "TIMESHEETENTRIES": {"TIMESHEETENTRY": [line]}}


def test_create_stamps_from_the_company_clock_and_types_values(store: IntacctStore, clock: FakeClock) -> None:
    # Given a clock with microseconds
    clock.now = datetime(2024, 6, 5, 10, 15, 30, 987654)

    # When a project is created from request text
    project = store.create(
        "PROJECT",
        {"PROJECTID": "24-0200", "NAME": "Belmar Hotel", "BEGINDATE": "07/01/2024", "BUDGETAMOUNT": "1500.50"},
    )

    # Then stamps have second resolution and values are typed, with defaults and derived fields
    assert project["WHENCREATED"] == project["WHENMODIFIED"] == datetime(2024, 6, 5, 10, 15, 30)
    assert project["BEGINDATE"] == date(2024, 7, 1)
    assert project["BUDGETAMOUNT"] == Decimal("1500.50")
    assert project["STATUS"] == "active"
    assert isinstance(project["RECORDNO"], int)
    assert store.get("PROJECT", project["RECORDNO"]) == project


def test_update_moves_whenmodified_only(store: IntacctStore, clock: FakeClock) -> None:
    # Given a project created earlier
    created = store.find("PROJECT", "24-0117")
    assert created is not None
    clock.advance(minutes=5)

    # When it is renamed
    updated = store.update("PROJECT", created["RECORDNO"], {"NAME": "Lowry Fire Station No. 2"})

    # Then WHENMODIFIED moved and WHENCREATED did not
    assert updated["WHENCREATED"] == created["WHENCREATED"]
    assert updated["WHENMODIFIED"] == datetime(2024, 6, 5, 9, 35, 0)
    assert updated["NAME"] == "Lowry Fire Station No. 2"


def test_delete_writes_a_delete_row_in_audithistory(store: IntacctStore, clock: FakeClock) -> None:
    # Given a standard task nobody refers to
    task = store.create("STANDARDTASK", {"STANDARDTASKID": "09-900", "NAME": "Painting"})
    clock.advance(seconds=42)

    # When it is deleted
    store.delete("STANDARDTASK", task["RECORDNO"])

    # Then it is gone and the audit trail has the 'D' row Intacct writes
    assert store.get("STANDARDTASK", task["RECORDNO"]) is None
    rows = [row for row in store.records("AUDITHISTORY") if row["ACCESSMODE"] == "D"]
    assert len(rows) == 1
    assert rows[0]["OBJECTTYPE"] == "standardtask"
    assert rows[0]["OBJECTKEY"] == audit_object_key(task) == f"{task['RECORDNO']}--REC"
    assert rows[0]["ACCESSTIME"] == datetime(2024, 6, 5, 9, 30, 42)


def test_create_and_modify_are_audited_too(store: IntacctStore) -> None:
    # Given the small company, written through create
    # When its audit trail is read
    modes = {(row["OBJECTTYPE"], row["ACCESSMODE"]) for row in store.records("AUDITHISTORY")}

    # Then every create left a 'C' row
    assert ("project", "C") in modes
    assert ("employee", "C") in modes


def test_duplicate_id_is_bl34000061_in_intacct_words(store: IntacctStore) -> None:
    # Given project 24-0117 exists
    # When another project takes the same PROJECTID
    with pytest.raises(IntacctError) as error:
        store.create("PROJECT", {"PROJECTID": "24-0117", "NAME": "Copy"})

    # Then the error is Intacct's duplicate error followed by the generic one
    assert _errornos(error) == ["BL34000061", "BL01001973"]
    assert error.value.errors[0].description2 == "Another Project with the given value(s) 24-0117  already exists"
    assert error.value.errors[0].correction == "Use a unique value instead."
    assert error.value.errors[1].description2 == "Could not create project record!"


def test_taskid_is_unique_per_project_only(store: IntacctStore) -> None:
    # Given a second project
    store.create("PROJECT", {"PROJECTID": "24-0118", "NAME": "Belmar Hotel", "CUSTOMERID": "C-1"})

    # When it gets a task with an ID another project already uses
    task = store.create("TASK", {"TASKID": "03-300", "NAME": "Concrete", "PROJECTID": "24-0118"})

    # Then both exist, and a repeat within the project is refused
    assert store.find("TASK", "03-300", "24-0118") == task
    with pytest.raises(IntacctError) as error:
        store.create("TASK", {"TASKID": "03-300", "NAME": "Again", "PROJECTID": "24-0118"})
    assert _errornos(error)[0] == "BL34000061"


@pytest.mark.parametrize(
    ("obj", "values", "message"),
    [
        ("PROJECT", {"PROJECTID": "X1", "NAME": "x", "CUSTOMERID": "C-404"}, "Invalid Customer 'C-404'"),
        ("TASK", {"TASKID": "T", "NAME": "x", "PROJECTID": "99-9999"}, "Invalid Project '99-9999'"),
        ("EMPLOYEE", {"EMPLOYEEID": "E9", "CONTACT.LASTNAME": "x", "DEPARTMENTID": "NOPE"}, "Invalid Department"),
        ("EMPLOYEE", {"EMPLOYEEID": "E9", "CONTACT.LASTNAME": "x", "LOCATIONID": "999"}, "Invalid Location"),
        ("PROJECT", {"PROJECTID": "X1"}, "Required field NAME is missing"),
        ("PROJECT", {"PROJECTID": "X1", "NAME": "x", "NOSUCHFIELD": "1"}, "Unknown field NOSUCHFIELD"),
        ("PROJECT", {"PROJECTID": "X1", "NAME": "x", "BEGINDATE": "2024-06-01"}, "not a date in MM/DD/YYYY"),
        ("PROJECT", {"PROJECTID": "X1", "NAME": "x", "CUSTOMERNAME": "y"}, "read-only"),
    ],
)
def test_business_rules_refuse_bad_records(store: IntacctStore, obj: str, values: dict[str, str], message: str) -> None:
    # Given the small company
    # When a bad record is created
    with pytest.raises(IntacctError) as error:
        store.create(obj, values)

    # Then Intacct's generic business error names the problem
    assert _errornos(error)[0] == "BL01001973"
    assert message in error.value.errors[0].description2


def test_employee_create_accepts_personalinfo_as_the_contact(store: IntacctStore) -> None:
    # Given an employee written the way Intacct's create takes it
    values = {
        "EMPLOYEEID": "E2000",
        "PERSONALINFO": {"FIRSTNAME": "Ana", "LASTNAME": "Ruiz", "MAILADDRESS": {"CITY": "Aurora"}},
    }

    # When it is created
    employee = store.create("EMPLOYEE", values)

    # Then the contact is stored under the CONTACT.* names queries use
    assert employee["CONTACT.FIRSTNAME"] == "Ana"
    assert employee["CONTACT.MAILADDRESS.CITY"] == "Aurora"


def test_timesheet_with_entries_derives_keys_and_defaults_to_draft(store: IntacctStore) -> None:
    # Given a valid week of time
    # When it is created
    timesheet = store.create("TIMESHEET", _timesheet(ITEMID="LAB-FOREMAN", COSTTYPEID="LAB"))

    # Then the header and its entry are linked and the entry is queryable on its own
    task = store.find("TASK", "03-300", "24-0117")
    assert task is not None
    assert timesheet["STATE"] == "Draft"
    assert timesheet["ENDDATE"] == date(2024, 6, 8)
    assert timesheet["EMPLOYEENAME"] == "Garcia, Maria"
    (entry,) = timesheet["TIMESHEETENTRIES"]
    assert entry["TIMESHEETKEY"] == timesheet["RECORDNO"]
    assert entry["LINENO"] == 1
    assert entry["TASKKEY"] == task["RECORDNO"]
    assert entry["CUSTOMERID"] == "C-1"
    assert entry["QTY"] == Decimal(8)
    assert [row["RECORDNO"] for row in store.records("TIMESHEETENTRY")] == [entry["RECORDNO"]]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"BEGINDATE": "06/03/2024"}, "week begins on Sunday"),
        ({"EMPLOYEEID": "E1002"}, "Employee 'E1002' specified in EMPLOYEEID is inactive"),
        ({"EMPLOYEEID": "E404"}, "Invalid Employee 'E404'"),
        ({"TIMESHEETENTRIES": []}, "at least one TIMESHEETENTRY"),
    ],
)
def test_timesheet_header_rules(store: IntacctStore, values: dict[str, object], message: str) -> None:
    # Given a timesheet with one thing wrong in the header
    timesheet = {**_timesheet(), **values}

    # When it is created
    with pytest.raises(IntacctError) as error:
        store.create("TIMESHEET", timesheet)

    # Then it is refused with the reason, and nothing was written
    assert message in error.value.errors[0].description2
    assert store.records("TIMESHEET") == []
    assert store.records("TIMESHEETENTRY") == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"TASKID": "99-999"}, "Invalid Task '99-999' specified for project '24-0117'"),
        ({"ITEMID": "NOPE"}, "Invalid Item 'NOPE'"),
        ({"PROJECTID": None, "COSTTYPEID": "LAB"}, "A task needs its PROJECTID"),
        ({"TASKKEY": "1"}, "TASKID or TASKKEY, not both"),
        ({"ENTRYDATE": "06/12/2024"}, "outside the timesheet week"),
        ({"QTY": None}, "Required field QTY"),
    ],
)
def test_timesheet_entry_rules(store: IntacctStore, entry: dict[str, object], message: str) -> None:
    # Given an entry with one thing wrong
    # When the timesheet is created
    with pytest.raises(IntacctError) as error:
        store.create("TIMESHEET", _timesheet(**entry))

    # Then the entry's problem is named
    assert message in error.value.errors[0].description2


def test_inactive_item_on_an_entry_is_refused(store: IntacctStore) -> None:
    # Given the labor item was made inactive
    item = store.find("ITEM", "LAB-FOREMAN")
    assert item is not None
    store.update("ITEM", item["RECORDNO"], {"STATUS": "inactive"})

    # When time is posted with it
    with pytest.raises(IntacctError) as error:
        store.create("TIMESHEET", _timesheet(ITEMID="LAB-FOREMAN"))

    # Then Intacct refuses the inactive reference
    assert "Item 'LAB-FOREMAN' specified in ITEMID is inactive" in error.value.errors[0].description2


def test_week_start_is_configurable() -> None:
    # Given a company whose week begins on Monday
    store = IntacctStore(clock=FakeClock(), week_start="monday")
    small_company(store)

    # When a timesheet starts on Monday 06/03/2024
    timesheet = store.create("TIMESHEET", {**_timesheet(), "BEGINDATE": "06/03/2024"})

    # Then it is accepted
    assert timesheet["BEGINDATE"] == date(2024, 6, 3)


def test_referenced_records_cannot_be_deleted(store: IntacctStore) -> None:
    # Given a customer with a project
    customer = store.find("CUSTOMER", "C-1")
    assert customer is not None

    # When the customer is deleted
    with pytest.raises(IntacctError) as error:
        store.delete("CUSTOMER", customer["RECORDNO"])

    # Then Intacct refuses and the customer stays
    assert "Cannot delete customer 'C-1'" in error.value.errors[0].description2
    assert store.get("CUSTOMER", customer["RECORDNO"]) is not None


def test_transaction_rollback_restores_everything(store: IntacctStore) -> None:
    # Given the state before a transaction
    projects_before = store.records("PROJECT")
    audit_before = len(store.records("AUDITHISTORY"))
    first = projects_before[0]

    # When a transaction creates, updates and deletes, then rolls back
    with store.transaction() as transaction:
        store.create("PROJECT", {"PROJECTID": "24-0300", "NAME": "New"})
        store.update("PROJECT", first["RECORDNO"], {"NAME": "Renamed"})
        task = store.find("TASK", "01-100", "24-0117")
        assert task is not None
        store.delete("TASK", task["RECORDNO"])
        store.rollback(transaction)

    # Then the store is as it was, IDs included
    assert store.records("PROJECT") == projects_before
    assert store.find("PROJECT", "24-0300") is None
    assert store.find("TASK", "01-100", "24-0117") is not None
    assert len(store.records("AUDITHISTORY")) == audit_before


def test_concurrent_creates_get_unique_recordnos() -> None:
    # Given an empty store
    store = IntacctStore(clock=FakeClock())

    # When eight threads create fifty departments each
    def create_many(offset: int) -> None:
        for number in range(50):
            store.create("DEPARTMENT", {"DEPARTMENTID": f"D{offset}-{number}", "TITLE": "x"})

    threads = [threading.Thread(target=create_many, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every record is there once
    recordnos = [row["RECORDNO"] for row in store.records("DEPARTMENT")]
    assert len(recordnos) == len(set(recordnos)) == 400


def test_purchasing_transaction_gets_a_document_id_and_lines(store: IntacctStore) -> None:
    # Given an equipment usage document
    values = {
        "DOCPARID": "Equipment Usage",
        "CUSTVENDID": "V-INTERNAL",
        "WHENCREATED": "06/04/2024",
        "ENTRIES": [
            {"ITEMID": "EQ-EXC-001", "QUANTITY": "6.5", "PRICE": "85", "PROJECTID": "24-0117", "TASKID": "03-300"}
        ],
    }

    # When it is created
    document = store.create("PODOCUMENT", values)

    # Then it has Intacct's DOCID, a date in WHENCREATED, an audit stamp and a computed total
    assert document["DOCID"] == "Equipment Usage-00001"
    assert document["WHENCREATED"] == date(2024, 6, 4)
    assert document["AUWHENCREATED"] == datetime(2024, 6, 5, 9, 30)
    assert document["TOTAL"] == Decimal("552.5")
    assert document["ENTRIES"][0]["DOCHDRID"] == "Equipment Usage-00001"


def test_inactive_task_on_an_entry_is_refused(store: IntacctStore) -> None:
    # Given task 03-300 was closed
    task = store.find("TASK", "03-300", "24-0117")
    assert task is not None
    store.update("TASK", task["RECORDNO"], {"STATUS": "inactive"})

    # When time is posted to it
    with pytest.raises(IntacctError) as error:
        store.create("TIMESHEET", _timesheet())

    # Then Intacct refuses the inactive task
    assert "Task '03-300' of project '24-0117' is inactive" in error.value.errors[0].description2


def test_update_with_entries_replaces_them_all(store: IntacctStore) -> None:
    # Given a timesheet with one entry
    timesheet = store.create("TIMESHEET", _timesheet())

    # When it is updated with two other entries
    entries = [
        {"ENTRYDATE": "06/05/2024", "QTY": "4", "PROJECTID": "24-0117", "TASKID": "01-100"},
        {"ENTRYDATE": "06/06/2024", "QTY": "6", "PROJECTID": "24-0117", "TASKID": "01-100"},
    ]
    updated = store.update("TIMESHEET", timesheet["RECORDNO"], {"TIMESHEETENTRIES": entries})

    # Then only the new entries exist, numbered from 1
    assert [(entry["LINENO"], entry["QTY"]) for entry in updated["TIMESHEETENTRIES"]] == [(1, 4), (2, 6)]
    assert len(store.records("TIMESHEETENTRY")) == 2


def test_approving_stamps_the_timesheet_and_its_entries(store: IntacctStore, clock: FakeClock) -> None:
    # Given a submitted timesheet
    timesheet = store.create("TIMESHEET", {**_timesheet(), "STATE": "Submitted"})
    clock.advance(hours=2)

    # When an approver approves it
    approved = store.approve_timesheet(timesheet["RECORDNO"])

    # Then the header and its entry are Approved and modified now, and the audit trail has a workflow row
    assert approved["STATE"] == "Approved"
    assert approved["WHENMODIFIED"] == datetime(2024, 6, 5, 11, 30)
    assert approved["WHENCREATED"] == timesheet["WHENCREATED"]
    (entry,) = approved["TIMESHEETENTRIES"]
    assert (entry["STATE"], entry["WHENMODIFIED"]) == ("Approved", datetime(2024, 6, 5, 11, 30))
    assert store.get("TIMESHEET", timesheet["RECORDNO"]) == approved
    workflow = [row for row in store.records("AUDITHISTORY") if row["ACCESSMODE"] == "W"]
    assert [row["OBJECTKEY"] for row in workflow] == [audit_object_key(timesheet)]


def test_setting_a_timesheet_state_refuses_unknown_states_and_records(store: IntacctStore) -> None:
    # Given a timesheet
    timesheet = store.create("TIMESHEET", _timesheet())

    # When a state Intacct does not have is set, or a timesheet that does not exist is approved
    # Then both are refused
    with pytest.raises(ValueError, match="unknown timesheet state"):
        store.set_timesheet_state(timesheet["RECORDNO"], "Posted")
    with pytest.raises(IntacctError, match="Cannot find timesheet"):
        store.approve_timesheet(999)


@pytest.mark.parametrize(
    ("state", "correction"),
    [
        ("Approved", "Ask an approver to decline it first, or correct the time with a new timesheet."),
        ("Partially Approved", "Ask an approver to decline it first, or correct the time with a new timesheet."),
        ("Declined", "Correct the time with a new timesheet."),
        ("Partially Declined", "Correct the time with a new timesheet."),
    ],
)
def test_a_timesheet_an_approver_acted_on_cannot_be_updated(store: IntacctStore, state: str, correction: str) -> None:
    # Given a timesheet an approver has acted on
    timesheet = store.set_timesheet_state(store.create("TIMESHEET", _timesheet())["RECORDNO"], state)
    recordno = timesheet["RECORDNO"]
    entries = [{"ENTRYDATE": "06/05/2024", "QTY": "4", "PROJECTID": "24-0117", "TASKID": "01-100"}]

    # When its entries are replaced
    with pytest.raises(IntacctError) as error:
        store.update("TIMESHEET", recordno, {"TIMESHEETENTRIES": entries})

    # Then the business error says which timesheet, its state, and what to do instead; nothing changed
    assert _errornos(error) == ["BL01001973", "BL01001973"]
    assert error.value.errors[0].description2 == f"Timesheet {recordno} is {state} and can no longer be changed."
    assert error.value.errors[0].correction == correction
    assert error.value.errors[1].description2 == "Could not update timesheet record!"
    assert store.get("TIMESHEET", recordno) == timesheet


@pytest.mark.parametrize("state", ["Draft", "Submitted", "Saved"])
def test_a_timesheet_no_approver_acted_on_can_still_be_updated(store: IntacctStore, state: str) -> None:
    # Given a timesheet still with its submitter
    timesheet = store.set_timesheet_state(store.create("TIMESHEET", _timesheet())["RECORDNO"], state)

    # When its entries are replaced
    entries = [{"ENTRYDATE": "06/05/2024", "QTY": "4", "PROJECTID": "24-0117", "TASKID": "01-100"}]
    updated = store.update("TIMESHEET", timesheet["RECORDNO"], {"TIMESHEETENTRIES": entries})

    # Then the update went through
    assert [entry["QTY"] for entry in updated["TIMESHEETENTRIES"]] == [4]
