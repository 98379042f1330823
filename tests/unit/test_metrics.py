"""Run entries and posted timesheets as CloudWatch metrics: the EMF lines Powertools prints, read back as CloudWatch
reads them (namespace, dimension sets, names, units, values)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from intacct_assignar.metrics import METRIC_NAMES, MetricsRunLog
from intacct_assignar.outbound.results import PushResult
from intacct_assignar.runs import RunEntry

NAMESPACE = "intacct-assignar/acme"
STARTED = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Published:
    """One EMF line: its dimensions and each metric's unit and values."""

    namespace: str
    dimensions: dict[str, str]
    units: dict[str, str]
    values: dict[str, list[float]]


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> Iterator[Metrics]:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    made = Metrics(namespace=NAMESPACE, service="intacct-assignar")
    made.clear_metrics()  # Powertools shares one set between instances: start from nothing, leave nothing
    yield made
    made.clear_metrics()


def published(capsys: pytest.CaptureFixture[str], metrics: Metrics) -> list[Published]:
    """What the handler's `@metrics.log_metrics` would print at the end of the invocation, and anything before."""
    metrics.flush_metrics()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    found = []
    for line in lines:
        [directive] = line["_aws"]["CloudWatchMetrics"]
        [dimension_names] = directive["Dimensions"]
        # Only names the module lists: the template's alarms and dashboard are checked against that list.
        assert {m["Name"] for m in directive["Metrics"]} <= METRIC_NAMES
        found.append(
            Published(
                namespace=directive["Namespace"],
                dimensions={name: line[name] for name in dimension_names},
                units={m["Name"]: m["Unit"] for m in directive["Metrics"]},
                values={m["Name"]: as_list(line[m["Name"]]) for m in directive["Metrics"]},
            )
        )
    return found


def as_list(value: Any) -> list[float]:
    return value if isinstance(value, list) else [value]


def entry(workflow: str, kind: Any, **fields: Any) -> RunEntry:
    return RunEntry(
        workflow=workflow,
        kind=kind,
        started_at=STARTED,
        ended_at=STARTED + timedelta(seconds=4),
        outcome=fields.pop("outcome", "ok"),
        **fields,
    )


def test_a_pull_publishes_records_read_and_intacct_transactions_for_its_workflow(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a pull of workers that read 120 records in 3 Intacct transactions and queued them
    pull = entry("workers", "pull", read=120, written=120, intacct_transactions=3)

    # When it is recorded
    MetricsRunLog(metrics).record(pull)

    # Then one EMF line, for the workers workflow, counts what it read and what it cost; what it queued is left to
    # the upsert, which writes them, and the zeros are not published
    [line] = published(capsys, metrics)
    assert line.namespace == NAMESPACE
    assert line.dimensions == {"service": "intacct-assignar", "workflow": "workers"}
    assert line.values == {"RecordsRead": [120.0], "IntacctTransactions": [3.0]}
    assert line.units == {"RecordsRead": "Count", "IntacctTransactions": "Count"}


def test_an_upsert_publishes_records_written_parked_and_assignar_calls(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    upsert = entry("projects", "upsert", read=10, written=7, unchanged=2, parked=1, assignar_calls=9)

    MetricsRunLog(metrics).record(upsert)

    [line] = published(capsys, metrics)
    assert line.dimensions["workflow"] == "projects"
    assert line.values == {"RecordsWritten": [7.0], "RecordsParked": [1.0], "AssignarCalls": [9.0]}


def test_a_push_publishes_timesheets_posted_and_parked_and_a_failed_run_counts_once(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    log = MetricsRunLog(metrics)
    log.record(entry("time", "push", read=10, written=9, parked=1, intacct_transactions=21, assignar_calls=12))
    log.record(entry("time", "push", outcome="failed", detail="Intacct did not answer", assignar_calls=1))

    [line] = published(capsys, metrics)
    assert line.dimensions == {"service": "intacct-assignar", "workflow": "time"}
    assert line.values == {
        "TimesheetsPosted": [9.0],
        "TimesheetsParked": [1.0],
        "IntacctTransactions": [21.0],
        "AssignarCalls": [12.0, 1.0],
        "RunFailed": [1.0],
    }


def test_a_full_pass_of_the_watcher_publishes_the_age_of_the_oldest_unposted_approval(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a full pass that found a timesheet approved 40 minutes before it began, one that found none waiting,
    # and an incremental look (which cannot know the oldest)
    oldest = (STARTED - timedelta(minutes=40)).isoformat()
    log = MetricsRunLog(metrics)
    log.record(
        entry(
            "time",
            "sweep",
            read=3,
            written=2,
            assignar_calls=1,
            extra={"pass": "full", "oldest_pending_approval": oldest},
        )
    )
    log.record(entry("time", "sweep", assignar_calls=1, extra={"pass": "full"}))
    log.record(entry("time", "sweep", read=1, written=1, assignar_calls=1, extra={"pass": "incremental"}))

    [line] = published(capsys, metrics)
    assert line.values["OldestUnpostedApprovalSeconds"] == [2400.0, 0.0]
    assert line.units["OldestUnpostedApprovalSeconds"] == "Seconds"
    assert line.values["TimesheetsQueued"] == [2.0, 1.0]
    assert line.values["AssignarCalls"] == [1.0, 1.0, 1.0]


def test_runs_of_several_workflows_in_one_invocation_each_keep_their_own_workflow(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one consumer batch holding clients and projects, recorded as one entry each, then clients again
    log = MetricsRunLog(metrics)
    log.record(entry("clients", "upsert", written=4))
    log.record(entry("projects", "upsert", written=6))
    log.record(entry("clients", "upsert", written=1))

    # Then no value is published under another workflow's name
    lines = published(capsys, metrics)
    assert [(line.dimensions["workflow"], line.values["RecordsWritten"]) for line in lines] == [
        ("clients", [4.0]),
        ("projects", [6.0]),
        ("clients", [1.0]),
    ]


def test_a_posted_timesheet_publishes_its_wait_from_approval_to_intacct(
    metrics: Metrics, capsys: pytest.CaptureFixture[str]
) -> None:
    approved = STARTED
    log = MetricsRunLog(metrics)
    log.timesheet_posted(PushResult(7, "posted", approved_at=approved, posted_at=approved + timedelta(seconds=42.5)))
    # A parked one, and one posted earlier (a duplicate delivery), have no wait to measure
    log.timesheet_posted(PushResult(8, "parked", reason="unknown employee", approved_at=approved))
    log.timesheet_posted(PushResult(9, "already_posted"))
    # Assignar's clock a little ahead of ours: never a negative wait
    log.timesheet_posted(PushResult(10, "posted", approved_at=approved, posted_at=approved - timedelta(seconds=1)))

    [line] = published(capsys, metrics)
    assert line.dimensions == {"service": "intacct-assignar", "workflow": "time"}
    assert line.values == {"ApprovalToIntacctSeconds": [42.5, 0.0]}
    assert line.units == {"ApprovalToIntacctSeconds": "Seconds"}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_with_metrics_disabled_nothing_is_printed_even_past_a_full_set(
    metrics: Metrics, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given metrics disabled, as the demo runs the functions inside the CLI's own process
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    log = MetricsRunLog(metrics)

    # When more posted timesheets are recorded than one EMF line holds (Powertools prints a full set regardless)
    for number in range(150):
        log.timesheet_posted(PushResult(number + 1, "posted", approved_at=STARTED, posted_at=STARTED))
    metrics.flush_metrics()

    # Then the process's output holds no metric
    assert capsys.readouterr().out == ""


def test_an_entry_it_cannot_read_costs_its_metrics_only(metrics: Metrics, capsys: pytest.CaptureFixture[str]) -> None:
    log = MetricsRunLog(metrics)
    log.record(entry("time", "sweep", extra={"pass": "full", "oldest_pending_approval": "yesterday"}))
    log.record(entry("workers", "pull", read=5))

    [line] = published(capsys, metrics)
    assert line.values == {"RecordsRead": [5.0]}
