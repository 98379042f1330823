"""Throttling and injected faults over HTTP: which ones did the work, and what the client gets back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from intacct_assignar.intacct.xmlcodec import XmlRefusedError
from intacct_assignar_dev.emulators.intacct import FaultPlan, IntacctEmulator, IntacctStore

from tests.unit.intacct_emulator.envelope import fn, parse, query, records, request, result

pytestmark = pytest.mark.integration

CREATE = fn("create", "<DEPARTMENT><DEPARTMENTID>NEW</DEPARTMENTID><TITLE>New crew</TITLE></DEPARTMENT>")


def _wait_until(check: Callable[[], bool], limit_s: float = 5.0) -> None:
    """Poll a state (not a duration), so slow machines only wait longer, never fail."""
    deadline = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


@pytest.fixture
def slow_emulator(store: IntacctStore) -> Iterator[IntacctEmulator]:
    with IntacctEmulator(store, latency_s=0.5) as emulator:
        yield emulator


def test_overlapping_request_gets_429_gw_0010(slow_emulator: IntacctEmulator, http: httpx.Client) -> None:
    # Given one request in flight for the company
    answers: list[httpx.Response] = []
    worker = threading.Thread(
        target=lambda: answers.append(http.post(slow_emulator.endpoint_url, content=request(CREATE)))
    )
    worker.start()
    _wait_until(slow_emulator.company_slot.locked)

    # When a second request arrives meanwhile
    with httpx.Client(timeout=10.0) as other:
        overlapping = other.post(slow_emulator.endpoint_url, content=request(fn("getAPISession")))
    worker.join()

    # Then the second is throttled with GW-0010 and the first completes
    assert overlapping.status_code == 429
    response = parse(overlapping.content)
    assert response["control"]["status"] == "failure"
    assert response["errormessage"]["error"][0]["errorno"] == "GW-0010"
    assert answers[0].status_code == 200
    assert slow_emulator.stats.throttled == 1


@pytest.mark.parametrize(("kind", "status"), [("429", 429), ("502", 502), ("malformed", 200)])
def test_faults_that_do_nothing(
    emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client, kind: str, status: int
) -> None:
    # Given every request gets the fault
    emulator.faults = FaultPlan(rate=1.0, kinds=[kind], seed=1)

    # When a create is sent
    response = http.post(emulator.endpoint_url, content=request(CREATE))

    # Then the client sees the fault and nothing was written
    assert response.status_code == status
    assert store.find("DEPARTMENT", "NEW") is None
    assert emulator.stats.faults == {kind: 1}
    if kind == "502":
        assert response.headers["content-type"].startswith("text/html")
    if kind == "malformed":
        with pytest.raises(XmlRefusedError):
            parse(response.content)
    if kind == "429":
        assert parse(response.content)["errormessage"]["error"][0]["errorno"] == "GW-0010"


def test_524_answers_html_but_the_work_was_committed(
    emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given the CDN cuts every answer
    emulator.faults = FaultPlan(rate=1.0, kinds=["524"])

    # When a create is sent
    response = http.post(emulator.endpoint_url, content=request(CREATE))

    # Then the client gets Cloudflare's 524 page, yet the record exists
    assert response.status_code == 524
    assert b"cf-error-details" in response.content
    assert store.find("DEPARTMENT", "NEW") is not None


def test_timeout_executes_then_holds_the_answer(emulator: IntacctEmulator, store: IntacctStore) -> None:
    # Given answers are held for a second (timeout_hold_s=1.0) and the client waits a quarter of that
    emulator.faults = FaultPlan(rate=1.0, kinds=["timeout"])

    # When a create is sent
    with httpx.Client(timeout=0.25) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post(emulator.endpoint_url, content=request(CREATE))

    # Then the client timed out although the record was committed
    _wait_until(lambda: store.find("DEPARTMENT", "NEW") is not None)


def test_a_held_answer_arrives_for_a_patient_client(store: IntacctStore) -> None:
    # Given a short hold
    plan = FaultPlan(rate=1.0, kinds=["timeout"])
    with IntacctEmulator(store, faults=plan, timeout_hold_s=0.2) as emulator, httpx.Client(timeout=5.0) as patient:
        # When a patient client sends a create
        response = patient.post(emulator.endpoint_url, content=request(CREATE))

    # Then the real answer comes after the hold
    assert response.status_code == 200
    assert result(response.content)["status"] == "success"


def test_unknown_fault_kinds_are_refused(store: IntacctStore) -> None:
    # Given a fault kind the Intacct emulator does not know
    # When an emulator is built with it
    # Then it refuses at once
    with pytest.raises(ValueError, match="unknown Intacct fault kinds"):
        IntacctEmulator(store, faults=FaultPlan(rate=0.5, kinds=["418"]))


def test_latency_knob_delays_answers(store: IntacctStore) -> None:
    # Given a latency of 0.2 s
    with IntacctEmulator(store, latency_s=0.2) as emulator, httpx.Client(timeout=5.0) as client:
        # When a request is timed
        started = time.monotonic()
        client.post(emulator.endpoint_url, content=request(fn("getAPISession")))
        elapsed = time.monotonic() - started

    # Then it took at least the latency
    assert elapsed >= 0.2


# --- targeted faults (fail_next) -------------------------------------------------------------------------------

FIND_NEW = fn(
    "query",
    query(
        "DEPARTMENT", ["DEPARTMENTID"], filter_xml="<equalto><field>DEPARTMENTID</field><value>NEW</value></equalto>"
    ),
)
CREATE_PO = fn(
    "create_potransaction",
    "<transactiontype>Equipment Usage</transactiontype>"
    "<datecreated><year>2024</year><month>6</month><day>4</day></datecreated><vendorid>V-INTERNAL</vendorid>"
    "<potransitems><potransitem><itemid>EQ-EXC-001</itemid><quantity>2</quantity></potransitem></potransitems>",
)


def test_a_create_answered_524_was_committed(emulator: IntacctEmulator, http: httpx.Client) -> None:
    # Given the next create's answer is cut by the CDN
    emulator.fail_next("524", function="create")

    # When the create is sent, then a query looks for its record
    cut = http.post(emulator.endpoint_url, content=request(CREATE))
    found = http.post(emulator.endpoint_url, content=request(FIND_NEW))

    # Then the create got the 524 page, yet the query finds the record, and the fault is counted
    assert cut.status_code == 524
    assert b"cf-error-details" in cut.content
    assert found.status_code == 200
    assert [row["DEPARTMENTID"] for row in records(result(found.content), "DEPARTMENT")] == ["NEW"]
    assert emulator.stats.faults == {"524": 1}


def test_a_fault_armed_for_create_spares_other_functions(
    emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given a 502 armed for the next create
    emulator.fail_next("502", function="create")

    # When a query and a create_potransaction come first, then the create
    query_answer = http.post(emulator.endpoint_url, content=request(FIND_NEW))
    po_answer = http.post(emulator.endpoint_url, content=request(CREATE_PO))
    create_answer = http.post(emulator.endpoint_url, content=request(CREATE))

    # Then only the create got the fault, and it did nothing
    assert query_answer.status_code == po_answer.status_code == 200
    assert result(po_answer.content)["status"] == "success"
    assert create_answer.status_code == 502
    assert store.find("DEPARTMENT", "NEW") is None
    assert emulator.stats.faults == {"502": 1}


def test_a_fault_armed_for_create_potransaction_spares_create(
    emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given a 429 armed for the next create_potransaction
    emulator.fail_next("429", function="create_potransaction")

    # When a generic create comes first, then the create_potransaction
    create_answer = http.post(emulator.endpoint_url, content=request(CREATE))
    po_answer = http.post(emulator.endpoint_url, content=request(CREATE_PO))

    # Then the create went through and the purchasing transaction was throttled without being written
    assert create_answer.status_code == 200
    assert store.find("DEPARTMENT", "NEW") is not None
    assert po_answer.status_code == 429
    assert store.records("PODOCUMENT") == []


def test_a_fault_armed_for_query_spares_read_by_query(emulator: IntacctEmulator, http: httpx.Client) -> None:
    # Given a 502 armed for the next query (readByQuery holds a <query> element of its own)
    emulator.fail_next("502", function="query")
    read_by_query = fn("readByQuery", "<object>DEPARTMENT</object><fields>DEPARTMENTID</fields><query></query>")

    # When a readByQuery comes first, then a query
    first = http.post(emulator.endpoint_url, content=request(read_by_query))
    second = http.post(emulator.endpoint_url, content=request(FIND_NEW))

    # Then only the query got the fault
    assert (first.status_code, second.status_code) == (200, 502)


def test_armed_faults_count_down_then_stop(emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client) -> None:
    # Given two malformed answers armed for any request
    emulator.fail_next("malformed", times=2)

    # When three requests are sent
    answers = [http.post(emulator.endpoint_url, content=request(fn("getAPISession"))) for _ in range(2)]
    answers.append(http.post(emulator.endpoint_url, content=request(CREATE)))

    # Then the first two are cut short, the third is answered and did its work
    for answer in answers[:2]:
        with pytest.raises(XmlRefusedError):
            parse(answer.content)
    assert result(answers[2].content)["status"] == "success"
    assert store.find("DEPARTMENT", "NEW") is not None
    assert emulator.stats.faults == {"malformed": 2}


def test_armed_faults_come_before_the_random_plan(emulator: IntacctEmulator, http: httpx.Client) -> None:
    # Given every request gets a random 502, and a 429 is armed for the next one
    emulator.faults = FaultPlan(rate=1.0, kinds=["502"])
    emulator.fail_next("429")

    # When two requests are sent
    statuses = [http.post(emulator.endpoint_url, content=request(CREATE)).status_code for _ in range(2)]

    # Then the armed fault came first, then the random plan again
    assert statuses == [429, 502]
    assert emulator.stats.faults == {"429": 1, "502": 1}


def test_an_armed_timeout_commits_the_update_and_holds_the_answer(
    emulator: IntacctEmulator, store: IntacctStore
) -> None:
    # Given a department, and a timeout armed for the next update
    department = store.find("DEPARTMENT", "FIELD")
    assert department is not None
    emulator.fail_next("timeout", function="update")
    update = fn("update", f"<DEPARTMENT><RECORDNO>{department['RECORDNO']}</RECORDNO><TITLE>Site</TITLE></DEPARTMENT>")

    # When the update is sent by a client that waits less than the hold
    with httpx.Client(timeout=0.25) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.post(emulator.endpoint_url, content=request(update))

    # Then the client timed out although the change was committed
    _wait_until(lambda: (store.find("DEPARTMENT", "FIELD") or {}).get("TITLE") == "Site")


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [("418", {}, "unknown Intacct fault kind"), ("502", {"times": 0}, "times"), ("502", {"function": " "}, "function")],
)
def test_fail_next_refuses_what_it_cannot_arm(
    emulator: IntacctEmulator, kind: str, options: dict[str, Any], message: str
) -> None:
    # Given a fault kind the emulator does not know, or no request to give it to
    # When it is armed
    # Then it is refused at once
    with pytest.raises(ValueError, match=message):
        emulator.fail_next(kind, **options)
