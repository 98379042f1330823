"""The emulator over HTTP with raw XML: sessions, paging, readMore, writes with audit trail, control ids."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore

from tests.unit.intacct_emulator.envelope import (
    data_attributes,
    errors,
    fn,
    login,
    parse,
    query,
    records,
    request,
    result,
)
from tests.unit.intacct_emulator.fixtures import WEEK_START, FakeClock

pytestmark = pytest.mark.integration


def _post(http: httpx.Client, emulator: IntacctEmulator, body: bytes) -> httpx.Response:
    return http.post(emulator.endpoint_url, content=body)


def _result(http: httpx.Client, emulator: IntacctEmulator, *functions: str, **options: Any) -> dict[str, Any]:
    response = _post(http, emulator, request(*functions, **options))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    return result(response.content)


def _session(http: httpx.Client, emulator: IntacctEmulator) -> tuple[str, str]:
    api = _result(http, emulator, fn("getAPISession"))["data"]["api"][0]
    return api["sessionid"], api["endpoint"]


def test_settings_env_points_at_the_emulator(emulator: IntacctEmulator) -> None:
    # Given a running emulator
    # When its client settings are read
    env = emulator.settings_env()

    # Then they carry the contract names and the gateway URL
    assert env["INTACCT_ENDPOINT_URL"] == f"{emulator.url}/ia/xml/xmlgw.phtml"
    assert set(env) == {
        "INTACCT_SENDER_ID",
        "INTACCT_SENDER_PASSWORD",
        "INTACCT_COMPANY_ID",
        "INTACCT_USER_ID",
        "INTACCT_USER_PASSWORD",
        "INTACCT_ENDPOINT_URL",
    }


def test_session_lifecycle(http: httpx.Client, emulator: IntacctEmulator, clock: FakeClock) -> None:
    # Given a session from a login
    session_id, endpoint = _session(http, emulator)
    probe = fn("query", query("LOCATION", ["LOCATIONID"]))

    # When it is used, expired by the emulator, and replaced; then the new one idles past its duration
    used = _post(http, emulator, request(probe, session_id=session_id))
    emulator.expire_sessions()
    expired = _post(http, emulator, request(probe, session_id=session_id))
    fresh_id, _ = _session(http, emulator)
    clock.advance(seconds=3601)
    idle = _post(http, emulator, request(probe, session_id=fresh_id))

    # Then it worked at the returned endpoint until expired, and expiry is an XL03000006 authentication failure
    assert endpoint == emulator.endpoint_url
    assert parse(used.content)["operation"]["result"][0]["status"] == "success"
    for response in (expired, idle):
        operation = parse(response.content)["operation"]
        assert operation["authentication"]["status"] == "failure"
        assert operation["errormessage"]["error"][0]["errorno"] == "XL03000006"
    assert emulator.stats.sessions_created == 2


def test_query_pages_with_offset_and_numremaining(
    http: httpx.Client, emulator: IntacctEmulator, store: IntacctStore
) -> None:
    # Given 25 departments in all
    for number in range(24):
        store.create("DEPARTMENT", {"DEPARTMENTID": f"D{number:02d}", "TITLE": f"Crew {number}"})
    seen: list[str] = []
    pages: list[dict[str, str]] = []

    # When paged 10 at a time by offset until numremaining is 0
    offset = 0
    while True:
        inner = query("DEPARTMENT", ["DEPARTMENTID"], extra=f"<pagesize>10</pagesize><offset>{offset}</offset>")
        found = _result(http, emulator, fn("query", inner))
        pages.append(data_attributes(found))
        seen += [row["DEPARTMENTID"] for row in records(found, "DEPARTMENT")]
        if pages[-1]["numremaining"] == "0":
            break
        offset += int(pages[-1]["count"])

    # Then three pages cover every record once, each billed as one API transaction
    assert [(page["count"], page["numremaining"]) for page in pages] == [("10", "15"), ("10", "5"), ("5", "0")]
    assert len(seen) == len(set(seen)) == 25
    assert emulator.stats.api_transactions == 3


def test_query_offsets_are_new_queries_so_changes_between_pages_show(
    http: httpx.Client, emulator: IntacctEmulator, store: IntacctStore
) -> None:
    # Given ten departments ordered by ID, and a change that lands right after the first page is answered
    for number in range(9):
        store.create("DEPARTMENT", {"DEPARTMENTID": f"D{number}", "TITLE": "Crew"})
    emulator.after_request = lambda: store.create("DEPARTMENT", {"DEPARTMENTID": "A-FIRST", "TITLE": "New"})
    order = "<order><field>DEPARTMENTID</field><ascending/></order>"

    # When two pages of five are read by offset
    first = _result(
        http,
        emulator,
        fn("query", query("DEPARTMENT", ["DEPARTMENTID"], orderby=order, extra="<pagesize>5</pagesize>")),
    )
    emulator.after_request = None
    second = _result(
        http,
        emulator,
        fn(
            "query",
            query("DEPARTMENT", ["DEPARTMENTID"], orderby=order, extra="<pagesize>5</pagesize><offset>5</offset>"),
        ),
    )

    # Then the insert shifted the second page, as Intacct warns ("records may be missed")
    assert data_attributes(first)["totalcount"] == "10"
    assert data_attributes(second)["totalcount"] == "11"
    assert records(first, "DEPARTMENT")[-1] == records(second, "DEPARTMENT")[0]


def test_read_by_query_and_read_more(http: httpx.Client, emulator: IntacctEmulator, store: IntacctStore) -> None:
    # Given 11 active and 1 inactive employees in all
    for number in range(10):
        store.create("EMPLOYEE", {"EMPLOYEEID": f"E2{number:03d}", "CONTACT.LASTNAME": "Worker"})
    inner = (
        "<object>EMPLOYEE</object><fields>RECORDNO,EMPLOYEEID,STATUS</fields>"
        "<query>STATUS = 'T'</query><pagesize>5</pagesize>"
    )

    # When read with readByQuery and continued with readMore until nothing remains
    first = _result(http, emulator, fn("readByQuery", inner))
    pages = [first]
    while data_attributes(pages[-1])["numremaining"] != "0":
        result_id = data_attributes(pages[-1])["resultId"]
        pages.append(_result(http, emulator, fn("readMore", f"<resultId>{result_id}</resultId>")))

    # Then listtype and record tags are lower-case, and the pages hold all 11 active employees once
    attributes = data_attributes(first)
    assert attributes["listtype"] == "employee"
    assert (attributes["count"], attributes["totalcount"], attributes["numremaining"]) == ("5", "11", "6")
    assert attributes["resultId"]
    assert data_attributes(pages[-1])["resultId"] == ""
    ids = [row["EMPLOYEEID"] for page in pages for row in records(page, "employee")]
    assert len(ids) == len(set(ids)) == 11
    assert [page["function"] for page in pages] == ["readByQuery", "readMore", "readMore"]


def test_read_more_with_an_expired_result_id_fails(http: httpx.Client, emulator: IntacctEmulator) -> None:
    # Given a readByQuery with more to come
    first = _result(
        http,
        emulator,
        fn("readByQuery", "<object>TASK</object><fields>*</fields><query></query><pagesize>1</pagesize>"),
    )
    result_id = data_attributes(first)["resultId"]

    # When result ids expire and readMore is called
    emulator.expire_result_ids()
    found = _result(http, emulator, fn("readMore", f"<resultId>{result_id}</resultId>"))

    # Then readMore fails in Intacct's words
    assert found["status"] == "failure"
    (error,) = errors(found)
    assert error["errorno"] == "readMore failed"
    assert error["description2"] == f"Attempt to readMore with an invalid or expired resultId: {result_id}"


def test_writes_stamp_whenmodified_and_deletes_show_in_audithistory(
    http: httpx.Client, emulator: IntacctEmulator, clock: FakeClock
) -> None:
    # Given a customer created at 09:30:00
    created = _result(
        http, emulator, fn("create", "<CUSTOMER><CUSTOMERID>C-9</CUSTOMERID><NAME>Alpine</NAME></CUSTOMER>")
    )
    recordno = created["data"]["customer"][0]["RECORDNO"]

    # When it is updated at 09:35:00 and deleted at 09:40:00
    clock.advance(minutes=5)
    _result(http, emulator, fn("update", f"<CUSTOMER><RECORDNO>{recordno}</RECORDNO><NAME>Alpine Co</NAME></CUSTOMER>"))
    after_update = _result(
        http,
        emulator,
        fn(
            "query",
            query(
                "CUSTOMER",
                ["WHENCREATED", "WHENMODIFIED", "NAME"],
                filter_xml=f"<equalto><field>RECORDNO</field><value>{recordno}</value></equalto>",
            ),
        ),
    )
    clock.advance(minutes=5)
    _result(http, emulator, fn("delete", f"<object>CUSTOMER</object><keys>{recordno}</keys>"))
    audit_filter = (
        "<and><equalto><field>OBJECTTYPE</field><value>customer</value></equalto>"
        "<equalto><field>ACCESSMODE</field><value>D</value></equalto>"
        "<greaterthan><field>ACCESSTIME</field><value>06/05/2024 09:30:00</value></greaterthan></and>"
    )
    audit = _result(
        http,
        emulator,
        fn(
            "query",
            query(
                "AUDITHISTORY",
                ["OBJECTKEY", "ACCESSTIME", "ID", "ACCESSMODE"],
                filter_xml=audit_filter,
                orderby="<order><field>ACCESSTIME</field><ascending/></order>",
            ),
        ),
    )

    # Then WHENMODIFIED moved with the update, and the delete is one AUDITHISTORY row keyed RECORDNO--REC
    assert records(after_update, "CUSTOMER") == [
        {"WHENCREATED": "06/05/2024 09:30:00", "WHENMODIFIED": "06/05/2024 09:35:00", "NAME": "Alpine Co"}
    ]
    (row,) = records(audit, "AUDITHISTORY")
    assert row["OBJECTKEY"] == f"{recordno}--REC"
    assert row["ACCESSTIME"] == "06/05/2024 09:40:00"
    assert row["ACCESSMODE"] == "D"


def test_business_error_for_a_timesheet_off_the_week_start(http: httpx.Client, emulator: IntacctEmulator) -> None:
    # Given a timesheet starting on a Monday in a company whose week begins on Sunday
    timesheet = (
        "<TIMESHEET><EMPLOYEEID>E1001</EMPLOYEEID><BEGINDATE>06/03/2024</BEGINDATE><TIMESHEETENTRIES>"
        "<TIMESHEETENTRY><ENTRYDATE>06/03/2024</ENTRYDATE><QTY>8</QTY></TIMESHEETENTRY>"
        "</TIMESHEETENTRIES></TIMESHEET>"
    )

    # When it is created
    found = _result(http, emulator, fn("create", timesheet))

    # Then the result fails with BL01001973 saying why, and no timesheet exists
    assert found["status"] == "failure"
    assert found["data"]["@count"] == "0"
    first, last = errors(found)
    assert first["errorno"] == "BL01001973"
    assert "week begins on Sunday" in first["description2"]
    assert last["description2"] == "Could not create timesheet record!"


def test_a_posted_timesheet_cannot_be_posted_twice_under_uniqueid(
    http: httpx.Client, emulator: IntacctEmulator, store: IntacctStore
) -> None:
    # Given a timesheet pushed with a deterministic function controlid
    timesheet = (
        f"<TIMESHEET><EMPLOYEEID>E1001</EMPLOYEEID><BEGINDATE>{WEEK_START}</BEGINDATE><TIMESHEETENTRIES>"
        "<TIMESHEETENTRY><ENTRYDATE>06/03/2024</ENTRYDATE><QTY>8</QTY><PROJECTID>24-0117</PROJECTID>"
        "<TASKID>03-300</TASKID></TIMESHEETENTRY></TIMESHEETENTRIES></TIMESHEET>"
    )
    push = fn("create", timesheet, controlid="asg-ts-123-1")
    first = _result(http, emulator, push, uniqueid=True, auth=login(location_id="100"))

    # When the same push is resent (as after a lost response)
    again = _result(http, emulator, push, uniqueid=True, controlid="req-retry")

    # Then the second is refused and only one timesheet exists
    assert first["status"] == "success"
    assert again["status"] == "failure"
    assert errors(again)[0]["description"] == "Duplicate function control ID"
    assert len(store.records("TIMESHEET")) == 1


def test_wrong_path_is_404(http: httpx.Client, emulator: IntacctEmulator) -> None:
    # Given the gateway path is fixed
    # When another path is posted to
    response = http.post(f"{emulator.url}/ia/xml/other.phtml", content=request(fn("getAPISession")))

    # Then it is not found
    assert response.status_code == 404


def test_wrong_sender_is_401_over_http(http: httpx.Client, emulator: IntacctEmulator) -> None:
    # Given a wrong sender id
    # When a request is sent
    response = _post(http, emulator, request(fn("getAPISession"), sender_id="intruder"))

    # Then HTTP 401 carries the XMLGW_JPP0002 control failure
    assert response.status_code == 401
    assert parse(response.content)["errormessage"]["error"][0]["errorno"] == "XMLGW_JPP0002"
