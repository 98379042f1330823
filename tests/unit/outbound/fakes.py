"""In-memory fakes of the push's ports (`outbound/ports.py`): an Intacct company that keeps what the push writes,
and an Assignar account's timesheets.

Each keeps the rules of the real system that posting exactly once leans on. Intacct hands out keys, answers
queries by filter (the push finds its documents again with `like` on their marker), lets a query of the objects
the push writes select only the fields its `lookup` lists, refuses a timesheet for an employee it lacks or holds
inactive, and under uniqueid=true refuses a function control ID that already completed, in the words the real
client turns into `IntacctDuplicateControlIdError`. Assignar marks a timesheet processed only while it is
approved, and a repeat is harmless. Intacct's faults are scripted per write function (`fail_next`). The clients
themselves are tested over HTTP (tests/unit/intacct, tests/unit/assignar), the push on both emulators in
tests/integration/outbound.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from intacct_assignar.assignar.errors import TimesheetNotApprovedError
from intacct_assignar.assignar.models import APPROVED_STATUSES, Timesheet
from intacct_assignar.intacct import (
    IntacctBusinessError,
    IntacctErrorDetail,
    IntacctOutcomeUnknownError,
    IntacctRateLimitError,
    ObjectDefinition,
    QuerySpec,
    Write,
    WriteResult,
)
from intacct_assignar.intacct.filters import Filter, and_, eq
from intacct_assignar.intacct.protocol import MAX_QUERY_PAGESIZE, Record, Result
from intacct_assignar.settings import IntacctSettings
from pydantic import SecretStr

from ..inbound.fakes import InMemoryIntacct, InMemoryResource

# --- Intacct ----------------------------------------------------------------------------------------------

Fault = Literal["lost_after_commit", "lost_commits_later", "lost_before_commit", "refused", "rate_limited"]
"""What `fail_next` makes of a write:

- lost_after_commit: Intacct runs it, and the answer never arrives (HTTP 524, a timeout);
- lost_commits_later: the answer never arrives, and Intacct runs it only at `settle_late_commits` (still running
  when the client gave up; reference §6.1);
- lost_before_commit: the answer never arrives, and Intacct never ran it (a 502 from the gateway);
- refused: Intacct refuses it in the words given (a business error); nothing is written;
- rate_limited: the gateway answers 429 before running anything.
"""

Answer = Literal["ok", "duplicate", "refused", "lost", "rate_limited"]

# Generic business error: Intacct uses it for most refusals ("Could not create Timesheet record!").
BUSINESS = "BL01001973"

# A TIMESHEET Intacct lets an update change (as the emulator: reference §5.1); others belong to its approvers.
UPDATABLE_TIMESHEET_STATES = frozenset({"Draft", "Submitted"})

# What `lookup` lists for the objects the push writes and reads back. Where a purchasing transaction's
# `<referenceno>` lands is not documented (reference §5.3): here in PONUMBER, and REFERENCENO is not listed.
PUSH_OBJECTS: Mapping[str, frozenset[str]] = {
    "TIMESHEET": frozenset(
        {"RECORDNO", "EMPLOYEEID", "BEGINDATE", "DESCRIPTION", "STATE", "WHENCREATED", "WHENMODIFIED"}
    ),
    "PODOCUMENT": frozenset(
        {"RECORDNO", "DOCID", "DOCNO", "DOCPARID", "PONUMBER", "CUSTVENDID", "STATE", "MESSAGE", "WHENCREATED"}
    ),
    "PODOCUMENTENTRY": frozenset(
        {"RECORDNO", "DOCHDRNO", "DOCHDRID", "LINE_NO", "ITEMID", "QUANTITY", "MEMO"}
        | {"LOCATIONID", "DEPARTMENTID", "PROJECTID", "TASKID", "COSTTYPEID"}
    ),
}


@dataclass(frozen=True)
class SentWrite:
    """One write that reached the fake: the function, the object, its control ID, and what became of it."""

    function: str
    object_name: str
    controlid: str
    answer: Answer


@dataclass(frozen=True)
class _Scripted:
    fault: Fault
    detail: IntacctErrorDetail | None


class _Refusal(Exception):
    """One of Intacct's own rules refused a write; `_write` hands it on as the real client would."""

    def __init__(self, detail: IntacctErrorDetail) -> None:
        super().__init__(str(detail))
        self.detail = detail


def duplicate_control_id(controlid: str) -> IntacctErrorDetail:
    """Intacct's answer to a control ID that already completed under uniqueid=true (the emulator's words: the
    real ones are undocumented, reference §8.1, and the client recognises them by wording)."""
    return IntacctErrorDetail(
        BUSINESS,
        "Duplicate function control ID",
        f"A function with control ID '{controlid}' was already executed and completed.",
        "Use a new control ID to run the function again, or send uniqueid false.",
    )


def refused(function: str, controlid: str, detail: IntacctErrorDetail) -> IntacctBusinessError:
    """The error the real client raises for a failed result: classified by the product's own rules
    (`Result.error`), so a repeated control ID comes out as `IntacctDuplicateControlIdError`."""
    return Result(status="failure", function=function, controlid=controlid, errors=[detail]).error()


class InMemoryIntacctForPush(InMemoryIntacct):
    """An Intacct company for the push: the inbound fake's records and filters, plus writes, `docparid`,
    `query_batch`, `lookup` of the objects the push writes, the entity, and scripted faults.

    `writes` lists every write that reached it, in order, with what became of it; `completed` the function
    control IDs that ran to completion (a repeat of one is refused); `lookups` the objects `lookup` was asked for.
    """

    def __init__(
        self,
        records: Mapping[str, Sequence[Record]] | None = None,
        *,
        entity_id: str | None = None,
        offered: Mapping[str, Iterable[str]] | None = None,
        timezone: str = "America/Denver",
    ) -> None:
        super().__init__(records or {}, timezone=timezone)
        self.settings = IntacctSettings.model_validate(
            {
                "INTACCT_SENDER_ID": "fake-sender",
                "INTACCT_SENDER_PASSWORD": SecretStr("fake"),
                "INTACCT_COMPANY_ID": "fake-company",
                "INTACCT_ENTITY_ID": entity_id,
                "INTACCT_USER_ID": "fake-user",
                "INTACCT_USER_PASSWORD": SecretStr("fake"),
            }
        )
        self.offered = {name.upper(): frozenset(fields) for name, fields in (offered or PUSH_OBJECTS).items()}
        self.writes: list[SentWrite] = []
        self.writes_per_request: list[int] = []
        self.completed: set[str] = set()
        self.lookups: list[str] = []
        self._faults: defaultdict[str, deque[_Scripted]] = defaultdict(deque)
        self._late: list[tuple[str, Callable[[], WriteResult]]] = []
        self._recordnos: defaultdict[str, itertools.count[int]] = defaultdict(lambda: itertools.count(1))

    # --- what a test scripts and reads ---------------------------------------------------------------

    def fail_next(
        self, fault: Fault, *, function: str, times: int = 1, detail: IntacctErrorDetail | None = None
    ) -> None:
        """The next `times` writes of `function` ("create", "update", "create_potransaction") meet `fault`;
        a refusal is in `detail`'s words (by default, Intacct's generic business error)."""
        words = (detail or IntacctErrorDetail(BUSINESS, "Could not create record!")) if fault == "refused" else None
        self._faults[function].extend(_Scripted(fault, words) for _ in range(times))

    def settle_late_commits(self) -> None:
        """Intacct finishes the writes whose answers were lost while they were still running."""
        late, self._late = self._late, []
        for controlid, run in late:
            self._complete(controlid, run)

    def sent(self, function: str) -> list[SentWrite]:
        return [write for write in self.writes if write.function == function]

    def rows(self, object_name: str) -> list[Record]:
        return self.records.get(object_name.upper(), [])

    def lines_of(self, docid: str) -> list[Record]:
        return [line for line in self.rows("PODOCUMENTENTRY") if line["DOCHDRID"] == docid]

    # --- IntacctForPush ------------------------------------------------------------------------------

    def lookup(self, object_name: str) -> ObjectDefinition:
        name = object_name.upper()
        self.lookups.append(name)
        if name in self.offered:
            return ObjectDefinition(name, self.offered[name])
        return super().lookup(name)

    def query(
        self,
        object_name: str,
        select: Sequence[str],
        *,
        filter: Filter | None = None,
        orderby: Sequence[tuple[str, bool]] = (),
        pagesize: int = MAX_QUERY_PAGESIZE,
        docparid: str | None = None,
    ) -> Result:
        return self._query(QuerySpec(object_name, select, filter, pagesize, docparid), orderby).raise_for_status()

    def query_batch(self, queries: Sequence[QuerySpec]) -> list[Result]:
        # Unchecked, as the client answers a batch: one failing query must not hide the others' answers.
        return [self._query(spec) for spec in queries]

    def write_batch(self, writes: Sequence[Write]) -> list[WriteResult | IntacctBusinessError]:
        """One request of writes, as the gateway runs it: each function on its own (no transaction), a refusal
        its own answer; a fault that loses the answer loses the whole request's (the others ran all the same),
        and a rate limit runs none of them. `writes_per_request` records each request's size."""
        scripted = [self._scripted(write.function) for write in writes]
        if any(item is not None and item.fault == "rate_limited" for item in scripted):
            for write, item in zip(writes, scripted, strict=True):
                self.writes.append(SentWrite(write.function, self._object(write), write.controlid, "rate_limited"))
                if item is not None and item.fault != "rate_limited":
                    self._faults[write.function].appendleft(item)  # never reached Intacct: still to come
            raise IntacctRateLimitError("Intacct is rate limiting this company (GW-0010)", http_status=429)
        self.writes_per_request.append(len(writes))
        answers: list[WriteResult | IntacctBusinessError] = []
        lost: IntacctOutcomeUnknownError | None = None
        for write, item in zip(writes, scripted, strict=True):
            answer = self._write(write, item)
            if isinstance(answer, IntacctOutcomeUnknownError):
                lost = lost or answer
                answers.append(refused(write.function, write.controlid, IntacctErrorDetail(BUSINESS, "lost")))
            else:
                answers.append(answer)
        if lost is not None:
            raise lost
        return answers

    def create(self, object_name: str, record: Mapping[str, Any], *, controlid: str) -> WriteResult:
        return self._one(Write.create(object_name, record, controlid=controlid))

    def update(self, object_name: str, record: Mapping[str, Any], *, controlid: str) -> WriteResult:
        return self._one(Write.update(object_name, record, controlid=controlid))

    def legacy_create(self, name: str, body: Mapping[str, Any], *, controlid: str) -> WriteResult:
        return self._one(Write.legacy(name, body, controlid=controlid))

    def _one(self, write: Write) -> WriteResult:
        answer = self.write_batch([write])[0]
        if isinstance(answer, IntacctBusinessError):
            raise answer
        return answer

    # --- how it answers ------------------------------------------------------------------------------

    def _query(self, spec: QuerySpec, orderby: Sequence[tuple[str, bool]] = ()) -> Result:
        name = spec.object_name.upper()
        unknown = [field for field in spec.select if name in self.offered and field not in self.offered[name]]
        if unknown:
            detail = IntacctErrorDetail("DL02000001", f"Invalid fields list {unknown[0]} for object {name}")
            return Result(status="failure", function="query", controlid="fake", errors=[detail])
        # A transaction definition narrows a purchasing query as a filter of its own would (`<docparid>`).
        where = and_(spec.filter, eq("DOCPARID", spec.docparid)) if spec.docparid is not None else spec.filter
        return super().query(name, spec.select, filter=where, orderby=orderby, pagesize=spec.pagesize)

    def _scripted(self, function: str) -> _Scripted | None:
        queued = self._faults[function]
        return queued.popleft() if queued else None

    @staticmethod
    def _object(write: Write) -> str:
        return (write.object_name or "PODOCUMENT").upper()

    def _run(self, write: Write) -> Callable[[], WriteResult]:
        body = write.body
        if write.function == "create":
            return lambda: self._insert(self._object(write), body)
        if write.function == "update":
            return lambda: self._replace(self._object(write), body)
        if write.function == "create_potransaction":
            return lambda: self._purchasing(body)
        raise AssertionError(f"the fake does not run {write.function}")

    def _write(
        self, write: Write, scripted: _Scripted | None
    ) -> WriteResult | IntacctBusinessError | IntacctOutcomeUnknownError:
        """One function's answer (a lost one as `IntacctOutcomeUnknownError`, which loses the request's)."""
        function, controlid, run = write.function, write.controlid, self._run(write)
        fault = scripted.fault if scripted is not None else None

        def answered(answer: Answer) -> None:
            self.writes.append(SentWrite(function, self._object(write), controlid, answer))

        # uniqueid=true: only a control ID that ran to completion is refused; one refused or never run is not.
        if controlid in self.completed:
            answered("duplicate")
            return refused(function, controlid, duplicate_control_id(controlid))
        if scripted is not None and scripted.detail is not None:  # a scripted refusal
            answered("refused")
            return refused(function, controlid, scripted.detail)
        if fault == "lost_before_commit":
            answered("lost")
            return _lost(function, controlid, 502)
        if fault == "lost_commits_later":
            self._late.append((controlid, run))
            answered("lost")
            return _lost(function, controlid, 524)
        try:
            result = self._complete(controlid, run)
        except _Refusal as refusal:
            answered("refused")
            return refused(function, controlid, refusal.detail)
        answered("lost" if fault == "lost_after_commit" else "ok")
        if fault == "lost_after_commit":
            return _lost(function, controlid, 524)
        return result

    def _complete(self, controlid: str, run: Callable[[], WriteResult]) -> WriteResult:
        result = run()
        self.completed.add(controlid)
        return result

    def _recordno(self, object_name: str) -> str:
        return str(next(self._recordnos[object_name]))

    def _insert(self, object_name: str, record: Mapping[str, Any]) -> WriteResult:
        name = object_name.upper()
        if name == "TIMESHEET":
            self._check_employee(record)
        row: Record = {**record, "RECORDNO": self._recordno(name)}
        self.records.setdefault(name, []).append(row)
        return WriteResult(row["RECORDNO"], {"RECORDNO": row["RECORDNO"]})

    def _replace(self, object_name: str, record: Mapping[str, Any]) -> WriteResult:
        name = object_name.upper()
        key = str(record.get("RECORDNO"))
        row = next((row for row in self.rows(name) if row["RECORDNO"] == key), None)
        if row is None:
            raise _Refusal(IntacctErrorDetail(BUSINESS, f"Could not update {name} record!", f"No {name} {key}."))
        if name == "TIMESHEET":
            if row.get("STATE") not in UPDATABLE_TIMESHEET_STATES:
                raise _Refusal(
                    IntacctErrorDetail(BUSINESS, "Could not update Timesheet record!", f"Timesheet is {row['STATE']}.")
                )
            self._check_employee(record)
        # An update replaces the timesheet and its entries (reference §5.1).
        row.update({**record, "RECORDNO": key})
        return WriteResult(key, {"RECORDNO": key})

    def _check_employee(self, record: Mapping[str, Any]) -> None:
        employee_id = record.get("EMPLOYEEID")
        employee = next((row for row in self.rows("EMPLOYEE") if row.get("EMPLOYEEID") == employee_id), None)
        if employee is None:
            words = f"Invalid Employee '{employee_id}' specified in EMPLOYEEID."
            raise _Refusal(IntacctErrorDetail(BUSINESS, "Could not create Timesheet record!", words))
        if employee.get("STATUS") != "active":
            raise _Refusal(
                IntacctErrorDetail(
                    BUSINESS,
                    "Could not create Timesheet record!",
                    f"Employee '{employee_id}' specified in EMPLOYEEID is inactive.",
                    "Use an active employee, or make this one active.",
                )
            )

    def _purchasing(self, body: Mapping[str, Any]) -> WriteResult:
        """create_potransaction: a PODOCUMENT and its lines; answered with the new DOCID only, as legacy
        functions answer (`<key>`)."""
        recordno = self._recordno("PODOCUMENT")
        docparid = str(body["transactiontype"])
        docid = f"{docparid}-{recordno}"
        created = body["datecreated"]
        self.records.setdefault("PODOCUMENT", []).append(
            {
                "RECORDNO": recordno,
                "DOCNO": recordno,
                "DOCID": docid,
                "DOCPARID": docparid,
                "CUSTVENDID": body.get("vendorid"),
                "PONUMBER": body.get("referenceno"),
                "MESSAGE": body.get("message"),
                "STATE": "Pending",
                "WHENCREATED": date(int(created["year"]), int(created["month"]), int(created["day"])),
            }
        )
        items = body["potransitems"]["potransitem"]
        for number, item in enumerate(items if isinstance(items, list) else [items], start=1):
            self.records.setdefault("PODOCUMENTENTRY", []).append(
                {
                    "RECORDNO": self._recordno("PODOCUMENTENTRY"),
                    "DOCHDRNO": recordno,
                    "DOCHDRID": docid,
                    "DOCPARID": docparid,
                    "LINE_NO": number,
                    **{field.upper(): value for field, value in item.items()},
                }
            )
        return WriteResult(docid, {}, docid)


def _lost(function: str, controlid: str, status: int) -> IntacctOutcomeUnknownError:
    return IntacctOutcomeUnknownError(
        f"Intacct's answer to {function} was lost (HTTP {status}); the write may have been committed: look it up "
        "before sending again",
        function=function,
        controlid=controlid,
        http_status=status,
    )


# --- Assignar ---------------------------------------------------------------------------------------------

# When the fake's timesheets were last changed: each change a second later, so text order is change order.
_EPOCH = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)


class InMemoryTimesheets(InMemoryResource[Timesheet]):
    """Assignar's timesheets as `/timesheets-expanded` answers them: one, several, and marking one processed.

    Marking processed follows Assignar (and the client's reading of its 400s): refused unless approved, and a
    repeat answers False. `marked` lists each timesheet marked processed, in order. Every change moves
    `modified_time`, which the ledger orders reads by.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__("timesheets", Timesheet, [], itertools.count(1))
        self.marked: list[int] = []
        self._changes = itertools.count(1)
        # Given a clock, changes are stamped with its time (the watcher's tests compare the two clocks).
        self._clock = clock

    def add(self, **fields: object) -> Timesheet:
        """A timesheet as Assignar holds it (approve it with `status="APPROVED"`)."""
        return self.seed(**fields, modified_time=self._stamp())

    def change(self, timesheet_id: int, **fields: object) -> Timesheet:
        """A supervisor edits the timesheet (re-approving it, say): what Assignar answers from now on."""
        self._existing(timesheet_id)
        self.rows[timesheet_id].update(fields, modified_time=self._stamp())
        return self._record(timesheet_id)

    def reapprove(self, timesheet_id: int, **fields: object) -> Timesheet:
        """Reopened, edited and approved again: no longer processed, with the changed fields."""
        return self.change(timesheet_id, **fields, status="APPROVED", processed_at=None)

    def get(self, timesheet_id: int) -> Timesheet:
        return super().get(timesheet_id)

    def get_many(self, timesheet_ids: Iterable[int]) -> dict[int, Timesheet]:
        self.reads += 1
        return {timesheet_id: self._record(timesheet_id) for timesheet_id in timesheet_ids if timesheet_id in self.rows}

    def approved_unprocessed_pages(
        self, *, modified_since: datetime | None = None, page_size: int = 2
    ) -> Iterator[list[Timesheet]]:
        """As `/timesheets-expanded?status__in=...&processed_at__is=null&modified_time__gte=...` pages them (a
        page of two, so every caller meets more than one), one read per page and one for the empty last page."""
        found = [
            timesheet
            for timesheet in self._all()
            if timesheet.is_approved
            and not timesheet.is_processed
            and (modified_since is None or _changed_at(timesheet) >= modified_since)
        ]
        for start in range(0, len(found) + 1, page_size):
            self.reads += 1
            page = found[start : start + page_size]
            if page:
                yield page

    def mark_processed(self, timesheet_id: int) -> bool:
        timesheet = self._existing(timesheet_id)
        if timesheet.is_processed:
            return False
        if not timesheet.is_approved:
            raise TimesheetNotApprovedError(
                f"timesheet {timesheet_id} cannot be marked processed: its status is {timesheet.status!r}, "
                f"not one of {', '.join(APPROVED_STATUSES)}",
                timesheet_id=timesheet_id,
                timesheet_status=timesheet.status,
                method="PUT",
                path=f"timesheets/{timesheet_id}/process",
                status=400,
            )
        self.rows[timesheet_id]["processed_at"] = self._stamp()
        self.marked.append(timesheet_id)
        return True

    def _stamp(self) -> str:
        moment = self._clock() if self._clock else _EPOCH + timedelta(seconds=next(self._changes))
        return moment.isoformat(timespec="milliseconds")


def _changed_at(timesheet: Timesheet) -> datetime:
    assert timesheet.modified_time is not None
    return datetime.fromisoformat(timesheet.modified_time)


class InMemoryAssignarForPush:
    """An Assignar account as the push (and the approval watcher) sees it: its timesheets, and the calls made."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.timesheets = InMemoryTimesheets(clock)

    @property
    def calls(self) -> InMemoryCalls:
        return InMemoryCalls(self.timesheets)


@dataclass(frozen=True)
class InMemoryCalls:
    timesheets: InMemoryTimesheets

    @property
    def total(self) -> int:
        return self.timesheets.reads + len(self.timesheets.marked)
