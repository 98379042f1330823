"""Company profiles in-process: a lean company lacks its optional fields everywhere, a rich one adds custom fields,
and a Web Services user without permission on an object is refused every read of it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from intacct_assignar_dev.emulators.intacct import (
    LEAN,
    OBJECTS,
    RICH,
    STANDARD,
    CompanyProfile,
    DataType,
    EmulatorStats,
    FieldDef,
    IntacctError,
    IntacctStore,
)
from intacct_assignar_dev.emulators.intacct.gateway import Gateway

from .envelope import CREDENTIALS, errors, fn, query, records, request, result, results
from .fixtures import FakeClock, small_company

LEAN_HIDES = {
    "EMPLOYEE": {
        "CONTACT.CELLPHONE",
        "BIRTHDATE",
        "CONTACT.MAILADDRESS.ADDRESS1",
        "CONTACT.MAILADDRESS.ADDRESS2",
        "CONTACT.MAILADDRESS.CITY",
        "CONTACT.MAILADDRESS.STATE",
        "CONTACT.MAILADDRESS.ZIP",
        "CONTACT.MAILADDRESS.COUNTRY",
    },
    "PROJECT": {"SHIPTO.CONTACTNAME", "BILLTO.CONTACTNAME", "CONTACTINFO.CONTACTNAME"},
    "CUSTOMER": {
        "DISPLAYCONTACT.CELLPHONE",
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS1",
        "DISPLAYCONTACT.MAILADDRESS.ADDRESS2",
        "DISPLAYCONTACT.MAILADDRESS.CITY",
        "DISPLAYCONTACT.MAILADDRESS.STATE",
        "DISPLAYCONTACT.MAILADDRESS.ZIP",
        "DISPLAYCONTACT.MAILADDRESS.COUNTRY",
    },
    "ITEM": {"EXTENDED_DESCRIPTION"},
    "TASK": {"PBEGINDATE", "PENDDATE"},
}
NO_EMPLOYEES = dataclasses.replace(LEAN, unreadable=frozenset({"EMPLOYEE"}))


def _gateway(profile: CompanyProfile) -> Gateway:
    store = IntacctStore(clock=FakeClock(), profile=profile)
    small_company(store)
    return Gateway(
        store, CREDENTIALS, session_duration_s=3600, endpoint_url=lambda: "http://emulator.test", stats=EmulatorStats()
    )


def _call(gateway: Gateway, *functions: str) -> dict[str, Any]:
    reply = gateway.handle(request(*functions))
    assert reply.status == 200
    return result(reply.body)


def _lookup_fields(gateway: Gateway, obj: str) -> dict[str, dict[str, Any]]:
    found = _call(gateway, fn("lookup", f"<object>{obj}</object>"))
    assert found["status"] == "success"
    return {field["ID"]: field for field in found["data"]["Type"][0]["Fields"]["Field"]}


# --- the company's view ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("obj", list(OBJECTS))
def test_lean_hides_exactly_its_fields(obj: str) -> None:
    # Given a lean company
    store = IntacctStore(clock=FakeClock(), profile=LEAN)

    # When an object's definition as the company sees it is compared with the table
    spec = store.object_def(obj.lower())

    # Then exactly the lean fields are gone and nothing is added
    assert spec is not None
    assert set(OBJECTS[obj].fields) - set(spec.fields) == LEAN_HIDES.get(obj, set())
    assert set(spec.fields) <= set(OBJECTS[obj].fields)
    assert store.profile is LEAN


def test_standard_is_the_default_and_is_the_table() -> None:
    # Given a store made without a profile
    store = IntacctStore(clock=FakeClock())

    # When its objects are read
    # Then they are the module's standard definitions
    assert store.profile is STANDARD
    assert dict(store.objects) == OBJECTS


def test_a_hidden_field_does_not_exist_for_writes_either() -> None:
    # Given a lean company with an employee
    store = IntacctStore(clock=FakeClock(), profile=LEAN)
    small_company(store)
    employee = store.find("EMPLOYEE", "E1001")
    assert employee is not None

    # When a hidden field is written
    with pytest.raises(IntacctError) as refused:
        store.update("EMPLOYEE", employee["RECORDNO"], {"CONTACT.CELLPHONE": "(303) 555-0100"})

    # Then it is an unknown field, and stored records never carry hidden fields
    assert "Unknown field CONTACT.CELLPHONE" in str(refused.value)
    assert "CONTACT.CELLPHONE" not in employee
    project = store.find("PROJECT", "24-0117")
    assert project is not None and "SHIPTO.CONTACTNAME" not in project


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CompanyProfile("typo", hidden={"EMPLOYEE": frozenset({"CONTACT.CELLFONE"})}), "no field"),
        (lambda: CompanyProfile("key", hidden={"PROJECT": frozenset({"PROJECTID"})}), "is a key"),
        (lambda: CompanyProfile("required", hidden={"EMPLOYEE": frozenset({"CONTACT.LASTNAME"})}), "is a key"),
        (lambda: CompanyProfile("rules", hidden={"TIMESHEET": frozenset({"DESCRIPTION"})}), "hide none"),
        (lambda: CompanyProfile("object", hidden={"PROJECTS": frozenset({"NAME"})}), "unknown object PROJECTS"),
        (lambda: CompanyProfile("clash", custom={"ITEM": (FieldDef("GLGROUP", DataType.TEXT),)}), "clashes"),
        (lambda: CompanyProfile("unreadable", unreadable=frozenset({"EMPLOYEES"})), "unknown object EMPLOYEES"),
    ],
)
def test_profile_mistakes_are_refused(make: Any, message: str) -> None:
    # Given a profile with a mistake
    # When it is made
    with pytest.raises(ValueError) as refused:
        make()

    # Then it is refused with the reason, so a test cannot pass by a typo
    assert message in str(refused.value)


# --- lookup ---------------------------------------------------------------------------------------------------


def test_lookup_lists_relationships_one_per_reference() -> None:
    # Given the standard company
    gateway = _gateway(STANDARD)

    # When PROJECT is looked up
    found = _call(gateway, fn("lookup", "<object>PROJECT</object>"))

    # Then each reference is a MANY2ONE relationship related by its field; the ship-to reaches CONTACT by name
    definition = found["data"]["Type"][0]
    relationships = {
        (r["OBJECTPATH"], r["OBJECTNAME"], r["RELATIONSHIPTYPE"], r["RELATEDBY"])
        for r in definition["Relationships"]["Relationship"]
    }
    assert ("CUSTOMER", "CUSTOMER", "MANY2ONE", "CUSTOMERID") in relationships
    assert ("SHIPTO", "CONTACT", "MANY2ONE", "SHIPTO.CONTACTNAME") in relationships
    assert ("BILLTO", "CONTACT", "MANY2ONE", "BILLTO.CONTACTNAME") in relationships
    assert len(relationships) == len(OBJECTS["PROJECT"].references)
    assert definition["@Name"] == "PROJECT"


def test_lean_lookup_lacks_the_hidden_fields_and_their_relationships() -> None:
    # Given a lean company
    gateway = _gateway(LEAN)

    # When EMPLOYEE and PROJECT are looked up
    employee = _lookup_fields(gateway, "EMPLOYEE")
    project = _call(gateway, fn("lookup", "<object>PROJECT</object>"))["data"]["Type"][0]

    # Then the hidden fields are absent, and so are the relationships that hung from them
    assert not LEAN_HIDES["EMPLOYEE"] & set(employee)
    assert {"CONTACT.FIRSTNAME", "CONTACT.EMAIL1"} <= set(employee)
    project_fields = {field["ID"] for field in project["Fields"]["Field"]}
    assert not LEAN_HIDES["PROJECT"] & project_fields
    paths = {r["OBJECTPATH"] for r in project["Relationships"]["Relationship"]}
    assert "CUSTOMER" in paths and not paths & {"SHIPTO", "BILLTO", "CONTACTINFO"}


def test_rich_lookup_marks_custom_fields() -> None:
    # Given a rich company
    gateway = _gateway(RICH)

    # When EMPLOYEE is looked up
    fields = _lookup_fields(gateway, "EMPLOYEE")

    # Then its custom fields are there with their datatypes and ISCUSTOM true; standard ones are false
    assert fields["SAFETY_CERT_EXPIRES"]["DATATYPE"] == "DATE"
    assert fields["SAFETY_CERT_EXPIRES"]["ISCUSTOM"] == "true"
    assert fields["UNION_LOCAL"]["ISCUSTOM"] == "true"
    assert fields["EMPLOYEEID"]["ISCUSTOM"] == "false"


# --- refusing what the company does not offer -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "obj", "field"),
    [
        # The regression: PROJECT has no address of its own, whatever the company.
        (STANDARD, "PROJECT", "SHIPTO.MAILADDRESS.CITY"),
        (RICH, "PROJECT", "SHIPTO.MAILADDRESS.ADDRESS1"),
        (LEAN, "PROJECT", "SHIPTO.CONTACTNAME"),
        (LEAN, "EMPLOYEE", "CONTACT.CELLPHONE"),
        (LEAN, "TASK", "PBEGINDATE"),
        (STANDARD, "PROJECT", "PERMIT_NUMBER"),
    ],
)
def test_select_of_a_field_the_company_does_not_offer_is_an_invalid_fields_list(
    profile: CompanyProfile, obj: str, field: str
) -> None:
    # Given a company without `field` on `obj`
    gateway = _gateway(profile)

    # When a query selects it beside a good field
    found = _call(gateway, fn("query", query(obj, ["RECORDNO", field])))

    # Then the function fails the way a real gateway answered it
    assert found["status"] == "failure"
    (error,) = errors(found)
    assert error["errorno"] == "Invalid fields list"
    assert error["description"] == f"Invalid fields list {field} for object {obj}"


def test_filter_and_orderby_on_a_hidden_field_fail_with_query_failed() -> None:
    # Given a lean company
    gateway = _gateway(LEAN)

    # When a query filters, or orders, on a field the company lacks
    filtered = _call(
        gateway,
        fn("query", query("EMPLOYEE", ["RECORDNO"], filter_xml="<isnull><field>BIRTHDATE</field></isnull>")),
    )
    ordered = _call(
        gateway,
        fn("query", query("TASK", ["RECORDNO"], orderby="<order><field>PENDDATE</field><ascending/></order>")),
    )

    # Then both fail as unknown fields
    for found, name in ((filtered, "BIRTHDATE"), (ordered, "PENDDATE")):
        (error,) = errors(found)
        assert error["errorno"] == "Query Failed"
        assert f"Invalid field '{name}'" in error["description2"]


def test_fields_star_returns_only_what_the_company_offers() -> None:
    # Given a lean company
    gateway = _gateway(LEAN)
    everything = "<object>EMPLOYEE</object><fields>*</fields><query>EMPLOYEEID = 'E1001'</query>"

    # When an employee is read with every field, by readByQuery and readByName
    by_query = _call(gateway, fn("readByQuery", everything))
    by_name = _call(gateway, fn("readByName", "<object>EMPLOYEE</object><keys>E1001</keys><fields>*</fields>"))

    # Then the fields are the company's, none of the hidden ones
    offered = set(OBJECTS["EMPLOYEE"].fields) - LEAN_HIDES["EMPLOYEE"]
    (row,) = records(by_query, "employee")
    assert set(row) == offered
    (same,) = records(by_name, "EMPLOYEE")
    assert set(same) == offered


@pytest.mark.parametrize(
    "function",
    [
        fn("readByQuery", "<object>EMPLOYEE</object><fields>EMPLOYEEID,BIRTHDATE</fields><query></query>"),
        fn("read", "<object>EMPLOYEE</object><keys>1</keys><fields>BIRTHDATE</fields>"),
        fn("readByName", "<object>EMPLOYEE</object><keys>E1001</keys><fields>BIRTHDATE</fields>"),
    ],
)
def test_a_hidden_field_in_a_fields_list_is_the_errorno_only_form(function: str) -> None:
    # Given a lean company
    gateway = _gateway(LEAN)

    # When a legacy read names a hidden field in its fields list
    found = _call(gateway, function)

    # Then it fails with the errorno alone, as the reference records
    (error,) = errors(found)
    assert error == {
        "errorno": "Invalid fields list BIRTHDATE",
        "description": None,
        "description2": None,
        "correction": None,
    }


def test_rich_custom_fields_are_stored_queried_and_filtered() -> None:
    # Given a rich company with two projects, one with a permit
    gateway = _gateway(RICH)
    created = _call(
        gateway,
        fn(
            "create",
            "<PROJECT><PROJECTID>24-0200</PROJECTID><NAME>Belmar Hotel</NAME>"
            "<JOBSITE_SUPERINTENDENT>Ana Ruiz</JOBSITE_SUPERINTENDENT><PERMIT_NUMBER>BLD2024-00042</PERMIT_NUMBER>"
            "</PROJECT>",
        ),
    )
    assert created["status"] == "success"

    # When projects are queried by permit number, selecting the custom fields
    found = _call(
        gateway,
        fn(
            "query",
            query(
                "PROJECT",
                ["PROJECTID", "JOBSITE_SUPERINTENDENT", "PERMIT_NUMBER"],
                filter_xml="<isnotnull><field>PERMIT_NUMBER</field></isnotnull>",
            ),
        ),
    )

    # Then only the permitted job comes back, with its custom values
    assert records(found, "PROJECT") == [
        {"PROJECTID": "24-0200", "JOBSITE_SUPERINTENDENT": "Ana Ruiz", "PERMIT_NUMBER": "BLD2024-00042"}
    ]


# --- permissions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "name"),
    [
        (fn("query", query("EMPLOYEE", ["RECORDNO"])), "query"),
        (fn("readByQuery", "<object>EMPLOYEE</object><fields>*</fields><query></query>"), "readByQuery"),
        (fn("readMore", "<object>EMPLOYEE</object>"), "readMore"),
        (fn("read", "<object>EMPLOYEE</object><keys>1</keys>"), "read"),
        (fn("readByName", "<object>EMPLOYEE</object><keys>E1001</keys>"), "readByName"),
    ],
)
def test_an_unreadable_object_refuses_every_read(function: str, name: str) -> None:
    # Given a Web Services user without permission on EMPLOYEE
    gateway = _gateway(NO_EMPLOYEES)

    # When it reads employees
    found = _call(gateway, function)

    # Then the function fails with the permission error naming the function and the object
    assert found["status"] == "failure"
    assert "data" not in found
    (error,) = errors(found)
    assert error["errorno"] == "Permission Denied"
    assert error["description"] == f"You do not have permission for API operation {name} on objects of type EMPLOYEE"
    assert "permission to list EMPLOYEE" in error["correction"]


def test_other_objects_and_lookup_still_answer_for_a_user_without_one_permission() -> None:
    # Given a Web Services user without permission on EMPLOYEE
    gateway = _gateway(NO_EMPLOYEES)

    # When one request reads employees, reads projects and looks employees up
    answers = results(
        gateway.handle(
            request(
                fn("query", query("EMPLOYEE", ["RECORDNO"]), controlid="employees"),
                fn("query", query("PROJECT", ["PROJECTID"]), controlid="projects"),
                fn("lookup", "<object>EMPLOYEE</object>", controlid="definition"),
            )
        ).body
    )

    # Then only the employee read fails: projects answer, and lookup (metadata) answers too
    assert [answer["status"] for answer in answers] == ["failure", "success", "success"]
    assert records(answers[1], "PROJECT") == [{"PROJECTID": "24-0117"}]
    fields = {field["ID"] for field in answers[2]["data"]["Type"][0]["Fields"]["Field"]}
    assert "EMPLOYEEID" in fields and "BIRTHDATE" not in fields


# --- CONTACT --------------------------------------------------------------------------------------------------


def test_contacts_are_queryable_by_contactname_in() -> None:
    # Given three contacts, one of them a project's ship-to
    gateway = _gateway(STANDARD)
    store = gateway.store
    for name, city in (("Lowry site", "Denver"), ("Belmar site", "Lakewood"), ("Office", "Aurora")):
        store.create("CONTACT", {"CONTACTNAME": name, "PRINTAS": name, "MAILADDRESS": {"CITY": city}})
    project = store.find("PROJECT", "24-0117")
    assert project is not None
    store.update("PROJECT", project["RECORDNO"], {"SHIPTO": {"CONTACTNAME": "Lowry site"}})

    # When the ship-to names are read from PROJECT, then their contacts by CONTACTNAME in (...)
    ship_to = records(_call(gateway, fn("query", query("PROJECT", ["PROJECTID", "SHIPTO.CONTACTNAME"]))), "PROJECT")
    names = "".join(f"<value>{row['SHIPTO.CONTACTNAME']}</value>" for row in ship_to) + "<value>Belmar site</value>"
    found = _call(
        gateway,
        fn(
            "query",
            query(
                "CONTACT",
                ["CONTACTNAME", "MAILADDRESS.CITY"],
                filter_xml=f"<in><field>CONTACTNAME</field>{names}</in>",
                orderby="<order><field>CONTACTNAME</field><ascending/></order>",
            ),
        ),
    )

    # Then exactly the named contacts come back with their addresses
    assert ship_to == [{"PROJECTID": "24-0117", "SHIPTO.CONTACTNAME": "Lowry site"}]
    assert records(found, "CONTACT") == [
        {"CONTACTNAME": "Belmar site", "MAILADDRESS.CITY": "Lakewood"},
        {"CONTACTNAME": "Lowry site", "MAILADDRESS.CITY": "Denver"},
    ]


def test_a_ship_to_must_name_an_existing_contact() -> None:
    # Given the standard company without contacts
    gateway = _gateway(STANDARD)

    # When a project names a ship-to contact that does not exist
    found = _call(
        gateway,
        fn(
            "update",
            "<PROJECT><PROJECTID>24-0117</PROJECTID><SHIPTO><CONTACTNAME>Nowhere</CONTACTNAME></SHIPTO></PROJECT>",
        ),
    )

    # Then it is refused as an invalid contact
    assert found["status"] == "failure"
    assert "Invalid Contact 'Nowhere' specified in SHIPTO.CONTACTNAME" in errors(found)[0]["description2"]
