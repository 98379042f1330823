"""The targeted pull on an in-memory Intacct: a batch of notices costs one query per object, each notice publishes
what the scheduled pull would have published for its record, and a failure costs only its own object's notices."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar.config import parse_config
from intacct_assignar.consumer import Parked
from intacct_assignar.inbound.events import RecordEvent
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.targeted import EventConsumer, EventResult, TargetedPull
from intacct_assignar.intacct.errors import IntacctBusinessError
from intacct_assignar.intacct.protocol import Result
from intacct_assignar.state import SqliteStateStore, SyncedRecord

from .fakes import InMemoryIntacct
from .intacct_records import customer, employee

CONFIG = parse_config({"timezone": "America/Denver"})
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


class Published:
    def __init__(self) -> None:
        self.messages: list[SyncMessage] = []

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        self.messages.extend(messages)


class Parking:
    def __init__(self) -> None:
        self.parked: list[tuple[str, str]] = []

    def park(self, body: str, reason: str) -> None:
        self.parked.append((body, reason))


@pytest.fixture
def state(tmp_path: Path) -> Iterator[SqliteStateStore]:
    store = SqliteStateStore(tmp_path / "state.db")
    yield store
    store.close()


def event(object_name: str, recordno: str) -> RecordEvent:
    return RecordEvent(object_name=object_name, recordno=recordno, received_at=NOW)


def hundred_workers() -> list[dict[str, Any]]:
    return [employee(RECORDNO=str(900001 + n), EMPLOYEEID=f"E{1001 + n}") for n in range(100)]


def test_a_burst_of_100_notices_costs_one_intacct_query_and_publishes_each_record(state: SqliteStateStore) -> None:
    # Given 100 notices for 100 employees, delivered in one batch
    intacct = InMemoryIntacct({"EMPLOYEE": hundred_workers()})
    published = Published()
    targeted = TargetedPull(intacct, state, published, CONFIG, clock=lambda: NOW)
    events = [event("EMPLOYEE", str(900001 + n)) for n in range(100)]

    # When the batch is read together, then each notice applied
    targeted.prefetch(events)
    results = [targeted.apply(each) for each in events]

    # Then Intacct was asked once (plus the definitions, once), and each record was published once
    assert intacct.queries == ["EMPLOYEE"]
    assert [r.outcome for r in results] == ["published"] * 100
    assert sorted(m.integration_id for m in published.messages) == sorted(
        f"intacct:EMPLOYEE:{900001 + n}" for n in range(100)
    )


def test_negative_control_the_same_notices_read_one_by_one_cost_100_queries(state: SqliteStateStore) -> None:
    intacct = InMemoryIntacct({"EMPLOYEE": hundred_workers()})
    targeted = TargetedPull(intacct, state, Published(), CONFIG, clock=lambda: NOW)
    for n in range(100):
        targeted.apply(event("EMPLOYEE", str(900001 + n)))  # no prefetch: each read alone
    assert intacct.queries == ["EMPLOYEE"] * 100


def test_a_record_is_published_exactly_as_the_scheduled_pull_would_publish_it(state: SqliteStateStore) -> None:
    # Given workers filtered to the FIELD department: one in it, one that moved to the office
    config = parse_config({"timezone": "America/Denver", "workflows": {"workers": {"departments": ["FIELD"]}}})
    records = [employee(), employee(RECORDNO="900002", EMPLOYEEID="E1002", DEPARTMENTID="OFFICE")]
    scheduled, targeted_out = Published(), Published()

    # When the scheduled pull reads them, and (on a fresh state) notices for both are pulled
    PullService(InMemoryIntacct({"EMPLOYEE": records}), state, scheduled, config, clock=lambda: NOW).pull("EMPLOYEE")
    # (nothing was written to Assignar in between: the state holds no content hashes to leave records out by)
    targeted = TargetedPull(InMemoryIntacct({"EMPLOYEE": records}), state, targeted_out, config, clock=lambda: NOW)
    events = [event("EMPLOYEE", "900001"), event("EMPLOYEE", "900002")]
    targeted.prefetch(events)
    results = [targeted.apply(each) for each in events]

    # Then both paths publish the same records: the office worker as inactive, outside the filter (the upsert then
    # deactivates it in Assignar, or skips it if it was never there), as the scheduled pull does
    def records_of(messages: list[SyncMessage]) -> dict[str, Any]:
        return {m.integration_id: m.record.model_dump() if m.record else None for m in messages}

    assert records_of(targeted_out.messages) == records_of(scheduled.messages)
    office = next(m for m in targeted_out.messages if m.integration_id == "intacct:EMPLOYEE:900002")
    assert office.record is not None and not office.record.active
    assert office.record.inactive_reason is not None and "FIELD" in office.record.inactive_reason
    assert [r.outcome for r in results] == ["published", "published"]


def test_a_record_intacct_does_not_return_publishes_nothing(state: SqliteStateStore) -> None:
    published = Published()
    targeted = TargetedPull(InMemoryIntacct({"EMPLOYEE": [employee()]}), state, published, CONFIG)
    targeted.prefetch([event("EMPLOYEE", "900001"), event("EMPLOYEE", "912345")])
    gone = targeted.apply(event("EMPLOYEE", "912345"))
    assert (gone.outcome, published.messages) == ("not_found", [])
    assert targeted.apply(event("EMPLOYEE", "900001")).outcome == "published"  # negative control


def test_a_record_already_in_assignar_as_it_is_publishes_nothing(state: SqliteStateStore) -> None:
    # Given a record the upsert already wrote with this content
    intacct = InMemoryIntacct({"CUSTOMER": [customer()]})
    first = Published()
    targeted = TargetedPull(intacct, state, first, CONFIG)
    targeted.apply(event("CUSTOMER", "300001"))
    [message] = first.messages
    assert message.record is not None
    state.put_synced(
        SyncedRecord("clients", message.integration_id, "C-1001", 5, message.record.content_hash(), True, NOW)
    )
    # When a repeated notice arrives (Intacct retried it)
    again = Published()
    result = TargetedPull(intacct, state, again, CONFIG).apply(event("CUSTOMER", "300001"))
    # Then nothing travels
    assert (result.outcome, again.messages) == ("unchanged", [])


class _RefusesEmployees(InMemoryIntacct):
    def query(self, object_name: str, select: Sequence[str], **kwargs: Any) -> Result:
        if object_name == "EMPLOYEE":
            self.queries.append(object_name)
            raise IntacctBusinessError("You do not have permission for API operation READ_BY_QUERY on EMPLOYEE")
        return super().query(object_name, select, **kwargs)


def test_an_object_intacct_will_not_read_fails_only_its_own_notices_and_parks_them_on_the_last_delivery(
    state: SqliteStateStore,
) -> None:
    # Given a batch with customers and employees, where Intacct refuses to read employees
    intacct = _RefusesEmployees({"CUSTOMER": [customer()], "EMPLOYEE": [employee()]})
    published, parking = Published(), Parking()
    consumer = EventConsumer(TargetedPull(intacct, state, published, CONFIG), parking)
    bodies = [event("CUSTOMER", "300001").to_body(), event("EMPLOYEE", "900001").to_body()]
    consumer.prefetch(bodies)

    # When each is handled
    done = consumer.handle(bodies[0], receive_count=1, max_receives=5)
    with pytest.raises(IntacctBusinessError):
        consumer.handle(bodies[1], receive_count=1, max_receives=5)  # comes back later
    parked = consumer.handle(bodies[1], receive_count=5, max_receives=5)  # its last delivery

    # Then the customer went through, the employee's notice failed alone, then was parked with Intacct's words
    assert isinstance(done, EventResult) and done.outcome == "published"
    assert [m.integration_id for m in published.messages] == ["intacct:CUSTOMER:300001"]
    assert isinstance(parked, Parked)
    [(body, reason)] = parking.parked
    assert body == bodies[1] and "gave up after 5 deliveries" in reason and "permission" in reason


def test_a_body_that_is_not_a_record_event_is_parked_at_once(state: SqliteStateStore) -> None:
    parking = Parking()
    consumer = EventConsumer(TargetedPull(InMemoryIntacct({}), state, Published(), CONFIG), parking)
    outcome = consumer.handle('{"object_name": "EMPLOYEE"}')
    assert isinstance(outcome, Parked) and "not a valid record event" in outcome.reason
    assert len(parking.parked) == 1


def test_a_notice_for_a_disabled_workflow_reads_nothing(state: SqliteStateStore) -> None:
    config = parse_config({"timezone": "America/Denver", "workflows": {"clients": {"enabled": False}}})
    intacct = InMemoryIntacct({"CUSTOMER": [customer()]})
    result = TargetedPull(intacct, state, Published(), config).apply(event("CUSTOMER", "300001"))
    assert result.outcome == "skipped" and "disabled" in (result.reason or "")
    assert intacct.queries == []


def test_each_batch_begins_afresh_a_warm_container_reports_only_what_this_batch_read(
    state: SqliteStateStore,
) -> None:
    intacct = InMemoryIntacct({"EMPLOYEE": hundred_workers(), "CUSTOMER": [customer(RECORDNO="300001")]})
    targeted = TargetedPull(intacct, state, Published(), CONFIG, clock=lambda: NOW)
    targeted.prefetch([event("EMPLOYEE", "900001")])
    assert [report.source for report in targeted.reports] == ["EMPLOYEE"]
    # The next batch, in the same container: its run entries must not count the last batch's read again
    targeted.prefetch([event("CUSTOMER", "300001")])
    assert [report.source for report in targeted.reports] == ["CUSTOMER"]
    # ... and a notice of the last batch's object is read again, not answered from the old read
    targeted.apply(event("EMPLOYEE", "900001"))
    assert intacct.queries.count("EMPLOYEE") == 2
