"""The hard cases a review found: hours changed back and forth, stale reads, a holder overtaken mid-post, a
mode switch after posting, documents removed by hand, a report that could not be sent, a missed re-approval."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.config import parse_config
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.plan import content_hash
from intacct_assignar.outbound.push import PushService
from intacct_assignar.outbound.sweep import SweepService
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import LeaseLostError
from intacct_assignar_dev.emulators.assignar import LaborEntry

from ..inbound.company_clock import ZONE
from .conftest import TimeWorld


def hours_in_intacct(world: TimeWorld) -> list[Decimal]:
    [sheet] = world.intacct_timesheets()
    return [line["QTY"] for line in world.timesheet_lines(sheet["RECORDNO"])]


def reapprove(world: TimeWorld, timesheet_id: int, minutes: int) -> None:
    world.assignar.reopen_timesheet(timesheet_id, labor=[LaborEntry(world.crew.activities[0]["id"], minutes)])
    world.assignar.approve_timesheet(timesheet_id, notify=False)


def second_worker(world: TimeWorld, **options: Any) -> PushService:
    """Another Lambda container: its own clients, the same ledger."""
    intacct = IntacctClient(
        IntacctSettings.model_validate(world.intacct_emulator.settings_env()),
        timezone=ZONE,
        sessions=MemorySessionCache(),
        clock=lambda: world.clock.at.timestamp(),
    )
    assignar = AssignarClient(world.assignar.settings(), requests_per_second=None)
    return PushService(assignar, intacct, world.state, world.config, clock=world.clock, **options)


def test_hours_changed_back_and_forth_end_as_last_approved(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(labor=(480,), equipment=())
    world.push.post(timesheet_id)
    for minutes in (600, 480, 600):  # 10 h, back to 8 h, and 10 h again: the last update repeats an earlier one
        reapprove(world, timesheet_id, minutes)
        assert world.push.post(timesheet_id).outcome == "posted"
        assert hours_in_intacct(world) == [Decimal(minutes) / 60]
    assert len(world.intacct_timesheets()) == 1


def test_a_stale_read_never_overwrites_what_a_newer_approval_posted(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(labor=(480,), equipment=())
    other = world.timesheet(worker=1, equipment=())
    world.push.post(timesheet_id)
    # Worker A reads a batch (8 h) ...
    world.push.prefetch([timesheet_id, other])
    # ... meanwhile the timesheet is re-approved at 10 h and worker B posts it.
    world.clock.at += world.push_lease()
    reapprove(world, timesheet_id, 600)
    assert second_worker(world).post(timesheet_id).outcome == "posted"
    # A reaches its stale copy: it must not put 8 h back.
    assert world.push.post(timesheet_id).outcome == "already_posted"
    assert hours_in_intacct(world) == [Decimal(10)]


def test_a_holder_overtaken_mid_post_stops_before_its_next_write(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    real_write = world.intacct.write_batch
    overtaken: list[str] = []

    def slow_write(writes: Any) -> Any:
        written = real_write(writes)
        if any(write.function == "create" for write in writes):
            # A stalls after its labor write (the equipment transaction, whose answer could not yet be looked for,
            # goes in a request of its own); its lease runs out and worker B finishes the timesheet.
            world.clock.at += world.push_lease()
            overtaken.append(second_worker(world).post(timesheet_id).outcome)
        return written

    world.intacct.write_batch = slow_write  # type: ignore[method-assign]
    with pytest.raises(LeaseLostError):
        world.push.post(timesheet_id)
    assert overtaken == ["posted"]
    assert len(world.intacct_timesheets()) == 1
    assert len(world.equipment_documents()) == 1
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None and entry.state == "posted"


def test_switching_equipment_to_timesheet_lines_after_posting_changes_nothing_and_says_why(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(labor=(480,), equipment=(120,))
    world.push.post(timesheet_id)
    [po] = world.equipment_documents()
    switched = second_worker(world)
    switched.config = parse_config({**world.config.model_dump(), "timesheets": {"equipment_mode": "timesheet"}})
    reapprove(world, timesheet_id, 540)
    result = switched.post(timesheet_id)
    assert result.outcome == "parked"
    assert result.reason is not None and po["DOCID"] in result.reason and "no longer" in result.reason
    # Refused before any write: the labor was not updated to carry the equipment a second time.
    assert hours_in_intacct(world) == [Decimal(8)]
    assert len(world.equipment_documents()) == 1


def test_removed_by_hand_as_the_reason_asks_then_replayed_it_goes_through(world: TimeWorld) -> None:
    timesheet_id = world.timesheet(labor=(480,), equipment=(120,))
    world.push.post(timesheet_id)
    [po] = world.equipment_documents()
    world.assignar.reopen_timesheet(timesheet_id, equipment=[])
    world.assignar.approve_timesheet(timesheet_id, notify=False)
    parked = world.push.post(timesheet_id)
    assert parked.outcome == "parked" and parked.reason is not None and "delete them in Intacct" in parked.reason
    world.store.delete("PODOCUMENT", po["RECORDNO"])
    replayed = world.push.post(timesheet_id, retry_parked=True)
    assert replayed.outcome == "posted"
    assert world.equipment_documents() == [] and len(world.intacct_timesheets()) == 1


@dataclass
class FlakyParking:
    fail: bool = True
    parked: list[tuple[str, str]] = field(default_factory=list)

    def park(self, body: str, reason: str) -> None:
        if self.fail:
            raise ConnectionError("SQS throttled")
        self.parked.append((body, reason))


def test_a_parked_timesheet_whose_report_failed_is_reported_on_the_retry(world: TimeWorld) -> None:
    timesheet_id = world.timesheet()
    world.assignar_client.workers.update(world.crew.workers[0]["id"], {"employee_id": "E-NOBODY"})
    parking = FlakyParking()
    push = second_worker(world, parking=parking)
    with pytest.raises(ConnectionError):
        push.post(timesheet_id)
    entry = world.state.get_ledger(timesheet_id)
    assert entry is not None and entry.state == "claimed", "not recorded parked while nobody was told"
    parking.fail = False
    world.clock.at += world.push_lease()
    result = push.post(timesheet_id)
    assert result.outcome == "parked"
    [(body, reason)] = parking.parked
    assert PushMessage.from_body(body).retry_parked and "E-NOBODY" in reason


def test_the_sweep_queues_a_parked_timesheet_re_approved_with_changes(world: TimeWorld) -> None:
    parked = world.timesheet()
    world.assignar_client.workers.update(world.crew.workers[0]["id"], {"employee_id": "E-NOBODY"})
    assert world.push.post(parked).outcome == "parked"
    queued: list[PushMessage] = []

    class Queue:
        def publish(self, messages: list[PushMessage]) -> None:
            queued.extend(messages)

    fingerprint = partial(content_hash, settings=world.config.timesheets, entity_id=world.intacct.settings.entity_id)
    sweep = SweepService(world.assignar_client, world.state, Queue(), fingerprint=fingerprint)
    assert sweep.run().parked == [parked] and queued == []
    # Fixed and re-approved with other hours, but that webhook was lost: the sweep sees the change.
    world.assignar_client.workers.update(
        world.crew.workers[0]["id"], {"employee_id": world.crew.workers[0]["employee_id"]}
    )
    reapprove(world, parked, 420)
    assert [m.timesheet_id for m in queued] == [] and sweep.run().queued == [parked]
    assert world.push.post(parked).outcome == "posted"
