"""Parked work listed and replayed (`parked.py`), on an in-memory state store, fake dead-letter queues that hold
and give back messages as SQS does, and fake work queues; in-process replays on an in-memory Assignar."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from intacct_assignar.config import parse_config
from intacct_assignar.inbound.events import RecordEvent
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.parking import StoreParking, record_key
from intacct_assignar.inbound.records import ClientRecord, ProjectRecord, RecordRef
from intacct_assignar.inbound.upsert import UpsertResult, UpsertService
from intacct_assignar.outbound.messages import PushMessage
from intacct_assignar.outbound.push import PushService
from intacct_assignar.parked import (
    NO_REASON,
    Attempt,
    DeadLetter,
    InProcessReplay,
    ParkedKind,
    ParkedWork,
    QueueBody,
    QueueReplay,
)
from intacct_assignar.runs import RunEntry
from intacct_assignar.state import ParkedRecord, SqliteStateStore, SyncedRecord

from .inbound.fakes import InMemoryAssignar

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
CONFIG = parse_config({"timezone": "America/Denver", "workflows": {"work_orders": {"owner_user_id": 12}}})


def client(number: int, name: str = "Acme Builders") -> ClientRecord:
    return ClientRecord(integration_id=f"intacct:CUSTOMER:{number}", source_id=f"C-{number}", active=True, name=name)


def upsert_body(number: int, name: str = "Acme Builders") -> str:
    return SyncMessage.upsert(client(number, name), run_id="run-1", pulled_at=NOW).to_body()


def unmapped_body(number: int) -> str:
    return json.dumps(
        {
            "kind": "unmapped",
            "workflow": "clients",
            "object_name": "CUSTOMER",
            "recordno": str(number),
            "source_id": f"C-{number}",
            "reason": "CUSTOMER C-{number} has no NAME",
        }
    )


def push_body(timesheet_id: int) -> str:
    return PushMessage(timesheet_id=timesheet_id, trigger="replay", retry_parked=True, queued_at=NOW).to_body()


@dataclass
class FakeDeadLetters:
    """A dead-letter queue as SQS keeps one: `hold` hides what it hands out until released or deleted."""

    kind: ParkedKind
    where: str
    messages: dict[str, tuple[str, str | None, datetime]] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    receipts: dict[str, str] = field(default_factory=dict)  # receipt -> message id
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def put(self, body: str, reason: str | None = None, at: datetime = NOW) -> None:
        self.messages[f"m{next(self._ids)}"] = (body, reason, at)

    def hold(self, seconds: int) -> list[DeadLetter]:
        letters = []
        for message_id, (body, reason, at) in self.messages.items():
            if message_id in self.hidden:
                continue
            receipt = f"receipt-{next(self._ids)}"
            self.receipts[receipt] = message_id
            self.hidden.add(message_id)
            letters.append(DeadLetter(body, reason, at, receipt))
        return letters

    def release(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            self.hidden.discard(self.receipts[letter.receipt])

    def delete(self, letter: DeadLetter) -> None:
        del self.messages[self.receipts[letter.receipt]]

    @property
    def visible(self) -> list[str]:
        return [body for message_id, (body, _, _) in self.messages.items() if message_id not in self.hidden]


@dataclass
class FakeWorkQueue:
    sent: list[str] = field(default_factory=list)
    refusal: Exception | None = None

    def publish(self, messages: Sequence[QueueBody]) -> None:
        if self.refusal is not None:
            raise self.refusal
        self.sent.extend(message.to_body() for message in messages)


@dataclass
class FakeReplayer:
    """Answers as told, and records what it was asked to replay."""

    refuse: dict[str, str] = field(default_factory=dict)  # body or timesheet id -> reason
    records: list[str] = field(default_factory=list)
    timesheets: list[int] = field(default_factory=list)

    def record(self, body: str) -> Attempt:
        self.records.append(body)
        return Attempt("still_parked", self.refuse[body]) if body in self.refuse else Attempt("replayed")

    def timesheet(self, timesheet_id: int) -> Attempt:
        self.timesheets.append(timesheet_id)
        reason = self.refuse.get(str(timesheet_id))
        return Attempt("still_parked", reason) if reason else Attempt("replayed")


@dataclass
class Place:
    store: SqliteStateStore
    records: FakeDeadLetters
    timesheets: FakeDeadLetters
    work: ParkedWork


@pytest.fixture
def place() -> Iterator[Place]:
    with SqliteStateStore(":memory:") as store:
        records = FakeDeadLetters("record", "upsert dead-letter queue")
        timesheets = FakeDeadLetters("timesheet", "push dead-letter queue")
        yield Place(store, records, timesheets, ParkedWork(store, [records, timesheets], clock=lambda: NOW))


def park_in_ledger(store: SqliteStateStore, timesheet_id: int, reason: str, at: datetime = NOW) -> None:
    store.claim_timesheet(timesheet_id, "hash", 60, at)
    store.record_parked(timesheet_id, "hash", reason, at)


# --- naming ------------------------------------------------------------------------------------------------


def test_a_parked_record_is_named_by_its_workflow_and_intacct_id_whatever_its_body() -> None:
    deleted = SyncMessage.deactivate("clients", "intacct:CUSTOMER:9", "deleted", run_id="r", pulled_at=NOW)
    assert record_key(upsert_body(7)).key == "clients:C-7"
    assert record_key(upsert_body(7)).aliases == {"clients:C-7", "clients:intacct:CUSTOMER:7"}
    assert record_key(deleted.to_body()).key == "clients:intacct:CUSTOMER:9"
    assert record_key(unmapped_body(7)).key == "clients:C-7"
    assert record_key(unmapped_body(7)).aliases == {"clients:C-7", "clients:intacct:CUSTOMER:7"}
    garbage = record_key("not json")
    assert garbage.key.startswith("body:") and garbage.workflow is None and garbage.body == "unreadable"
    assert record_key("not json") == garbage and record_key("other") != garbage


# --- listing -----------------------------------------------------------------------------------------------


def test_listing_shows_each_record_and_timesheet_once_with_its_newest_reason_records_first(place: Place) -> None:
    # Given a record parked twice on the queue and once by the CLI, and a timesheet on the queue and in the ledger
    place.records.put(upsert_body(7), "Assignar refused it: email taken", NOW - timedelta(hours=2))
    place.records.put(upsert_body(7, "Acme Builders Inc"), "Assignar refused it: email still taken", NOW)
    earlier = NOW - timedelta(hours=3)
    place.store.park_record(ParkedRecord("clients:C-8", "clients", upsert_body(8), "waits for a client", earlier))
    place.timesheets.put(push_body(812), "employee E-GONE does not exist in Intacct", NOW - timedelta(days=1))
    park_in_ledger(place.store, 812, "project P-1 is inactive in Intacct", NOW - timedelta(hours=1))

    # When they are listed
    items = place.work.list()

    # Then each appears once, records first, oldest first; a timesheet with the ledger's (current) reason
    assert [(item.kind, item.id) for item in items] == [
        ("record", "clients:C-8"),
        ("record", "clients:C-7"),
        ("timesheet", "812"),
    ]
    seven, timesheet = items[1], items[2]
    assert seven.reason == "Assignar refused it: email still taken" and seven.workflow == "clients"
    assert seven.where == "upsert dead-letter queue"
    assert timesheet.reason == "project P-1 is inactive in Intacct"
    assert timesheet.where == "push dead-letter queue, ledger"
    assert items[0].where == "state store"
    assert timesheet.as_dict() == {
        "kind": "timesheet",
        "id": "812",
        "reason": "project P-1 is inactive in Intacct",
        "parked_at": (NOW - timedelta(hours=1)).isoformat(),
        "where": "push dead-letter queue, ledger",
    }


def test_listing_gives_every_message_back_and_replays_nothing(place: Place) -> None:
    place.records.put(upsert_body(7), "refused")
    place.timesheets.put(push_body(812), "refused")
    place.work.list()
    assert place.records.visible == [upsert_body(7)] and place.timesheets.visible == [push_body(812)]
    # The negative control: a hold that is not given back leaves the queue looking empty to everyone else
    place.records.hold(30)
    assert place.records.visible == []


def test_a_message_sqs_moved_without_a_reason_says_where_to_look(place: Place) -> None:
    place.timesheets.put(push_body(9))
    [item] = place.work.list()
    assert item.reason == NO_REASON


def test_a_queued_timesheet_the_ledger_shows_posted_since_says_a_replay_only_removes_it(place: Place) -> None:
    place.timesheets.put(push_body(812), "employee E-GONE does not exist in Intacct")
    place.store.claim_timesheet(812, "hash", 60, NOW)
    place.store.record_posted(812, "hash", {"labor": "TS-1"}, NOW)
    [item] = place.work.list()
    assert "since posted" in item.reason and item.reason.startswith("employee E-GONE")


# --- replaying ---------------------------------------------------------------------------------------------


def test_replaying_one_id_sends_only_that_item_and_names_ids_nothing_is_parked_under(place: Place) -> None:
    place.records.put(upsert_body(7), "refused")
    place.records.put(upsert_body(8), "refused")
    replayer = FakeReplayer()

    report = place.work.replay(replayer, {"clients:C-8", "clients:C-99"})

    assert replayer.records == [upsert_body(8)]
    assert [(r.item.id, r.outcome) for r in report.results] == [("clients:C-8", "replayed")]
    assert report.unknown == ["clients:C-99"] and not report.ok
    assert place.records.visible == [upsert_body(7)]  # the other is given back, the replayed one gone


def test_what_went_through_leaves_the_queues_and_what_did_not_stays_with_its_new_reason(place: Place) -> None:
    # Given two records and a timesheet parked; one record's cause is still there
    place.records.put(upsert_body(7), "email taken")
    place.records.put(upsert_body(8), "email taken")
    place.timesheets.put(push_body(812), "E-GONE")
    replayer = FakeReplayer(refuse={upsert_body(8): "Assignar refused it: email taken"})

    # When everything is replayed
    report = place.work.replay(replayer)

    # Then what went through is deleted from its queue; the refused record is back on its queue, as it was
    outcomes = {r.item.id: (r.outcome, r.reason) for r in report.results}
    assert outcomes == {
        "clients:C-7": ("replayed", None),
        "clients:C-8": ("still_parked", "Assignar refused it: email taken"),
        "812": ("replayed", None),
    }
    assert place.records.visible == [upsert_body(8)] and place.timesheets.visible == []
    assert replayer.timesheets == [812] and not report.ok

    # And replaying again sends only what is still parked
    again = FakeReplayer()
    place.work.replay(again)
    assert again.records == [upsert_body(8)] and again.timesheets == []


def test_a_record_parked_by_the_cli_is_forgotten_once_through_or_kept_with_the_new_reason(place: Place) -> None:
    place.store.park_record(ParkedRecord("clients:C-7", "clients", upsert_body(7), "email taken", NOW))
    place.store.park_record(ParkedRecord("clients:C-8", "clients", upsert_body(8), "email taken", NOW))
    later = NOW + timedelta(hours=1)
    work = ParkedWork(place.store, clock=lambda: later)

    work.replay(FakeReplayer(refuse={upsert_body(8): "waits for a project"}))

    [kept] = place.store.iter_parked_records()
    assert (kept.key, kept.reason, kept.parked_at) == ("clients:C-8", "waits for a project", later)


def test_a_ledger_timesheet_is_replayed_by_id_and_one_still_refused_keeps_its_reason(place: Place) -> None:
    park_in_ledger(place.store, 812, "E-GONE")
    park_in_ledger(place.store, 813, "E-GONE")
    report = place.work.replay(FakeReplayer(refuse={"813": "employee E-GONE does not exist in Intacct"}))
    assert [(r.item.id, r.outcome) for r in report.results] == [("812", "replayed"), ("813", "still_parked")]
    assert report.results[1].reason == "employee E-GONE does not exist in Intacct"


def test_an_unmapped_record_is_forgotten_only_once_it_was_written_since_it_was_parked(place: Place) -> None:
    # Given a record the pull could not map, parked an hour ago, and written to Assignar before that
    place.records.put(unmapped_body(7), "CUSTOMER C-7 has no NAME", NOW - timedelta(hours=1))
    written = SyncedRecord("clients", "intacct:CUSTOMER:7", "C-7", 41, "h", True, NOW - timedelta(hours=2))
    place.store.put_synced(written)
    replayer = FakeReplayer()

    # When it is replayed before it was fixed, it stays, saying where the fix is; the upsert is never asked
    [first] = place.work.replay(replayer).results
    assert first.outcome == "still_parked" and "fix the record in Intacct" in (first.reason or "")
    assert replayer.records == [] and place.records.visible == [unmapped_body(7)]

    # And once the next pull wrote it, a replay forgets it
    place.store.put_synced(SyncedRecord("clients", "intacct:CUSTOMER:7", "C-7", 41, "h2", True, NOW))
    [second] = place.work.replay(replayer).results
    assert second.outcome == "replayed" and place.records.visible == []


def test_a_parked_notice_for_an_asset_item_is_forgotten_once_the_asset_was_written(place: Place) -> None:
    # Given a Smart Event notice for ITEM 5 the targeted pull gave up on an hour ago; ITEM feeds roles and assets,
    # and item 5 is an asset (its GL group), so it is only ever written under "assets"
    notice = RecordEvent(object_name="ITEM", recordno="5", received_at=NOW - timedelta(hours=2)).to_body()
    place.records.put(notice, "gave up after 5 deliveries: Intacct unavailable", NOW - timedelta(hours=1))
    place.store.put_synced(SyncedRecord("assets", "intacct:ITEM:5", "EQ-5", 51, "h", True, NOW))

    # When it is replayed after the scheduled pull wrote the asset
    [result] = place.work.replay(FakeReplayer()).results

    # Then it is forgotten, as a parked worker's notice would be
    assert result.outcome == "replayed", result.reason
    assert place.records.visible == []


def test_a_parked_notice_whose_change_was_written_before_it_was_parked_is_forgotten(place: Place) -> None:
    # Given a notice received two hours ago, retried until it was parked an hour ago; meanwhile (90 minutes ago)
    # the scheduled pull read the change and wrote it, and nothing changed in Intacct since
    notice = RecordEvent(object_name="EMPLOYEE", recordno="5", received_at=NOW - timedelta(hours=2)).to_body()
    place.records.put(notice, "gave up after 5 deliveries: Intacct unavailable", NOW - timedelta(hours=1))
    written = NOW - timedelta(minutes=90)
    place.store.put_synced(SyncedRecord("workers", "intacct:EMPLOYEE:5", "E-5", 51, "h", True, written))

    # When it is replayed
    [result] = place.work.replay(FakeReplayer()).results

    # Then it is forgotten: the change it announced is in Assignar, and no later pull will ever write the record
    # again while it stays as it is, so "a replay after the next pull forgets it" would never come true
    assert result.outcome == "replayed", result.reason
    assert place.records.visible == []


def test_negative_control_a_parked_worker_notice_is_forgotten_once_the_worker_was_written(place: Place) -> None:
    notice = RecordEvent(object_name="EMPLOYEE", recordno="5", received_at=NOW - timedelta(hours=2)).to_body()
    place.records.put(notice, "gave up after 5 deliveries: Intacct unavailable", NOW - timedelta(hours=1))
    place.store.put_synced(SyncedRecord("workers", "intacct:EMPLOYEE:5", "E-5", 51, "h", True, NOW))
    [result] = place.work.replay(FakeReplayer()).results
    assert result.outcome == "replayed" and place.records.visible == []


def test_negative_control_a_parked_notice_whose_record_was_last_written_before_the_change_stays(place: Place) -> None:
    notice = RecordEvent(object_name="EMPLOYEE", recordno="5", received_at=NOW - timedelta(hours=2)).to_body()
    place.records.put(notice, "gave up after 5 deliveries: Intacct unavailable", NOW - timedelta(hours=1))
    earlier = NOW - timedelta(hours=3)
    place.store.put_synced(SyncedRecord("workers", "intacct:EMPLOYEE:5", "E-5", 51, "h", True, earlier))
    [result] = place.work.replay(FakeReplayer()).results
    assert result.outcome == "still_parked" and place.records.visible == [notice]


def pulled(store: SqliteStateStore, workflow: str, watermark: datetime, outcome: str = "ok") -> None:
    """A completed scheduled pull of `workflow` whose window reached `watermark`, as its run entry records it."""
    store.record_run(
        RunEntry(
            workflow,
            "pull",
            started_at=watermark,
            ended_at=watermark + timedelta(seconds=5),
            outcome=outcome,  # type: ignore[arg-type]
            extra={"watermark": watermark.astimezone(UTC).isoformat()},
        )
    )


def test_a_parked_notice_of_a_change_no_workflow_syncs_is_forgotten_once_a_pull_read_past_it(place: Place) -> None:
    # Given a notice for a change to a field no workflow syncs: the record's content is unchanged, so no pull will
    # ever write it again; a scheduled pull completed since, its window reaching past the notice
    notice = RecordEvent(object_name="EMPLOYEE", recordno="5", received_at=NOW - timedelta(hours=2)).to_body()
    place.records.put(notice, "gave up after 5 deliveries: Intacct unavailable", NOW - timedelta(hours=1))
    earlier = NOW - timedelta(days=3)
    place.store.put_synced(SyncedRecord("workers", "intacct:EMPLOYEE:5", "E-5", 51, "h", True, earlier))
    pulled(place.store, "workers", NOW - timedelta(minutes=10))

    # When it is replayed
    [result] = place.work.replay(FakeReplayer()).results

    # Then it is forgotten: the pull read the record after the change it announced
    assert result.outcome == "replayed", result.reason
    assert place.records.visible == []


@pytest.mark.parametrize("how", ["before the notice", "failed", "another workflow"])
def test_negative_control_a_pull_that_did_not_read_past_the_notice_leaves_it_parked(place: Place, how: str) -> None:
    notice = RecordEvent(object_name="EMPLOYEE", recordno="5", received_at=NOW - timedelta(hours=2)).to_body()
    place.records.put(notice, "gave up after 5 deliveries: Intacct unavailable", NOW - timedelta(hours=1))
    if how == "before the notice":
        pulled(place.store, "workers", NOW - timedelta(hours=3))
    elif how == "failed":
        pulled(place.store, "workers", NOW - timedelta(minutes=10), outcome="failed")
    else:
        pulled(place.store, "clients", NOW - timedelta(minutes=10))
    [result] = place.work.replay(FakeReplayer()).results
    assert result.outcome == "still_parked" and place.records.visible == [notice]


def test_a_body_that_is_no_message_stays_parked_saying_so(place: Place) -> None:
    place.records.put("{broken", "not a valid sync message")
    place.timesheets.put("{broken", "not a valid push message")
    report = place.work.replay(FakeReplayer())
    assert [r.outcome for r in report.results] == ["still_parked", "still_parked"]
    assert all("delete it there" in (r.reason or "") for r in report.results)
    assert place.records.visible == ["{broken"] and place.timesheets.visible == ["{broken"]


def test_nothing_parked_replays_nothing_and_is_ok(place: Place) -> None:
    report = place.work.replay(FakeReplayer())
    assert report.results == [] and report.ok


# --- replayers ---------------------------------------------------------------------------------------------


def test_a_stack_replay_sends_records_as_they_were_and_timesheets_as_retries_of_parked_work() -> None:
    upserts, pushes = FakeWorkQueue(), FakeWorkQueue()
    replay = QueueReplay(upserts, pushes)
    assert replay.record(upsert_body(7)) == Attempt("queued")
    assert replay.timesheet(812) == Attempt("queued")
    assert upserts.sent == [upsert_body(7)]
    [sent] = [PushMessage.from_body(body) for body in pushes.sent]
    assert (sent.timesheet_id, sent.trigger, sent.retry_parked) == (812, "replay", True)


def test_a_queue_that_refuses_the_replay_leaves_it_parked_with_why(place: Place) -> None:
    place.records.put(upsert_body(7), "email taken")
    replay = QueueReplay(FakeWorkQueue(refusal=RuntimeError("SQS refused 1 of 1 messages")), FakeWorkQueue())
    [result] = place.work.replay(replay).results
    assert result.outcome == "still_parked" and "could not be queued" in (result.reason or "")
    assert place.records.visible == [upsert_body(7)]


def never(what: str) -> PushService:
    raise AssertionError(f"{what} was built, but nothing needed it")


def test_an_in_process_replay_writes_the_record_once_its_cause_is_fixed_and_parks_it_again_until_then() -> None:
    # Given Assignar refusing clients (a rule a person must change), and the record parked by the CLI
    assignar = InMemoryAssignar()
    assignar.clients.refusal = "email must be unique"
    with SqliteStateStore(":memory:") as store:
        StoreParking(store, clock=lambda: NOW).park(upsert_body(7), "Assignar refused it: email must be unique")
        upsert = UpsertService(assignar, store, CONFIG, clock=lambda: NOW)
        replay = InProcessReplay(upsert=lambda: upsert, push=lambda: never("the push"))
        work = ParkedWork(store, clock=lambda: NOW)

        # When it is replayed before the fix, it stays parked, in Assignar's words, and nothing was written
        [first] = work.replay(replay).results
        assert first.outcome == "still_parked" and "email must be unique" in (first.reason or "")
        assert assignar.writes == [] and [r.key for r in store.iter_parked_records()] == ["clients:C-7"]

        # When the cause is fixed and it is replayed, it is written once and forgotten
        assignar.clients.refusal = None
        [second] = work.replay(replay).results
        assert second.outcome == "replayed" and len(assignar.writes) == 1
        assert list(store.iter_parked_records()) == []

        # And a second replay finds nothing and writes nothing
        assert work.replay(replay).results == [] and len(assignar.writes) == 1


def test_a_record_that_still_waits_for_a_dependency_stays_parked_saying_which() -> None:
    assignar = InMemoryAssignar()
    with SqliteStateStore(":memory:") as store:
        upsert = UpsertService(assignar, store, CONFIG, clock=lambda: NOW)
        replay = InProcessReplay(upsert=lambda: upsert, push=lambda: never("the push"))
        depot = ProjectRecord(
            integration_id="intacct:PROJECT:3",
            source_id="P-3",
            active=True,
            name="Depot",
            client=RecordRef(workflow="clients", source_id="C-404"),
        )
        attempt = replay.record(SyncMessage.upsert(depot, run_id="r", pulled_at=NOW).to_body())
        assert attempt.outcome == "still_parked" and "C-404" in (attempt.reason or "")
        assert assignar.writes == []


# --- the CLI's sync parking --------------------------------------------------------------------------------


def test_sync_parking_forgets_only_the_records_a_later_run_got_through() -> None:
    with SqliteStateStore(":memory:") as store:
        parking = StoreParking(store, clock=lambda: NOW)
        parking.park(upsert_body(7), "email taken")
        parking.park(unmapped_body(8), "CUSTOMER C-8 has no NAME")
        parking.park(upsert_body(9), "email taken")
        deleted = SyncMessage.deactivate("clients", "intacct:CUSTOMER:10", "deleted", run_id="r", pulled_at=NOW)
        parking.park(deleted.to_body(), "Assignar down")

        # A run wrote 7 (known by its Intacct ID), 8 (now mapped), and 10 by its integration id alone
        parking.went_through(
            [
                UpsertResult("clients", "intacct:CUSTOMER:7", "C-7", "updated"),
                UpsertResult("clients", "intacct:CUSTOMER:8", "C-8", "created"),
                UpsertResult("clients", "intacct:CUSTOMER:10", None, "deactivated"),
                UpsertResult("projects", "intacct:PROJECT:9", "C-9", "created"),  # another workflow's C-9
            ]
        )

        assert [record.key for record in store.iter_parked_records()] == ["clients:C-9"]


def test_in_process_services_are_built_only_when_a_replay_needs_them() -> None:
    built: list[str] = []

    def upsert() -> UpsertService:
        built.append("upsert")
        return cast(UpsertService, None)

    replay = InProcessReplay(upsert=upsert, push=lambda: never("the push"))
    with SqliteStateStore(":memory:") as store:
        assert ParkedWork(store).replay(replay).results == []
    assert built == []
