"""Property: a pull holds one page in memory, however many pages the company has (issue 16).

A company of generated employees is answered page by page through the real client, its answer reader and its
parse (over an httpx mock transport: no sockets). Each pull runs under tracemalloc with the cycle collector off, so
what it is done with must go by reference counting alone, as soon as it is done with. The peak of a ten-page pull
must stay within a small margin of a one-page pull's, on the bare paging client and on the puller's path. The
negative controls keep what a regression would keep (every record; each record in a reference cycle, as httpx's
responses were; every message; a number per record) and the same measure sees each of them. Figures for real
company sizes: benchmarks/puller_memory.py.
"""

from __future__ import annotations

import gc
import re
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from intacct_assignar.config import parse_config
from intacct_assignar.inbound.messages import SyncMessage
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.intacct import ChangePull, IntacctClient, MemorySessionCache, Window
from intacct_assignar.intacct.definitions import ObjectDefinition
from intacct_assignar.sources import EMPLOYEES
from intacct_assignar.state import SqliteStateStore

from ..intacct.gateway import ZONE, response, result, session_result, settings

PAGE = 100
PAGES = 10
FIRST_RECORDNO = 500_001
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
CONFIG = parse_config({"timezone": ZONE})
# A page here (100 employees) takes about 0.4 MB at its peak on the puller's path and a number kept per record about
# 60 bytes, so ten pages that held either rise past this over one page; ten that hold nothing rise by about 8 KB.
MARGIN = 32 * 1024

_CONTROLID = re.compile(rb'<function controlid="([^"]+)"><(\w+)')
_AFTER = re.compile(rb"<greaterthan><field>RECORDNO</field><value>(\d+)</value></greaterthan>")
_FIELD = re.compile(rb"<field>([^<]+)</field>")
_SELECT = re.compile(rb"<select>(.*?)</select>")


def _employee(recordno: int, fields: Sequence[str]) -> str:
    values = {
        "RECORDNO": str(recordno),
        "EMPLOYEEID": f"E-{recordno}",
        "STATUS": "active",
        "WHENMODIFIED": "11/20/2026 08:00:00",
        "CONTACT.FIRSTNAME": "Pat",
        "CONTACT.LASTNAME": f"Worker {recordno}",
        "CONTACT.EMAIL1": f"worker{recordno}@example.com",
        "CONTACT.CELLPHONE": f"(303) 555-{recordno % 10000:04d}",
        "CONTACT.MAILADDRESS.ADDRESS1": f"{recordno} Main St",
        "CONTACT.MAILADDRESS.CITY": "Denver",
        "CONTACT.MAILADDRESS.STATE": "CO",
        "CONTACT.MAILADDRESS.ZIP": "80202",
        "BIRTHDATE": "04/01/1990",
        "EMPPOSITIONID": "LABORER",
        "DEPARTMENTID": "FIELD",
    }
    cells = "".join(f"<{name}>{values[name]}</{name}>" if name in values else f"<{name}/>" for name in fields)
    return f"<EMPLOYEE>{cells}</EMPLOYEE>"


class GeneratedEmployees:
    """The gateway of a company of `count` employees, each page made when it is asked for and kept by nobody."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.queries = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        controlid, function = (part.decode() for part in _CONTROLID.findall(request.content)[0])
        if function == "getAPISession":
            return httpx.Response(200, content=response(session_result(controlid)))
        self.queries += 1
        select = _SELECT.search(request.content)
        assert select is not None, "a query selects its fields"
        fields = [name.decode() for name in _FIELD.findall(select.group(1))]
        after = _AFTER.search(request.content)
        first = int(after.group(1)) + 1 if after else FIRST_RECORDNO
        last = min(first + PAGE, FIRST_RECORDNO + self.count)
        remaining = FIRST_RECORDNO + self.count - last
        records = "".join(_employee(recordno, fields) for recordno in range(first, last))
        data = (
            f'<data listtype="EMPLOYEE" count="{last - first}" totalcount="{self.count}" '
            f'numremaining="{remaining}" offset="0">{records}</data>'
        )
        return httpx.Response(200, content=response(result("query", controlid, data)))


class GeneratedCompany(IntacctClient):
    """The real client over the generated gateway; `lookup` offers every field the employees' source reads."""

    def __init__(self, count: int) -> None:
        self.gateway = GeneratedEmployees(count)
        super().__init__(
            settings(),
            timezone=ZONE,
            http=httpx.Client(transport=httpx.MockTransport(self.gateway.handler)),
            sessions=MemorySessionCache(),
        )

    def lookup(self, object_name: str) -> ObjectDefinition:
        return ObjectDefinition(object_name.upper(), frozenset(EMPLOYEES.fields))


class Discarding:
    """The upsert queue as the puller sees it: each message serialized as SQS is sent it, then let go."""

    def __init__(self) -> None:
        self.published = 0

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        for message in messages:
            message.to_body()
            self.published += 1


class Keeping(Discarding):
    """Negative control: a queue that holds on to every message."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[SyncMessage] = []

    def publish(self, messages: Sequence[SyncMessage]) -> None:
        super().publish(messages)
        self.kept.extend(messages)


def peak_bytes(pull: Callable[[], int], expected: int) -> int:
    """The most memory Python held at once while `pull` ran (tracemalloc), checking how many records it pulled.

    The cycle collector is off meanwhile: what the pull is done with must go by reference counting alone, at
    once, as the puller needs it to. (Left to the collector, a page caught in a reference cycle lives until the
    collector next looks at the oldest objects, which a long pull may not do for many pages.)
    """
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        assert pull() == expected
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.enable()


def bare(
    count: int, *, window: Window | None = None, keep: list[Any] | None = None, in_cycles: bool = False
) -> Callable[[], int]:
    """A pull of `count` employees by the paging client alone (a full one unless `window` says otherwise).

    Negative controls: `keep` holds every record; `in_cycles` leaves each in a reference cycle, as httpx left
    each response and the body a transport had read into it.
    """

    def pull() -> int:
        client = GeneratedCompany(count)
        changes = ChangePull(client, "EMPLOYEE", EMPLOYEES.fields, window or Window(None, NOW), pagesize=PAGE)
        pulled = 0
        for record in changes.records():
            pulled += 1
            if keep is not None:
                keep.append(record)
            if in_cycles:
                cycle: list[Any] = [record]
                cycle.append(cycle)
        return pulled

    return pull


def service(count: int, tmp_path: Path, queue: Discarding | None = None) -> Callable[[], int]:
    """A full pull of `count` employees on the puller's path: normalized, made messages and published."""

    def pull() -> int:
        with SqliteStateStore(tmp_path / f"state-{count}.db") as state:
            puller = PullService(
                GeneratedCompany(count), state, queue or Discarding(), CONFIG, clock=lambda: NOW, pagesize=PAGE
            )
            report = puller.pull("EMPLOYEE", full=True)
        assert report.complete and not report.problems
        return report.fetched

    return pull


@pytest.fixture(autouse=True, scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> None:
    # What a first pull builds once for the process (compiled patterns, validators, caches) is not the pull's.
    peak_bytes(service(2 * PAGE, tmp_path_factory.mktemp("warm-up")), 2 * PAGE)


def test_the_paging_client_holds_one_page_however_many_it_reads() -> None:
    # Given a company of one page and one of ten
    # When each is pulled in full by the paging client
    one_page = peak_bytes(bare(PAGE), PAGE)
    many_pages = peak_bytes(bare(PAGES * PAGE), PAGES * PAGE)

    # Then the long pull's peak is the short one's, within the margin
    assert many_pages - one_page < MARGIN, f"{one_page} B for one page, {many_pages} B for ten"


def test_the_puller_holds_one_page_however_many_it_publishes(tmp_path: Path) -> None:
    # Given a company of one page and one of ten
    # When the puller pulls each in full, publishing every employee
    one_page = peak_bytes(service(PAGE, tmp_path), PAGE)
    many_pages = peak_bytes(service(PAGES * PAGE, tmp_path), PAGES * PAGE)

    # Then the long pull's peak is the short one's, within the margin
    assert many_pages - one_page < MARGIN, f"{one_page} B for one page, {many_pages} B for ten"


def test_the_measure_sees_pages_messages_or_numbers_kept_per_record(tmp_path: Path) -> None:
    # Given what a regression would keep: every record handed out, every record left in a reference cycle, every
    # message published, and the RECORDNO of each record (an incremental pull keeps those, by design: an edit can
    # bring a record round again)
    one_page = peak_bytes(bare(PAGE), PAGE)
    kept_records = peak_bytes(bare(PAGES * PAGE, keep=[]), PAGES * PAGE)
    records_in_cycles = peak_bytes(bare(PAGES * PAGE, in_cycles=True), PAGES * PAGE)
    one_page_published = peak_bytes(service(PAGE, tmp_path), PAGE)
    kept_messages = peak_bytes(service(PAGES * PAGE, tmp_path, Keeping()), PAGES * PAGE)
    incremental = Window(datetime(2026, 11, 1, tzinfo=UTC), NOW)
    one_page_incremental = peak_bytes(bare(PAGE, window=incremental), PAGE)
    numbers_kept = peak_bytes(bare(PAGES * PAGE, window=incremental), PAGES * PAGE)

    # Then each rises past the margin over its one-page pull
    rises = {
        "records kept": kept_records - one_page,
        "records in cycles": records_in_cycles - one_page,
        "messages kept": kept_messages - one_page_published,
        "a number kept per record": numbers_kept - one_page_incremental,
    }
    assert all(rise > MARGIN for rise in rises.values()), rises
