"""Faults that commit a write and lose its answer: a dropped connection, and a commit landing late; and the
write-only fault plan that draws them only for requests holding a write function."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from intacct_assignar_dev.emulators.intacct import FaultPlan, IntacctEmulator, IntacctStore
from intacct_assignar_dev.emulators.intacct.server import holds_write_function

from tests.unit.intacct_emulator.envelope import errors, fn, query, records, request, result

pytestmark = pytest.mark.integration

CREATE = fn("create", "<DEPARTMENT><DEPARTMENTID>NEW</DEPARTMENTID><TITLE>New crew</TITLE></DEPARTMENT>")
FIND_NEW = fn(
    "query",
    query(
        "DEPARTMENT", ["DEPARTMENTID"], filter_xml="<equalto><field>DEPARTMENTID</field><value>NEW</value></equalto>"
    ),
)
# A purchasing transaction has no ID of its own (the gateway numbers it), so a repeat makes a second document.
CREATE_PO = fn(
    "create_potransaction",
    "<transactiontype>Equipment Usage</transactiontype>"
    "<datecreated><year>2024</year><month>6</month><day>4</day></datecreated><vendorid>V-INTERNAL</vendorid>"
    "<potransitems><potransitem><itemid>EQ-EXC-001</itemid><quantity>2</quantity></potransitem></potransitems>",
    controlid="po-usage-1",
)
LATE_COMMIT_S = 1.0


@pytest.fixture
def late_emulator(store: IntacctStore) -> Iterator[IntacctEmulator]:
    with IntacctEmulator(store, late_commit_s=LATE_COMMIT_S) as emulator:
        yield emulator


def _wait_until(check: Callable[[], bool], limit_s: float = 5.0) -> None:
    """Poll a state (not a duration), so slow machines only wait longer, never fail."""
    deadline = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def _post(http: httpx.Client, emulator: IntacctEmulator, write: str) -> httpx.Response:
    """A write with uniqueid=true, so a completed function control ID is refused when repeated."""
    return http.post(emulator.endpoint_url, content=request(write, uniqueid=True))


def _find_new(http: httpx.Client, emulator: IntacctEmulator) -> list[str]:
    found = http.post(emulator.endpoint_url, content=request(FIND_NEW))
    assert found.status_code == 200
    return [row["DEPARTMENTID"] for row in records(result(found.content), "DEPARTMENT")]


# --- drop ------------------------------------------------------------------------------------------------------


def test_a_dropped_create_was_committed_without_an_answer(
    emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given the connection is dropped after the next create ran
    emulator.fail_next("drop", function="create")

    # When the create is sent
    with pytest.raises(httpx.RemoteProtocolError):
        _post(http, emulator, CREATE)

    # Then the client got no answer at all, yet the record exists and a later query (new connection) finds it
    assert store.find("DEPARTMENT", "NEW") is not None
    assert _find_new(http, emulator) == ["NEW"]
    assert emulator.stats.faults == {"drop": 1}


def test_a_dropped_create_resent_is_refused_as_a_duplicate_control_id(
    emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given a purchasing transaction whose connection was dropped after it committed
    emulator.fail_next("drop", function="create_potransaction")
    with pytest.raises(httpx.RemoteProtocolError):
        _post(http, emulator, CREATE_PO)

    # When it is re-sent with the same control ID
    again = result(_post(http, emulator, CREATE_PO).content)

    # Then the gateway knows the completed function and writes nothing more
    assert again["status"] == "failure"
    assert errors(again)[0]["errorno"] == "BL01001973"
    assert len(store.records("PODOCUMENT")) == 1


# --- late ------------------------------------------------------------------------------------------------------


def test_a_late_create_is_answered_524_and_lands_later(
    late_emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given the next create's commit lands late
    late_emulator.fail_next("late", function="create")

    # When the create is sent, then a query looks for the record at once
    started = time.monotonic()
    cut = _post(http, late_emulator, CREATE)
    early = _find_new(http, late_emulator)
    looked_after = time.monotonic() - started

    # Then the create got the 524 page, and the query was served (the slot is free) but found nothing yet
    assert looked_after < LATE_COMMIT_S, "the machine was too slow to look before the commit landed"
    assert cut.status_code == 524
    assert b"cf-error-details" in cut.content
    assert early == []
    assert store.find("DEPARTMENT", "NEW") is None
    assert late_emulator.late_commits_pending == 1

    # And once the late commit has landed, the record is there
    late_emulator.settle_late_commits(timeout=10)
    assert time.monotonic() - started >= LATE_COMMIT_S
    assert _find_new(http, late_emulator) == ["NEW"]
    assert late_emulator.stats.faults == {"late": 1}
    assert late_emulator.stats.late_commits_landed == 1
    assert late_emulator.late_commits_pending == 0
    assert late_emulator.late_commit_errors == []


def test_a_resend_before_a_late_commit_lands_is_executed_again(
    late_emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given a purchasing transaction answered 524 whose commit has not landed yet
    late_emulator.fail_next("late", function="create_potransaction")
    started = time.monotonic()
    assert _post(http, late_emulator, CREATE_PO).status_code == 524

    # When it is re-sent with the same control ID before the commit lands
    resent = result(_post(http, late_emulator, CREATE_PO).content)
    assert time.monotonic() - started < LATE_COMMIT_S, "the machine was too slow to re-send before the commit"

    # Then Intacct, knowing only completed functions, runs it; when the late one lands there are two documents
    assert resent["status"] == "success"
    assert len(store.records("PODOCUMENT")) == 1
    late_emulator.settle_late_commits(timeout=10)
    assert len(store.records("PODOCUMENT")) == 2
    assert late_emulator.late_commit_errors == []


def test_a_resend_after_a_late_commit_landed_is_refused_as_a_duplicate(
    late_emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given a purchasing transaction answered 524 whose commit has since landed
    late_emulator.fail_next("late", function="create_potransaction")
    assert _post(http, late_emulator, CREATE_PO).status_code == 524
    late_emulator.settle_late_commits(timeout=10)

    # When it is re-sent with the same control ID
    again = result(_post(http, late_emulator, CREATE_PO).content)

    # Then it is refused as a duplicate control ID, and one document exists
    assert again["status"] == "failure"
    assert errors(again)[0]["errorno"] == "BL01001973"
    assert len(store.records("PODOCUMENT")) == 1


def test_a_late_commit_waits_for_the_company_slot_instead_of_being_throttled(store: IntacctStore) -> None:
    # Given a slow query holding the company's slot
    with (
        IntacctEmulator(store, latency_s=0.4, late_commit_s=0.05) as emulator,
        httpx.Client(timeout=10.0) as http,
        httpx.Client(timeout=10.0) as other,
    ):
        answers: list[list[str]] = []
        busy = threading.Thread(target=lambda: answers.append(_find_new(other, emulator)))
        busy.start()
        _wait_until(emulator.company_slot.locked)

        # When a create whose commit lands late is sent meanwhile, and comes due while the query still runs
        emulator.fail_next("late", function="create")
        cut = _post(http, emulator, CREATE)
        emulator.settle_late_commits(timeout=10)
        busy.join()

    # Then the create was answered 524 at once (it needs no slot for that), and its commit waited for the slot
    # and landed; nothing was throttled
    assert cut.status_code == 524
    assert answers == [[]]
    assert store.find("DEPARTMENT", "NEW") is not None
    assert emulator.stats.throttled == 0
    assert emulator.stats.late_commits_landed == 1
    assert emulator.late_commit_errors == []


def test_stop_lands_pending_late_commits(store: IntacctStore) -> None:
    # Given a late commit due long after the test
    with IntacctEmulator(store, late_commit_s=60) as emulator, httpx.Client(timeout=10.0) as http:
        emulator.fail_next("late", function="create")
        assert _post(http, emulator, CREATE).status_code == 524
        assert store.find("DEPARTMENT", "NEW") is None

    # When the emulator stops (leaving the with block)
    # Then the commit landed at once rather than being lost
    assert store.find("DEPARTMENT", "NEW") is not None
    assert emulator.stats.late_commits_landed == 1
    assert emulator.late_commits_pending == 0


def test_settle_late_commits_times_out_while_one_is_pending(store: IntacctStore) -> None:
    # Given a late commit due long after the test
    with IntacctEmulator(store, late_commit_s=60) as emulator, httpx.Client(timeout=10.0) as http:
        emulator.fail_next("late", function="create")
        _post(http, emulator, CREATE)

        # When settling waits only briefly
        # Then it says so
        with pytest.raises(TimeoutError, match="1 late commits still pending"):
            emulator.settle_late_commits(timeout=0.05)


# --- the write-only plan ---------------------------------------------------------------------------------------

READS = [
    fn("getAPISession"),
    FIND_NEW,
    fn("readByQuery", "<object>DEPARTMENT</object><fields>DEPARTMENTID</fields><query></query>"),
    fn("read", "<object>DEPARTMENT</object><keys>1</keys><fields>*</fields>"),
    fn("readByName", "<object>DEPARTMENT</object><keys>FIELD</keys><fields>*</fields>"),
    fn("lookup", "<object>DEPARTMENT</object>"),
]
WRITES = [
    CREATE,
    fn("update", "<DEPARTMENT><RECORDNO>1</RECORDNO><TITLE>Site</TITLE></DEPARTMENT>"),
    fn("delete", "<object>DEPARTMENT</object><keys>1</keys>"),
    CREATE_PO,
]


@pytest.mark.parametrize("function", READS)
def test_reads_do_not_hold_write_functions(function: str) -> None:
    assert not holds_write_function(request(function))


@pytest.mark.parametrize(
    "function",
    [
        *WRITES,
        fn("update_potransaction", "<key>x</key>"),
        fn("delete_sotransaction", "<key>x</key>"),
        '<function controlid="c"> <!-- a note --> <create><DEPARTMENT/></create></function>',
    ],
)
def test_writes_hold_write_functions(function: str) -> None:
    assert holds_write_function(request(function))


def test_a_request_with_one_write_among_reads_holds_a_write_function() -> None:
    assert holds_write_function(request(fn("lookup", "<object>DEPARTMENT</object>"), CREATE))


def test_write_faults_at_rate_one_fault_every_write_and_no_read(
    emulator: IntacctEmulator, store: IntacctStore, http: httpx.Client
) -> None:
    # Given every write gets a 502 (which runs nothing)
    emulator.write_faults = FaultPlan(rate=1.0, kinds=["502"], seed=3)

    # When each read and each write is sent
    read_statuses = [http.post(emulator.endpoint_url, content=request(read)).status_code for read in READS]
    write_statuses = [http.post(emulator.endpoint_url, content=request(write)).status_code for write in WRITES]

    # Then no read was faulted, every write was, and nothing was written
    assert read_statuses == [200] * len(READS)
    assert write_statuses == [502] * len(WRITES)
    assert emulator.stats.faults == {"502": len(WRITES)}
    assert store.find("DEPARTMENT", "NEW") is None
    assert store.records("PODOCUMENT") == []


def _seeded_run(seed: int) -> list[str]:
    """What a fixed mix of reads and writes sees under a write plan of committing faults with `seed`."""
    store = IntacctStore()
    store.create("DEPARTMENT", {"DEPARTMENTID": "FIELD", "TITLE": "Field Operations"})
    plan = FaultPlan(rate=0.5, kinds=("drop", "524", "late", "timeout"), seed=seed)
    outcomes: list[str] = []
    with (
        IntacctEmulator(store, write_faults=plan, late_commit_s=0.05, timeout_hold_s=0.05) as emulator,
        httpx.Client(timeout=5.0) as http,
    ):
        for number in range(12):
            write = fn("create", f"<DEPARTMENT><DEPARTMENTID>D{number}</DEPARTMENTID><TITLE>Crew</TITLE></DEPARTMENT>")
            for body in (request(FIND_NEW), request(write)):
                try:
                    outcomes.append(str(http.post(emulator.endpoint_url, content=body).status_code))
                except httpx.RemoteProtocolError:
                    outcomes.append("dropped")
        emulator.settle_late_commits(timeout=10)
        # Every write committed, whatever happened to its answer
        assert len(store.records("DEPARTMENT")) == 13
    return outcomes


def test_seeded_write_faults_are_reproducible() -> None:
    # Given two runs of the same traffic with the same seed
    # When both are run
    first, second = _seeded_run(7), _seeded_run(7)

    # Then they see the same sequence: reads always answered, writes faulted the same way each time
    assert first == second
    assert first[0::2] == ["200"] * 12
    assert len(set(first[1::2])) > 2


def test_unknown_write_fault_kinds_are_refused(store: IntacctStore) -> None:
    with pytest.raises(ValueError, match="unknown Intacct fault kinds"):
        IntacctEmulator(store, write_faults=FaultPlan(rate=0.5, kinds=["lost"]))
