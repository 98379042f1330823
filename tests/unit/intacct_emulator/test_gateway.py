"""The gateway envelope in-process: control, authentication and result shapes, sessions, writes, control ids."""

from __future__ import annotations

from typing import Any

import pytest
from intacct_assignar_dev.emulators.intacct import EmulatorStats, IntacctStore
from intacct_assignar_dev.emulators.intacct.gateway import Gateway

from .envelope import CREDENTIALS, errors, fn, login, parse, records, request, result, results
from .fixtures import WEEK_START, FakeClock, small_company

ENDPOINT = "http://emulator.test/ia/xml/xmlgw.phtml"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> IntacctStore:
    store = IntacctStore(clock=clock)
    small_company(store)
    return store


@pytest.fixture
def gateway(store: IntacctStore) -> Gateway:
    return Gateway(store, CREDENTIALS, session_duration_s=3600, endpoint_url=lambda: ENDPOINT, stats=EmulatorStats())


def _call(gateway: Gateway, *functions: str, **options: Any) -> dict[str, Any]:
    reply = gateway.handle(request(*functions, **options))
    assert reply.status == 200
    return result(reply.body)


def _session(gateway: Gateway, location: str = "") -> str:
    found = _call(gateway, fn("getAPISession", location))
    assert found["status"] == "success"
    session_id: str = found["data"]["api"][0]["sessionid"]
    return session_id


def _project(project_id: str, name: str = "Job") -> str:
    return f"<PROJECT><PROJECTID>{project_id}</PROJECTID><NAME>{name}</NAME><CUSTOMERID>C-1</CUSTOMERID></PROJECT>"


# --- control --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<request><control><senderid>x</senderid></request>", "not well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><request/>', "refused"),
        (request(fn("frobnicate")), "Element 'frobnicate': This element is not expected."),
        (request("<function><query/></function>"), "controlid attribute"),
        (b"<notarequest/>", "document element must be <request>"),
    ],
)
def test_malformed_requests_fail_at_control_level(gateway: Gateway, body: bytes, detail: str) -> None:
    # Given a request that is not valid gateway XML
    # When it is sent
    reply = gateway.handle(body)

    # Then the control fails with XL03000003 and there is no operation
    response = parse(reply.body)
    assert reply.status == 200
    assert response["control"]["status"] == "failure"
    assert "operation" not in response
    (error,) = response["errormessage"]["error"]
    assert error["errorno"] == "XL03000003"
    assert detail in error["description2"]


def test_wrong_sender_is_http_401_with_xmlgw_jpp0002(gateway: Gateway) -> None:
    # Given a wrong sender password
    # When a request is sent
    reply = gateway.handle(request(fn("getAPISession"), sender_password="nope"))

    # Then the answer is the 401 body Intacct's SDK tests show
    assert reply.status == 401
    response = parse(reply.body)
    assert response["control"] == {"status": "failure"}
    assert response["errormessage"]["error"] == [
        {
            "errorno": "XMLGW_JPP0002",
            "description": "Sign-in information is incorrect. Please check your request.",
            "description2": None,
            "correction": None,
        }
    ]


@pytest.mark.parametrize(
    ("auth", "description2"),
    [
        (login(password="wrong"), "Sign-in information is incorrect"),
        (login(user_id="someone"), "Sign-in information is incorrect"),
        (login(company_id="OTHERCO"), "is not authorized to make Web Services requests to company ID 'OTHERCO'"),
        ("<sessionid>forged..</sessionid>", "Invalid session forged.."),
        (login(location_id="999"), "'999' is not an entity"),
    ],
)
def test_authentication_failures_are_xl03000006(gateway: Gateway, auth: str, description2: str) -> None:
    # Given bad authentication
    # When a query is sent
    reply = gateway.handle(request(fn("query", "<object>PROJECT</object>"), auth=auth))

    # Then control succeeds, authentication fails with XL03000006, and no function ran
    response = parse(reply.body)
    assert response["control"]["status"] == "success"
    operation = response["operation"]
    assert operation["authentication"]["status"] == "failure"
    assert "result" not in operation
    (error,) = operation["errormessage"]["error"]
    assert error["errorno"] == "XL03000006"
    assert description2 in error["description2"]


# --- sessions -------------------------------------------------------------------------------------------------


def test_get_api_session_returns_session_endpoint_and_entity(gateway: Gateway) -> None:
    # Given login credentials for entity 100
    # When a session is asked for
    reply = gateway.handle(request(fn("getAPISession"), auth=login(location_id="100")))

    # Then the api block names the session, the endpoint and the entity; authentication carries its times
    operation = parse(reply.body)["operation"]
    api = operation["result"][0]["data"]["api"][0]
    assert api["sessionid"].endswith("..")
    assert api["endpoint"] == ENDPOINT
    assert api["locationid"] == "100"
    assert operation["authentication"]["sessiontimestamp"] == "2024-06-05T09:30:00-06:00"
    assert operation["authentication"]["sessiontimeout"] == "2024-06-05T10:30:00-06:00"
    assert gateway.stats.sessions_created == 1


def test_session_lives_while_used_and_expires_after_inactivity(gateway: Gateway, clock: FakeClock) -> None:
    # Given a session
    session_id = _session(gateway)
    probe = fn("query", "<object>LOCATION</object><select><field>RECORDNO</field></select>")

    # When it is used just before each timeout, then left idle past it
    clock.advance(seconds=3599)
    before = gateway.handle(request(probe, session_id=session_id))
    clock.advance(seconds=3599)
    still = gateway.handle(request(probe, session_id=session_id))
    clock.advance(seconds=3601)
    after = gateway.handle(request(probe, session_id=session_id))

    # Then each use reset the timeout, and inactivity expired it
    assert parse(before.body)["operation"]["authentication"]["status"] == "success"
    assert parse(still.body)["operation"]["authentication"]["sessiontimeout"] == "2024-06-05T12:29:58-06:00"
    expired = parse(after.body)["operation"]
    assert expired["authentication"]["status"] == "failure"
    assert expired["errormessage"]["error"][0]["description2"] == f"Invalid session {session_id}"


def test_expire_sessions_ends_every_session(gateway: Gateway) -> None:
    # Given a session
    session_id = _session(gateway)

    # When the emulator expires sessions
    gateway.expire_sessions()

    # Then the session is refused
    reply = gateway.handle(request(fn("getAPISession"), session_id=session_id))
    assert parse(reply.body)["operation"]["authentication"]["status"] == "failure"


def test_get_api_session_must_be_alone(gateway: Gateway) -> None:
    # Given getAPISession together with a query
    query = fn("query", "<object>LOCATION</object><select><field>RECORDNO</field></select>", controlid="q")

    # When sent
    found = results(gateway.handle(request(fn("getAPISession"), query)).body)

    # Then getAPISession fails and the query still runs
    assert [item["status"] for item in found] == ["failure", "success"]


# --- writes ---------------------------------------------------------------------------------------------------


def test_create_answers_with_lower_case_objects(gateway: Gateway, store: IntacctStore) -> None:
    # Given a new project
    # When it is created
    found = _call(gateway, fn("create", _project("24-0300")))

    # Then the answer lists it as Intacct does, and it is stored
    stored = store.find("PROJECT", "24-0300")
    assert stored is not None
    assert found["status"] == "success"
    assert found["data"]["@listtype"] == "objects"
    assert found["data"]["@count"] == "1"
    assert found["data"]["project"] == [{"RECORDNO": str(stored["RECORDNO"]), "PROJECTID": "24-0300"}]


def test_multi_object_create_keeps_the_ones_that_worked(gateway: Gateway, store: IntacctStore) -> None:
    # Given two projects, the second a duplicate
    # When both are created in one function
    found = _call(gateway, fn("create", _project("24-0400") + _project("24-0117")))

    # Then the function fails but lists the one created, with Intacct's duplicate errors
    assert found["status"] == "failure"
    assert [row["PROJECTID"] for row in found["data"]["project"]] == ["24-0400"]
    assert [error["errorno"] for error in errors(found)] == ["BL34000061", "BL01001973"]
    assert store.find("PROJECT", "24-0400") is not None


def test_transaction_true_rolls_back_and_aborts_siblings(gateway: Gateway, store: IntacctStore) -> None:
    # Given a transactional operation: a good create, then a bad one, then another
    functions = (
        fn("create", _project("24-0500"), controlid="a"),
        fn("create", _project("24-0117"), controlid="b"),
        fn("create", _project("24-0501"), controlid="c"),
    )

    # When it is sent
    found = results(gateway.handle(request(*functions, transaction=True)).body)

    # Then nothing is stored, the failing function fails and the others are aborted
    assert [item["status"] for item in found] == ["aborted", "failure", "aborted"]
    assert errors(found[0])[0]["errorno"] == "XL03000009"
    assert "rolled back" in errors(found[0])[0]["description"]
    assert errors(found[1])[0]["errorno"] == "BL34000061"
    assert store.find("PROJECT", "24-0500") is None
    assert store.find("PROJECT", "24-0501") is None


def test_update_by_id_or_recordno_and_delete(gateway: Gateway, store: IntacctStore) -> None:
    # Given project 24-0117 and a spare standard task
    project = store.find("PROJECT", "24-0117")
    spare = store.create("STANDARDTASK", {"STANDARDTASKID": "09-900", "NAME": "Painting"})
    assert project is not None

    # When one update uses PROJECTID, another RECORDNO, and the spare is deleted
    by_id = _call(gateway, fn("update", "<PROJECT><PROJECTID>24-0117</PROJECTID><NAME>By ID</NAME></PROJECT>"))
    by_key = _call(
        gateway, fn("update", f"<PROJECT><RECORDNO>{project['RECORDNO']}</RECORDNO><NAME>By key</NAME></PROJECT>")
    )
    deleted = _call(gateway, fn("delete", f"<object>STANDARDTASK</object><keys>{spare['RECORDNO']}</keys>"))
    missing = _call(gateway, fn("delete", "<object>STANDARDTASK</object><keys>1</keys>"))

    # Then both updates answer like creates, the delete has no data, and a missing key fails
    assert by_id["data"]["project"] == [{"RECORDNO": str(project["RECORDNO"]), "PROJECTID": "24-0117"}]
    assert by_key["status"] == "success"
    assert store.find("PROJECT", "24-0117")["NAME"] == "By key"  # type: ignore[index]  # found above
    assert deleted == {"status": "success", "function": "delete", "controlid": "f1"}
    assert store.get("STANDARDTASK", spare["RECORDNO"]) is None
    assert errors(missing)[0]["description2"] == "Cannot find standard task with key '1' to delete."


def test_timesheet_create_answers_with_its_recordno(gateway: Gateway, store: IntacctStore) -> None:
    # Given a timesheet in Intacct's documented create shape
    timesheet = (
        f"<TIMESHEET><EMPLOYEEID>E1001</EMPLOYEEID><BEGINDATE>{WEEK_START}</BEGINDATE><GLPOSTDATE></GLPOSTDATE>"
        "<DESCRIPTION>Assignar #123</DESCRIPTION><STATE>Submitted</STATE><TIMESHEETENTRIES>"
        "<TIMESHEETENTRY><ENTRYDATE>06/03/2024</ENTRYDATE><QTY>8</QTY><PROJECTID>24-0117</PROJECTID>"
        "<TASKID>03-300</TASKID><ITEMID>LAB-FOREMAN</ITEMID><COSTTYPEID>LAB</COSTTYPEID><BILLABLE>false</BILLABLE>"
        "<LOCATIONID>100</LOCATIONID><NOTES></NOTES></TIMESHEETENTRY>"
        "<TIMESHEETENTRY><ENTRYDATE>06/04/2024</ENTRYDATE><QTY>7.5</QTY><PROJECTID>24-0117</PROJECTID>"
        "<TASKID>01-100</TASKID></TIMESHEETENTRY></TIMESHEETENTRIES></TIMESHEET>"
    )

    # When it is created
    found = _call(gateway, fn("create", timesheet), uniqueid=True)

    # Then the answer carries the RECORDNO (TIMESHEET has no ID field) and both entries are stored
    (stored,) = store.records("TIMESHEET")
    assert found["data"]["timesheet"] == [{"RECORDNO": str(stored["RECORDNO"])}]
    assert stored["STATE"] == "Submitted"
    assert [entry["QTY"] for entry in stored["TIMESHEETENTRIES"]] == [8, 7.5]


def test_create_potransaction_answers_with_a_key(gateway: Gateway, store: IntacctStore) -> None:
    # Given an equipment usage transaction in the legacy shape
    transaction = (
        "<transactiontype>Equipment Usage</transactiontype>"
        "<datecreated><year>2024</year><month>6</month><day>4</day></datecreated>"
        "<vendorid>V-INTERNAL</vendorid><referenceno>asg-77</referenceno>"
        "<potransitems><potransitem><itemid>EQ-EXC-001</itemid><quantity>6</quantity><unit>Hours</unit>"
        "<price>85</price><projectid>24-0117</projectid><taskid>03-300</taskid><costtypeid>EQP</costtypeid>"
        "</potransitem></potransitems>"
    )

    # When it is created
    found = _call(gateway, fn("create_potransaction", transaction))

    # Then the result carries <key> and PODOCUMENT holds it
    assert found["key"] == "Equipment Usage-00001"
    (document,) = store.records("PODOCUMENT")
    assert document["PONUMBER"] == "asg-77"
    assert document["ENTRIES"][0]["UNIT"] == "Hours"


def test_generic_create_of_a_purchasing_document_is_refused(gateway: Gateway) -> None:
    # Given PODOCUMENT is written with create_potransaction only
    # When a generic create is tried
    found = _call(gateway, fn("create", "<PODOCUMENT><DOCPARID>Equipment Usage</DOCPARID></PODOCUMENT>"))

    # Then it fails and says which function to use
    assert found["status"] == "failure"
    assert errors(found)[0]["correction"] == "Create purchasing transactions with create_potransaction."


# --- control ids ----------------------------------------------------------------------------------------------


def test_repeated_function_controlid_is_refused_under_uniqueid(gateway: Gateway, store: IntacctStore) -> None:
    # Given a create that completed with function controlid "asg-ts-1"
    first = _call(gateway, fn("create", _project("24-0600"), controlid="asg-ts-1"), uniqueid=True)

    # When the same function controlid comes again with uniqueid=true (a retry after a lost answer)
    again = _call(gateway, fn("create", _project("24-0601"), controlid="asg-ts-1"), uniqueid=True, controlid="req-2")

    # Then it is refused with the emulator's documented-guess error and nothing new is stored
    assert first["status"] == "success"
    assert again["status"] == "failure"
    (error,) = errors(again)
    assert error["errorno"] == "BL01001973"
    assert error["description"] == "Duplicate function control ID"
    assert error["description2"] == "A function with control ID 'asg-ts-1' was already executed and completed."
    assert store.find("PROJECT", "24-0601") is None


def test_controlid_is_not_checked_without_uniqueid_or_after_a_failure(gateway: Gateway) -> None:
    # Given a function controlid that failed once
    failed = _call(gateway, fn("create", _project("24-0117"), controlid="retry-me"), uniqueid=True)

    # When it is sent again after fixing the record, and a read repeats its controlid with uniqueid=false
    fixed = _call(gateway, fn("create", _project("24-0700"), controlid="retry-me"), uniqueid=True)
    read = fn("read", "<object>PROJECT</object><keys>1</keys>", controlid="retry-me")
    repeated = _call(gateway, read, uniqueid=False)

    # Then both run: only completed functions count, and only under uniqueid=true
    assert [failed["status"], fixed["status"], repeated["status"]] == ["failure", "success", "success"]


# --- reads and billing ----------------------------------------------------------------------------------------


def test_read_and_read_by_name(gateway: Gateway, store: IntacctStore) -> None:
    # Given project 24-0117
    project = store.find("PROJECT", "24-0117")
    assert project is not None

    # When read by RECORDNO and by name
    by_key = _call(
        gateway,
        fn("read", f"<object>PROJECT</object><keys>{project['RECORDNO']},999</keys><fields>PROJECTID,NAME</fields>"),
    )
    by_name = _call(gateway, fn("readByName", "<object>PROJECT</object><keys>24-0117</keys><fields>RECORDNO</fields>"))

    # Then both find it, under the upper-case object tag
    assert by_key["data"]["@listtype"] == "PROJECT"
    assert records(by_key, "PROJECT") == [{"PROJECTID": "24-0117", "NAME": "Lowry Fire Station"}]
    assert records(by_name, "PROJECT") == [{"RECORDNO": str(project["RECORDNO"])}]


def test_api_transactions_are_counted_as_intacct_bills(gateway: Gateway) -> None:
    # Given a query, a two-record create and a failed single create
    query = fn("query", "<object>PROJECT</object><select><field>RECORDNO</field></select>", controlid="q")
    create = fn("create", _project("24-0800") + _project("24-0801"), controlid="c")
    failing = fn("create", _project("24-0117"), controlid="d")

    # When they run
    gateway.handle(request(query, create, failing))

    # Then the query costs 1, each record written 1, and the failure nothing
    assert gateway.stats.api_transactions == 3
    assert gateway.stats.functions == {"query": 1, "create": 2}


def test_read_more_by_object_continues_the_sessions_last_read(gateway: Gateway) -> None:
    # Given a session that started a readByQuery over the two tasks, one per page
    session_id = _session(gateway)
    first = _call(
        gateway,
        fn("readByQuery", "<object>TASK</object><fields>TASKID</fields><pagesize>1</pagesize>"),
        session_id=session_id,
    )

    # When readMore names the object instead of the resultId
    second = _call(gateway, fn("readMore", "<object>TASK</object>"), session_id=session_id)

    # Then it continues that query to the end
    assert [row["TASKID"] for row in records(first, "task") + records(second, "task")] == ["03-300", "01-100"]
    assert second["data"]["@numremaining"] == "0"


def test_lookup_lists_fields_with_datatypes(gateway: Gateway) -> None:
    # Given the TIMESHEET object
    # When it is looked up
    found = _call(gateway, fn("lookup", "<object>TIMESHEET</object>"))

    # Then its fields come with datatypes, required flags and valid values
    fields = {field["ID"]: field for field in found["data"]["Type"][0]["Fields"]["Field"]}
    assert fields["BEGINDATE"]["DATATYPE"] == "DATE"
    assert fields["BEGINDATE"]["REQUIRED"] == "true"
    assert fields["WHENMODIFIED"]["READONLY"] == "true"
    assert "Submitted" in fields["STATE"]["VALIDVALUES"]["VALIDVALUE"]


def test_purchasing_documents_are_queryable_by_docparid(gateway: Gateway) -> None:
    # Given one equipment usage document
    po = (
        "<transactiontype>Equipment Usage</transactiontype>"
        "<datecreated><year>2024</year><month>6</month><day>4</day></datecreated><vendorid>V-INTERNAL</vendorid>"
        "<potransitems><potransitem><itemid>EQ-EXC-001</itemid><quantity>2</quantity></potransitem></potransitems>"
    )
    _call(gateway, fn("create_potransaction", po))
    select = "<object>PODOCUMENT</object><select><field>DOCID</field><field>WHENCREATED</field></select>"

    # When PODOCUMENT is queried by transaction definition
    usage = _call(gateway, fn("query", select + "<docparid>Equipment Usage</docparid>"))
    orders = _call(gateway, fn("query", select + "<docparid>Purchase Order</docparid>"))

    # Then only the matching definition's documents come back, WHENCREATED being the document date
    assert records(usage, "PODOCUMENT") == [{"DOCID": "Equipment Usage-00001", "WHENCREATED": "06/04/2024"}]
    assert records(orders, "PODOCUMENT") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("<vendorid>V-404</vendorid>", "Invalid Vendor 'V-404'"),
        ("<transactiontype>Sales Invoice</transactiontype>", "Invalid transaction definition 'Sales Invoice'"),
        (
            "<potransitems><potransitem><itemid>NOPE</itemid><quantity>1</quantity></potransitem></potransitems>",
            "Invalid Item 'NOPE'",
        ),
        ("<potransitems/>", "at least one PODOCUMENTENTRY"),
    ],
)
def test_purchasing_transaction_errors(gateway: Gateway, change: str, message: str) -> None:
    # Given a legacy transaction with one part replaced by a bad one
    parts = {
        "transactiontype": "<transactiontype>Equipment Usage</transactiontype>",
        "datecreated": "<datecreated><year>2024</year><month>6</month><day>4</day></datecreated>",
        "vendorid": "<vendorid>V-INTERNAL</vendorid>",
        "potransitems": (
            "<potransitems><potransitem><itemid>EQ-EXC-001</itemid><quantity>1</quantity></potransitem></potransitems>"
        ),
    }
    parts[change[1 : change.index(">")].rstrip("/")] = change

    # When it is created
    found = _call(gateway, fn("create_potransaction", "".join(parts.values())))

    # Then it fails with the reason and no key
    assert found["status"] == "failure"
    assert "key" not in found
    assert message in errors(found)[0]["description2"]


def test_schema_errors_echo_the_control_they_could_read(gateway: Gateway) -> None:
    # Given a well-formed request with an unknown function
    # When it is sent
    response = parse(gateway.handle(request(fn("frobnicate"), controlid="req-77")).body)

    # Then the failed control still names the request, as Intacct's XL03000003 answers do
    assert response["control"] == {
        "status": "failure",
        "senderid": CREDENTIALS.sender_id,
        "controlid": "req-77",
        "uniqueid": "false",
        "dtdversion": "3.0",
    }
