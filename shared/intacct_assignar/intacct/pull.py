"""Reading what changed in Intacct, a page at a time, so that no record is skipped or read twice in a pull.

Incremental pulls page by keyset on (WHENMODIFIED, RECORDNO) inside a window [since - lookback, until]:
`until` is fixed when the pull starts, so a record edited while we page moves past it and arrives in the
next pull instead of twice in this one; the lookback re-reads late commits. Full pulls page by RECORDNO.
Offsets are never used: Intacct treats every offset as a new query, and records can be missed (§3.1).
A `Cursor` is plain data, so a pull can stop at a page boundary and continue in another Lambda invocation
(which must keep the same `Window`). Within one `ChangePull`, a record is handed out once even if Intacct's
clock lags ours and an edit made while paging lands inside the window; across a resumed pull that guard is
not carried, so such a record can arrive twice, which the content hash downstream absorbs.

Memory stays that of one page whatever the company's size: a full pull keeps nothing per record (its keyset on
RECORDNO alone cannot hand a record out twice), and `records()` lets go of a page before reading the next.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from .filters import Filter, and_, eq, ge, gt, in_, le, or_
from .protocol import MAX_QUERY_PAGESIZE, Record, Result
from .values import format_timestamp, parse_timestamp

RECORDNO = "RECORDNO"
WHENMODIFIED = "WHENMODIFIED"


class Queries(Protocol):
    """What a change pull needs from the client (`IntacctClient.query`), and the zone Intacct's timestamps are in."""

    @property
    def zone(self) -> ZoneInfo: ...

    def query(
        self,
        object_name: str,
        select: Sequence[str],
        *,
        filter: Filter | None = None,
        orderby: Sequence[tuple[str, bool]] = (),
        pagesize: int = MAX_QUERY_PAGESIZE,
    ) -> Result: ...


@dataclass(frozen=True)
class Window:
    """Which changes a pull reads: modified after `since` (None = everything) and no later than `until`."""

    since: datetime | None
    until: datetime

    @classmethod
    def incremental(cls, watermark: datetime | None, lookback: timedelta, now: datetime) -> Window:
        """The window after `watermark` (the previous pull's `until`), reaching back `lookback` for late writes."""
        return cls(since=watermark - lookback if watermark is not None else None, until=now)


@dataclass(frozen=True)
class Cursor:
    """The last record returned: the next page starts strictly after it."""

    recordno: int
    whenmodified: str | None = None  # Intacct's own text, so equality in the filter is exact


@dataclass(frozen=True)
class Page:
    records: list[Record]
    next_cursor: Cursor | None  # None when the pull is complete

    @property
    def done(self) -> bool:
        return self.next_cursor is None


class ChangePull:
    """One object's records within a window, in pages of up to 2000, each record exactly once."""

    def __init__(
        self,
        client: Queries,
        object_name: str,
        select: Sequence[str],
        window: Window,
        *,
        where: Filter | None = None,
        pagesize: int = MAX_QUERY_PAGESIZE,
    ) -> None:
        self.client = client
        self.object_name = object_name
        self.window = window
        self.where = where
        self.pagesize = pagesize
        self.select: list[str] = []
        self.reselect(select)
        # The RECORDNOs handed out, to drop a record an edit moved forward within the window. Only incremental
        # pulls need it: a full pull pages by RECORDNO alone, and an edit does not change a RECORDNO, so a record
        # behind the cursor never comes round again. Kept for them, it would grow by a number per record of the
        # company (about 3 MB at 50,000 employees).
        self._seen: set[int] | None = None if self.full else set()
        self.duplicates_dropped = 0

    def reselect(self, select: Sequence[str]) -> None:
        """Ask for other fields from the next page on (the company's fields changed while we paged)."""
        # The keyset needs both fields back, whatever the caller selected.
        self.select = list(dict.fromkeys([*select, RECORDNO, WHENMODIFIED]))

    @property
    def full(self) -> bool:
        return self.window.since is None

    def page(self, after: Cursor | None = None) -> Page:
        """The next page after `after` (None = from the start)."""
        result = self.client.query(
            self.object_name,
            self.select,
            filter=and_(self.where, self._window_filter(), self._keyset(after)),
            orderby=[(RECORDNO, True)] if self.full else [(WHENMODIFIED, True), (RECORDNO, True)],
            pagesize=self.pagesize,
        )
        records = result.records
        if not records:
            return Page([], None)
        last = records[-1]
        cursor = Cursor(int(last[RECORDNO]), None if self.full else last.get(WHENMODIFIED))
        # numremaining is authoritative; without it, only a short page proves the end.
        more = result.numremaining > 0 if result.numremaining is not None else len(records) >= self.pagesize
        return Page(self._fresh(records), cursor if more else None)

    def _fresh(self, records: list[Record]) -> list[Record]:
        if self._seen is None:
            return records
        fresh = []
        for record in records:
            # If Intacct's clock runs behind ours, an edit made while paging can land inside the window and
            # come round again; the first copy was already handed out, and the edit's WHENMODIFIED lies within
            # the next pull's lookback, so that pull brings the new version.
            recordno = int(record[RECORDNO])
            if recordno in self._seen:
                self.duplicates_dropped += 1
                continue
            self._seen.add(recordno)
            fresh.append(record)
        return fresh

    def pages(self, after: Cursor | None = None) -> Iterator[Page]:
        """The pages from `after` on. This generator lets go of each page before it reads the next, but a caller's
        `for page in ...` holds the last one until the next arrives: to hold one page at a time, call `page()`
        (as `PullService` does) or take `records()`."""
        cursor = after
        while True:
            page = self.page(cursor)
            cursor = page.next_cursor
            yield page
            del page
            if cursor is None:
                return

    def records(self, after: Cursor | None = None) -> Iterator[Record]:
        cursor = after
        while True:
            page = self.page(cursor)
            cursor = page.next_cursor
            yield from page.records
            del page  # gone before the next page is read
            if cursor is None:
                return

    def _window_filter(self) -> Filter | None:
        if self.window.since is None:
            return None
        zone = self.client.zone
        return and_(
            ge(WHENMODIFIED, format_timestamp(self.window.since, zone)),
            le(WHENMODIFIED, format_timestamp(self.window.until, zone)),
        )

    def _keyset(self, after: Cursor | None) -> Filter | None:
        if after is None:
            return None
        if self.full or after.whenmodified is None:
            return gt(RECORDNO, str(after.recordno))
        return or_(
            gt(WHENMODIFIED, after.whenmodified),
            and_(eq(WHENMODIFIED, after.whenmodified), gt(RECORDNO, str(after.recordno))),
        )


@dataclass(frozen=True)
class Deletion:
    object_name: str  # upper case, as queried
    recordno: int
    deleted_at: datetime | None


def deletions(
    client: Queries, object_names: Sequence[str], window: Window, *, pagesize: int = MAX_QUERY_PAGESIZE
) -> Iterator[Deletion]:
    """Records of these objects deleted within the window, from AUDITHISTORY, in one query for all objects.

    One query covers every object so that a scheduled run checks deletions for one API transaction.
    ACCESSTIME is read in the company zone like WHENMODIFIED ([gap] §8.4: verify; the lookback absorbs an
    offset of up to its length). OBJECTKEY is read as `RECORDNO` or `RECORDNO--REC` (§6.5, estuary).
    """
    if window.since is None:
        return
    zone = client.zone
    by_type = {name.lower(): name.upper() for name in object_names}
    base = and_(
        in_("OBJECTTYPE", sorted(by_type)),
        eq("ACCESSMODE", "D"),
        ge("ACCESSTIME", format_timestamp(window.since, zone)),
        le("ACCESSTIME", format_timestamp(window.until, zone)),
    )
    last_time: str | None = None
    last_id = 0
    while True:
        keyset = None
        if last_time is not None:
            keyset = or_(gt("ACCESSTIME", last_time), and_(eq("ACCESSTIME", last_time), gt("ID", str(last_id))))
        result = client.query(
            "AUDITHISTORY",
            ["ID", "OBJECTTYPE", "OBJECTKEY", "ACCESSMODE", "ACCESSTIME"],
            filter=and_(base, keyset),
            orderby=[("ACCESSTIME", True), ("ID", True)],
            pagesize=pagesize,
        )
        for row in result.records:
            key = (row.get("OBJECTKEY") or "").split("--", 1)[0]
            object_type = (row.get("OBJECTTYPE") or "").lower()
            if key.isdigit() and object_type in by_type:
                yield Deletion(by_type[object_type], int(key), parse_timestamp(row.get("ACCESSTIME"), zone))
        if not result.records or not result.numremaining:
            return
        last_time = result.records[-1].get("ACCESSTIME")
        last_id = int(result.records[-1]["ID"])
