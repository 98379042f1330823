"""Throttling and injected faults over HTTP: which ones did the work, and what the client gets back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from intacct_assignar.emulators.intacct import FaultPlan, IntacctEmulator, IntacctStore
from intacct_assignar.intacct.xmlcodec import XmlRefusedError

from tests.unit.intacct_emulator.envelope import fn, parse, request, result

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
