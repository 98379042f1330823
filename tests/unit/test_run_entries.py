"""The run entries each kind of run leaves in the history: pulls, upsert batches, `sync`, pushes; what a run costs;
and a history write that fails costing nothing but one WARNING line. Pure data and in-memory fakes only."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from intacct_assignar.config import workflow_name
from intacct_assignar.consumer import Parked
from intacct_assignar.inbound.events import RecordEvent
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.pull import PullReport, RecordProblem
from intacct_assignar.inbound.sync import Failure, SyncSummary, WorkflowSummary
from intacct_assignar.inbound.upsert import DependencyNotReady, UpsertResult
from intacct_assignar.intacct.errors import IntacctTransientError
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.results import PostingIncompleteError, PushResult, TimesheetBusyError
from intacct_assignar.outbound.run import PushSummary
from intacct_assignar.problems import Problem
from intacct_assignar.run_entries import (
    EventBatch,
    PushBatch,
    RunCost,
    RunMeter,
    UpsertBatch,
    entries_from_failed_pull,
    entries_from_pull,
    entries_from_sync,
    entry_from_push,
    push_recorded,
    sync_recorded,
)
from intacct_assignar.runs import RunEntry, RunKind
from intacct_assignar.state import SqliteStateStore, StateRunLog
from intacct_assignar.status import _deciding

START = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
END = START + timedelta(minutes=3)
COST = RunCost(intacct_transactions=7, assignar_calls=11)


def by_workflow(entries: list[RunEntry]) -> dict[str, RunEntry]:
    assert len({e.workflow for e in entries}) == len(entries), "one entry per workflow"
    return {entry.workflow: entry for entry in entries}


# --- pulls -------------------------------------------------------------------------------------------------------


def item_pull(**changes: object) -> PullReport:
    """A finished pull of ITEM (roles and assets) that began at START: one asset could not be mapped."""
    report = PullReport(
        "ITEM",
        "0123456789abcdef0123456789abcdef",
        False,
        fetched=40,
        published={"roles": 3, "assets": 2},
        deactivations={"assets": 1},
        unchanged={"roles": 20, "assets": 14},
        problems=[RecordProblem("assets", "ITEM", "77", "EQ-9", "the asset has no name in Intacct")],
        complete=True,
        watermark=END,
        progress_key="ITEM#abc",
        started_at=START,
    )
    for name, value in changes.items():
        setattr(report, name, value)
    return report


def test_a_finished_pull_is_one_pull_entry_per_workflow_its_source_feeds() -> None:
    # When
    entries = by_workflow(entries_from_pull(item_pull(), ended_at=END, cost=COST))

    # Then each workflow of ITEM has its counts; the asset that could not be mapped parks the assets' run
    roles, assets = entries["roles"], entries["assets"]
    assert (roles.kind, roles.outcome, roles.read, roles.written, roles.unchanged, roles.parked) == (
        "pull",
        "ok",
        40,
        3,
        20,
        0,
    )
    assert (assets.outcome, assets.written, assets.unchanged, assets.parked) == ("parked", 3, 14, 1)
    assert assets.detail == "assets EQ-9: the asset has no name in Intacct"
    assert roles.started_at == START and roles.ended_at == END
    # And the status reads the watermark's key from it
    assert roles.extra["progress_key"] == "ITEM#abc" and roles.extra["watermark"] == END.isoformat()


def test_a_run_covering_several_workflows_charges_its_cost_once() -> None:
    entries = entries_from_pull(item_pull(), ended_at=END, cost=COST)
    assert sum(e.intacct_transactions for e in entries) == 7
    assert [e.intacct_transactions for e in entries] == [7, 0]
    assert entries[1].extra["cost_on"] == entries[0].workflow
    assert entries[0].extra["run"] == entries[1].extra["run"]


def test_a_pull_paused_at_a_checkpoint_is_not_a_finished_run() -> None:
    assert entries_from_pull(item_pull(complete=False), ended_at=END) == []


def test_a_continued_pull_is_recorded_from_the_start_of_its_first_invocation() -> None:
    # Given a pull that began in an earlier invocation (its checkpoint's started_at)
    first_invocation = START - timedelta(minutes=14)

    # When the invocation that finishes it records it
    [roles, _] = entries_from_pull(item_pull(started_at=first_invocation), ended_at=END)

    # Then it spans both invocations
    assert roles.started_at == first_invocation and roles.seconds == 17 * 60


def test_disabled_workflows_leave_no_entry_and_one_missing_a_setting_did_not_run() -> None:
    report = PullReport(
        "ITEM",
        "f" * 32,
        False,
        skipped_workflows={"roles": "disabled in the configuration"},
        cannot_run={"assets": "set workflows.assets.gl_group in the configuration"},
        complete=True,
        started_at=START,
    )
    [assets] = entries_from_pull(report, ended_at=END)
    assert (assets.workflow, assets.outcome) == ("assets", "not_run")
    assert assets.detail == "set workflows.assets.gl_group in the configuration"


def test_work_orders_a_projects_pull_re_sent_do_not_count_as_their_own_run() -> None:
    report = PullReport(
        "PROJECT", "a" * 32, False, fetched=2, published={"projects": 2, "work_orders": 5}, complete=True
    )
    [projects] = entries_from_pull(report, ended_at=END)
    assert projects.workflow == "projects" and projects.written == 2
    assert projects.extra["also_sent"] == {"work_orders": 5}


def test_the_deletions_pull_is_one_deletions_entry() -> None:
    report = PullReport(
        "AUDITHISTORY", "d" * 32, False, fetched=3, deactivations={"workers": 2, "clients": 1}, complete=True
    )
    [deletions] = entries_from_pull(report, ended_at=END, cost=COST)
    assert (deletions.workflow, deletions.read, deletions.written, deletions.outcome) == ("deletions", 3, 3, "ok")
    assert deletions.intacct_transactions == 7


@pytest.mark.parametrize(
    ("entity", "workflows"),
    [
        ("workers", ["workers"]),
        ("EMPLOYEE", ["workers"]),
        ("ITEM", ["roles", "assets"]),
        ("assets", ["roles", "assets"]),
        ("deletions", ["deletions"]),
        ("AUDITHISTORY", ["deletions"]),
        ("nothing-we-know", []),
    ],
)
def test_a_failed_pull_fails_every_workflow_its_source_feeds_with_its_sentence(
    entity: str, workflows: list[str]
) -> None:
    sentence = "Intacct refused to list EMPLOYEE (Permission Denied): give the Web Services user permission"
    entries = entries_from_failed_pull(entity, sentence, started_at=START, ended_at=END, cost=COST)
    assert [e.workflow for e in entries] == workflows
    assert all(e.kind == "pull" and e.outcome == "failed" and e.detail == sentence for e in entries)


# --- `sync` --------------------------------------------------------------------------------------------------------


def test_a_sync_is_one_entry_per_workflow_it_ran_and_one_for_deletions() -> None:
    # Given a sync: clients fine, workers with one refused record, projects stopped by Intacct, work orders missing
    # their owner, assets disabled
    summary = SyncSummary(
        workflows={
            "clients": WorkflowSummary(fetched=5, created=2, updated=1, unchanged=2, skipped=1),
            "projects": WorkflowSummary(error=Problem("Intacct refused to list PROJECT: give permission")),
            "work_orders": WorkflowSummary(error=Problem("set workflows.work_orders.owner_user_id")),
            "assets": WorkflowSummary(not_run="disabled in the configuration"),
            "workers": WorkflowSummary(fetched=9, created=3, deactivated=1, unchanged=4, failed=1),
            "?": WorkflowSummary(failed=1),
        },
        failures=[Failure("workers", "E-0042", "Assignar refused the email"), Failure("?", "?", "not a message")],
        pulls=[
            PullReport("CUSTOMER", "c" * 32, False, complete=True, progress_key="CUSTOMER#1"),
            PullReport("TASK", "t" * 32, False, cannot_run={"work_orders": "set workflows.work_orders.owner_user_id"}),
            PullReport("AUDITHISTORY", "d" * 32, False, fetched=2, deactivations={"workers": 1}, complete=True),
        ],
    )

    # When
    entries = by_workflow(entries_from_sync(summary, started_at=START, ended_at=END, cost=COST))

    # Then
    assert set(entries) == {"clients", "projects", "work_orders", "workers", "deletions"}
    clients = entries["clients"]
    assert (clients.kind, clients.outcome, clients.read, clients.written, clients.unchanged) == ("sync", "ok", 5, 3, 3)
    assert clients.extra["progress_key"] == "CUSTOMER#1"
    assert (entries["projects"].outcome, entries["projects"].detail) == (
        "failed",
        "Intacct refused to list PROJECT: give permission",
    )
    assert entries["work_orders"].outcome == "not_run"
    workers = entries["workers"]
    assert (workers.outcome, workers.written, workers.parked) == ("parked", 4, 1)
    assert workers.detail == "workers E-0042: Assignar refused the email"
    assert (entries["deletions"].outcome, entries["deletions"].written) == ("ok", 1)
    assert sum(e.assignar_calls for e in entries.values()) == 11


def test_deletions_that_could_not_be_looked_for_fail_with_the_sentence() -> None:
    summary = SyncSummary(workflows={}, deletions=Problem("Intacct refused AUDITHISTORY: give permission"))
    [deletions] = entries_from_sync(summary, started_at=START, ended_at=END)
    assert (deletions.workflow, deletions.outcome, deletions.detail) == (
        "deletions",
        "failed",
        "Intacct refused AUDITHISTORY: give permission",
    )


# --- the upsert consumer -------------------------------------------------------------------------------------------


def message(workflow: str, key: str) -> SyncMessage:
    return SyncMessage.deactivate(workflow_name(workflow), key, "deleted in Intacct", run_id="r", pulled_at=START)


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Counters:
    api_transactions: int = 0
    total: int = 0


def test_an_upsert_batch_is_one_entry_per_workflow_in_it() -> None:
    # Given a batch: two workers written, one unchanged, one parked, one waiting for its role, one failed; a client
    clock, assignar = Clock(), Counters(total=100)
    batch = UpsertBatch(RunMeter(assignar=assignar, clock=clock))
    batch.handled(UpsertResult("workers", "i:1", "E-1", "created"))
    batch.handled(UpsertResult("workers", "i:2", "E-2", "deactivated"))
    batch.handled(UpsertResult("workers", "i:3", "E-3", "unchanged"))
    batch.handled(Parked("workers i:4: Assignar refused the email", message("workers", "i:4")))
    batch.handled(Parked("not a valid sync message"))  # a body that is no message: under no workflow
    batch.retrying(message("workers", "i:5").to_body(), DependencyNotReady("waits for roles LAB-1"))
    batch.retrying(message("workers", "i:6").to_body(), RuntimeError("Assignar answered 503"))
    batch.retrying("not json", RuntimeError("never read"))
    batch.handled(UpsertResult("clients", "c:1", "C-1", "skipped"))
    assignar.total, clock.at = 112, END

    # When
    entries = by_workflow(batch.entries())

    # Then
    workers, clients = entries["workers"], entries["clients"]
    assert (workers.kind, workers.read, workers.written, workers.unchanged, workers.parked) == ("upsert", 6, 2, 1, 1)
    assert workers.outcome == "failed" and workers.detail is not None
    assert workers.detail.startswith("workers i:6: unexpected error (RuntimeError: Assignar answered 503)")
    assert workers.extra["waiting"] == 1 and workers.extra["failed"] == 1
    assert (clients.outcome, clients.unchanged) == ("ok", 1)
    assert workers.started_at == START and workers.ended_at == END
    assert workers.assignar_calls + clients.assignar_calls == 12


def test_records_waiting_for_a_dependency_do_not_fail_the_batch() -> None:
    batch = UpsertBatch(RunMeter())
    batch.retrying(message("projects", "p:1").to_body(), DependencyNotReady("waits for clients C-1"))
    [projects] = batch.entries()
    assert projects.outcome == "ok" and projects.extra == {"run": projects.extra["run"], "waiting": 1}


# --- pushes --------------------------------------------------------------------------------------------------------


def test_a_push_is_one_time_entry() -> None:
    results = [
        PushResult(1, "posted", intacct_keys={"TIMESHEET": "9"}),
        PushResult(2, "posted"),
        PushResult(3, "already_posted"),
        PushResult(4, "skipped", reason="being posted elsewhere"),
        PushResult(5, "parked", reason="EMPLOYEEID E-GONE does not exist in Intacct"),
        PushResult(6, "parked", reason="the period is closed"),
    ]
    entry = entry_from_push(results, started_at=START, ended_at=END, cost=COST)
    assert (entry.workflow, entry.kind, entry.outcome) == ("time", "push", "parked")
    assert (entry.read, entry.written, entry.unchanged, entry.parked) == (6, 2, 2, 2)
    assert entry.detail == "timesheet 5: EMPLOYEEID E-GONE does not exist in Intacct (and 1 more parked)"
    assert (entry.intacct_transactions, entry.assignar_calls) == (7, 11)


def test_a_push_with_nothing_pending_is_ok_and_one_that_failed_says_which() -> None:
    assert entry_from_push([], started_at=START, ended_at=END).outcome == "ok"
    failed = entry_from_push([PushResult(8, "failed", reason="Intacct did not answer")], started_at=START, ended_at=END)
    assert (failed.outcome, failed.detail) == ("failed", "timesheet 8: Intacct did not answer")


def test_a_push_batch_counts_each_delivery() -> None:
    clock, intacct, assignar = Clock(), Counters(api_transactions=40), Counters(total=9)
    batch = PushBatch(RunMeter(intacct=intacct, assignar=assignar, clock=clock))
    batch.handled(PushResult(1, "posted"))
    batch.handled(None)  # a body that is not a push message, parked
    batch.retrying(PushMessage(timesheet_id=2, trigger="webhook").to_body(), TimesheetBusyError("held elsewhere"))
    batch.retrying(
        PushMessage(timesheet_id=3, trigger="webhook").to_body(),
        PostingIncompleteError("Intacct's answer was lost;\n looked for again in 15 minutes"),
    )
    intacct.api_transactions, assignar.total, clock.at = 43, 10, END

    entry = batch.entry()

    assert (entry.read, entry.written, entry.unchanged, entry.parked, entry.extra["failed"]) == (4, 1, 1, 1, 1)
    assert entry.outcome == "failed"
    assert entry.detail == "timesheet 3: Intacct's answer was lost; looked for again in 15 minutes"
    assert (entry.intacct_transactions, entry.assignar_calls, entry.started_at, entry.ended_at) == (3, 1, START, END)


def test_a_meter_counts_only_what_was_spent_since_it_began_watching() -> None:
    intacct = Counters(api_transactions=100)
    meter = RunMeter()
    intacct.api_transactions = 120  # spent before the client was watched: another run's
    meter.watch(intacct=intacct)
    intacct.api_transactions = 125
    assert meter.cost() == RunCost(intacct_transactions=5, assignar_calls=0)


# --- recording -----------------------------------------------------------------------------------------------------


class RefusingStore:
    """A state store whose history write fails (a throttled or unreachable table)."""

    def __init__(self) -> None:
        self.tried: list[RunEntry] = []

    def record_run(self, entry: RunEntry) -> None:
        self.tried.append(entry)
        raise OSError("the state table did not answer")


class KeepingStore:
    def __init__(self) -> None:
        self.kept: list[RunEntry] = []

    def record_run(self, entry: RunEntry) -> None:
        self.kept.append(entry)


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.WARNING, logger="intacct_assignar"):
        yield caplog


def test_a_history_write_that_fails_costs_one_warning_line_and_nothing_else(
    warnings: pytest.LogCaptureFixture,
) -> None:
    # Given a store whose history write raises (negative control: it does raise when called directly)
    store = RefusingStore()
    entry = entry_from_push([], started_at=START, ended_at=END)
    with pytest.raises(OSError):
        store.record_run(entry)

    # When the run log records through it, Then nothing is raised and one WARNING line says what happened
    StateRunLog(store).record(entry)
    [line] = [r for r in warnings.records if r.levelno == logging.WARNING]
    assert "time push run finished but was not added to the run history" in line.getMessage()
    assert "the state table did not answer" in line.getMessage() and line.exc_info is None


def test_a_run_whose_history_write_fails_still_returns_its_summary(warnings: pytest.LogCaptureFixture) -> None:
    summary = push_recorded(StateRunLog(RefusingStore()), RunMeter(), lambda: PushSummary([PushResult(1, "posted")]))
    assert summary.ok and summary.counts["posted"] == 1


def test_a_sync_that_raises_is_recorded_failed_for_each_workflow_asked_and_raised_again() -> None:
    store = KeepingStore()

    def refused() -> SyncSummary:
        raise IntacctTransientError("Intacct did not answer after 5 tries")

    with pytest.raises(IntacctTransientError):
        sync_recorded(StateRunLog(store), RunMeter(), ["clients", "workers"], refused)
    assert [(e.workflow, e.kind, e.outcome) for e in store.kept] == [
        ("clients", "sync", "failed"),
        ("workers", "sync", "failed"),
        ("deletions", "sync", "failed"),
    ]
    assert all(e.detail for e in store.kept)


def test_a_sync_that_finishes_is_recorded_entry_by_entry() -> None:
    store = KeepingStore()
    summary = SyncSummary(workflows={"clients": WorkflowSummary(fetched=1, created=1)})
    assert sync_recorded(StateRunLog(store), RunMeter(), ["clients"], lambda: summary) is summary
    assert [(e.workflow, e.outcome, e.written) for e in store.kept] == [("clients", "ok", 1)]


def test_the_state_run_log_keeps_entries_in_a_real_store(tmp_path: Path) -> None:
    with SqliteStateStore(tmp_path / "state.db") as store:
        entry = entry_from_push([PushResult(1, "posted")], started_at=START, ended_at=END)
        StateRunLog(store).record(entry)
        assert store.recent_runs("time") == [entry]


# --- the targeted pull (Smart Events) ----------------------------------------------------------------------------


def test_a_targeted_pull_batch_is_one_event_entry_per_workflow_its_objects_feed() -> None:
    # Given a batch that read 3 items (roles and assets) and failed to read an employee
    now = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    batch = EventBatch(RunMeter(clock=lambda: now))
    items = PullReport("ITEM", "r1", False, fetched=3, published={"roles": 2}, deactivations={"assets": 1})
    employee = RecordEvent(object_name="EMPLOYEE", recordno="900001", received_at=now).to_body()
    batch.retrying(employee, IntacctTransientError("Intacct did not answer after 3 tries"))

    # When its entries are made
    entries = {entry.workflow: entry for entry in batch.entries([items])}

    # Then each is an "event" run: roles and assets read the items, workers failed with the reason
    assert {w: (e.kind, e.outcome, e.read, e.written) for w, e in entries.items()} == {
        "workers": ("event", "failed", 0, 0),
        "roles": ("event", "ok", 3, 2),
        "assets": ("event", "ok", 3, 1),
    }
    assert "EMPLOYEE 900001" in (entries["workers"].detail or "")
    # And a newer ok targeted pull does not hide a failed scheduled pull from `status`
    failed_pull = replace_kind(entries["workers"], "pull")
    assert _deciding([entries["roles"], failed_pull]) is failed_pull


def replace_kind(entry: RunEntry, kind: RunKind) -> RunEntry:
    return replace(entry, kind=kind, ended_at=entry.ended_at - timedelta(minutes=5))
