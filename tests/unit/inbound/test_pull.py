"""The pull on an in-memory Intacct: what it reads, publishes, reports and remembers; with the upsert on an
in-memory Assignar, the inbound path from an Intacct page to an Assignar write."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from intacct_assignar.config import parse_config
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.upsert import UpsertService
from intacct_assignar.state import SqliteStateStore

from .fakes import InMemoryAssignar, InMemoryIntacct
from .intacct_records import customer

CONFIG = parse_config({"timezone": "America/Denver"})
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 09:00 in Denver


class Published:
    """The upsert queue: what the pull published, in order."""

    def __init__(self) -> None:
        self.messages: list[SyncMessage] = []

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        self.messages.extend(messages)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[SqliteStateStore]:
    store = SqliteStateStore(tmp_path / "state.db")
    yield store
    store.close()


def test_a_first_pull_publishes_every_customer_and_reports_the_one_it_cannot_map(state: SqliteStateStore) -> None:
    # Given a company with two customers, one without a name
    intacct = InMemoryIntacct({"CUSTOMER": [customer(), customer(RECORDNO="300002", CUSTOMERID="C-1002", NAME=None)]})
    published = Published()

    # When customers are pulled for the first time
    report = PullService(intacct, state, published, CONFIG, clock=lambda: NOW).pull("CUSTOMER")

    # Then one query read both; the named one is published, the other reported with the field at fault
    assert intacct.queries == ["CUSTOMER"]
    assert (report.full, report.complete, report.fetched, report.published) == (True, True, 2, {"clients": 1})
    assert [m.integration_id for m in published.messages] == ["intacct:CUSTOMER:300001"]
    (problem,) = report.problems
    assert (problem.source_id, problem.reason) == ("C-1002", "CUSTOMER 300002 (C-1002): NAME: is empty")
    # And the next pull starts where this one ended
    assert state.get_watermark(report.progress_key) == NOW


def test_the_next_pull_reads_the_lookback_and_only_a_changed_customer_reaches_assignar(
    state: SqliteStateStore,
) -> None:
    # Given three customers pulled and written to Assignar: two edited this morning, one last year
    rows = {
        "C-1001": customer(RECORDNO="300001", CUSTOMERID="C-1001", WHENMODIFIED="11/25/2026 08:15:00"),
        "C-1002": customer(RECORDNO="300002", CUSTOMERID="C-1002", WHENMODIFIED="11/25/2026 08:20:00"),
        "C-1003": customer(RECORDNO="300003", CUSTOMERID="C-1003", WHENMODIFIED="01/15/2025 16:02:00"),
    }
    intacct, assignar, queue = InMemoryIntacct({"CUSTOMER": list(rows.values())}), InMemoryAssignar(), Published()
    clock = [NOW]
    pull = PullService(intacct, state, queue, CONFIG, clock=lambda: clock[0])
    upsert = UpsertService(assignar, state, CONFIG, clock=lambda: clock[0])
    pull.pull("CUSTOMER")
    for message in queue.messages:
        upsert.apply(message)
    assert len(assignar.clients.list()) == 3

    # When one is renamed in Intacct and the next scheduled pull runs half an hour later
    intacct.records["CUSTOMER"][1].update(NAME="Summit Builders West", WHENMODIFIED="11/25/2026 09:10:00")
    clock[0] = NOW + timedelta(minutes=30)
    queue.messages.clear()
    report = pull.pull("CUSTOMER")
    results = [upsert.apply(message) for message in queue.messages]

    # Then the two inside the lookback were read again, the unchanged one left out, and only the rename written
    assert (report.full, report.fetched, report.unchanged) == (False, 2, {"clients": 1})
    assert [m.record.source_id for m in queue.messages if m.record is not None] == ["C-1002"]
    assert [(r.source_id, r.action) for r in results] == [("C-1002", "updated")]
    assert [(w.kind, w.payload["name"]) for w in assignar.writes[3:]] == [("update", "Summit Builders West")]


def test_a_switched_off_workflow_reads_nothing_from_intacct(state: SqliteStateStore) -> None:
    # Given the clients workflow switched off
    intacct = InMemoryIntacct({"CUSTOMER": [customer()]})
    config = parse_config({"timezone": "America/Denver", "workflows": {"clients": {"enabled": False}}})
    published = Published()

    # When customers are pulled
    report = PullService(intacct, state, published, config, clock=lambda: NOW).pull("CUSTOMER")

    # Then Intacct was not asked anything, and the report says why
    assert report.skipped_workflows == {"clients": "disabled in the configuration"}
    assert (intacct.queries, published.messages, report.complete) == ([], [], True)
