"""The push service against both emulators over HTTP: what lands in Intacct, and exactly once."""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from intacct_assignar.outbound.results import PostingIncompleteError, PushResult, TimesheetBusyError

from .conftest import TimeWorld


def test_an_approved_timesheet_becomes_one_intacct_timesheet_and_one_equipment_transaction(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(labor=(240, 200), equipment=(180,))
    result = world.push.post(timesheet_id)
    assert result.outcome == "posted", result
    [sheet] = world.intacct_timesheets()
    person = world.crew.workers[0]
    assert sheet["EMPLOYEEID"] == person["employee_id"]
    assert sheet["BEGINDATE"] == date(2026, 11, 15)
    assert sheet["STATE"] == "Submitted"
    assert sheet["DESCRIPTION"].startswith(f"Assignar timesheet {timesheet_id} (rev ")
    lines = world.timesheet_lines(sheet["RECORDNO"])
    assert [line["QTY"] for line in lines] == [Decimal("4.00"), Decimal("3.33")]
    order = world.crew.orders[0]
    assert {line["TASKID"] for line in lines} == {order["job_number"]}
    assert {line["COSTTYPEID"] for line in lines} == {"LAB"}
    assert {line["ENTRYDATE"] for line in lines} == {date(2026, 11, 18)}
    [po] = world.equipment_documents()
    assert po["DOCPARID"] == "Equipment Usage"
    assert po["CUSTVENDID"] == "V-INTERNAL"
    [po_line] = world.store.lines("PODOCUMENT", po["RECORDNO"])
    assert po_line["QUANTITY"] == Decimal("3.00")
    assert po_line["COSTTYPEID"] == "EQP"
    assert world.processed(timesheet_id)
    assert result.intacct_keys == {"timesheet": str(sheet["RECORDNO"]), "equipment": po["DOCID"]}


def test_posting_again_writes_nothing(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    world.push.post(timesheet_id)
    before = world.intacct.counters.by_function.copy()
    again = world.push.post(timesheet_id)
    assert again.outcome == "already_posted"
    assert len(world.intacct_timesheets()) == 1
    assert world.intacct.counters.by_function == before


def test_the_same_timesheet_posted_by_three_workers_at_once_lands_once(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    outcomes: list[str] = []
    errors: list[Exception] = []

    def deliver() -> None:
        # Each worker retries while another holds the lease, as SQS re-delivers a failed record.
        for _ in range(200):
            try:
                outcomes.append(world.push.post(timesheet_id).outcome)
                return
            except TimesheetBusyError:
                time.sleep(0.01)
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
                return

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(outcomes) == ["already_posted", "already_posted", "posted"]
    assert len(world.intacct_timesheets()) == 1
    assert len(world.equipment_documents()) == 1
    assert world.processed(timesheet_id)


def test_a_crash_between_the_intacct_write_and_the_ledger_is_recovered_by_lookup(
    world: TimeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    timesheet_id = world.timesheet()

    def crash(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("the Lambda container died here")

    with monkeypatch.context() as patch:
        patch.setattr(world.state, "record_posted", crash)
        with pytest.raises(SystemExit):
            world.push.post(timesheet_id)
    assert len(world.intacct_timesheets()) == 1  # the write happened; the ledger never heard of it
    # A redelivery inside the lease waits; after it, the new holder looks in Intacct before writing.
    with pytest.raises(TimesheetBusyError):
        world.push.post(timesheet_id)
    world.clock.at += world.push_lease()
    creates = world.intacct.counters.by_function["create"] + world.intacct.counters.by_function["create_potransaction"]
    result = world.push.post(timesheet_id)
    assert result.outcome == "posted"
    assert len(world.intacct_timesheets()) == 1
    assert len(world.equipment_documents()) == 1
    after = world.intacct.counters.by_function["create"] + world.intacct.counters.by_function["create_potransaction"]
    assert after == creates, "nothing was re-sent: both documents were found"
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None and entry.state == "posted" and entry.attempts == 2
    assert world.processed(timesheet_id)


def test_a_crash_before_the_writes_left_waits_out_the_doubt_then_writes_each_document_once(
    world: TimeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.first_day()
    timesheet_id = world.timesheet()

    def crash(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("died just before the writes left")

    with monkeypatch.context() as patch:
        patch.setattr(world.intacct, "write_batch", crash)
        with pytest.raises(SystemExit):
            world.push.post(timesheet_id)
    # The intents were saved before sending, so the next holder cannot tell whether they left: it waits out
    # Intacct's in-doubt window rather than risk a second document beside one still running.
    world.clock.at += world.push_lease()
    with pytest.raises(PostingIncompleteError):
        world.push.post(timesheet_id)
    assert len(world.intacct_timesheets()) == 1 and len(world.equipment_documents()) == 1  # the first day's
    world.clock.at += world.push.doubt_window
    assert world.push.post(timesheet_id).outcome == "posted"
    assert len(world.intacct_timesheets()) == 2
    assert len(world.equipment_documents()) == 2


def test_a_crash_after_the_writes_committed_finds_both_documents_and_writes_nothing_more(
    world: TimeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.first_day()
    timesheet_id = world.timesheet()
    real_write = world.intacct.write_batch

    def crash(writes: Any) -> None:
        real_write(writes)
        raise SystemExit("died as the answer arrived")

    with monkeypatch.context() as patch:
        patch.setattr(world.intacct, "write_batch", crash)
        with pytest.raises(SystemExit):
            world.push.post(timesheet_id)
    sent = world.intacct.counters.by_function["create"] + world.intacct.counters.by_function["create_potransaction"]
    world.clock.at += world.push_lease()
    assert world.push.post(timesheet_id).outcome == "posted"
    assert len(world.intacct_timesheets()) == 2 and len(world.equipment_documents()) == 2
    after = world.intacct.counters.by_function["create"] + world.intacct.counters.by_function["create_potransaction"]
    assert after == sent, "both documents were found by their markers, nothing re-sent"


def test_an_unknown_employee_is_parked_with_a_reason_and_nothing_is_written(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    worker = world.crew.workers[0]
    world.assignar_client.workers.update(worker["id"], {"employee_id": "E-NOBODY"})
    result = world.push.post(timesheet_id)
    assert result.outcome == "parked"
    assert result.reason is not None and "E-NOBODY" in result.reason and "does not exist in Intacct" in result.reason
    assert world.intacct_timesheets() == []
    assert world.equipment_documents() == []
    assert not world.processed(timesheet_id)
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None and entry.state == "parked" and entry.reason == result.reason
    # A duplicate delivery does not try again (it would fail the same way) ...
    again = world.push.post(timesheet_id)
    assert again.outcome == "parked" and again.earlier
    # ... but once the worker is fixed, a person's replay posts it.
    world.assignar_client.workers.update(worker["id"], {"employee_id": worker["employee_id"]})
    assert world.push.post(timesheet_id, retry_parked=True).outcome == "posted"
    assert len(world.intacct_timesheets()) == 1


def test_a_worker_without_an_employee_id_is_parked_naming_the_worker(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    worker = world.crew.workers[0]
    world.assignar_client.workers.update(worker["id"], {"employee_id": ""})
    result = world.push.post(timesheet_id)
    assert result.outcome == "parked"
    assert result.reason is not None and f"Assignar user {worker['id']}" in result.reason
    assert "employee ID" in result.reason
    assert world.intacct.counters.by_function["create"] == 0


def test_in_one_batched_request_intacct_refusing_one_timesheet_parks_it_alone_and_posts_the_others(
    world: TimeWorld,
) -> None:
    world.first_day()  # purchasing fields proven: every document of the batch goes in one request
    ids = [world.timesheet(worker=index) for index in range(10)]
    refused_worker = world.crew.workers[3]
    assert world.push.post(ids[3], dry_run=True).problems == []  # seen active by the reference check
    employee = next(e for e in world.store.records("EMPLOYEE") if e["EMPLOYEEID"] == refused_worker["employee_id"])
    world.store.update("EMPLOYEE", employee["RECORDNO"], {"STATUS": "inactive"})
    creates_before = world.intacct.counters.by_function["create"]
    requests_before = world.intacct.counters.http_requests

    outcomes = world.push.post_together(dict.fromkeys(ids, False))

    results = {i: outcome for i, outcome in outcomes.items() if isinstance(outcome, PushResult)}
    assert len(results) == 10, outcomes
    assert [results[i].outcome for i in ids].count("posted") == 9
    refused = results[ids[3]]
    assert refused.outcome == "parked"
    assert refused.reason is not None and "inactive" in refused.reason and "Intacct refused" in refused.reason
    # Every document went in one request: ten timesheets, ten transactions. Beside it, the reference check and
    # the look for the refused timesheet (a repeat refused in unknown words would have run all the same).
    assert world.intacct.counters.http_requests - requests_before == 1 + 1 + 1
    assert world.intacct.counters.by_function["create"] - creates_before == 10
    assert len(world.intacct_timesheets()) == 1 + 9 and len(world.equipment_documents()) == 1 + 10
    # The refused one's equipment transaction went through beside it: the parked entry keeps it, so fixing the
    # employee and replaying posts the labor only.
    entry = world.state.get_ledger(ids[3])
    assert entry is not None and entry.state == "parked" and "equipment" in entry.intacct_keys
    world.store.update("EMPLOYEE", employee["RECORDNO"], {"STATUS": "active"})
    assert world.push.post(ids[3], retry_parked=True).outcome == "posted"
    assert len(world.intacct_timesheets()) == 11 and len(world.equipment_documents()) == 11
    assert [world.processed(i) for i in ids].count(True) == 10


def test_intacct_refusing_one_timesheet_of_ten_leaves_the_other_nine_posted(world: TimeWorld) -> None:
    ids = [world.timesheet(worker=index) for index in range(10)]
    refused_worker = world.crew.workers[3]
    # Made inactive in Intacct after the reference check saw it active (a dry run; the check remembers active
    # records for a while), so the refusal comes from Intacct's own create.
    assert world.push.post(ids[3], dry_run=True).problems == []
    employee = next(e for e in world.store.records("EMPLOYEE") if e["EMPLOYEEID"] == refused_worker["employee_id"])
    world.store.update("EMPLOYEE", employee["RECORDNO"], {"STATUS": "inactive"})
    results = {timesheet_id: world.push.post(timesheet_id) for timesheet_id in ids}
    assert [results[i].outcome for i in ids].count("posted") == 9
    refused = results[ids[3]]
    assert refused.outcome == "parked"
    assert refused.reason is not None and "inactive" in refused.reason and "Intacct refused" in refused.reason
    assert len(world.intacct_timesheets()) == 9
    assert {t["EMPLOYEEID"] for t in world.intacct_timesheets()} == {
        w["employee_id"] for i, w in enumerate(world.crew.workers[:10]) if i != 3
    }
    assert [world.processed(i) for i in ids].count(True) == 9
    parked = [entry.timesheet_id for entry in world.state.iter_ledger("parked")]
    assert parked == [ids[3]]


def test_a_timesheet_not_approved_is_left_alone(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(approve=False)
    result = world.push.post(timesheet_id)
    assert result.outcome == "skipped" and result.reason is not None and "not approved" in result.reason
    assert world.intacct_timesheets() == []
    assert world.state.get_ledger(timesheet_id) is None


def test_a_dry_run_shows_the_documents_and_writes_nothing(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    result = world.push.post(timesheet_id, dry_run=True)
    assert result.outcome == "dry_run"
    assert result.documents is not None and set(result.documents) == {"TIMESHEET", "create_potransaction"}
    assert result.problems == []
    assert world.intacct_timesheets() == [] and world.equipment_documents() == []
    assert world.state.get_ledger(timesheet_id) is None
    assert not world.processed(timesheet_id)


def test_a_batch_posted_together_reads_in_one_call_checks_in_one_request_and_writes_in_one_more(
    world: TimeWorld,
) -> None:
    world.first_day()
    ids = [world.timesheet(worker=index) for index in range(5)]
    gets_before = world.assignar.calls("GET", "/v2/timesheets-expanded")
    requests_before = world.intacct.counters.http_requests
    outcomes = world.push.post_together(dict.fromkeys(ids, False))
    assert [getattr(outcomes[i], "outcome", outcomes[i]) for i in ids] == ["posted"] * 5
    assert world.assignar.calls("GET", "/v2/timesheets-expanded") == gets_before + 1, "no timesheet read alone"
    # The references of all five in one request, and their ten documents in one more.
    assert world.intacct.counters.http_requests == requests_before + 2
    assert len(world.intacct_timesheets()) == 6 and len(world.equipment_documents()) == 6
    # Each message then takes its own timesheet's outcome, once: asked again, it is posted afresh (already posted).
    assert [world.push.post(i).outcome for i in ids] == ["posted"] * 5
    assert [world.push.post(i).outcome for i in ids] == ["already_posted"] * 5


def test_before_any_purchasing_field_is_proven_each_equipment_transaction_goes_alone(world: TimeWorld) -> None:
    # A purchasing transaction whose answer is lost cannot be looked for until a field is proven to hold its
    # marker; in a request of its own, only its own lost answer can put it in doubt.
    ids = [world.timesheet(worker=index) for index in range(3)]
    requests_before = world.intacct.counters.http_requests
    world.push.post_together(dict.fromkeys(ids, False))
    # References 1, the labor timesheets together 1, each transaction alone 3, and the day's proof 3 (two
    # definitions and one batched query).
    assert world.intacct.counters.http_requests == requests_before + 1 + 1 + 3 + 3
    assert world.intacct.counters.by_function["create_potransaction"] == 3
