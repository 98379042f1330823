"""`push_timesheets`, the push-timesheets command's work: what each timesheet's trouble becomes, and when the
run as a whole is not ok (its exit status)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import cast

import pytest
from intacct_assignar.intacct import IntacctTransientError
from intacct_assignar.outbound.push import WRITE_BATCH, PushService
from intacct_assignar.outbound.results import PostingIncompleteError, PushResult, TimesheetBusyError
from intacct_assignar.outbound.run import PushSummary, push_timesheets
from intacct_assignar.outbound.sweep import SweepService
from intacct_assignar.state import LeaseLostError


@dataclass
class FakePush:
    answers: dict[int, PushResult | Exception] = field(default_factory=dict)
    calls: list[tuple[int, bool, bool]] = field(default_factory=list)
    confirmed: list[bool] = field(default_factory=list)
    together: list[dict[int, bool]] = field(default_factory=list)

    def post_together(self, requests: dict[int, bool]) -> None:
        # The real one settles each timesheet for `post` to hand out; here `post` answers as scripted.
        self.together.append(dict(requests))

    def post(
        self, timesheet_id: int, *, retry_parked: bool = False, dry_run: bool = False, confirmed_absent: bool = False
    ) -> PushResult:
        self.calls.append((timesheet_id, retry_parked, dry_run))
        self.confirmed.append(confirmed_absent)
        answer = self.answers.get(timesheet_id, PushResult(timesheet_id, "posted"))
        if isinstance(answer, Exception):
            raise answer
        return answer


@dataclass
class FakeSweep:
    waiting: list[int] = field(default_factory=list)

    def pending(self) -> list[int]:
        return list(self.waiting)


def run(push: FakePush, pending: list[int], named: tuple[int, ...] = ()) -> PushSummary:
    return push_timesheets(cast(PushService, push), cast(SweepService, FakeSweep(pending)), named)


def test_a_timesheet_another_run_holds_is_skipped_as_being_posted_elsewhere_not_failed() -> None:
    # Given one timesheet another worker holds, one whose claim another took over mid-post, and one free
    push = FakePush(
        {
            7: TimesheetBusyError("timesheet 7 is being posted by another worker"),
            8: LeaseLostError(8, attempt=1),
        }
    )

    # When every pending one is pushed
    summary = run(push, [7, 8, 9])

    # Then the held ones are skipped, saying where they are, and the run is ok (the holder reports them)
    assert [(r.timesheet_id, r.outcome, r.reason) for r in summary.results] == [
        (7, "skipped", "being posted elsewhere (another run holds timesheet 7)"),
        (8, "skipped", "being posted elsewhere (another run holds timesheet 8)"),
        (9, "posted", None),
    ]
    assert summary.counts["skipped"] == 2 and summary.counts["failed"] == 0
    assert summary.ok


def test_an_incomplete_posting_fails_with_its_own_sentence() -> None:
    # Given a timesheet whose Intacct answer was lost and whose document is not visible yet
    sentence = (
        "timesheet 7: Intacct's answer to the labor write was lost and the result is not visible yet; "
        "it is looked for again before anything is re-sent"
    )
    push = FakePush({7: PostingIncompleteError(sentence)})

    # When it is pushed
    summary = run(push, [7])

    # Then it failed, and the reason is the error's sentence, without Python's class name
    [result] = summary.results
    assert (result.outcome, result.reason) == ("failed", sentence)
    assert not summary.ok


def test_any_other_error_fails_the_timesheet_with_one_readable_line_and_the_traceback_only_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given Intacct down for one timesheet, a two-line message for another, and one error with no message at all
    outage = IntacctTransientError("Intacct is unavailable", http_status=503)
    push = FakePush(
        {
            7: outage,
            8: RuntimeError("Assignar sent a timesheet without a worker\n  (timesheet 8)"),
            9: RuntimeError(),
        }
    )

    # When they are pushed, with the log captured down to DEBUG
    with caplog.at_level(logging.DEBUG, logger="intacct_assignar"):
        summary = run(push, [7, 8, 9, 10])

    # Then each failed with its own message on one line, never starting with a class name; the rest went on
    reasons = {r.timesheet_id: r.reason for r in summary.results if r.outcome == "failed"}
    assert reasons == {
        7: "Intacct did not answer usably (Intacct is unavailable); try again later",
        8: "Assignar sent a timesheet without a worker (timesheet 8)",
        9: "it failed without saying why; run with --debug to see the traceback",
    }
    assert not any(reason.startswith(("IntacctTransientError", "RuntimeError")) for reason in reasons.values())
    assert summary.results[-1].outcome == "posted"
    assert not summary.ok
    # And the tracebacks reached the log at DEBUG only
    with_traceback = [record for record in caplog.records if record.exc_info]
    assert len(with_traceback) == 3
    assert {record.levelno for record in with_traceback} == {logging.DEBUG}


@pytest.mark.parametrize("earlier", [False, True], ids=["parked now", "still parked from an earlier run"])
def test_a_parked_timesheet_makes_the_run_not_ok_whenever_it_was_parked(earlier: bool) -> None:
    # Given a timesheet parked (by this run, or by an earlier one and unchanged since) among posted ones
    parked = PushResult(7, "parked", reason="employee E-GONE does not exist in Intacct", earlier=earlier)
    push = FakePush({7: parked, 8: PushResult(8, "already_posted")})

    # When the pending ones are pushed
    summary = run(push, [7, 8, 9])

    # Then the run is not ok: that timesheet is still not in Intacct
    assert summary.counts == {"posted": 1, "already_posted": 1, "parked": 1, "skipped": 0, "failed": 0}
    assert not summary.ok
    assert summary.as_dict()["ok"] is False


def test_named_timesheets_are_retried_even_if_parked_once_each_and_the_sweep_is_not_asked() -> None:
    # Given timesheets named on the command line, one of them twice, while others are pending
    push = FakePush()

    # When they are pushed
    summary = run(push, [1, 2, 3], named=(5, 4, 5))

    # Then exactly the named ones were posted, in order, once each, with parked ones retried
    assert push.calls == [(5, True, False), (4, True, False)]
    assert [r.timesheet_id for r in summary.results] == [5, 4]
    assert summary.ok


def test_a_persons_word_that_a_lost_write_is_not_in_intacct_names_one_timesheet_and_is_passed_on() -> None:
    push = FakePush()
    sweep = FakeSweep([])
    push_timesheets(cast(PushService, push), cast(SweepService, sweep), [7], confirmed_absent=True)
    assert push.confirmed == [True]
    with pytest.raises(ValueError, match="exactly one"):
        push_timesheets(cast(PushService, push), cast(SweepService, sweep), [7, 8], confirmed_absent=True)
    with pytest.raises(ValueError, match="exactly one"):
        push_timesheets(cast(PushService, push), cast(SweepService, sweep), (), confirmed_absent=True)
    # A plain named retry (what a replay of parked work is) never carries it.
    push_timesheets(cast(PushService, push), cast(SweepService, sweep), [7])
    assert push.confirmed == [True, False]


def test_pending_timesheets_are_posted_together_in_batches_and_each_keeps_its_own_result() -> None:
    # Given more pending timesheets than one Intacct request carries, one of which must wait
    pending = list(range(1, 2 * WRITE_BATCH + 6))
    push = FakePush({3: TimesheetBusyError("timesheet 3 is being posted by another worker")})

    # When they are pushed
    summary = run(push, pending)

    # Then they went together, a request's worth at a time, and each came back on its own
    assert [list(batch) for batch in push.together] == [
        pending[:WRITE_BATCH],
        pending[WRITE_BATCH : 2 * WRITE_BATCH],
        pending[2 * WRITE_BATCH :],
    ]
    assert [r.timesheet_id for r in summary.results] == pending
    assert summary.counts["posted"] == len(pending) - 1 and summary.counts["skipped"] == 1


def test_a_dry_run_and_a_persons_word_post_nothing_together() -> None:
    push = FakePush()
    push_timesheets(cast(PushService, push), cast(SweepService, FakeSweep([1, 2])), dry_run=True)
    push_timesheets(cast(PushService, push), cast(SweepService, FakeSweep([])), [7], confirmed_absent=True)
    assert push.together == []


def test_a_batch_that_fails_as_a_whole_costs_only_its_speed_up() -> None:
    push = FakePush()

    def broken(requests: dict[int, bool]) -> None:
        raise RuntimeError("a bug in the batch")

    push.post_together = broken  # type: ignore[method-assign]
    summary = run(push, [1, 2])
    assert [r.outcome for r in summary.results] == ["posted", "posted"]
