"""Company profiles over HTTP with raw XML: lookup's documented shape, fields a company lacks refused, custom fields,
a user without permission on an object, and the job-site address read from the ship-to CONTACT."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from intacct_assignar_dev.emulators.intacct import (
    LEAN,
    RICH,
    STANDARD,
    CompanyProfile,
    IntacctEmulator,
    IntacctStore,
    generate_company,
)

from tests.unit.intacct_emulator.envelope import errors, fn, query, records, request, result, results
from tests.unit.intacct_emulator.fixtures import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, headers={"Content-Type": "application/xml"}) as client:
        yield client


def _company(profile: CompanyProfile) -> IntacctStore:
    store = IntacctStore(clock=FakeClock(), profile=profile)
    generate_company(store, employees=60, seed=3)
    return store


def _post(http: httpx.Client, emulator: IntacctEmulator, *functions: str) -> httpx.Response:
    response = http.post(emulator.endpoint_url, content=request(*functions))
    assert response.status_code == 200
    return response


def _result(http: httpx.Client, emulator: IntacctEmulator, *functions: str) -> dict[str, Any]:
    return result(_post(http, emulator, *functions).content)


def test_lookup_answers_in_the_documented_shape(http: httpx.Client) -> None:
    # Given a rich company served over HTTP
    with IntacctEmulator(_company(RICH)) as emulator:
        # When PROJECT is looked up
        body = _post(http, emulator, fn("lookup", "<object>PROJECT</object>")).content

    # Then the raw XML is <data listtype="All" count="1"><Type Name DocumentType><Fields>…<Relationships>…
    data = ET.fromstring(body).find("operation/result/data")  # noqa: S314 - our own emulator's answer
    assert data is not None
    assert (data.get("listtype"), data.get("count")) == ("All", "1")
    (definition,) = list(data)
    assert definition.tag == "Type"
    assert (definition.get("Name"), definition.get("DocumentType")) == ("PROJECT", "")
    assert [child.tag for child in definition] == ["Fields", "Relationships"]
    fields = {field.findtext("ID"): field for field in definition.iterfind("Fields/Field")}
    # Each field's elements in the documented order, VALIDVALUES only for fields that have them
    assert [child.tag for child in fields["PROJECTID"]] == [
        "ID",
        "LABEL",
        "DESCRIPTION",
        "REQUIRED",
        "READONLY",
        "DATATYPE",
        "ISCUSTOM",
    ]
    category = fields["PROJECTCATEGORY"]
    assert [child.tag for child in category][-2:] == ["VALIDVALUES", "ISCUSTOM"]
    assert "Contract" in [value.text for value in category.iterfind("VALIDVALUES/VALIDVALUE")]
    # Datatypes, flags and custom fields
    assert fields["BEGINDATE"].findtext("DATATYPE") == "DATE"
    assert fields["BUDGETAMOUNT"].findtext("DATATYPE") == "DECIMAL"
    assert fields["RECORDNO"].findtext("READONLY") == "true"
    assert fields["PROJECTID"].findtext("REQUIRED") == "true"
    assert fields["PERMIT_NUMBER"].findtext("ISCUSTOM") == "true"
    assert fields["JOBSITE_SUPERINTENDENT"].findtext("DATATYPE") == "TEXT"
    assert fields["NAME"].findtext("ISCUSTOM") == "false"
    assert "SHIPTO.CONTACTNAME" in fields
    assert not [name for name in fields if name and "MAILADDRESS" in name]
    # One MANY2ONE relationship per reference, each with the documented children
    relationships = list(definition.iterfind("Relationships/Relationship"))
    assert all(
        [child.tag for child in r] == ["OBJECTPATH", "OBJECTNAME", "LABEL", "RELATIONSHIPTYPE", "RELATEDBY"]
        for r in relationships
    )
    by_path = {r.findtext("OBJECTPATH"): (r.findtext("OBJECTNAME"), r.findtext("RELATEDBY")) for r in relationships}
    assert by_path["CUSTOMER"] == ("CUSTOMER", "CUSTOMERID")
    assert by_path["SHIPTO"] == ("CONTACT", "SHIPTO.CONTACTNAME")
    assert {r.findtext("RELATIONSHIPTYPE") for r in relationships} == {"MANY2ONE"}


def test_the_job_site_address_is_read_from_the_ship_to_contact(http: httpx.Client) -> None:
    # Given a generated standard company
    store = _company(STANDARD)
    with IntacctEmulator(store) as emulator:
        # When the projects' ship-to names are queried, then those contacts by CONTACTNAME in (...)
        ship_to = _result(
            http,
            emulator,
            fn("query", query("PROJECT", ["PROJECTID", "SHIPTO.CONTACTNAME"], extra="<pagesize>2000</pagesize>")),
        )
        names = {row["SHIPTO.CONTACTNAME"] for row in records(ship_to, "PROJECT")}
        values = "".join(f"<value>{name}</value>" for name in sorted(names))
        columns = ["CONTACTNAME", "MAILADDRESS.ADDRESS1", "MAILADDRESS.CITY", "MAILADDRESS.ZIP"]
        sites = _result(
            http,
            emulator,
            fn(
                "query",
                query(
                    "CONTACT",
                    columns,
                    filter_xml=f"<in><field>CONTACTNAME</field>{values}</in>",
                    extra="<pagesize>2000</pagesize>",
                ),
            ),
        )
        # And the old guess, an address on PROJECT itself, is asked for
        regression = _result(http, emulator, fn("query", query("PROJECT", ["PROJECTID", "SHIPTO.MAILADDRESS.CITY"])))

    # Then every project names a site contact, each found with its address
    assert len(names) == len(store.records("PROJECT"))
    found = {row["CONTACTNAME"]: row for row in records(sites, "CONTACT")}
    assert set(found) == names
    assert all(row["MAILADDRESS.CITY"] and row["MAILADDRESS.ZIP"] for row in found.values())
    # and PROJECT has no address of its own
    assert regression["status"] == "failure"
    (error,) = errors(regression)
    assert error["errorno"] == "Invalid fields list"
    assert error["description"] == "Invalid fields list SHIPTO.MAILADDRESS.CITY for object PROJECT"


def test_a_lean_company_over_http(http: httpx.Client) -> None:
    # Given a lean company
    with IntacctEmulator(_company(LEAN)) as emulator:
        # When a client looks EMPLOYEE up, selects a field it lacks, and reads every field
        definition = _result(http, emulator, fn("lookup", "<object>EMPLOYEE</object>"))
        cell = _result(http, emulator, fn("query", query("EMPLOYEE", ["EMPLOYEEID", "CONTACT.CELLPHONE"])))
        everything = _result(
            http,
            emulator,
            fn("readByQuery", "<object>EMPLOYEE</object><fields>*</fields><query></query><pagesize>1</pagesize>"),
        )

    # Then lookup does not list it, selecting it is refused, and * leaves it out
    listed = {field["ID"] for field in definition["data"]["Type"][0]["Fields"]["Field"]}
    assert "CONTACT.CELLPHONE" not in listed and "BIRTHDATE" not in listed
    assert errors(cell)[0]["description"] == "Invalid fields list CONTACT.CELLPHONE for object EMPLOYEE"
    (employee,) = records(everything, "employee")
    assert set(employee) == listed


def test_a_rich_companys_custom_fields_are_queryable(http: httpx.Client) -> None:
    # Given a rich company
    with IntacctEmulator(_company(RICH)) as emulator:
        # When equipment is queried by its custom class
        found = _result(
            http,
            emulator,
            fn(
                "query",
                query(
                    "ITEM",
                    ["ITEMID", "EQUIPMENT_CLASS"],
                    filter_xml="<equalto><field>EQUIPMENT_CLASS</field><value>Excavator</value></equalto>",
                    orderby="<order><field>ITEMID</field><ascending/></order>",
                ),
            ),
        )

    # Then the excavators come back with their class
    rows = records(found, "ITEM")
    assert rows and all(row["ITEMID"].startswith("EQ-EXC-") for row in rows)
    assert {row["EQUIPMENT_CLASS"] for row in rows} == {"Excavator"}


def test_a_user_without_permission_on_employees_is_refused_while_others_answer(http: httpx.Client) -> None:
    # Given a Web Services user without permission on EMPLOYEE
    with IntacctEmulator(_company(dataclasses.replace(STANDARD, unreadable=frozenset({"EMPLOYEE"})))) as emulator:
        # When one request reads employees and projects
        answers = results(
            _post(
                http,
                emulator,
                fn("readByQuery", "<object>EMPLOYEE</object><fields>*</fields><query></query>", controlid="workers"),
                fn("query", query("PROJECT", ["PROJECTID"]), controlid="projects"),
            ).content
        )

    # Then the employee read fails with the permission error, and the projects answer
    workers, projects = answers
    assert workers["status"] == "failure"
    (error,) = errors(workers)
    assert error["errorno"] == "Permission Denied"
    assert (
        error["description"] == "You do not have permission for API operation readByQuery on objects of type EMPLOYEE"
    )
    assert "Web Services user" in error["correction"]
    assert projects["status"] == "success"
    assert records(projects, "PROJECT")
