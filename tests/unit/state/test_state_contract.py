"""One contract for every StateStore: each test runs against SQLite and against DynamoDB (moto)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from intacct_assignar.runs import RunEntry
from intacct_assignar.state import (
    CachedDefinition,
    LeaseLostError,
    NaiveDatetimeError,
    ParkedRecord,
    PullCheckpoint,
    StateStore,
    SyncedRecord,
)

SYDNEY = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)


PROJECT_KEY = "PROJECT|ACME-CORP|ENTITY-1|svc_assignar"


def lookup_body(fields: int) -> str:
    """JSON in the shape of a `lookup` answer, `fields` fields long (300 come to about 50 kB)."""
    return json.dumps(
        {
            "Type": {
                "Name": "PROJECT",
                "Fields": {
                    "Field": [
                        {
                            "ID": f"CUSTOM_FIELD_{number}",
                            "LABEL": f"Custom field {number} \u2014 \u00e9t\u00e9",
                            "DESCRIPTION": "A field the customer added to projects in their company",
                            "REQUIRED": "false",
                            "READONLY": "false",
                            "DATATYPE": "TEXT",
                            "ISCUSTOM": "true",
                        }
                        for number in range(fields)
                    ]
                },
            }
        },
        ensure_ascii=False,
    )


def synced(number: int, *, workflow: str = "workers", content_hash: str = "h1", active: bool = True) -> SyncedRecord:
    return SyncedRecord(
        workflow=workflow,
        integration_id=f"intacct:EMPLOYEE:{number}",
        source_id=f"E-{number:04d}",
        assignar_id=10_000 + number,
        content_hash=content_hash,
        active=active,
        synced_at=NOW,
    )


# Watermarks


def test_watermark_round_trips_the_same_instant_from_any_time_zone_and_comes_back_in_utc(store: StateStore) -> None:
    # Given a watermark written in the Intacct company's local time, with microseconds
    local = datetime(2026, 11, 26, 9, 15, 30, 123456, tzinfo=SYDNEY)

    # When it is stored and read back
    store.set_watermark("EMPLOYEE", local)
    read = store.get_watermark("EMPLOYEE")

    # Then it is the same instant, expressed in UTC; other sources are untouched
    assert read == local
    assert read is not None and read.utcoffset() == timedelta(0)
    assert store.get_watermark("PROJECT") is None


def test_watermark_advances_when_set_again(store: StateStore) -> None:
    # Given a stored watermark
    store.set_watermark("PROJECT", datetime(2026, 1, 1, tzinfo=UTC))

    # When a later pull completes
    store.set_watermark("PROJECT", datetime(2026, 6, 1, 12, tzinfo=SYDNEY))

    # Then the later one is what we read
    assert store.get_watermark("PROJECT") == datetime(2026, 6, 1, 2, tzinfo=UTC)


def test_naive_datetimes_are_refused_with_a_readable_reason(store: StateStore) -> None:
    # Given a datetime without a time zone
    naive = datetime(2026, 11, 25, 9, 0)

    # When it is offered as a watermark or as "now" for a claim
    with pytest.raises(NaiveDatetimeError, match="must be timezone-aware") as refused:
        store.set_watermark("EMPLOYEE", naive)
    with pytest.raises(NaiveDatetimeError):
        store.claim_timesheet(1, "h", 60, naive)

    # Then nothing was stored, and the error names what was wrong
    assert "watermark" in str(refused.value)
    assert store.get_watermark("EMPLOYEE") is None
    assert store.get_ledger(1) is None


# Checkpoints


def test_checkpoint_round_trips_and_clears(store: StateStore) -> None:
    # Given an incremental pull that stopped half-way, and a full pull that has not published anything yet
    incremental = PullCheckpoint(
        full=False,
        since=datetime(2026, 11, 24, 22, 0, tzinfo=UTC),
        until=datetime(2026, 11, 25, 9, 0, tzinfo=SYDNEY),
        after_recordno=4711,
        after_whenmodified="11/25/2026 08:59:59",
        published=2500,
        started_at=NOW,
    )
    full = PullCheckpoint(
        full=True,
        since=None,
        until=NOW,
        after_recordno=None,
        after_whenmodified=None,
        published=0,
        started_at=NOW,
    )

    # When both are stored
    store.put_checkpoint("EMPLOYEE", incremental)
    store.put_checkpoint("PROJECT", full)

    # Then both read back equal, and clearing forgets one (twice is fine)
    assert store.get_checkpoint("EMPLOYEE") == incremental
    assert store.get_checkpoint("PROJECT") == full
    store.clear_checkpoint("EMPLOYEE")
    store.clear_checkpoint("EMPLOYEE")
    assert store.get_checkpoint("EMPLOYEE") is None
    assert store.get_checkpoint("PROJECT") == full


def test_a_later_checkpoint_replaces_the_earlier_one(store: StateStore) -> None:
    # Given a checkpoint
    first = PullCheckpoint(False, NOW - timedelta(days=1), NOW, 10, "11/25/2026 01:00:00", 100, NOW)
    store.put_checkpoint("CUSTOMER", first)

    # When the continuation moves on
    later = PullCheckpoint(False, NOW - timedelta(days=1), NOW, 20, "11/25/2026 02:00:00", 200, NOW)
    store.put_checkpoint("CUSTOMER", later)

    # Then only the later one is left
    assert store.get_checkpoint("CUSTOMER") == later


# Synced records


def test_synced_records_are_found_in_batches_larger_than_one_dynamodb_call(store: StateStore) -> None:
    # Given 150 synced workers (more than DynamoDB's 100 keys per BatchGetItem)
    records = [synced(number) for number in range(150)]
    for record in records:
        store.put_synced(record)

    # When they are looked up with unknown and repeated ids among them
    wanted = [r.integration_id for r in records] + ["intacct:EMPLOYEE:unknown", records[0].integration_id]
    found = store.get_synced("workers", wanted)

    # Then exactly the known ones come back, keyed by integration id, and an empty lookup costs nothing
    assert found == {r.integration_id: r for r in records}
    assert store.get_synced("workers", []) == {}


def test_synced_records_are_found_by_their_intacct_id_for_resolving_links(store: StateStore) -> None:
    # Given synced clients, and a worker that happens to share an Intacct ID in another workflow
    clients = [synced(number, workflow="clients") for number in range(3)]
    for record in clients:
        store.put_synced(record)
    store.put_synced(synced(1, workflow="workers"))

    # When a project's CUSTOMERIDs are resolved
    found = store.get_synced_by_source("clients", ["E-0001", "E-0002", "E-9999"])

    # Then the clients are found by Intacct ID, from their own workflow only
    assert found == {"E-0001": clients[1], "E-0002": clients[2]}
    assert store.get_synced_by_source("clients", []) == {}


def test_a_rewritten_record_replaces_the_old_one_in_both_lookups(store: StateStore) -> None:
    # Given a synced client
    store.put_synced(synced(7, workflow="clients"))

    # When it is synced again with new content and a new Intacct ID (renamed in Intacct), then deactivated
    renamed = SyncedRecord("clients", "intacct:EMPLOYEE:7", "C-RENAMED", 10_007, "h2", True, NOW)
    store.put_synced(renamed)
    deactivated = SyncedRecord("clients", "intacct:EMPLOYEE:7", "C-RENAMED", 10_007, "h3", False, NOW)
    store.put_synced(deactivated)

    # Then both lookups give the latest, and the old Intacct ID no longer resolves
    assert store.get_synced("clients", ["intacct:EMPLOYEE:7"]) == {"intacct:EMPLOYEE:7": deactivated}
    assert store.get_synced_by_source("clients", ["C-RENAMED", "E-0007"]) == {"C-RENAMED": deactivated}
    assert list(store.iter_synced("clients")) == [deactivated]


def test_the_intacct_version_written_round_trips_in_both_lookups(store: StateStore) -> None:
    # Given a record written with the WHENMODIFIED of the Intacct version it carried, and one without
    version = datetime(2026, 11, 25, 8, 15, 30, tzinfo=SYDNEY)
    store.put_synced(replace(synced(1), modified_at=version))
    store.put_synced(synced(2))

    # When both are read back by key and by Intacct ID
    by_key = store.get_synced("workers", ["intacct:EMPLOYEE:1", "intacct:EMPLOYEE:2"])
    by_source = store.get_synced_by_source("workers", ["E-0001"])

    # Then the version is the same instant (in UTC), and absent stays absent
    assert by_key["intacct:EMPLOYEE:1"].modified_at == version
    assert by_source["E-0001"].modified_at == version
    assert by_key["intacct:EMPLOYEE:2"].modified_at is None


def test_iterating_a_workflow_yields_each_of_its_records_once(store: StateStore) -> None:
    # Given records of two workflows
    workers = [synced(number) for number in range(30)]
    for record in [*workers, synced(1, workflow="assets")]:
        store.put_synced(record)

    # When one workflow is iterated
    listed = list(store.iter_synced("workers"))

    # Then it holds exactly that workflow's records, once each
    assert sorted(listed, key=lambda r: r.integration_id) == sorted(workers, key=lambda r: r.integration_id)
    assert list(store.iter_synced("roles")) == []


# Timesheet ledger


def test_a_first_claim_takes_the_timesheet_and_a_second_is_refused_while_the_lease_is_live(store: StateStore) -> None:
    # Given a timesheet nobody has touched
    assert store.get_ledger(101) is None

    # When two consumers claim it, the second 30 s later
    first = store.claim_timesheet(101, "hash-a", 300, NOW)
    second = store.claim_timesheet(101, "hash-a", 300, NOW + timedelta(seconds=30))

    # Then the first holds a 5 minute lease on its first attempt, and the second got nothing
    assert first is not None
    assert (first.state, first.content_hash, first.attempts) == ("claimed", "hash-a", 1)
    assert first.lease_until == NOW + timedelta(seconds=300)
    assert first.intacct_keys == {}
    assert first.reason is None
    assert second is None
    assert store.get_ledger(101) == first


def test_a_timesheet_can_be_claimed_again_once_the_lease_has_expired(store: StateStore) -> None:
    # Given a claim whose holder crashed
    store.claim_timesheet(102, "hash-a", 60, NOW)

    # When another consumer claims it after the lease ran out
    retaken = store.claim_timesheet(102, "hash-a", 60, NOW + timedelta(seconds=61))

    # Then it gets it, as the second attempt
    assert retaken is not None
    assert retaken.attempts == 2
    assert retaken.lease_until == NOW + timedelta(seconds=121)


def test_a_posted_timesheet_with_the_same_content_cannot_be_claimed(store: StateStore) -> None:
    # Given a posted timesheet
    store.claim_timesheet(103, "hash-a", 60, NOW)
    store.record_posted(103, "hash-a", {"TIMESHEET": "8812", "PODOCUMENT": "PO-17"}, NOW + timedelta(seconds=5))

    # When the same approval arrives again (a duplicate webhook), even long after
    again = store.claim_timesheet(103, "hash-a", 60, NOW + timedelta(days=3))

    # Then it is refused and the posted entry is intact
    assert again is None
    posted = store.get_ledger(103)
    assert posted is not None
    assert posted.state == "posted"
    assert posted.intacct_keys == {"TIMESHEET": "8812", "PODOCUMENT": "PO-17"}
    assert posted.lease_until is None
    assert posted.updated_at == NOW + timedelta(seconds=5)


def test_a_re_approval_with_changed_content_can_be_claimed_and_keeps_the_intacct_keys(store: StateStore) -> None:
    # Given a posted timesheet
    store.claim_timesheet(104, "hash-a", 60, NOW)
    store.record_posted(104, "hash-a", {"TIMESHEET": "8813"}, NOW)

    # When it is re-approved with different hours
    reclaimed = store.claim_timesheet(104, "hash-b", 60, NOW + timedelta(hours=1))

    # Then it is claimed for the new content, still knowing what to update in Intacct
    assert reclaimed is not None
    assert (reclaimed.state, reclaimed.content_hash, reclaimed.attempts) == ("claimed", "hash-b", 2)
    assert reclaimed.intacct_keys == {"TIMESHEET": "8813"}


def test_a_parked_timesheet_keeps_its_reason_and_waits_for_changed_content(store: StateStore) -> None:
    # Given a timesheet parked because Intacct does not know the employee
    store.claim_timesheet(105, "hash-a", 60, NOW)
    store.record_parked(105, "hash-a", "employee E-0042 does not exist in Intacct", NOW + timedelta(seconds=2))

    # When it is claimed again unchanged, and then with corrected content
    unchanged = store.claim_timesheet(105, "hash-a", 60, NOW + timedelta(hours=1))
    parked = store.get_ledger(105)
    corrected = store.claim_timesheet(105, "hash-b", 60, NOW + timedelta(hours=2))

    # Then the unchanged one stays parked with its reason; the corrected one is claimed with the reason cleared
    assert unchanged is None
    assert parked is not None
    assert (parked.state, parked.reason, parked.lease_until) == (
        "parked",
        "employee E-0042 does not exist in Intacct",
        None,
    )
    assert corrected is not None
    assert (corrected.state, corrected.reason, corrected.attempts) == ("claimed", None, 2)


def test_a_person_may_retry_a_parked_timesheet_but_not_a_posted_one(store: StateStore) -> None:
    # Given one timesheet parked after its labor was posted, and one posted
    store.claim_timesheet(106, "hash-a", 60, NOW)
    store.record_parked(106, "hash-a", "vendor V-9 is inactive", NOW, intacct_keys={"timesheet": "41"})
    store.claim_timesheet(107, "hash-a", 60, NOW)
    store.record_posted(107, "hash-a", {"timesheet": "42"}, NOW)

    # When both are claimed again unchanged, as a replay asks
    retried = store.claim_timesheet(106, "hash-a", 60, NOW + timedelta(hours=1), retry_parked=True)
    posted = store.claim_timesheet(107, "hash-a", 60, NOW + timedelta(hours=1), retry_parked=True)

    # Then the parked one is claimed again with what Intacct already holds; the posted one stays posted
    assert retried is not None
    assert (retried.state, retried.attempts, retried.intacct_keys) == ("claimed", 2, {"timesheet": "41"})
    assert posted is None


def test_parking_without_keys_keeps_those_recorded_earlier(store: StateStore) -> None:
    store.claim_timesheet(108, "hash-a", 60, NOW)
    store.record_posted(108, "hash-a", {"timesheet": "43"}, NOW)
    store.claim_timesheet(108, "hash-b", 60, NOW + timedelta(hours=1))
    store.record_parked(108, "hash-b", "Intacct timesheet 43 is approved", NOW + timedelta(hours=1))
    entry = store.get_ledger(108)
    assert entry is not None and entry.intacct_keys == {"timesheet": "43"}


def test_a_holder_saves_progress_and_extends_its_lease_while_it_holds_the_claim(store: StateStore) -> None:
    claim = store.claim_timesheet(110, "hash-a", 60, NOW)
    assert claim is not None
    store.renew_claim(110, claim.attempts, {"timesheet_pending": "r1:1:x"}, 60, NOW + timedelta(seconds=50))
    # Still held at 100 s (the lease now runs to 110 s): nobody else can take it.
    assert store.claim_timesheet(110, "hash-a", 60, NOW + timedelta(seconds=100)) is None
    entry = store.get_ledger(110)
    assert entry is not None and entry.intacct_keys == {"timesheet_pending": "r1:1:x"}
    assert entry.lease_until == NOW + timedelta(seconds=110)


def test_a_holder_whose_lease_was_taken_over_can_neither_renew_nor_record(store: StateStore) -> None:
    first = store.claim_timesheet(111, "hash-a", 60, NOW)
    second = store.claim_timesheet(111, "hash-a", 60, NOW + timedelta(seconds=61))
    assert first is not None and second is not None and second.attempts == first.attempts + 1
    with pytest.raises(LeaseLostError):
        store.renew_claim(111, first.attempts, {"timesheet": "1"}, 60, NOW + timedelta(seconds=62))
    with pytest.raises(LeaseLostError):
        store.record_posted(111, "hash-a", {"timesheet": "1"}, NOW + timedelta(seconds=62), attempt=first.attempts)
    with pytest.raises(LeaseLostError):
        store.record_parked(111, "hash-a", "late", NOW + timedelta(seconds=62), attempt=first.attempts)
    store.record_posted(111, "hash-a", {"timesheet": "2"}, NOW + timedelta(seconds=63), attempt=second.attempts)
    entry = store.get_ledger(111)
    assert entry is not None and (entry.state, entry.intacct_keys) == ("posted", {"timesheet": "2"})


def test_an_older_read_of_the_timesheet_never_claims_over_a_newer_one(store: StateStore) -> None:
    newer = store.claim_timesheet(112, "hash-10h", 60, NOW, source_version="2026-11-25T10:00:00.000Z")
    assert newer is not None
    store.record_posted(112, "hash-10h", {"timesheet": "1"}, NOW, attempt=newer.attempts)
    stale = store.claim_timesheet(
        112, "hash-8h", 60, NOW + timedelta(seconds=5), source_version="2026-11-25T09:00:00.000Z"
    )
    assert stale is None
    later = store.claim_timesheet(
        112, "hash-9h", 60, NOW + timedelta(seconds=6), source_version="2026-11-25T11:00:00.000Z"
    )
    assert later is not None and later.source_version == "2026-11-25T11:00:00.000Z"
    entry = store.get_ledger(112)
    assert entry is not None and entry.source_version == "2026-11-25T11:00:00.000Z"


def test_the_ledger_lists_entries_by_state(store: StateStore) -> None:
    # Given one timesheet in each state
    store.claim_timesheet(201, "h", 60, NOW)
    store.claim_timesheet(202, "h", 60, NOW)
    store.record_posted(202, "h", {"TIMESHEET": "1"}, NOW)
    store.claim_timesheet(203, "h", 60, NOW)
    store.record_parked(203, "h", "project P-9 is closed", NOW)

    # When the ledger is listed whole and by state
    every = sorted(entry.timesheet_id for entry in store.iter_ledger())
    parked = list(store.iter_ledger("parked"))

    # Then each entry shows up where it belongs
    assert every == [201, 202, 203]
    assert [(e.timesheet_id, e.reason) for e in parked] == [(203, "project P-9 is closed")]
    assert [e.timesheet_id for e in store.iter_ledger("posted")] == [202]
    assert [e.timesheet_id for e in store.iter_ledger("claimed")] == [201]


def test_recording_an_outcome_without_a_claim_creates_the_entry(store: StateStore) -> None:
    # Given a timesheet found already in Intacct by the lookup after a crash, with no ledger entry
    # When it is recorded as posted
    store.record_posted(301, "hash-a", {"TIMESHEET": "9001"}, NOW)

    # Then the ledger has it, and a duplicate delivery cannot claim it
    entry = store.get_ledger(301)
    assert entry is not None
    assert (entry.state, entry.intacct_keys, entry.attempts) == ("posted", {"TIMESHEET": "9001"}, 0)
    assert store.claim_timesheet(301, "hash-a", 60, NOW) is None


def test_eight_threads_claiming_the_same_timesheet_have_exactly_one_winner(store: StateStore) -> None:
    # Given eight consumers that start claiming the same timesheet at the same moment
    start = threading.Barrier(8)

    def claim(_: int) -> bool:
        start.wait()
        return store.claim_timesheet(401, "hash-a", 300, NOW) is not None

    # When they all claim
    with ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(claim, range(8)))

    # Then exactly one won, and the ledger counts one attempt
    assert won.count(True) == 1
    entry = store.get_ledger(401)
    assert entry is not None
    assert entry.attempts == 1


# Intacct object definitions


def test_a_definition_round_trips_its_body_and_the_instant_it_was_fetched(store: StateStore) -> None:
    # Given a lookup answer of some 50 kB with non-ASCII labels, fetched at a local time with microseconds
    fetched_at = datetime(2026, 11, 26, 9, 15, 30, 123456, tzinfo=SYDNEY)
    definition = CachedDefinition(PROJECT_KEY, lookup_body(300), fetched_at)
    assert len(definition.body.encode()) > 50_000

    # When it is stored and read back
    store.put_definition(definition)
    read = store.get_definition(PROJECT_KEY)

    # Then the body is the same text, and fetched_at the same instant, in UTC
    assert read == definition
    assert read is not None and read.body == definition.body
    assert read.fetched_at.utcoffset() == timedelta(0)


def test_a_definition_put_again_replaces_the_one_stored_and_no_other(store: StateStore) -> None:
    # Given definitions of two objects
    store.put_definition(CachedDefinition(PROJECT_KEY, lookup_body(2), NOW))
    employee = CachedDefinition("EMPLOYEE|ACME-CORP|ENTITY-1|svc_assignar", lookup_body(1), NOW)
    store.put_definition(employee)

    # When the project is looked up again a day later, with a field added since
    fresh = CachedDefinition(PROJECT_KEY, lookup_body(3), NOW + timedelta(days=1))
    store.put_definition(fresh)

    # Then the fresh answer is what is read; the other object's is untouched
    assert store.get_definition(PROJECT_KEY) == fresh
    assert store.get_definition(employee.key) == employee


def test_an_unknown_definition_key_reads_as_none(store: StateStore) -> None:
    # Given a definition cached for one user
    store.put_definition(CachedDefinition(PROJECT_KEY, "{}", NOW))

    # When another user's (or another object's) key is read
    # Then nothing is found: the key is matched whole
    assert store.get_definition("PROJECT|ACME-CORP|ENTITY-1|another_user") is None
    assert store.get_definition("PROJECT") is None


def test_a_definition_fetched_at_a_naive_datetime_is_refused(store: StateStore) -> None:
    # Given a fetch time without a time zone
    naive = datetime(2026, 11, 25, 9, 0)

    # When a definition is made with it to be stored
    with pytest.raises(NaiveDatetimeError, match=r"CachedDefinition\.fetched_at must be timezone-aware"):
        store.put_definition(CachedDefinition(PROJECT_KEY, "{}", naive))

    # Then nothing was stored
    assert store.get_definition(PROJECT_KEY) is None


# Run history


def run(workflow: str, ended: datetime, *, outcome: str = "ok", run_id: str | None = None, **counts: int) -> RunEntry:
    entry = RunEntry(
        workflow=workflow,
        kind="pull",
        started_at=ended - timedelta(seconds=3),
        ended_at=ended,
        outcome=outcome,  # type: ignore[arg-type]
        detail="Intacct refused the read" if outcome == "failed" else None,
        extra={"oldest_pending_approval": "2026-11-25T20:00:00+00:00"},
        **counts,
    )
    return replace(entry, run_id=run_id) if run_id else entry


def test_a_run_entry_round_trips_every_field(store: StateStore) -> None:
    entry = run("workers", NOW, outcome="failed", read=12, written=3, unchanged=9, parked=1, intacct_transactions=4)
    store.record_run(entry)
    assert store.recent_runs("workers") == [entry]


def test_recent_runs_are_the_workflows_own_newest_first_and_limited(store: StateStore) -> None:
    for minutes in range(5):
        store.record_run(run("workers", NOW + timedelta(minutes=minutes), run_id=f"w{minutes}"))
    store.record_run(run("projects", NOW + timedelta(hours=1), run_id="p"))
    assert [e.run_id for e in store.recent_runs("workers", limit=3)] == ["w4", "w3", "w2"]
    assert [e.run_id for e in store.recent_runs("workers", since=NOW + timedelta(minutes=3))] == ["w4", "w3"]
    assert [e.run_id for e in store.recent_runs("projects")] == ["p"]
    assert store.recent_runs("clients") == []
    assert store.recent_runs("workers", limit=0) == []


def test_a_run_entry_stored_in_another_time_zone_sorts_by_its_instant(store: StateStore) -> None:
    store.record_run(run("workers", NOW.astimezone(SYDNEY), run_id="later-in-sydney"))
    store.record_run(run("workers", NOW - timedelta(minutes=1), run_id="earlier-in-utc"))
    assert [e.run_id for e in store.recent_runs("workers")] == ["later-in-sydney", "earlier-in-utc"]


def test_a_naive_run_time_is_refused_before_anything_is_stored() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        RunEntry(workflow="workers", kind="pull", started_at=NOW, ended_at=datetime(2026, 11, 25, 22, 5), outcome="ok")


# Parked records


def parked(key: str, *, reason: str = "Assignar refused it: email taken", at: datetime = NOW) -> ParkedRecord:
    return ParkedRecord(key=key, workflow="workers", body=f'{{"record": "{key}"}}', reason=reason, parked_at=at)


def test_parked_records_are_listed_in_key_order_and_a_record_parked_again_replaces_its_entry(
    store: StateStore,
) -> None:
    # Given two records parked, one of them twice (the second time for another reason, in another time zone)
    store.park_record(parked("workers:E-0002"))
    store.park_record(parked("workers:E-0001"))
    later = (NOW + timedelta(hours=1)).astimezone(SYDNEY)
    store.park_record(parked("workers:E-0002", reason="waits for roles LAB to be in Assignar", at=later))

    # When they are listed
    listed = list(store.iter_parked_records())

    # Then each key is there once, with its latest reason, in UTC
    assert [record.key for record in listed] == ["workers:E-0001", "workers:E-0002"]
    assert listed[1].reason == "waits for roles LAB to be in Assignar"
    assert listed[1].parked_at == later and listed[1].parked_at.utcoffset() == timedelta(0)
    assert listed[1].body == '{"record": "workers:E-0002"}' and listed[1].workflow == "workers"


def test_a_parked_record_without_a_workflow_round_trips(store: StateStore) -> None:
    store.park_record(ParkedRecord(key="body:1a2b", workflow=None, body="not json", reason="bad", parked_at=NOW))
    assert list(store.iter_parked_records()) == [
        ParkedRecord(key="body:1a2b", workflow=None, body="not json", reason="bad", parked_at=NOW)
    ]


def test_deleting_a_parked_record_forgets_only_that_one_and_deleting_it_again_is_fine(store: StateStore) -> None:
    store.park_record(parked("workers:E-0001"))
    store.park_record(parked("workers:E-0002"))
    store.delete_parked_record("workers:E-0001")
    store.delete_parked_record("workers:E-0001")
    store.delete_parked_record("workers:never-parked")
    assert [record.key for record in store.iter_parked_records()] == ["workers:E-0002"]


def test_parked_records_live_apart_from_synced_records_and_the_ledger(store: StateStore) -> None:
    # A negative control for the listing: other state in the store is never taken for a parked record
    store.put_synced(synced(1))
    store.claim_timesheet(7, "h", 60, NOW)
    store.record_parked(7, "h", "unknown employee", NOW)
    assert list(store.iter_parked_records()) == []


def test_a_naive_parked_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ParkedRecord(key="k", workflow=None, body="b", reason="r", parked_at=datetime(2026, 11, 25))
