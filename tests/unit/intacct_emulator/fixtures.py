"""A controllable company clock and a small hand-made company for the emulator's tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from intacct_assignar_dev.emulators.intacct import IntacctStore

WEDNESDAY = datetime(2024, 6, 5, 9, 30, 0)
WEEK_START = "06/02/2024"  # the Sunday of WEDNESDAY's week


class FakeClock:
    """Company-local time that moves only when a test says so."""

    def __init__(self, start: datetime = WEDNESDAY) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def small_company(store: IntacctStore) -> None:
    """One of each record a timesheet needs: entity, department, customer, job with two tasks, items, employees."""
    store.create("LOCATION", {"LOCATIONID": "100", "NAME": "Denver"})
    store.create("DEPARTMENT", {"DEPARTMENTID": "FIELD", "TITLE": "Field Operations"})
    store.create(
        "CUSTOMER", {"CUSTOMERID": "C-1", "NAME": "Summit Builders", "DISPLAYCONTACT.EMAIL1": "ap@summit.example"}
    )
    store.create(
        "PROJECT",
        {"PROJECTID": "24-0117", "NAME": "Lowry Fire Station", "CUSTOMERID": "C-1", "BEGINDATE": "05/01/2024"},
    )
    store.create("TASK", {"TASKID": "03-300", "NAME": "Cast-in-Place Concrete", "PROJECTID": "24-0117"})
    store.create("TASK", {"TASKID": "01-100", "NAME": "General Conditions", "PROJECTID": "24-0117"})
    store.create("ITEM", {"ITEMID": "LAB-FOREMAN", "NAME": "Foreman", "ITEMTYPE": "Non-Inventory", "GLGROUP": "Labor"})
    store.create(
        "ITEM", {"ITEMID": "EQ-EXC-001", "NAME": "CAT 320", "ITEMTYPE": "Non-Inventory", "GLGROUP": "Equipment"}
    )
    store.create("VENDOR", {"VENDORID": "V-INTERNAL", "NAME": "Internal Equipment Recovery"})
    store.create(
        "EMPLOYEE",
        {
            "EMPLOYEEID": "E1001",
            "CONTACT.FIRSTNAME": "Maria",
            "CONTACT.LASTNAME": "Garcia",
            "CONTACT.EMAIL1": "maria.garcia@example.com",
            "DEPARTMENTID": "FIELD",
            "LOCATIONID": "100",
            "EMPPOSITIONID": "LAB-FOREMAN",
            "EARNINGTYPENAME": "Hourly",
        },
    )
    store.create("EMPLOYEE", {"EMPLOYEEID": "E1002", "CONTACT.LASTNAME": "Nguyen", "STATUS": "inactive"})
