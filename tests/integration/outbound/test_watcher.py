"""The approval watcher against the Assignar emulator over HTTP, both on one simulated clock: its incremental look is
the documented `modified_time__gte` filter, one call when nothing was approved, and it sees exactly what changed
since its last look; processed timesheets drop out, and one re-approved after processing comes back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.sweep import SweepService
from intacct_assignar.state import SqliteStateStore
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, LaborEntry

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime = START

    def __call__(self) -> datetime:
        return self.at

    def seconds(self) -> float:
        return self.at.timestamp()


@dataclass
class Queue:
    ids: list[int] = field(default_factory=list)

    def publish(self, messages: Sequence[PushMessage]) -> None:
        self.ids.extend(message.timesheet_id for message in messages)

    def take(self) -> list[int]:
        taken, self.ids = self.ids, []
        return taken


@dataclass
class Watched:
    clock: Clock
    emulator: AssignarEmulator
    client: AssignarClient
    queue: Queue
    watcher: SweepService
    worker_id: int
    project_id: int
    activity_id: int

    def approved(self) -> int:
        timesheet_id = self.emulator.create_timesheet(
            worker_id=self.worker_id,
            project_id=self.project_id,
            work_date=date(2026, 11, 19),
            labor=[LaborEntry(self.activity_id, 480)],
        )
        self.emulator.approve_timesheet(timesheet_id, notify=False)
        return timesheet_id

    def minutes_pass(self, minutes: float) -> None:
        self.clock.at += timedelta(minutes=minutes)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Watched]:
    clock = Clock()
    with (
        AssignarEmulator(seed=2, clock=clock.seconds) as emulator,
        AssignarClient(emulator.settings(), requests_per_second=None) as client,
        SqliteStateStore(tmp_path / "state.db") as state,
    ):
        customer = emulator.seed("clients", {"name": "Acme", "company_name": "Acme Inc"})
        project = emulator.seed("projects", {"name": "Depot 4", "client_id": customer["id"]})
        worker = emulator.seed("users", {"user_type_id": 2, "first_name": "Ana", "last_name": "Ruiz"})
        activity = emulator.seed("activities", {"name": "Formwork"})
        queue = Queue()
        watcher = SweepService(client, state, queue, clock=clock)  # the tenant defaults: 120 s overlap, 15 min
        yield Watched(clock, emulator, client, queue, watcher, worker["id"], project["id"], activity["id"])


def test_an_idle_minute_costs_one_list_call_and_a_new_approval_is_seen_the_next_minute(watched: Watched) -> None:
    # Given an approval from ten minutes ago, queued by the first run (a full pass)
    earlier = watched.approved()
    watched.minutes_pass(10)
    assert watched.watcher.run().look == "full"
    assert watched.queue.take() == [earlier]

    # When a minute passes with nothing approved
    watched.minutes_pass(1)
    watched.client.calls.reset()
    idle = watched.watcher.run()

    # Then the look is one filtered list call that finds nothing (the earlier one changed before the overlap)
    assert (idle.look, idle.found) == ("incremental", 0)
    assert watched.client.calls.by_call() == {"GET timesheets-expanded": 1}

    # When a supervisor approves another and the next minute's run looks
    watched.minutes_pass(0.5)
    approved = watched.approved()
    watched.minutes_pass(0.5)
    report = watched.watcher.run()

    # Then only the new one is found, and queued
    assert (report.look, report.found) == ("incremental", 1)
    assert watched.queue.take() == [approved]


def test_a_processed_timesheet_drops_out_and_one_re_approved_after_processing_comes_back(watched: Watched) -> None:
    # Given an approved timesheet queued by a run, then posted and marked processed (as the push does)
    timesheet_id = watched.approved()
    watched.watcher.run()
    assert watched.queue.take() == [timesheet_id]
    watched.minutes_pass(0.2)
    assert watched.client.timesheets.mark_processed(timesheet_id)

    # When the next run looks, within the overlap of its approval
    watched.minutes_pass(1)
    assert watched.watcher.run().found == 0

    # When an admin reopens it, changes the hours and approves it again
    watched.minutes_pass(5)
    watched.emulator.reopen_timesheet(timesheet_id, labor=[LaborEntry(watched.activity_id, 420)])
    watched.emulator.approve_timesheet(timesheet_id, notify=False)
    watched.minutes_pass(1)
    report = watched.watcher.run()

    # Then the incremental look sees it again, and it is queued
    assert (report.look, report.found) == ("incremental", 1)
    assert watched.queue.take() == [timesheet_id]
