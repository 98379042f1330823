"""Properties of paging: offset pages and readMore pages both cover an ordered result exactly once."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from intacct_assignar_dev.emulators.intacct import IntacctStore
from intacct_assignar_dev.emulators.intacct.functions import Call, Cursors, query, read_by_query, read_more

from .fixtures import FakeClock


def _store(descriptions: list[str | None]) -> IntacctStore:
    store = IntacctStore(clock=FakeClock())
    for number, description in enumerate(descriptions):
        store.create("STANDARDTASK", {"STANDARDTASKID": f"D{number:03d}", "NAME": "Code", "DESCRIPTION": description})
    return store


@settings(max_examples=40, deadline=None)
@given(titles=st.lists(st.sampled_from(["Crew", "Shop", "Yard", None]), max_size=30), pagesize=st.integers(1, 7))
def test_offset_pages_cover_the_ordered_result_once(titles: list[str | None], pagesize: int) -> None:
    # Given cost codes with repeated and missing descriptions
    store = _store(titles)
    call = Call(store, Cursors(), "u", "o")
    order = {"order": [{"field": "DESCRIPTION", "descending": None}, {"field": "STANDARDTASKID", "ascending": None}]}
    base: dict[str, Any] = {"object": "STANDARDTASK", "select": {"field": ["STANDARDTASKID"]}, "orderby": order}

    # When paged by offset until numremaining is 0
    seen: list[str] = []
    offset = 0
    while True:
        data = query(call, {**base, "pagesize": str(pagesize), "offset": str(offset)}).payload["data"]
        seen += [row["STANDARDTASKID"] for row in data.get("STANDARDTASK", [])]
        assert int(data["@totalcount"]) == len(titles)
        if data["@numremaining"] == "0":
            break
        offset += int(data["@count"])

    # Then the pages are the whole ordered result, each record once
    everything = query(call, {**base, "pagesize": "2000"}).payload["data"].get("STANDARDTASK", [])
    assert seen == [row["STANDARDTASKID"] for row in everything]


@settings(max_examples=40, deadline=None)
@given(size=st.integers(0, 25), pagesize=st.integers(1, 6))
def test_read_more_pages_cover_everything_once(size: int, pagesize: int) -> None:
    # Given some cost codes
    store = _store(["Crew"] * size)
    call = Call(store, Cursors(), "u", "o")

    # When read with readByQuery and readMore until numremaining is 0
    body = {"object": "STANDARDTASK", "fields": "STANDARDTASKID", "pagesize": str(pagesize)}
    data = read_by_query(call, body).payload["data"]
    seen = [row["STANDARDTASKID"] for row in data.get("standardtask", [])]
    while data["@numremaining"] != "0":
        data = read_more(call, {"resultId": data["@resultId"]}).payload["data"]
        seen += [row["STANDARDTASKID"] for row in data.get("standardtask", [])]

    # Then every record came exactly once, and the last page has no resultId
    assert seen == [f"D{number:03d}" for number in range(size)]
    assert data["@resultId"] == ""
