"""The Intacct client against the emulator over real HTTP: sessions, paging, writes, errors and faults."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from intacct_assignar.intacct import (
    ChangePull,
    IntacctAuthenticationError,
    IntacctBusinessError,
    IntacctClient,
    IntacctDuplicateControlIdError,
    IntacctOutcomeUnknownError,
    IntacctQueryExpiredError,
    MemorySessionCache,
    RetryPolicy,
    Window,
    deletions,
)
from intacct_assignar.intacct.filters import eq
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.sources import SOURCES
from intacct_assignar_dev.emulators.intacct import (
    EmulatorCredentials,
    FaultPlan,
    IntacctEmulator,
    IntacctStore,
    generate_company,
)

ZONE = ZoneInfo("America/Denver")


@pytest.fixture(scope="module")
def company() -> IntacctStore:
    store = IntacctStore(timezone=str(ZONE))
    generate_company(store, employees=80, seed=3)
    return store


@pytest.fixture
def emulator(company: IntacctStore) -> Iterator[IntacctEmulator]:
    with IntacctEmulator(company) as running:
        yield running


def client_for(emulator: IntacctEmulator, **kwargs: object) -> IntacctClient:
    settings = IntacctSettings.model_validate(emulator.settings_env())
    options: dict[str, object] = {"timezone": ZONE, "sessions": MemorySessionCache(), "sleep": lambda _s: None}
    options.update(kwargs)
    return IntacctClient(settings, **options)  # type: ignore[arg-type]


def test_full_pull_of_every_object_across_many_pages_matches_the_company(emulator: IntacctEmulator) -> None:
    # Given a small page size, so every object spans several pages
    client = client_for(emulator)
    now = datetime.now(ZONE)

    for source in SOURCES:
        # When
        pulled = list(ChangePull(client, source.object_name, source.fields, Window(None, now), pagesize=7).records())

        # Then every record arrives once, with the fields we asked for
        expected = {r["RECORDNO"] for r in emulator.store.records(source.object_name)}
        assert sorted(int(r["RECORDNO"]) for r in pulled) == sorted(expected), source.object_name
        assert set(source.fields) <= set(pulled[0]), source.object_name
    assert client.counters.sessions_opened == 1


def test_an_expired_session_is_replaced_without_the_caller_noticing(emulator: IntacctEmulator) -> None:
    # Given a client with an open session that Intacct then forgets
    client = client_for(emulator)
    client.query("DEPARTMENT", ["RECORDNO"])
    emulator.expire_sessions()

    # When
    result = client.query("DEPARTMENT", ["RECORDNO", "DEPARTMENTID"])

    # Then
    assert result.records
    assert client.counters.sessions_opened == 2


def test_wrong_user_password_is_an_authentication_error_naming_intacct_reason(emulator: IntacctEmulator) -> None:
    # Given
    env = emulator.settings_env() | {"INTACCT_USER_PASSWORD": "not-the-password"}
    client = IntacctClient(IntacctSettings.model_validate(env), timezone=ZONE, sessions=MemorySessionCache())

    # When / Then
    with pytest.raises(IntacctAuthenticationError) as caught:
        client.query("DEPARTMENT", ["RECORDNO"])
    assert caught.value.errorno == "XL03000006"
    assert "not-the-password" not in str(caught.value)


def test_entity_sessions_are_opened_for_the_configured_entity(company: IntacctStore) -> None:
    # Given a multi-entity company and INTACCT_ENTITY_ID
    entity = company.records("LOCATION")[0]["LOCATIONID"]
    with IntacctEmulator(company, credentials=EmulatorCredentials(entity_id=entity)) as emulator:
        client = client_for(emulator)

        # When
        client.connect()

        # Then the session is the entity's
        assert client.settings.entity_id == entity
        assert client.counters.sessions_opened == 1


def test_read_by_query_pages_with_read_more_and_an_expired_result_id_is_restartable(
    emulator: IntacctEmulator,
) -> None:
    # Given
    client = client_for(emulator)
    active = [r for r in emulator.store.records("EMPLOYEE") if r.get("STATUS") == "active"]

    # When
    pages = list(client.read_by_query("EMPLOYEE", "STATUS = 'T'", fields=["RECORDNO", "EMPLOYEEID"], pagesize=9))

    # Then
    assert sum(len(page) for page in pages) == len(active)
    assert len(pages) == -(-len(active) // 9)
    assert client.counters.by_function["readMore"] == len(pages) - 1

    # And when Intacct drops the result set mid-way, the caller is told to restart
    pages_iter = client.read_by_query("EMPLOYEE", "", pagesize=5)
    next(pages_iter)
    emulator.expire_result_ids()
    with pytest.raises(IntacctQueryExpiredError):
        next(pages_iter)


def test_create_update_delete_move_whenmodified_and_deletions_are_found(emulator: IntacctEmulator) -> None:
    # Given
    client = client_for(emulator)
    before = datetime.now(ZONE) - timedelta(seconds=2)

    # When a customer is created, renamed and deleted
    created = client.create("CUSTOMER", {"CUSTOMERID": "C-IT-1", "NAME": "Mesa Verde Schools"}, controlid="it-c-1")
    assert created.recordno is not None
    client.update("CUSTOMER", {"RECORDNO": created.recordno, "NAME": "Mesa Verde School District"}, controlid="it-u-1")
    changed = list(
        ChangePull(client, "CUSTOMER", ["NAME"], Window.incremental(before, timedelta(0), datetime.now(ZONE))).records()
    )
    client.delete("CUSTOMER", [created.recordno], controlid="it-d-1")

    # Then the incremental pull saw the new name, and the deletion check sees the delete
    assert [r["NAME"] for r in changed if r["RECORDNO"] == created.recordno] == ["Mesa Verde School District"]
    window = Window(before, datetime.now(ZONE) + timedelta(seconds=1))
    found = list(deletions(client, ["CUSTOMER", "PROJECT"], window))
    assert [(d.object_name, d.recordno) for d in found] == [("CUSTOMER", int(created.recordno))]


def test_business_error_names_the_unknown_reference(emulator: IntacctEmulator) -> None:
    # Given
    client = client_for(emulator)

    # When / Then
    with pytest.raises(IntacctBusinessError) as caught:
        client.create(
            "PROJECT", {"PROJECTID": "P-IT-1", "NAME": "Orphan", "CUSTOMERID": "NO-SUCH-CUSTOMER"}, controlid="it-p-1"
        )
    assert "NO-SUCH-CUSTOMER" in str(caught.value)


def test_a_repeated_control_id_is_refused_and_nothing_is_created_twice(emulator: IntacctEmulator) -> None:
    # Given a write that completed
    client = client_for(emulator)
    client.create("CUSTOMER", {"CUSTOMERID": "C-IT-2", "NAME": "Alpine Dental"}, controlid="it-dup-1")

    # When the same function control ID is sent again (say, by a retrying caller)
    with pytest.raises(IntacctDuplicateControlIdError):
        client.create("CUSTOMER", {"CUSTOMERID": "C-IT-2B", "NAME": "Alpine Dental"}, controlid="it-dup-1")

    # Then Intacct holds it once
    names = [r for r in emulator.store.records("CUSTOMER") if r["NAME"] == "Alpine Dental"]
    assert len(names) == 1


def test_an_overlapping_request_is_throttled_and_retried(emulator: IntacctEmulator) -> None:
    # Given another job of the same company holding Intacct's one slot
    waits: list[float] = []

    def wait_then_free(seconds: float) -> None:
        waits.append(seconds)
        emulator.company_slot.release()

    client = client_for(emulator, retry=RetryPolicy(max_attempts=3), sleep=wait_then_free)
    client.connect()
    emulator.company_slot.acquire()

    # When
    result = client.query("DEPARTMENT", ["RECORDNO"])

    # Then the first attempt got 429 GW-0010, the retry went through
    assert result.ok and len(waits) == 1
    assert emulator.stats.throttled == 1


def test_one_request_in_flight_per_company_from_one_process(emulator: IntacctEmulator) -> None:
    # Given two clients of the same company used from two threads at once
    first, second = client_for(emulator), client_for(emulator)
    first.connect()
    second.connect()
    emulator.latency_s = 0.05
    try:
        # When they query concurrently
        threads = [
            threading.Thread(target=lambda c=c: [c.query("EMPLOYEE", ["RECORDNO"]) for _ in range(4)])
            for c in (first, second)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        emulator.latency_s = 0.0

    # Then the gateway never saw an overlap
    assert emulator.stats.throttled == 0


@pytest.mark.parametrize("fault", ["524", "timeout"])
def test_a_write_whose_answer_is_lost_is_not_resent_and_can_be_found(company: IntacctStore, fault: str) -> None:
    # Given a gateway that commits writes, then loses the answer
    with IntacctEmulator(company, timeout_hold_s=2.0) as emulator:
        client = client_for(emulator, timeout_s=0.5)
        client.connect()
        emulator.faults = FaultPlan(rate=1.0, kinds=[fault], seed=1)
        customer_id = f"C-LOST-{fault}"

        # When
        with pytest.raises(IntacctOutcomeUnknownError):
            client.create("CUSTOMER", {"CUSTOMERID": customer_id, "NAME": "Lost Answer LLC"}, controlid=f"lost-{fault}")

        # Then exactly one request was sent, and a lookup finds the committed record
        emulator.faults = None
        assert emulator.stats.faults[fault] == 1
        found = client.query("CUSTOMER", ["RECORDNO", "CUSTOMERID"], filter=eq("CUSTOMERID", customer_id))
        assert len(found.records) == 1


def test_malformed_answers_to_writes_are_unknown_and_reads_retry_through_faults(company: IntacctStore) -> None:
    # Given a gateway that sometimes fails reads with 502s, 429s and broken bodies
    with IntacctEmulator(company) as emulator:
        client = client_for(emulator, retry=RetryPolicy(max_attempts=8))
        client.connect()
        emulator.faults = FaultPlan(rate=0.4, kinds=["429", "502", "malformed"], seed=5)

        # When a full pull of employees pages through it
        pulled = list(
            ChangePull(client, "EMPLOYEE", ["RECORDNO"], Window(None, datetime.now(ZONE)), pagesize=10).records()
        )

        # Then nothing is lost or doubled, and the faults really happened
        assert sorted(int(r["RECORDNO"]) for r in pulled) == sorted(r["RECORDNO"] for r in company.records("EMPLOYEE"))
        assert sum(emulator.stats.faults.values()) > 0 and client.counters.retries > 0

        # And a write answered with a broken body is not re-sent
        emulator.faults = FaultPlan(rate=1.0, kinds=["malformed"], seed=5)
        with pytest.raises(IntacctOutcomeUnknownError):
            client.create("CUSTOMER", {"CUSTOMERID": "C-MAL", "NAME": "Broken Body Inc"}, controlid="mal-1")
        assert emulator.stats.faults["malformed"] >= 1
