"""The approval watcher on an in-memory Assignar (`fakes.py`) with a SQLite state store: incremental looks from its
watermark less the overlap, a full pass when one is due, watermarks moved only after the queue took the batch,
the oldest unposted approval, and one run entry per run. Over HTTP, on the emulator, in
tests/integration/outbound/test_watcher.py."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.sweep import LAST_FULL_LOOK, LAST_LOOK, SweepService
from intacct_assignar.runs import RunEntry
from intacct_assignar.state import SqliteStateStore

from .fakes import InMemoryAssignarForPush

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
OVERLAP = timedelta(seconds=120)
FULL_EVERY = timedelta(minutes=15)


@dataclass
class Clock:
    at: datetime = NOW

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Queue:
    messages: list[PushMessage] = field(default_factory=list)
    refuse: bool = False

    def publish(self, messages: Sequence[PushMessage]) -> None:
        if self.refuse:
            raise ConnectionError("SQS did not answer")
        self.messages.extend(messages)

    def take(self) -> list[int]:
        taken, self.messages = [m.timesheet_id for m in self.messages], []
        return taken


@dataclass
class History:
    entries: list[RunEntry] = field(default_factory=list)

    def record(self, entry: RunEntry) -> None:
        self.entries.append(entry)


@dataclass
class World:
    ours: Clock  # the watcher's clock
    theirs: Clock  # Assignar's, which stamps modified_time
    assignar: InMemoryAssignarForPush
    state: SqliteStateStore
    queue: Queue
    history: History
    watcher: SweepService

    def approved(self, **fields: Any) -> int:
        return self.assignar.timesheets.add(status="APPROVED", **fields).id

    def minutes_pass(self, minutes: float) -> None:
        self.ours.at += timedelta(minutes=minutes)
        self.theirs.at += timedelta(minutes=minutes)

    def calls(self) -> int:
        return self.assignar.calls.total


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    ours, theirs = Clock(), Clock()
    assignar = InMemoryAssignarForPush(clock=theirs)
    queue, history = Queue(), History()
    with SqliteStateStore(tmp_path / "state.db") as state:
        watcher = SweepService(
            assignar, state, queue, clock=ours, overlap=OVERLAP, full_pass_every=FULL_EVERY, run_log=history
        )
        yield World(ours, theirs, assignar, state, queue, history, watcher)


def test_the_first_run_is_a_full_pass_and_sets_both_watermarks(world: World) -> None:
    # Given three approved timesheets and one still submitted
    ids = [world.approved() for _ in range(3)]
    world.assignar.timesheets.add(status="SUBMITTED")

    # When the watcher runs for the first time
    report = world.watcher.run()

    # Then it looked at everything, queued the three, and remembers when it looked
    assert report.look == "full"
    assert world.queue.take() == ids
    assert world.state.get_watermark(LAST_LOOK) == NOW
    assert world.state.get_watermark(LAST_FULL_LOOK) == NOW


def test_the_next_runs_look_only_at_what_changed_since_the_last_look_less_the_overlap(world: World) -> None:
    # Given a full pass that queued what was approved five minutes before it (and is not posted yet)
    first = world.approved()
    world.minutes_pass(5)
    world.watcher.run()
    assert world.queue.take() == [first]
    full_pass_at = world.ours.at

    # When a minute passes with nothing approved
    world.minutes_pass(1)
    calls = world.calls()
    idle = world.watcher.run()

    # Then the look is incremental, costs one Assignar call (one empty page), and queues nothing: the first
    # timesheet, still unprocessed, changed before the overlap began
    assert idle.look == "incremental" and idle.found == 0
    assert world.calls() - calls == 1
    assert world.queue.take() == []

    # When another is approved and the next minute's run looks
    world.minutes_pass(0.5)
    second = world.approved()
    world.minutes_pass(0.5)
    report = world.watcher.run()

    # Then only it is found and queued
    assert (report.look, report.found) == ("incremental", 1)
    assert world.queue.take() == [second]
    assert world.state.get_watermark(LAST_LOOK) == world.ours.at
    assert world.state.get_watermark(LAST_FULL_LOOK) == full_pass_at


def test_an_approval_stamped_by_a_clock_behind_ours_is_caught_within_the_overlap(world: World) -> None:
    # Given Assignar's clock 90 s behind ours (under the 120 s overlap), and a look just made
    world.watcher.run()
    world.theirs.at -= timedelta(seconds=90)

    # When a timesheet is approved just after that look (stamped 90 s in the past by Assignar) and a minute passes
    world.minutes_pass(0.1)
    late = world.approved()
    world.minutes_pass(0.9)
    report = world.watcher.run()

    # Then the incremental look still finds it
    assert report.look == "incremental"
    assert world.queue.take() == [late]


def test_what_an_incremental_look_cannot_see_is_caught_by_the_next_full_pass(world: World) -> None:
    # Given Assignar's clock five minutes behind ours (more than the overlap)
    world.watcher.run()
    world.theirs.at -= timedelta(minutes=5)
    world.minutes_pass(0.5)
    missed = world.approved()

    # When the watcher runs every minute until the full pass is due
    found: list[int] = []
    looks: list[str] = []
    for _ in range(15):
        world.minutes_pass(1)
        looks.append(world.watcher.run().look)
        found.extend(world.queue.take())

    # Then the incremental looks missed it, and the full pass, 15 minutes after the last, queued it
    assert looks == ["incremental"] * 14 + ["full"]
    assert found == [missed]


def test_the_watermarks_stay_put_when_the_queue_refuses_the_batch_and_the_next_run_looks_again(world: World) -> None:
    # Given a full pass made, and an approval after it
    world.watcher.run()
    world.minutes_pass(1)
    approved = world.approved()
    world.minutes_pass(1)
    before = world.state.get_watermark(LAST_LOOK)

    # When the queue does not take the batch
    world.queue.refuse = True
    with pytest.raises(ConnectionError):
        world.watcher.run()

    # Then the watermark is where it was, the run is recorded as failed with the reason
    assert world.state.get_watermark(LAST_LOOK) == before
    failed = world.history.entries[-1]
    assert failed.outcome == "failed" and failed.detail and "SQS did not answer" in failed.detail

    # When the queue is back, much later than the overlap
    world.queue.refuse = False
    world.minutes_pass(5)
    world.watcher.run()

    # Then the next run looks from the old watermark and queues it
    assert world.queue.take() == [approved]


def test_a_full_pass_is_due_again_after_the_configured_interval(world: World) -> None:
    looks = []
    for _ in range(32):
        looks.append(world.watcher.run().look)
        world.minutes_pass(1)
    assert [minute for minute, look in enumerate(looks) if look == "full"] == [0, 15, 30]


def test_the_oldest_unposted_approval_leaves_out_parked_and_posted_ones(world: World) -> None:
    # Given, approved in this order: one parked (same content), one posted whose "processed" mark was lost,
    # one being posted now, and one waiting
    parked = world.approved()
    world.minutes_pass(10)
    posted = world.approved()
    world.minutes_pass(10)
    in_progress = world.approved()
    world.minutes_pass(10)
    waiting = world.approved()
    world.minutes_pass(5)
    hashes = {parked: "h-parked", posted: "h-posted", in_progress: "h-busy", waiting: "h-waiting"}
    watcher = SweepService(
        world.assignar,
        world.state,
        world.queue,
        fingerprint=lambda timesheet: hashes[timesheet.id],
        clock=world.ours,
        run_log=world.history,
    )
    world.state.claim_timesheet(parked, "h-parked", 300, world.ours.at)
    world.state.record_parked(parked, "h-parked", "unknown employee", world.ours.at)
    world.state.claim_timesheet(posted, "h-posted", 300, world.ours.at)
    world.state.record_posted(posted, "h-posted", {"timesheet": "1"}, world.ours.at)
    world.state.claim_timesheet(in_progress, "h-busy", 300, world.ours.at)

    # When the full pass runs
    report = watcher.run()

    # Then the oldest is the one being posted (approved 25 minutes ago); the parked one is left to a person
    assert report.look == "full"
    assert report.parked == [parked] and report.in_progress == [in_progress]
    assert world.queue.take() == [posted, waiting]
    assert report.oldest_pending_approval == NOW + timedelta(minutes=20)
    entry = world.history.entries[-1]
    assert entry.extra["oldest_pending_approval"] == (NOW + timedelta(minutes=20)).isoformat()


def test_each_run_records_one_entry_for_time(world: World) -> None:
    # Given two approvals five minutes ago
    world.approved()
    world.approved()
    world.minutes_pass(5)

    # When a full pass and then an idle incremental look run
    world.watcher.run()
    world.minutes_pass(1)
    world.watcher.run()

    # Then each left an entry in the admin's words: found, queued, what it cost, which look
    full, idle = world.history.entries
    assert (full.workflow, full.kind, full.outcome) == ("time", "sweep", "ok")
    assert (full.read, full.written) == (2, 2)
    assert full.assignar_calls == 2  # a page of two, then the empty last page
    assert full.extra == {
        "pass": "full",
        "left_parked": 0,
        "in_progress": 0,
        "oldest_pending_approval": NOW.isoformat(),
    }
    assert (idle.read, idle.written, idle.assignar_calls) == (0, 0, 1)
    assert idle.extra == {"pass": "incremental", "left_parked": 0, "in_progress": 0}
    assert idle.started_at == NOW + timedelta(minutes=6)
