"""Exactly once, proven under chaos: push workers (processes) sharing one ledger, SQLite or DynamoDB, killed with
SIGKILL at random, while Intacct commits writes and loses their answers (dropped connections, 524s, answers
held past the client's patience, commits landing seconds late) and both services throttle and fail.

Afterwards Intacct holds exactly one timesheet per approved timesheet and one purchasing transaction per
equipment timesheet, with the approved hours; every one is processed in Assignar; the unpostable are parked
with their reasons. The negative control runs the same storm with an in-doubt window shorter than the late
commit, and the same counting finds the duplicates, so this test can fail. `benchmarks/push_chaos.py` runs a
larger storm.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.chaos.harness import ChaosPlan, run_chaos

pytestmark = pytest.mark.integration

SMALL = ChaosPlan(timesheets=24, unpostable=2, waves=3, workers=3, write_fault_rate=0.7, deadline_s=75.0, seed=8)


@pytest.mark.parametrize("ledger", ["sqlite", "dynamodb"])
def test_every_approved_timesheet_lands_once_whatever_is_killed_or_lost(ledger: str) -> None:
    report = run_chaos(dataclasses.replace(SMALL, ledger=ledger))  # type: ignore[arg-type]
    print(report.summary())
    # The storm must have happened to prove anything: kills, and answers lost every way (seeded).
    assert report.kills > 0 and report.late_commits > 0
    assert {"drop", "late"} <= set(report.faults) and {"524", "timeout"} & set(report.faults)
    assert report.finished_in_time, report.summary()
    assert report.duplicates == {}
    assert report.missing == [] and report.wrong_hours == {} and report.not_processed == []
    assert report.unparked_unpostable == [] and len(report.parked) == SMALL.unpostable
    assert all("Intacct ID" in reason for reason in report.parked.values()), report.parked
    assert report.unexpected_errors == {}
    assert report.ok


def test_negative_control_an_in_doubt_window_shorter_than_a_late_commit_doubles_time() -> None:
    # Only late commits, landing after the lease (when another attempt looks) and after the window: the push
    # finds nothing, re-sends under a new control ID, and then the first write lands too.
    plan = dataclasses.replace(
        SMALL,
        write_fault_kinds=("late",),
        write_fault_rate=0.5,
        late_commit_s=4.0,
        doubt_window_seconds=1,
        kill_every_s=(30.0, 30.0),
        storm_after_last_wave_s=1.0,
        deadline_s=25.0,
    )
    report = run_chaos(plan)
    print(report.summary())
    assert report.late_commits > 0
    assert report.duplicates, "the counting must see the doubled time the short window lets through"
    assert not report.ok
