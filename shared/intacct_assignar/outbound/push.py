"""Posting approved Assignar timesheets to Intacct exactly once.

Four guards work together, so that neither retries, duplicate webhooks, crashes nor lost answers can double
or drop time:
1. The ledger: one entry per timesheet, claimed atomically with a lease before anything is written. A second
   delivery finds it claimed (and retries later) or posted (and only makes sure Assignar shows it processed).
   A read of the timesheet older than one already claimed never wins (Assignar's modified_time orders them).
2. Intent before every write, fenced: the claim saves what it is about to send (document, revision,
   generation) and extends its lease in one conditional write; a holder whose lease was taken over stops there.
3. Intacct's own duplicate check: every write carries a function control ID made of the timesheet, the
   document, its content revision and the write's generation, sent with `uniqueid=true`.
4. A lookup before any re-send: after a timeout, an HTTP 524 or a crash, Intacct is searched for the document
   by the marker it carries, in a field the create wrote under the same name and `lookup` lists (never a field
   only guessed to hold it). A write not found is re-sent only after Intacct's in-doubt window, since Intacct
   may still be running it, and its duplicate check covers only writes that completed; where no such field can
   be searched, a person looks instead.

A posted document is changed only while Intacct's reference says it may be (a TIMESHEET in Draft or Submitted),
read in the same request that finds it; Intacct refusing the update is the second guard, not the first.

What cannot be posted (unknown employee, inactive project, Intacct's refusal) is parked in the ledger with a
reason a person can act on; it is retried only when someone asks (`retry_parked`) or the timesheet is
re-approved with different content.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from ..assignar import AssignarClient
from ..assignar.errors import NotFoundError, TimesheetNotApprovedError
from ..assignar.models import Timesheet
from ..catalog import FieldCatalog, definition_scope
from ..config import TenantConfig, Timesheets
from ..consumer import Parking
from ..intacct import (
    IntacctBusinessError,
    IntacctClient,
    IntacctDuplicateControlIdError,
    IntacctError,
    IntacctOutcomeUnknownError,
    IntacctRateLimitError,
    IntacctTransientError,
    QuerySpec,
)
from ..intacct.filters import MAX_IN_VALUES, and_, eq, in_, like, or_
from ..outcomes import RetryLater
from ..state import StateStore
from .documents import (
    Document,
    References,
    TimesheetPosting,
    UnpostableError,
    build_posting,
    controlid,
    labelled,
    marker,
    revision_of,
)
from .messages import PushMessage

logger = logging.getLogger(__name__)

# The defaults of `timesheets.lease_seconds` and `timesheets.doubt_window_seconds` (config.py says why).
DEFAULT_LEASE_S = 300.0
DOUBT_WINDOW_S = 15 * 60.0
# The TIMESHEET states Intacct lets an update change (reference §5.1: created as Draft or Submitted; approval
# needs Submitted entries); any other (Approved, Partially Approved, Declined…) belongs to the approvers.
UPDATABLE_TIMESHEET_STATES = frozenset({"Draft", "Submitted"})

Outcome = Literal["posted", "already_posted", "parked", "skipped", "failed", "dry_run"]


class TimesheetBusyError(RetryLater):
    """Another worker holds this timesheet's lease: try again after it finishes (or its lease runs out)."""


class PostingIncompleteError(RetryLater):
    """Intacct's answer was lost and the document cannot be found yet: try again later; the lease protects it."""


class _CannotLook(Exception):
    """Intacct offers no field this document's marker can be searched in: only a person can tell if it is there."""


class _Refused(Exception):
    """Intacct refused, or a person must change something first; carries what is in Intacct so far."""

    def __init__(self, reason: str, keys: Mapping[str, str]) -> None:
        self.reason = reason
        self.keys = dict(keys)
        super().__init__(reason)


@dataclass
class PushResult:
    timesheet_id: int
    outcome: Outcome
    reason: str | None = None
    intacct_keys: dict[str, str] = field(default_factory=dict)
    # Dry runs: the documents that would be written, and the reference problems found.
    documents: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    # Parked by an earlier delivery (a duplicate webhook, the sweep): already reported, not to report again.
    earlier: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"timesheet_id": self.timesheet_id, "outcome": self.outcome}
        if self.reason:
            data["reason"] = self.reason
        if self.intacct_keys:
            data["intacct"] = self.intacct_keys
        if self.documents is not None:
            data["documents"] = self.documents
        if self.problems:
            data["problems"] = self.problems
        if self.earlier:
            data["earlier"] = True
        return data


# --- checking references ------------------------------------------------------------------------------


class ReferenceChecker:
    """Are the employee, projects, tasks, items and vendor there and active in Intacct? One request per check.

    Records found active are remembered for `ttl_s`, so a batch of timesheets for one crew and job reads each
    once; problems are never remembered, so a fix in Intacct is seen at the next attempt.
    """

    def __init__(
        self, intacct: IntacctClient, *, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._intacct = intacct
        self._ttl_s = ttl_s
        self._clock = clock
        self._active: dict[tuple[str, str], float] = {}

    def problems(self, refs: References) -> list[str]:
        """Readable reasons why these documents cannot be posted as they stand; empty when all is well."""
        statuses = self._statuses([refs])
        problems: list[str] = []
        for obj, keys in _wanted(refs).items():
            for key in keys:
                status = statuses.get((obj, key), "active")
                if status is None:
                    problems.append(f"{_LABELS[obj]} {_describe(refs, obj, key)} does not exist in Intacct")
                elif status.lower() != "active":
                    problems.append(f"{_LABELS[obj]} {_describe(refs, obj, key)} is {status} in Intacct")
        return problems

    def warm(self, batch: Sequence[References]) -> None:
        """Check a batch's references together (one request), so each timesheet's own check is answered here."""
        self._statuses(batch)

    def _statuses(self, batch: Sequence[References]) -> dict[tuple[str, str], str | None]:
        """STATUS of every reference not known active (None: not in Intacct), from one request."""
        now = self._clock()
        unknown: dict[str, set[str]] = {}
        for refs in batch:
            for obj, keys in _wanted(refs).items():
                fresh = {key for key in keys if self._active.get((obj, key), 0.0) <= now}
                unknown.setdefault(obj, set()).update(fresh)
        specs = [
            (obj, chunk, _reference_query(obj, chunk))
            for obj, keys in unknown.items()
            for chunk in _chunks(sorted(keys), MAX_IN_VALUES)
        ]
        if not specs:
            return {}
        statuses: dict[tuple[str, str], str | None] = {}
        for (obj, keys, _), result in zip(specs, self._intacct.query_batch([s for _, _, s in specs]), strict=True):
            found = {_reference_key(obj, record): record.get("STATUS") for record in result.raise_for_status().records}
            for key in keys:
                status = found.get(key)
                statuses[(obj, key)] = None if status is None else str(status)
                if status is not None and str(status).lower() == "active":
                    self._active[(obj, key)] = now + self._ttl_s
        return statuses


def _wanted(refs: References) -> dict[str, list[str]]:
    return {
        "EMPLOYEE": [refs.employee_id],
        "PROJECT": sorted(refs.projects),
        "TASK": [f"{project}/{task}" for project, task in sorted(refs.tasks)],
        "ITEM": sorted(refs.items),
        "VENDOR": [refs.vendor] if refs.vendor else [],
    }


def _chunks(keys: list[str], size: int) -> list[list[str]]:
    return [keys[start : start + size] for start in range(0, len(keys), size)]


_LABELS = {"EMPLOYEE": "employee", "PROJECT": "project", "TASK": "task", "ITEM": "item", "VENDOR": "vendor"}
_ID_FIELD = {"EMPLOYEE": "EMPLOYEEID", "PROJECT": "PROJECTID", "ITEM": "ITEMID", "VENDOR": "VENDORID"}


def _reference_query(obj: str, keys: list[str]) -> QuerySpec:
    if obj == "TASK":
        pairs = [key.split("/", 1) for key in keys]
        condition = or_(*(and_(eq("PROJECTID", project), eq("TASKID", task)) for project, task in pairs))
        return QuerySpec("TASK", ("PROJECTID", "TASKID", "STATUS"), filter=condition)
    id_field = _ID_FIELD[obj]
    return QuerySpec(obj, (id_field, "STATUS"), filter=in_(id_field, keys))


def _reference_key(obj: str, record: Mapping[str, Any]) -> str:
    if obj == "TASK":
        return f"{record.get('PROJECTID')}/{record.get('TASKID')}"
    return str(record.get(_ID_FIELD[obj]))


def _describe(refs: References, obj: str, key: str) -> str:
    if obj == "TASK":
        project, task = key.split("/", 1)
        return f"{refs.describe(task)} of project {project}"
    if obj == "VENDOR":
        return f"{key} (timesheets.equipment_vendor)"
    return refs.describe(key)


# --- writing documents --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    key: str
    revision: str
    state: str | None = None  # as Intacct names it (TIMESHEET: "Submitted", "Approved"…), when read


class _DocumentKind(Protocol):
    name: str  # the ledger key ("timesheet", "equipment")
    what: str  # the time it carries, in people's words ("labor", "equipment")
    label: str  # the Intacct document, in people's words

    def find(self, timesheet_id: int) -> Found | None: ...
    def recheck(self, timesheet_id: int, known: Found) -> Found | None: ...
    def describe(self, document: Document) -> str: ...
    def create(self, timesheet_id: int, document: Document, generation: int) -> Found: ...
    def update(self, timesheet_id: int, key: str, document: Document, generation: int) -> Found: ...
    def cannot_update(self, found: Found) -> str | None: ...
    def refused(self, action: str, key: str | None, details: str) -> str: ...


class _LaborTimesheets:
    name = "timesheet"
    what = "labor"
    label = "Intacct timesheet"

    def __init__(self, intacct: IntacctClient) -> None:
        self._intacct = intacct

    def find(self, timesheet_id: int) -> Found | None:
        # STATE comes with it: whether the timesheet may still be changed is read in the same request.
        result = self._intacct.query(
            "TIMESHEET",
            ("RECORDNO", "DESCRIPTION", "STATE"),
            filter=like("DESCRIPTION", marker(timesheet_id) + "%"),
            orderby=(("RECORDNO", True),),
        )
        return _only_found(timesheet_id, result.records, "RECORDNO", "DESCRIPTION", self.label, state_field="STATE")

    def describe(self, document: Document) -> str:
        fields = document.fields
        return f"a timesheet of employee {fields.get('EMPLOYEEID')} for the week of {fields.get('BEGINDATE')}"

    def recheck(self, timesheet_id: int, known: Found) -> Found | None:
        # By its key, never its description (a person may edit it); STATE in the same request.
        result = self._intacct.query(
            "TIMESHEET", ("RECORDNO", "DESCRIPTION", "STATE"), filter=eq("RECORDNO", known.key)
        )
        for record in result.records:
            revision = revision_of(timesheet_id, _text(record.get("DESCRIPTION")))
            return Found(known.key, revision or known.revision, _text(record.get("STATE")))
        return None

    def create(self, timesheet_id: int, document: Document, generation: int) -> Found:
        written = self._intacct.create(
            "TIMESHEET", document.fields, controlid=controlid(timesheet_id, "labor", document.revision, generation)
        )
        if written.recordno is None:
            raise PostingIncompleteError(f"Intacct created timesheet {timesheet_id}'s labor but sent no RECORDNO")
        return Found(written.recordno, document.revision)

    def update(self, timesheet_id: int, key: str, document: Document, generation: int) -> Found:
        # An update replaces the timesheet and all its entries (reference §5.1); sent only after `cannot_update`.
        self._intacct.update(
            "TIMESHEET",
            {"RECORDNO": key, **document.fields},
            controlid=controlid(timesheet_id, "labor-update", document.revision, generation),
        )
        return Found(key, document.revision)

    def cannot_update(self, found: Found) -> str | None:
        if found.state in UPDATABLE_TIMESHEET_STATES:
            return None
        where = f"is {found.state} in Intacct" if found.state else "is in a state Intacct did not say"
        return (
            f"it was re-approved with changed labor time, but Intacct timesheet {found.key} {where}, and only Draft "
            "or Submitted timesheets may be changed; correct that timesheet in Intacct by hand (or reverse its "
            "approval there, and replay this timesheet to update it)"
        )

    def refused(self, action: str, key: str | None, details: str) -> str:
        if action == "update":
            return (
                f"it was re-approved with changed labor time, but Intacct timesheet {key} could not be updated "
                f"({details}); correct that timesheet in Intacct by hand (or delete it, and replay this timesheet "
                "to post it again)"
            )
        return f"Intacct refused the timesheet: {details}"


# Where a purchasing transaction may keep the marker, in order of preference: fields named as the create element
# that wrote it (`message`, `referenceno`, the lines' `memo`). Which field holds `<referenceno>` is not documented
# (reference §5.3; PONUMBER is a guess), nor is it that MESSAGE or MEMO hold the elements of their names, so a
# field is searched only once a create read back showed it holding the marker (`FieldCatalog.record_proof`).
EQUIPMENT_MARK_FIELDS = (("PODOCUMENT", "MESSAGE"), ("PODOCUMENT", "REFERENCENO"), ("PODOCUMENTENTRY", "MEMO"))


class _EquipmentTransactions:
    name = "equipment"
    what = "equipment"
    label = "Intacct purchasing transaction"

    def __init__(self, intacct: IntacctClient, transaction: str, catalog: FieldCatalog) -> None:
        self._intacct = intacct
        self._transaction = transaction
        self._catalog = catalog

    def find(self, timesheet_id: int) -> Found | None:
        for obj, text_field in EQUIPMENT_MARK_FIELDS:
            if self._catalog.holds(obj, text_field):
                spec, key_field = self._search(obj, text_field, timesheet_id)
                result = self._intacct.query(spec.object_name, spec.select, filter=spec.filter, docparid=spec.docparid)
                return _only_found(timesheet_id, result.records, key_field, text_field, self.label)
        fields = ", ".join(f"{obj}.{name}" for obj, name in EQUIPMENT_MARK_FIELDS)
        raise _CannotLook(
            f"none of the fields a purchasing transaction could carry its marker in ({fields}) has been seen to "
            "hold it in this company (each is checked after a transaction is created)"
        )

    def recheck(self, timesheet_id: int, known: Found) -> Found | None:
        # By its key, never its texts (an accountant may edit a message or a memo), and in any transaction
        # definition: the tenant may have changed `equipment_transaction` since (a DOCID names its own).
        key_field = "RECORDNO" if known.key.isdigit() else "DOCID"
        result = self._intacct.query("PODOCUMENT", (key_field,), filter=eq(key_field, known.key))
        return known if result.records else None

    def create(self, timesheet_id: int, document: Document, generation: int) -> Found:
        written = self._intacct.legacy_create(
            "create_potransaction",
            document.fields,
            controlid=controlid(timesheet_id, "equipment", document.revision, generation),
        )
        key = written.key or written.recordno
        if key is None:
            raise PostingIncompleteError(f"Intacct created timesheet {timesheet_id}'s equipment usage but sent no key")
        return Found(key, document.revision)

    def describe(self, document: Document) -> str:
        """How a person finds the transaction in Intacct without its marker: definition, vendor, date, lines."""
        fields = document.fields
        created = fields.get("datecreated", {})
        items = fields.get("potransitems", {}).get("potransitem", [])
        lines = ", ".join(f"{item.get('itemid')} {item.get('quantity')}" for item in items)
        return (
            f"a {fields.get('transactiontype')} transaction for vendor {fields.get('vendorid')} dated "
            f"{created.get('year')}-{created.get('month')}-{created.get('day')} with {lines}"
        )

    def prove_if_due(self, timesheet_id: int, found: Found) -> None:
        """Which fields hold the marker of a transaction this timesheet posted: one request, at most daily.

        Run after the posting is recorded, so its cost or failure touches nothing of it; a field not proven is
        not searched (a lost answer is then handed to a person rather than risk a second transaction)."""
        try:
            self._prove(timesheet_id, found)
        except Exception:
            logger.warning("purchasing fields not checked", exc_info=True)

    def _search(self, obj: str, text_field: str, timesheet_id: int) -> tuple[QuerySpec, str]:
        """The query finding this timesheet's documents by `text_field`, and the field naming the document."""
        if obj == "PODOCUMENT":
            key_field = "DOCID" if self._catalog.offers(obj, "DOCID") else "RECORDNO"
        else:
            # A line names its document by DOCHDRNO, the document's RECORDNO (reference: purchasing lines).
            key_field = "DOCHDRID" if self._catalog.offers(obj, "DOCHDRID") else "DOCHDRNO"
        anywhere = like(text_field, f"%{marker(timesheet_id)}%")
        return QuerySpec(obj, (key_field, text_field), filter=anywhere, docparid=self._transaction), key_field

    def _prove(self, timesheet_id: int, found: Found) -> None:
        due = []
        for obj, text_field in EQUIPMENT_MARK_FIELDS:
            if not self._catalog.proof_due(obj, text_field):
                continue
            try:
                offered = self._catalog.offers(obj, text_field)
            except IntacctError as exc:
                logger.warning("purchasing fields not checked", extra={"error": str(exc)})
                return
            if offered:
                due.append((obj, text_field))
            else:
                self._catalog.record_proof(obj, text_field, holds=False)
        if not due:
            return
        searches = [self._search(obj, text_field, timesheet_id) for obj, text_field in due]
        try:
            results = self._intacct.query_batch([spec for spec, _ in searches])
        except IntacctError as exc:
            logger.warning("purchasing fields not checked", extra={"error": str(exc)})
            return
        for (obj, text_field), (_, key_field), result in zip(due, searches, results, strict=True):
            try:
                records = result.raise_for_status().records
            except IntacctError:
                # Refused though listed: not searchable for now; what was seen before stands.
                self._catalog.refuse(obj, text_field)
                continue
            same_form = found.key.isdigit() == (key_field in ("RECORDNO", "DOCHDRNO"))
            holds = any(
                revision_of(timesheet_id, _text(record.get(text_field))) == found.revision
                and (not same_form or str(record.get(key_field)) == found.key)
                for record in records
            )
            self._catalog.record_proof(obj, text_field, holds=holds)

    def update(self, timesheet_id: int, key: str, document: Document, generation: int) -> Found:
        raise AssertionError("purchasing transactions are never updated (see cannot_update)")

    def cannot_update(self, found: Found) -> str | None:
        # Purchasing transactions move on (received, converted, invoiced) in the accountants' hands; rewriting
        # one from here could undo their work, so a change is handed to a person.
        return (
            f"it was re-approved with changed equipment time, but purchasing transaction {found.key} already holds "
            "the earlier hours; delete that transaction in Intacct and replay this timesheet to post the new hours, "
            "or correct the transaction by hand"
        )

    def refused(self, action: str, key: str | None, details: str) -> str:
        return f"Intacct refused the equipment purchasing transaction: {details}"


def _only_found(
    timesheet_id: int,
    records: list[dict[str, Any]],
    key_field: str,
    text_field: str,
    label: str,
    *,
    state_field: str | None = None,
) -> Found | None:
    """Our document for this timesheet; two of them means time is doubled in Intacct, which a person must see.

    Several records with one key (the lines of one purchasing transaction) are one document."""
    by_key = {
        str(record[key_field]): Found(
            str(record[key_field]), revision, _text(record.get(state_field)) if state_field else None
        )
        for record in records
        if (revision := revision_of(timesheet_id, _text(record.get(text_field)))) is not None
        and record.get(key_field) not in (None, "")
    }
    found = list(by_key.values())
    if len(found) > 1:
        raise _Refused(
            f"Intacct holds {len(found)} {label}s for this timesheet ({', '.join(f.key for f in found)}); delete "
            "all but one in Intacct, then replay this timesheet",
            {},
        )
    return found[0] if found else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _details(error: IntacctBusinessError) -> str:
    return "; ".join(str(detail) for detail in error.details) or str(error)


@dataclass
class _Pending:
    """A write sent (or about to be) whose answer is not known: what, which generation, since when."""

    revision: str
    generation: int
    action: str
    since: datetime

    def encode(self) -> str:
        return f"{self.revision}|{self.generation}|{self.action}|{self.since.isoformat()}"

    @classmethod
    def decode(cls, text: str) -> _Pending:
        revision, generation, action, since = text.split("|", 3)
        return cls(revision, int(generation), action, datetime.fromisoformat(since))


@dataclass
class _Step:
    """What one document needs: nothing, a create, an update of `known`, or a person (`refusal`)."""

    kind: _DocumentKind
    document: Document | None
    action: Literal["none", "create", "update"]
    known: Found | None = None
    refusal: str | None = None


@dataclass
class _Claim:
    """The claim being worked on: its number fences every ledger write, `keys` is its progress."""

    timesheet_id: int
    attempt: int
    keys: dict[str, str]


# --- the service --------------------------------------------------------------------------------------


class PushService:
    """Posts one approved timesheet at a time; safe to run in many workers at once against one ledger."""

    def __init__(
        self,
        assignar: AssignarClient,
        intacct: IntacctClient,
        state: StateStore,
        config: TenantConfig,
        *,
        lease_s: float | None = None,
        doubt_window_s: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        references: ReferenceChecker | None = None,
        parking: Parking | None = None,
        catalog: FieldCatalog | None = None,
    ) -> None:
        self.assignar = assignar
        self.intacct = intacct
        self.state = state
        self.config = config
        # The tenant's settings (timesheets.lease_seconds, doubt_window_seconds) unless a caller overrides them.
        self.lease_s = config.timesheets.lease_seconds if lease_s is None else lease_s
        self.doubt_window = timedelta(
            seconds=config.timesheets.doubt_window_seconds if doubt_window_s is None else doubt_window_s
        )
        self._clock = clock
        self.references = references or ReferenceChecker(intacct)
        # Where a parked timesheet is reported (the parked queue in AWS), before the ledger records it parked.
        self.parking = parking
        self._prefetched: dict[int, Timesheet] = {}
        self._labor = _LaborTimesheets(intacct)
        # Asked only when a purchasing transaction must be looked for (a lost answer, a re-approval).
        catalog = catalog or FieldCatalog(intacct, state, scope=definition_scope(intacct.settings), clock=clock)
        self._equipment = _EquipmentTransactions(intacct, config.timesheets.equipment_transaction, catalog)

    def prefetch(self, timesheet_ids: Sequence[int]) -> None:
        """Read a batch's timesheets in one Assignar call and check their Intacct references in one request.

        Only saves calls: `post` uses a prefetched timesheet once (it is seconds old; an older read never wins
        a claim over a newer one) and reads any other itself.
        """
        # Each batch starts clean: a timesheet left from an earlier invocation (one cut short) may be stale.
        self._prefetched = {}
        ids = sorted(set(timesheet_ids))
        if len(ids) < 2:
            return
        self._prefetched = self.assignar.timesheets.get_many(ids)
        postings = [self._plan(t)[0] for t in self._prefetched.values() if t.is_approved and not t.is_processed]
        self.references.warm([posting.references for posting in postings if posting is not None])

    def post(
        self, timesheet_id: int, *, retry_parked: bool = False, dry_run: bool = False, confirmed_absent: bool = False
    ) -> PushResult:
        """Post the timesheet if it is approved and not yet in Intacct.

        `confirmed_absent`: a person looked in Intacct for a write whose answer was lost and which Intacct offers
        no field to search for (the parked reason asks them to), and found none. Only a person's word: never set
        by a replay of parked work (`retry_parked`), which anyone may re-drive in bulk.

        Raises `TimesheetBusyError`, `PostingIncompleteError` or `LeaseLostError` (and client errors for
        outages) when it must be tried again later; everything a person must look at comes back as a "parked"
        result instead.
        """
        timesheet = self._prefetched.pop(timesheet_id, None)
        if timesheet is None:
            try:
                timesheet = self.assignar.timesheets.get(timesheet_id)
            except NotFoundError:
                return PushResult(timesheet_id, "skipped", reason="Assignar has no such timesheet")
        if not timesheet.is_approved:
            return PushResult(timesheet_id, "skipped", reason=f"not approved in Assignar (status {timesheet.status})")
        posting, unpostable = self._plan(timesheet)
        if dry_run:
            return self._dry_run(timesheet, posting, unpostable)
        if timesheet.is_processed:
            entry = self.state.get_ledger(timesheet_id)
            if entry is not None and entry.state == "posted":
                return PushResult(timesheet_id, "already_posted", intacct_keys=_public(entry.intacct_keys))
            return PushResult(
                timesheet_id, "skipped", reason="already marked processed in Assignar, not by this integration"
            )
        content_hash = ledger_hash(timesheet, posting, unpostable)
        entry = self.state.claim_timesheet(
            timesheet_id,
            content_hash,
            self.lease_s,
            self._clock(),
            retry_parked=retry_parked,
            source_version=timesheet.modified_time,
        )
        if entry is None:
            return self._not_claimed(timesheet_id)
        claim = _Claim(timesheet_id, entry.attempts, dict(entry.intacct_keys))
        if posting is None:
            assert unpostable is not None
            reason = unpostable.reason
            if _public(claim.keys):
                reason += f"; Intacct still holds its earlier hours ({_describe_keys(claim.keys)})"
            return self._park(claim, content_hash, reason)
        try:
            self._write(claim, posting, recovering=entry.attempts > 1, confirmed_absent=confirmed_absent)
        except _Refused as refused:
            return self._park(claim, content_hash, refused.reason)
        self.state.record_posted(timesheet_id, content_hash, claim.keys, self._clock(), attempt=claim.attempt)
        logger.info("timesheet posted to Intacct", extra={"timesheet_id": timesheet_id, "intacct": _public(claim.keys)})
        self._mark_processed(timesheet_id)
        if "equipment" in claim.keys:
            posted = Found(claim.keys["equipment"], claim.keys.get("equipment_rev", ""))
            self._equipment.prove_if_due(timesheet_id, posted)
        return PushResult(timesheet_id, "posted", intacct_keys=_public(claim.keys))

    # --- steps ------------------------------------------------------------------------------------------

    def _plan(self, timesheet: Timesheet) -> tuple[TimesheetPosting | None, UnpostableError | None]:
        return plan(timesheet, self.config.timesheets, self.intacct.settings.entity_id)

    def _not_claimed(self, timesheet_id: int) -> PushResult:
        entry = self.state.get_ledger(timesheet_id)
        if entry is None or entry.state == "claimed":
            raise TimesheetBusyError(f"timesheet {timesheet_id} is being posted by another worker")
        if entry.state == "posted":
            # Posted, but Assignar may not show it processed yet (a crash came between): finish that step.
            self._mark_processed(timesheet_id)
            return PushResult(timesheet_id, "already_posted", intacct_keys=_public(entry.intacct_keys))
        return PushResult(
            timesheet_id, "parked", reason=entry.reason, intacct_keys=_public(entry.intacct_keys), earlier=True
        )

    def _write(
        self, claim: _Claim, posting: TimesheetPosting, *, recovering: bool, confirmed_absent: bool = False
    ) -> None:
        mode = self.config.timesheets.equipment_mode
        kinds: list[tuple[_DocumentKind, Document | None]] = [(self._labor, posting.labor)]
        if mode == "purchasing" or "equipment" in claim.keys or "equipment_pending" in claim.keys:
            kinds.append((self._equipment, posting.equipment if mode == "purchasing" else None))
        # Writes whose answer an earlier attempt lost are settled first: in Intacct, or surely not.
        for kind, document in kinds:
            self._settle_pending(claim, kind, document, confirmed_absent=confirmed_absent)
        steps = [self._step(claim, kind, document, recovering) for kind, document in kinds]
        # Every document is checked before any is written, so a refusal never leaves half a change behind
        # (labor updated, equipment refused).
        refusals = [step.refusal for step in steps if step.refusal]
        if refusals:
            raise _Refused("; ".join(refusals), claim.keys)
        if all(step.action == "none" for step in steps):
            return
        problems = self.references.problems(posting.references)
        if problems:
            raise _Refused("; ".join(problems), claim.keys)
        for step in steps:
            if step.action != "none":
                assert step.document is not None
                self._send(claim, step.kind, step.action, step.document, step.known)

    def _settle_pending(
        self, claim: _Claim, kind: _DocumentKind, document: Document | None, *, confirmed_absent: bool
    ) -> None:
        text = claim.keys.get(f"{kind.name}_pending")
        if text is None:
            return
        pending = _Pending.decode(text)
        settles_at = pending.since + self.doubt_window
        try:
            found = kind.find(claim.timesheet_id)
        except _CannotLook as cannot:
            if not confirmed_absent or self._clock() < settles_at:
                reason = self._look_for_me(claim, kind, pending, str(cannot), document)
                raise _Refused(reason, claim.keys) from None
            # A person looked, as the reason asked, and said it is not there (`--not-in-intacct`): send it anew.
            del claim.keys[f"{kind.name}_pending"]
            return
        if found is not None and found.revision == pending.revision:
            _adopt(claim, kind, found)
            return
        if self._clock() < settles_at:
            # Intacct may still be running it (reference §6.1: up to 15 minutes after the caller gave up), and
            # a second send would not count as a repeat of one that has not completed. Wait, then look again.
            raise PostingIncompleteError(
                f"timesheet {claim.timesheet_id}: Intacct's answer to the {kind.what} {pending.action} was lost; "
                f"it is looked for again, and re-sent only if still absent, after {settles_at.isoformat()}"
            )
        # Long enough: it did not happen. The next write uses a new generation, so a new control ID.
        del claim.keys[f"{kind.name}_pending"]

    def _look_for_me(
        self, claim: _Claim, kind: _DocumentKind, pending: _Pending, why: str, document: Document | None
    ) -> str:
        """The reason a person reads when Intacct cannot be searched for a write whose answer was lost.

        It names the document by what Intacct shows of it (its texts may hold no marker in this company)."""
        label = labelled(claim.timesheet_id, pending.revision)
        what = kind.describe(document) if document is not None and document.revision == pending.revision else None
        after = (pending.since + self.doubt_window).isoformat(timespec="seconds")
        return (
            f"Intacct's answer to its {kind.what} {pending.action} was lost, and it cannot be looked for: {why}; "
            f"look in Intacct for {what or 'its ' + kind.label[len('Intacct ') :]} (its message or line memos "
            f"may hold {label!r}): if there is one, the time is posted (leave this parked); if there is none "
            f"after {after}, run `intacct-assignar push-timesheets --timesheet-id {claim.timesheet_id} "
            "--not-in-intacct` to send it again (a replay alone never re-sends it)"
        )

    def _step(self, claim: _Claim, kind: _DocumentKind, document: Document | None, recovering: bool) -> _Step:
        known = (
            Found(claim.keys[kind.name], claim.keys.get(f"{kind.name}_rev", "")) if kind.name in claim.keys else None
        )
        if known is None and recovering:
            # The intent saved before every send says nothing was sent; a look is only belt and braces.
            known = self._find_if_possible(claim, kind)
        elif known is not None and (document is None or known.revision != document.revision):
            # About to change or refuse over a document: is it still there (a person may have deleted it, as a
            # reason may ask), and may it still be changed? Read by its key: texts a person edits do not matter.
            known = kind.recheck(claim.timesheet_id, known)
            if known is None:
                _forget(claim, kind)
        if known is not None:
            _adopt(claim, kind, known)
        if document is None:
            if known is None:
                return _Step(kind, None, "none")
            return _Step(
                kind,
                None,
                "none",
                refusal=f"it no longer has {kind.what} time (or no longer posts it this way), but {kind.label} "
                f"{known.key} still holds the earlier hours; delete them in Intacct, then replay this timesheet",
            )
        if known is None:
            return _Step(kind, document, "create")
        if known.revision == document.revision:
            return _Step(kind, document, "none", known)
        blocked = kind.cannot_update(known)
        if blocked:
            return _Step(kind, document, "none", known, refusal=blocked)
        return _Step(kind, document, "update", known)

    def _send(self, claim: _Claim, kind: _DocumentKind, action: str, document: Document, known: Found | None) -> None:
        generation = int(claim.keys.get(f"{kind.name}_gen", "0")) + 1
        claim.keys[f"{kind.name}_gen"] = str(generation)
        claim.keys[f"{kind.name}_pending"] = _Pending(document.revision, generation, action, self._clock()).encode()
        # Saved before sending: a crash from here on leaves the intent where the next attempt looks. Also the
        # fence: a holder whose lease was taken over stops here, before writing anything.
        self.state.renew_claim(claim.timesheet_id, claim.attempt, claim.keys, self.lease_s, self._clock())
        try:
            if action == "create":
                found = kind.create(claim.timesheet_id, document, generation)
            else:
                assert known is not None
                found = kind.update(claim.timesheet_id, known.key, document, generation)
        except (IntacctDuplicateControlIdError, IntacctOutcomeUnknownError):
            # A repeat of this very write (it ran), or an answer lost (it may have run): look, never re-send now.
            found = self._look_after(claim, kind, document)
        except IntacctBusinessError as refused:
            # Look before calling it a refusal: a repeat refused in words we do not recognise ran all the same.
            try:
                found = self._look_after(claim, kind, document)
            except PostingIncompleteError:
                del claim.keys[f"{kind.name}_pending"]  # refused: nothing was written
                raise _Refused(
                    kind.refused(action, known.key if known else None, _details(refused)), claim.keys
                ) from refused
        except (IntacctRateLimitError, IntacctTransientError):
            # Nothing reached Intacct (or it ran nothing): no doubt to wait out.
            del claim.keys[f"{kind.name}_pending"]
            self.state.renew_claim(claim.timesheet_id, claim.attempt, claim.keys, self.lease_s, self._clock())
            raise
        del claim.keys[f"{kind.name}_pending"]
        _adopt(claim, kind, found)
        # Saved at once: a crash from here on finds the document in the ledger, with no lookup (none may be
        # possible yet for a purchasing transaction, before its fields are proven).
        self.state.renew_claim(claim.timesheet_id, claim.attempt, claim.keys, self.lease_s, self._clock())

    def _find_if_possible(self, claim: _Claim, kind: _DocumentKind) -> Found | None:
        try:
            return kind.find(claim.timesheet_id)
        except _CannotLook:
            return None

    def _look_after(self, claim: _Claim, kind: _DocumentKind, document: Document) -> Found:
        try:
            found = kind.find(claim.timesheet_id)
        except _CannotLook:
            # Left pending: the next attempt parks it, asking a person to look.
            raise PostingIncompleteError(
                f"timesheet {claim.timesheet_id}: Intacct's answer to the {kind.what} write was lost and this "
                "company's Intacct offers no field to look for it by"
            ) from None
        if found is None or found.revision != document.revision:
            raise PostingIncompleteError(
                f"timesheet {claim.timesheet_id}: Intacct's answer to the {kind.what} write was lost and the result "
                "is not visible yet; it is looked for again before anything is re-sent"
            )
        return found

    def _park(self, claim: _Claim, content_hash: str, reason: str) -> PushResult:
        if self.parking is not None:
            # Reported before it is recorded: if the report fails, the ledger still shows the claim, and the
            # retry reports it again, rather than a parked entry nobody was told about.
            replay = PushMessage(timesheet_id=claim.timesheet_id, trigger="replay", retry_parked=True)
            self.parking.park(replay.to_body(), reason)
        self.state.record_parked(
            claim.timesheet_id, content_hash, reason, self._clock(), intacct_keys=claim.keys, attempt=claim.attempt
        )
        logger.warning("timesheet parked", extra={"timesheet_id": claim.timesheet_id, "reason": reason})
        return PushResult(claim.timesheet_id, "parked", reason=reason, intacct_keys=_public(claim.keys))

    def _mark_processed(self, timesheet_id: int) -> None:
        try:
            self.assignar.timesheets.mark_processed(timesheet_id)
        except TimesheetNotApprovedError as error:
            # Un-approved after posting: the time is in Intacct; a person decides what the change means.
            logger.warning(
                "posted timesheet is no longer approved in Assignar",
                extra={"timesheet_id": timesheet_id, "status": error.timesheet_status},
            )

    def _dry_run(
        self, timesheet: Timesheet, posting: TimesheetPosting | None, unpostable: UnpostableError | None
    ) -> PushResult:
        entry = self.state.get_ledger(timesheet.id)
        if posting is None:
            assert unpostable is not None
            return PushResult(timesheet.id, "dry_run", reason=f"would be parked: {unpostable.reason}")
        documents: dict[str, Any] = {}
        if posting.labor is not None:
            documents["TIMESHEET"] = posting.labor.fields
        if posting.equipment is not None and self.config.timesheets.equipment_mode == "purchasing":
            documents["create_potransaction"] = posting.equipment.fields
        already = entry is not None and entry.state == "posted" and entry.content_hash == posting.content_hash
        return PushResult(
            timesheet.id,
            "dry_run",
            reason="already posted with this content" if already or timesheet.is_processed else None,
            intacct_keys=_public(entry.intacct_keys) if entry else {},
            documents=documents,
            problems=self.references.problems(posting.references),
        )


def _adopt(claim: _Claim, kind: _DocumentKind, found: Found) -> None:
    claim.keys[kind.name] = found.key
    claim.keys[f"{kind.name}_rev"] = found.revision


def _forget(claim: _Claim, kind: _DocumentKind) -> None:
    claim.keys.pop(kind.name, None)
    claim.keys.pop(f"{kind.name}_rev", None)


_PRIVATE_SUFFIXES = ("_rev", "_gen", "_pending")


def _public(keys: Mapping[str, str]) -> dict[str, str]:
    """The Intacct keys people look for; revisions, generations and pending writes are ours."""
    return {name: value for name, value in keys.items() if not name.endswith(_PRIVATE_SUFFIXES)}


def _describe_keys(keys: Mapping[str, str]) -> str:
    names = {"timesheet": "timesheet", "equipment": "purchasing transaction"}
    return ", ".join(f"{names.get(name, name)} {value}" for name, value in _public(keys).items())


def plan(
    timesheet: Timesheet, settings: Timesheets, entity_id: str | None
) -> tuple[TimesheetPosting | None, UnpostableError | None]:
    """The documents for a timesheet, or why it cannot be posted as it stands."""
    try:
        posting = build_posting(timesheet, settings, entity_id=entity_id)
    except UnpostableError as error:
        return None, error
    except ValueError as error:  # a value Assignar sent that cannot be read (a malformed date)
        return None, UnpostableError(timesheet.id, f"it holds a value that cannot be read: {error}")
    if posting.is_empty:
        return None, UnpostableError(timesheet.id, "it has no labor or equipment time to post")
    return posting, None


def ledger_hash(timesheet: Timesheet, posting: TimesheetPosting | None, unpostable: UnpostableError | None) -> str:
    """What the ledger keys a timesheet's content by: its documents, or (unpostable) the approval it came from."""
    if posting is not None:
        return posting.content_hash
    # Unpostable as approved: re-approving it changed (modified_time moves) is what makes it worth another try.
    text = f"unpostable|{timesheet.id}|{timesheet.modified_time}|{unpostable.reason if unpostable else ''}"
    return hashlib.sha256(text.encode()).hexdigest()


def content_hash(timesheet: Timesheet, settings: Timesheets, entity_id: str | None) -> str:
    """The ledger's hash for this timesheet as it stands (what the sweep compares a parked entry with)."""
    return ledger_hash(timesheet, *plan(timesheet, settings, entity_id))
