"""Property: an incremental pull returns every matching record exactly once, whatever the record count and
page size, and even when records are edited while we page; edits made during a pull arrive in the next one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intacct_assignar.intacct import ChangePull, IntacctClient, MemorySessionCache, Window
from intacct_assignar.settings import IntacctSettings
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore

ZONE = ZoneInfo("America/Denver")
BASE = datetime(2026, 11, 20, 12, 0, 0, tzinfo=ZONE)
LOOKBACK = timedelta(minutes=30)
WATERMARK = BASE - timedelta(hours=1)  # the previous pull's `until`
FIELDS = ["RECORDNO", "STANDARDTASKID", "NAME", "WHENMODIFIED"]


@dataclass
class Clock:
    at: datetime = BASE

    def __call__(self) -> datetime:
        return self.at.astimezone(ZONE).replace(tzinfo=None)


@dataclass
class EditDuringPaging:
    """After the n-th query answer, edit these records (by position in creation order)."""

    after_page: int
    positions: list[int]


@dataclass
class Scenario:
    # Minutes before BASE at which each record was last modified; repeats make ties on WHENMODIFIED.
    ages: list[int]
    pagesize: int
    edits: list[EditDuringPaging] = field(default_factory=list)
    # False: edits get stamps after the pull's `until` (clocks agree). True: Intacct's clock lags ours, so the
    # edits land inside the window being paged and the records move forward within it.
    edits_inside_window: bool = False


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    ages = draw(st.lists(st.sampled_from([0, 1, 5, 29, 30, 31, 59, 60, 61, 89, 90, 91, 95, 120, 180]), max_size=90))
    pagesize = draw(st.integers(min_value=1, max_value=25))
    edits = []
    if ages:
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            positions = draw(st.lists(st.integers(min_value=0, max_value=len(ages) - 1), min_size=1, max_size=5))
            edits.append(EditDuringPaging(draw(st.integers(min_value=1, max_value=6)), positions))
    return Scenario(ages, pagesize, edits, draw(st.booleans()))


@contextmanager
def company(ages: list[int]) -> Iterator[tuple[IntacctStore, Clock, list[int]]]:
    clock = Clock()
    store = IntacctStore(timezone=str(ZONE), clock=clock)
    recordnos = []
    for index, age in enumerate(ages):
        clock.at = BASE - timedelta(minutes=age)
        created = store.create("STANDARDTASK", {"STANDARDTASKID": f"CC-{index:04d}", "NAME": f"Cost code {index}"})
        recordnos.append(int(created["RECORDNO"]))
    clock.at = BASE
    yield store, clock, recordnos


def paging_client(emulator: IntacctEmulator, on_response: object) -> IntacctClient:
    """A client whose session is already open, calling `on_response` after each answer it receives."""
    sessions = MemorySessionCache()
    settings_ = IntacctSettings.model_validate(emulator.settings_env())
    IntacctClient(settings_, timezone=ZONE, sessions=sessions).query("STANDARDTASK", ["RECORDNO"], pagesize=1)
    http = httpx.Client(event_hooks={"response": [on_response]}, timeout=30)
    return IntacctClient(settings_, timezone=ZONE, http=http, sessions=sessions)


def modified_at(store: IntacctStore, recordno: int) -> datetime:
    record = store.get("STANDARDTASK", recordno)
    assert record is not None
    stamp = record["WHENMODIFIED"]
    return (
        stamp.replace(tzinfo=ZONE)
        if isinstance(stamp, datetime)
        else datetime.strptime(stamp, "%m/%d/%Y %H:%M:%S").replace(tzinfo=ZONE)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_incremental_pull_returns_each_matching_record_exactly_once(scenario: Scenario) -> None:
    with company(scenario.ages) as (store, clock, recordnos), IntacctEmulator(store) as emulator:
        # Given the window of a scheduled run starting now, and edits that land while it pages
        until = BASE + timedelta(seconds=30)
        window = Window.incremental(WATERMARK, LOOKBACK, until)
        assert window.since is not None
        matching_at_start = {r for r in recordnos if window.since <= modified_at(store, r) <= until}
        pages_seen = [0]
        edited: set[int] = set()

        paging = [True]

        def edit_during_paging(response: httpx.Response) -> None:
            if not paging[0]:
                return
            pages_seen[0] += 1
            for edit in scenario.edits:
                if edit.after_page == pages_seen[0]:
                    clock.at = BASE + (timedelta(seconds=10) if scenario.edits_inside_window else timedelta(minutes=1))
                    for position in edit.positions:
                        store.update("STANDARDTASK", recordnos[position], {"NAME": f"edited at page {pages_seen[0]}"})
                        edited.add(recordnos[position])

        client = paging_client(emulator, edit_during_paging)

        # When the pull pages through
        pull = ChangePull(client, "STANDARDTASK", FIELDS, window, pagesize=scenario.pagesize)
        first = list(pull.records())
        first_ids = [int(r["RECORDNO"]) for r in first]
        paging[0] = False

        # Then nothing came twice, nothing outside the window came, and every untouched match came
        assert len(first_ids) == len(set(first_ids))
        assert matching_at_start - edited <= set(first_ids)
        if scenario.edits_inside_window:
            # an edited record may have moved into the window, and back into the pages still to come
            assert set(first_ids) <= matching_at_start | edited
        else:
            # the keyset alone kept every record to one page: edits moved past `until`, out of this pull
            assert set(first_ids) <= matching_at_start
            assert pull.duplicates_dropped == 0

        # And the next run (after the edits) brings every edited record, in its edited version, exactly once
        clock.at = BASE + timedelta(minutes=5)
        later = Window.incremental(until, LOOKBACK, BASE + timedelta(minutes=5))
        second = list(ChangePull(client, "STANDARDTASK", FIELDS, later, pagesize=scenario.pagesize).records())
        second_ids = [int(r["RECORDNO"]) for r in second]
        assert len(second_ids) == len(set(second_ids))
        assert edited <= set(second_ids)
        for record in second:
            if int(record["RECORDNO"]) in edited:
                assert str(record["NAME"]).startswith("edited at page")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_full_pull_returns_every_record_exactly_once_even_when_edited_while_paging(scenario: Scenario) -> None:
    with company(scenario.ages) as (store, clock, recordnos), IntacctEmulator(store) as emulator:
        # Given edits landing while a full pull pages (they move WHENMODIFIED, not RECORDNO)
        pages_seen = [0]

        def edit_during_paging(_response: httpx.Response) -> None:
            pages_seen[0] += 1
            for edit in scenario.edits:
                if edit.after_page == pages_seen[0]:
                    clock.at = BASE + timedelta(minutes=1)
                    for position in edit.positions:
                        store.update("STANDARDTASK", recordnos[position], {"NAME": "edited"})

        client = paging_client(emulator, edit_during_paging)

        # When
        ids = [
            int(r["RECORDNO"])
            for r in ChangePull(
                client, "STANDARDTASK", FIELDS, Window(None, BASE), pagesize=scenario.pagesize
            ).records()
        ]

        # Then
        assert sorted(ids) == sorted(recordnos)
