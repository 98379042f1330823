"""Intacct records as the client hands them over (field name -> text, None for empty), for the inbound tests.

Hand-built ones use Intacct's own text formats (MM/DD/YYYY, STATUS active/inactive); `company_records` formats
the emulator's generated company the way its gateway writes query results.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from intacct_assignar.intacct.protocol import Record
from intacct_assignar.sources import SOURCES
from intacct_assignar_dev.emulators.intacct.company import generate_company
from intacct_assignar_dev.emulators.intacct.schema import OBJECTS
from intacct_assignar_dev.emulators.intacct.store import IntacctStore


@cache
def _company() -> dict[str, tuple[Record, ...]]:
    store = IntacctStore(timezone="America/Denver", clock=_fixed_clock)
    generate_company(store, employees=80, seed=7)
    records: dict[str, tuple[Record, ...]] = {}
    for source in SOURCES:
        spec = OBJECTS[source.object_name]
        records[source.object_name] = tuple(
            {name: spec.fields[name].format(row.get(name)) for name in source.fields}
            for row in store.records(source.object_name)
        )
    return records


def _fixed_clock() -> datetime:
    # A fixed company-local "now", so the generated company is the same on every run.
    return datetime(2026, 11, 25, 9, 30, 0)


def company_records(object_name: str) -> list[Record]:
    """The generated company's records of one object, selected with the source's fields (fresh copies)."""
    return [dict(record) for record in _company()[object_name]]


def customer(**fields: str | None) -> Record:
    return {
        "RECORDNO": "300001",
        "CUSTOMERID": "C-1001",
        "NAME": "Summit Builders",
        "STATUS": "active",
        "DISPLAYCONTACT.COMPANYNAME": "Summit Builders",
        "DISPLAYCONTACT.EMAIL1": "ana.lopez@summitbuilders.example.com",
        "DISPLAYCONTACT.PHONE1": "(303) 555-0142",
        "DISPLAYCONTACT.CELLPHONE": "(720) 555-0199",
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS1": "1644 Platte St",
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS2": "Suite 200",
        "DISPLAYCONTACT.MAILADDRESS.CITY": "Denver",
        "DISPLAYCONTACT.MAILADDRESS.STATE": "CO",
        "DISPLAYCONTACT.MAILADDRESS.ZIP": "80202",
        "DISPLAYCONTACT.MAILADDRESS.COUNTRY": "United States",
        "WHENMODIFIED": "11/20/2026 08:15:00",
        **fields,
    }


def project(**fields: str | None) -> Record:
    return {
        "RECORDNO": "500007",
        "PROJECTID": "24-0117",
        "NAME": "Lowry Medical Office Building",
        "CUSTOMERID": "C-1001",
        "STATUS": "active",
        "BEGINDATE": "03/01/2026",
        "ENDDATE": "12/18/2026",
        "DEPARTMENTID": "FIELD",
        "LOCATIONID": "100",
        "SHIPTO.MAILADDRESS.ADDRESS1": "7400 E Lowry Blvd",
        "SHIPTO.MAILADDRESS.ADDRESS2": None,
        "SHIPTO.MAILADDRESS.CITY": "Denver",
        "SHIPTO.MAILADDRESS.STATE": "CO",
        "SHIPTO.MAILADDRESS.ZIP": "80230",
        "SHIPTO.MAILADDRESS.COUNTRY": "United States",
        "WHENMODIFIED": "11/21/2026 10:00:00",
        **fields,
    }


def task(**fields: str | None) -> Record:
    return {
        "RECORDNO": "600031",
        "TASKID": "03-300",
        "NAME": "Cast-in-Place Concrete",
        "PROJECTID": "24-0117",
        "STANDARDTASKID": "03-300",
        "TASKSTATUS": "In Progress",
        "STATUS": "active",
        "PBEGINDATE": "04/06/2026",
        "PENDDATE": "07/31/2026",
        "WHENMODIFIED": "11/22/2026 07:45:10",
        **fields,
    }


def standard_task(**fields: str | None) -> Record:
    return {
        "RECORDNO": "700008",
        "STANDARDTASKID": "03-300",
        "NAME": "Cast-in-Place Concrete",
        "DESCRIPTION": "03-300 Cast-in-Place Concrete",
        "STATUS": "active",
        "WHENMODIFIED": "01/15/2025 16:02:00",
        **fields,
    }


def item(**fields: str | None) -> Record:
    return {
        "RECORDNO": "800001",
        "ITEMID": "LAB-FOREMAN",
        "NAME": "Foreman",
        "EXTENDED_DESCRIPTION": None,
        "ITEMTYPE": "Non-Inventory",
        "GLGROUP": "Labor",
        "STATUS": "active",
        "WHENMODIFIED": "02/03/2025 11:00:00",
        **fields,
    }


def equipment(**fields: str | None) -> Record:
    values: dict[str, str | None] = {
        "RECORDNO": "800015",
        "ITEMID": "EQ-EXC-001",
        "NAME": "CAT 320 Excavator (E-101)",
        "EXTENDED_DESCRIPTION": "20-ton hydraulic excavator; unit E-101, model year 2019",
        "GLGROUP": "Equipment",
    }
    return item(**{**values, **fields})


def employee(**fields: str | None) -> Record:
    return {
        "RECORDNO": "900001",
        "EMPLOYEEID": "E1001",
        "CONTACT.FIRSTNAME": "Maria",
        "CONTACT.LASTNAME": "Garcia",
        "CONTACT.EMAIL1": "maria.garcia@peakbuilders.example.com",
        "CONTACT.PHONE1": "(303) 555-0101",
        "CONTACT.CELLPHONE": "(720) 555-0102",
        "CONTACT.MAILADDRESS.ADDRESS1": "1200 Federal Blvd",
        "CONTACT.MAILADDRESS.ADDRESS2": "Apt 4",
        "CONTACT.MAILADDRESS.CITY": "Denver",
        "CONTACT.MAILADDRESS.STATE": "CO",
        "CONTACT.MAILADDRESS.ZIP": "80204",
        "CONTACT.MAILADDRESS.COUNTRY": "United States",
        "BIRTHDATE": "07/14/1988",
        "STARTDATE": "05/01/2015",
        "ENDDATE": None,
        "DEPARTMENTID": "FIELD",
        "LOCATIONID": "100",
        "EMPLOYEETYPE": "Full Time",
        "EMPPOSITIONID": "FOREMAN",
        "EARNINGTYPENAME": "Hourly",
        "STATUS": "active",
        "WHENMODIFIED": "11/24/2026 06:30:00",
        **fields,
    }
