"""`status`'s report from a state store (SQLite and DynamoDB under moto alike), on a fixed clock: how each workflow
stands, its watermark, the time figures, parked work, and when the report says all is well."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from intacct_assignar.cli_status import age_text, status_table
from intacct_assignar.config import TenantConfig, parse_config
from intacct_assignar.inbound.pull import progress_key
from intacct_assignar.outbound.sweep import LAST_LOOK
from intacct_assignar.runs import RunEntry, RunKind, RunOutcome
from intacct_assignar.sources import ITEMS, source_for
from intacct_assignar.state import DynamoStateStore, SqliteStateStore, StateRunLog, StateStore
from intacct_assignar.status import STATUS_WORKFLOWS, StatusReport, build_status
from rich.console import Console

NOW = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
CONFIG = parse_config({"workflows": {"work_orders": {"owner_user_id": 12}}})


def run(
    workflow: str,
    kind: RunKind,
    minutes_ago: float,
    outcome: RunOutcome = "ok",
    *,
    detail: str | None = None,
    extra: dict[str, Any] | None = None,
    read: int = 0,
    written: int = 0,
    unchanged: int = 0,
    parked: int = 0,
) -> RunEntry:
    ended = NOW - timedelta(minutes=minutes_ago)
    return RunEntry(
        workflow,
        kind,
        ended - timedelta(seconds=20),
        ended,
        outcome,
        read=read,
        written=written,
        unchanged=unchanged,
        parked=parked,
        detail=detail,
        extra=extra or {},
    )


def report(store: StateStore, config: TenantConfig = CONFIG, **options: Any) -> StatusReport:
    return build_status(store, config, clock=lambda: NOW, **options)


def standing(status: StatusReport) -> dict[str, str]:
    return {w.workflow: w.standing for w in status.workflows}


def all_ran_well(store: StateStore) -> None:
    """Every workflow's runs went through: a pull and an upsert batch each, the deletions, a push."""
    for workflow in STATUS_WORKFLOWS[:7]:
        store.record_run(run(workflow, "pull", 20, read=10, unchanged=10))
        store.record_run(run(workflow, "upsert", 18, read=2, written=2))
    store.record_run(run("deletions", "pull", 15))
    store.record_run(run("time", "push", 5, read=3, written=3))


def test_a_store_where_nothing_ran_says_so_in_two_sentences(store: StateStore) -> None:
    status = report(store)

    assert set(standing(status).values()) == {"never_ran"}
    assert not status.ok
    assert status.problems == [
        "clients, projects, work_orders, activities, roles, assets, workers, deletions have never run: run "
        "intacct-assignar sync, or wait for their schedule",
        "time has never run: run intacct-assignar push-timesheets, or wait for its schedule",
    ]
    assert status.time.measured_at is None and status.time.posted_last_24h == 0


def test_every_workflow_ok_and_nothing_parked_is_ok(store: StateStore) -> None:
    # Given every workflow's runs went through
    all_ran_well(store)

    # When
    status = report(store)

    # Then
    assert set(standing(status).values()) == {"ok"}
    assert status.ok and status.problems == []
    workers = next(w for w in status.workflows if w.workflow == "workers")
    assert workers.last_run is not None and workers.last_run.kind == "upsert"


def test_a_parked_upsert_batch_is_not_hidden_by_a_later_pull(store: StateStore) -> None:
    # Given a batch that parked a worker, and a pull after it that went through
    all_ran_well(store)
    parked = run("workers", "upsert", 10, "parked", detail="workers i:4: Assignar refused the email", read=1, parked=1)
    store.record_run(parked)
    store.record_run(run("workers", "pull", 1))

    # When
    status = report(store)

    # Then workers stand parked, from the upsert batch, though the last run was the pull
    workers = next(w for w in status.workflows if w.workflow == "workers")
    assert workers.standing == "parked" and workers.deciding == parked
    assert workers.last_run is not None and workers.last_run.kind == "pull"
    assert status.problems == ["workers: its last upsert parked 1: workers i:4: Assignar refused the email"]
    assert workers.as_dict(NOW)["outcome_from"]["run_id"] == parked.run_id

    # And a later batch that went through clears it
    store.record_run(run("workers", "upsert", 0.5, read=1, written=1))
    assert report(store).ok


def test_a_failed_pull_stands_until_a_pull_goes_through(store: StateStore) -> None:
    all_ran_well(store)
    sentence = "Intacct refused to list EMPLOYEE (Permission Denied): give the Web Services user permission"
    store.record_run(run("workers", "pull", 3, "failed", detail=sentence))
    store.record_run(run("workers", "upsert", 2, read=1, written=1))  # messages of an earlier pull
    assert report(store).problems == [f"workers: its last pull failed: {sentence}"]

    store.record_run(run("workers", "sync", 1))  # a sync re-does the pull
    assert report(store).ok


def test_a_workflow_that_cannot_run_names_its_setting(store: StateStore) -> None:
    all_ran_well(store)
    store.record_run(run("work_orders", "pull", 1, "not_run", detail="set workflows.work_orders.owner_user_id"))
    status = report(store)
    assert standing(status)["work_orders"] == "not_run"
    assert status.problems == ["work_orders: its last pull could not run: set workflows.work_orders.owner_user_id"]


def test_disabled_workflows_are_shown_disabled_whatever_their_old_runs_say(store: StateStore) -> None:
    # Given assets failed before the tenant disabled them
    all_ran_well(store)
    store.record_run(run("assets", "pull", 1, "failed", detail="Intacct refused ITEM"))
    assert not report(store).ok  # negative control: enabled, the failure counts

    # When assets are disabled
    disabled = parse_config({"workflows": {"assets": {"enabled": False}, "work_orders": {"owner_user_id": 12}}})
    status = report(store, disabled)

    # Then
    assert standing(status)["assets"] == "disabled" and status.ok


def test_deletions_are_disabled_only_when_every_workflow_is(store: StateStore) -> None:
    every = {name: {"enabled": False} for name in STATUS_WORKFLOWS[:7]}
    assert standing(report(store, parse_config({"workflows": every})))["deletions"] == "disabled"
    assert standing(report(store))["deletions"] == "never_ran"


def test_the_watermark_is_read_under_the_key_the_newest_pull_used(store: StateStore) -> None:
    # Given roles pulled under a key naming fields this company does not offer, and clients under the key of the
    # settings alone (a company offering every field), and the deletions
    store.record_run(run("roles", "pull", 5, extra={"progress_key": "ITEM#not-offered"}))
    store.set_watermark("ITEM#not-offered", NOW - timedelta(minutes=5))
    store.set_watermark(progress_key(source_for("clients"), CONFIG), NOW - timedelta(hours=2))
    store.set_watermark("AUDITHISTORY", NOW - timedelta(minutes=30))

    # When
    watermarks = {w.workflow: w.watermark for w in report(store).workflows}

    # Then
    assert watermarks["roles"] == NOW - timedelta(minutes=5)
    assert watermarks["assets"] is None  # no pull of its own recorded, and the settings' key was never used
    assert watermarks["clients"] == NOW - timedelta(hours=2)
    assert watermarks["deletions"] == NOW - timedelta(minutes=30)
    assert watermarks["time"] is None
    assert progress_key(ITEMS, CONFIG) != "ITEM#not-offered"


def posted(store: StateStore, timesheet_id: int, at: datetime) -> None:
    claim = store.claim_timesheet(timesheet_id, f"h{timesheet_id}", 300, at)
    assert claim is not None
    store.record_posted(timesheet_id, f"h{timesheet_id}", {"TIMESHEET": str(timesheet_id)}, at, claim.attempts)


def test_time_counts_posted_parked_being_posted_and_in_doubt_from_the_ledger(store: StateStore) -> None:
    # Given timesheets posted an hour, two days and ten days ago; one parked; one being posted; one in doubt
    posted(store, 1, NOW - timedelta(hours=1))
    posted(store, 2, NOW - timedelta(days=2))
    posted(store, 3, NOW - timedelta(days=10))
    store.claim_timesheet(4, "h4", 300, NOW - timedelta(hours=3))
    store.record_parked(4, "h4", "EMPLOYEEID E-GONE does not exist in Intacct: fix the worker", NOW)
    store.claim_timesheet(5, "h5", 300, NOW - timedelta(seconds=30))
    store.claim_timesheet(6, "h6", 300, NOW - timedelta(hours=1))

    # When
    status = report(store)

    # Then
    time = status.time
    assert (time.posted_last_24h, time.posted_last_7d, time.parked, time.being_posted, time.in_doubt) == (
        1,
        2,
        1,
        1,
        1,
    )
    # And the parked timesheet is listed with its reason, which keeps status from saying all is well
    assert [(p.kind, p.id, p.reason) for p in status.parked] == [
        ("timesheet", "4", "EMPLOYEEID E-GONE does not exist in Intacct: fix the worker")
    ]
    assert "1 item is parked (listed with the reasons): fix each cause, then send it again" in status.problems


def test_the_oldest_pending_approval_is_the_newest_sweeps_measure(store: StateStore) -> None:
    # Given no watcher entry yet: not measured
    assert report(store).time.measured_at is None

    # When the watcher measured an approval 40 minutes old, two minutes ago, and a push ran since
    approved = NOW - timedelta(minutes=42)
    full = {"pass": "full"}
    store.record_run(run("time", "sweep", 10, extra={**full, "oldest_pending_approval": "2026-11-25T20:00:00+00:00"}))
    store.record_run(run("time", "sweep", 2, extra={**full, "oldest_pending_approval": approved.isoformat()}))
    store.record_run(run("time", "push", 1))
    time = report(store).time

    # Then
    assert time.oldest_pending_approval == approved and time.measured_at == NOW - timedelta(minutes=2)

    # And a newer measure without the figure means nothing was pending then
    store.record_run(run("time", "sweep", 0.5, extra=full))
    time = report(store).time
    assert time.oldest_pending_approval is None and time.measured_at == NOW - timedelta(seconds=30)


def test_only_a_full_pass_measures_the_oldest_approval_and_the_watchers_last_look_is_its_watermark(
    store: StateStore,
) -> None:
    # Given a full pass that measured an approval, then an incremental look (which sees only what changed)
    approved = NOW - timedelta(minutes=42)
    full = {"pass": "full", "oldest_pending_approval": approved.isoformat()}
    store.record_run(run("time", "sweep", 5, extra=full))
    store.record_run(run("time", "sweep", 1, read=2, extra={"pass": "incremental"}))
    store.set_watermark(LAST_LOOK, NOW - timedelta(seconds=20))

    status = report(store)

    # Then the incremental look does not read as "nothing pending": the full pass's measure stands
    assert status.time.oldest_pending_approval == approved
    assert status.time.measured_at == NOW - timedelta(minutes=5)
    # And the time row's watermark is when the watcher last looked
    [time_row] = [w for w in status.workflows if w.workflow == "time"]
    assert time_row.watermark == NOW - timedelta(seconds=20)


def test_an_idle_look_of_the_watcher_is_not_kept_in_the_history_but_every_other_run_is(store: StateStore) -> None:
    log = StateRunLog(store)
    log.record(run("time", "sweep", 3, extra={"pass": "incremental"}))  # found nothing: not kept
    log.record(run("time", "sweep", 2, read=1, written=1, extra={"pass": "incremental"}))
    log.record(run("time", "sweep", 1, extra={"pass": "full"}))
    log.record(run("time", "sweep", 0.5, outcome="failed", extra={"pass": "incremental"}))
    kept = [(e.extra["pass"], e.read, e.outcome) for e in store.recent_runs("time")]
    assert kept == [("incremental", 0, "failed"), ("full", 0, "ok"), ("incremental", 1, "ok")]


@dataclass(frozen=True)
class DeadLetter:
    """Parked work from elsewhere (the dead-letter queues), in the shape `status` takes."""

    id: str
    reason: str
    kind: str = "record"


def test_parked_work_from_elsewhere_is_listed_and_the_json_has_the_promised_shape(store: StateStore) -> None:
    all_ran_well(store)
    status = report(store, parked=[DeadLetter("workers intacct:EMPLOYEE:12", "Assignar refused the email")])

    document = status.as_dict()

    assert document["ok"] is False
    assert document["parked"] == [
        {"kind": "record", "id": "workers intacct:EMPLOYEE:12", "reason": "Assignar refused the email"}
    ]
    assert [w["workflow"] for w in document["workflows"]] == list(STATUS_WORKFLOWS)
    workers = next(w for w in document["workflows"] if w["workflow"] == "workers")
    assert workers["outcome"] == "ok" and workers["last_run"]["kind"] == "upsert"
    assert workers["last_run"]["age_seconds"] == 18 * 60
    assert set(document["time"]) == {
        "posted_last_24h",
        "posted_last_7d",
        "parked",
        "being_posted",
        "in_doubt",
        "oldest_pending_approval",
    }


def test_the_table_fits_a_100_column_terminal(store: StateStore) -> None:
    # Given the widest rows: long names, long ages, an outcome taken from another run, five-digit counts
    all_ran_well(store)
    store.record_run(run("work_orders", "upsert", 17, "parked", read=99999, written=99999, unchanged=99999, parked=99))
    store.record_run(run("work_orders", "reconcile", 16, read=99999))
    store.set_watermark(progress_key(source_for("work_orders"), CONFIG), NOW - timedelta(days=45))

    # When it is drawn 100 columns wide
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(status_table(report(store)))

    # Then no line is cut or wrapped
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "…" not in out.getvalue()
    row = next(line for line in lines if line.lstrip().startswith("work_orders"))
    assert "parked (upsert)" in row and "45 days ago" in row and "reconcile 16 min ago" in row


def test_ages_read_as_a_person_says_them() -> None:
    assert [age_text(s) for s in (None, 0, 42, 240, 3 * 3600, 47 * 3600, 3 * 86400)] == [
        "-",
        "just now",
        "42 s ago",
        "4 min ago",
        "3 h ago",
        "47 h ago",
        "3 days ago",
    ]


def test_a_failed_look_of_the_watcher_measures_nothing_and_is_over_once_a_later_look_went_through(
    store: StateStore,
) -> None:
    # Given a full pass that saw an approval waiting for three hours, then a look that failed
    waiting = NOW - timedelta(hours=3)
    store.record_run(run("time", "sweep", 5, extra={"pass": "full", "oldest_pending_approval": waiting.isoformat()}))
    store.record_run(run("time", "sweep", 2, "failed", detail="Assignar did not answer"))
    store.set_watermark(LAST_LOOK, NOW - timedelta(minutes=6))

    status = report(store)

    # Then the failed look does not read as "nothing pending", and the watcher stands failed ...
    assert status.time.oldest_pending_approval == waiting
    assert standing(status)["time"] == "failed"

    # ... until a later look goes through (idle, so only its watermark says so)
    store.set_watermark(LAST_LOOK, NOW - timedelta(minutes=1))
    assert standing(report(store))["time"] == "ok"


def test_an_entry_this_version_cannot_read_is_left_out_and_the_others_are_shown(store: StateStore) -> None:
    store.record_run(run("workers", "pull", 5))
    newer = run("workers", "pull", 1)
    # as a newer version might write it: a kind this one does not know
    text = newer.to_json().replace('"kind": "pull"', '"kind": "stream"')
    assert '"stream"' in text
    if isinstance(store, SqliteStateStore):
        store._execute(
            "INSERT INTO run (run_id, workflow, ended_at, entry) VALUES (?, ?, ?, ?)",
            ("newer", "workers", newer.ended_at.isoformat(timespec="microseconds"), text),
        )
    else:
        assert isinstance(store, DynamoStateStore)
        store._put(
            {
                "pk": {"S": "RUN#workers"},
                "sk": {"S": f"{newer.ended_at.isoformat(timespec='microseconds')}#newer"},
                "entry": {"S": text},
            }
        )

    entries = store.recent_runs("workers")

    assert [entry.kind for entry in entries] == ["pull"]
    assert standing(report(store))["workers"] == "ok"
