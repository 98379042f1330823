"""Posting approved Assignar timesheets to Intacct exactly once.

Three guards work together, so that neither retries, duplicate webhooks, crashes nor lost answers can double
or drop time:
1. The ledger: one entry per timesheet, claimed atomically with a lease before anything is written. A second
   delivery finds it claimed (and retries later) or posted (and only makes sure Assignar shows it processed).
2. Intacct's own duplicate check: every write carries a function control ID made of the timesheet, the
   document and its content revision, sent with `uniqueid=true`.
3. A lookup before any re-send: after a timeout, an HTTP 524 or a crash (a claim taken over from a holder whose
   lease ran out), Intacct is searched for the documents by the marker in their description first.

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
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from ..assignar import AssignarClient
from ..assignar.errors import NotFoundError, TimesheetNotApprovedError
from ..assignar.models import Timesheet
from ..config import TenantConfig
from ..intacct import (
    IntacctBusinessError,
    IntacctClient,
    IntacctDuplicateControlIdError,
    IntacctOutcomeUnknownError,
    QuerySpec,
)
from ..intacct.filters import MAX_IN_VALUES, and_, eq, in_, like, or_
from ..state import LedgerEntry, StateStore
from .documents import (
    Document,
    References,
    TimesheetPosting,
    UnpostableError,
    build_posting,
    controlid,
    marker,
    revision_of,
)

logger = logging.getLogger(__name__)

# Longer than a push can run (the function's timeout), so a slow holder is never overtaken mid-write.
DEFAULT_LEASE_S = 300.0

Outcome = Literal["posted", "already_posted", "parked", "skipped", "failed", "dry_run"]


class TimesheetBusyError(RuntimeError):
    """Another worker holds this timesheet's lease: try again after it finishes (or its lease runs out)."""


class PostingIncompleteError(RuntimeError):
    """Intacct's answer was lost and the document cannot be found yet: try again later; the lease protects it."""


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


class _DocumentKind(Protocol):
    name: str  # the ledger key ("timesheet", "equipment")
    label: str  # how people call it

    def find(self, timesheet_id: int) -> Found | None: ...
    def create(self, timesheet_id: int, document: Document) -> Found: ...
    def update(self, timesheet_id: int, key: str, document: Document, keys: Mapping[str, str]) -> None: ...


class _LaborTimesheets:
    name = "timesheet"
    label = "Intacct timesheet"

    def __init__(self, intacct: IntacctClient) -> None:
        self._intacct = intacct

    def find(self, timesheet_id: int) -> Found | None:
        result = self._intacct.query(
            "TIMESHEET",
            ("RECORDNO", "DESCRIPTION"),
            filter=like("DESCRIPTION", marker(timesheet_id) + "%"),
            orderby=(("RECORDNO", True),),
        )
        return _first_found(timesheet_id, result.records, "RECORDNO", "DESCRIPTION")

    def create(self, timesheet_id: int, document: Document) -> Found:
        written = self._intacct.create(
            "TIMESHEET", document.fields, controlid=controlid(timesheet_id, "labor", document.revision)
        )
        if written.recordno is None:
            raise PostingIncompleteError(f"Intacct created timesheet {timesheet_id}'s labor but sent no RECORDNO")
        return Found(written.recordno, document.revision)

    def update(self, timesheet_id: int, key: str, document: Document, keys: Mapping[str, str]) -> None:
        # An update replaces the timesheet and all its entries; Intacct refuses it once the timesheet is approved.
        try:
            self._intacct.update(
                "TIMESHEET",
                {"RECORDNO": key, **document.fields},
                controlid=controlid(timesheet_id, "labor-update", document.revision),
            )
        except IntacctDuplicateControlIdError:
            return  # this very update already ran
        except IntacctBusinessError as refused:
            raise _Refused(
                f"it was re-approved with changed labor time, but Intacct timesheet {key} could not be updated "
                f"({_details(refused)}); correct that timesheet in Intacct by hand, or decline it there and replay",
                keys,
            ) from refused


class _EquipmentTransactions:
    name = "equipment"
    label = "Intacct purchasing transaction"

    def __init__(self, intacct: IntacctClient, transaction: str) -> None:
        self._intacct = intacct
        self._transaction = transaction

    def find(self, timesheet_id: int) -> Found | None:
        result = self._intacct.query(
            "PODOCUMENT",
            ("DOCID", "PONUMBER"),
            filter=like("PONUMBER", marker(timesheet_id) + "%"),
            docparid=self._transaction,
        )
        return _first_found(timesheet_id, result.records, "DOCID", "PONUMBER")

    def create(self, timesheet_id: int, document: Document) -> Found:
        written = self._intacct.legacy_create(
            "create_potransaction", document.fields, controlid=controlid(timesheet_id, "equipment", document.revision)
        )
        key = written.key or written.recordno
        if key is None:
            raise PostingIncompleteError(f"Intacct created timesheet {timesheet_id}'s equipment usage but sent no key")
        return Found(key, document.revision)

    def update(self, timesheet_id: int, key: str, document: Document, keys: Mapping[str, str]) -> None:
        # Purchasing transactions move on (received, converted, invoiced) in the accountants' hands; rewriting
        # one from here could undo their work, so a change is handed to a person.
        raise _Refused(
            f"it was re-approved with changed equipment time, but purchasing transaction {key} already holds the "
            "earlier hours; correct or delete that transaction in Intacct, then replay this timesheet",
            keys,
        )


def _first_found(timesheet_id: int, records: list[dict[str, Any]], key_field: str, text_field: str) -> Found | None:
    for record in records:
        revision = revision_of(timesheet_id, record.get(text_field))
        if revision is not None and record.get(key_field) is not None:
            return Found(str(record[key_field]), revision)
    return None


def _details(error: IntacctBusinessError) -> str:
    return "; ".join(str(detail) for detail in error.details) or str(error)


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
        lease_s: float = DEFAULT_LEASE_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        references: ReferenceChecker | None = None,
    ) -> None:
        self.assignar = assignar
        self.intacct = intacct
        self.state = state
        self.config = config
        self.lease_s = lease_s
        self._clock = clock
        self.references = references or ReferenceChecker(intacct)
        self._prefetched: dict[int, Timesheet] = {}
        self._labor = _LaborTimesheets(intacct)
        self._equipment = _EquipmentTransactions(intacct, config.timesheets.equipment_transaction)

    def prefetch(self, timesheet_ids: Sequence[int]) -> None:
        """Read a batch's timesheets in one Assignar call and check their Intacct references in one request.

        Only saves calls: `post` uses a prefetched timesheet once (it is seconds old) and reads any other itself.
        """
        ids = sorted(set(timesheet_ids))
        if len(ids) < 2:
            return
        self._prefetched = self.assignar.timesheets.get_many(ids)
        postings = [self._plan(t)[0] for t in self._prefetched.values() if t.is_approved and not t.is_processed]
        self.references.warm([posting.references for posting in postings if posting is not None])

    def post(self, timesheet_id: int, *, retry_parked: bool = False, dry_run: bool = False) -> PushResult:
        """Post the timesheet if it is approved and not yet in Intacct.

        Raises `TimesheetBusyError` or `PostingIncompleteError` (and client errors for outages) when it must be
        tried again later; everything a person must look at comes back as a "parked" result instead.
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
        content_hash = posting.content_hash if posting else _unpostable_hash(timesheet, unpostable)
        claim = self.state.claim_timesheet(
            timesheet_id, content_hash, self.lease_s, self._clock(), retry_parked=retry_parked
        )
        if claim is None:
            return self._not_claimed(timesheet_id)
        if posting is None:
            assert unpostable is not None
            return self._park(timesheet_id, content_hash, unpostable.reason, claim.intacct_keys)
        try:
            keys = self._write(claim, posting)
        except _Refused as refused:
            return self._park(timesheet_id, content_hash, refused.reason, refused.keys)
        self.state.record_posted(timesheet_id, content_hash, keys, self._clock())
        logger.info("timesheet posted to Intacct", extra={"timesheet_id": timesheet_id, "intacct": _public(keys)})
        self._mark_processed(timesheet_id)
        return PushResult(timesheet_id, "posted", intacct_keys=_public(keys))

    # --- steps ------------------------------------------------------------------------------------------

    def _plan(self, timesheet: Timesheet) -> tuple[TimesheetPosting | None, UnpostableError | None]:
        try:
            posting = build_posting(timesheet, self.config.timesheets, entity_id=self.intacct.settings.entity_id)
        except UnpostableError as error:
            return None, error
        if posting.is_empty:
            return None, UnpostableError(timesheet.id, "it has no labor or equipment time to post")
        return posting, None

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

    def _write(self, claim: LedgerEntry, posting: TimesheetPosting) -> dict[str, str]:
        keys = dict(claim.intacct_keys)
        problems = self.references.problems(posting.references)
        if problems:
            raise _Refused("; ".join(problems), keys)
        # A claim after an earlier attempt (crash, lost answer, expired lease) may find its documents already
        # in Intacct: look before writing.
        recovering = claim.attempts > 1
        self._sync(posting.timesheet_id, self._labor, posting.labor, keys, recovering)
        mode = self.config.timesheets.equipment_mode
        equipment = posting.equipment if mode == "purchasing" else None
        if mode == "purchasing" or "equipment" in keys:
            self._sync(posting.timesheet_id, self._equipment, equipment, keys, recovering)
        return keys

    def _sync(
        self,
        timesheet_id: int,
        kind: _DocumentKind,
        document: Document | None,
        keys: dict[str, str],
        recovering: bool,
    ) -> None:
        revision_key = f"{kind.name}_rev"
        known = Found(keys[kind.name], keys.get(revision_key, "")) if kind.name in keys else None
        if known is None and recovering:
            known = kind.find(timesheet_id)
        elif known is not None and document is not None and known.revision != document.revision:
            # About to change a document: make sure it is still there (a person may have deleted it to redo it).
            known = kind.find(timesheet_id)
        if document is None:
            if known is not None:
                raise _Refused(
                    f"it was re-approved without its {kind.name} time, but {kind.label} {known.key} still holds "
                    "the earlier hours; remove them in Intacct by hand",
                    keys,
                )
            return
        if known is None:
            known = self._create(timesheet_id, kind, document, keys)
        keys[kind.name] = known.key
        keys[revision_key] = known.revision
        if known.revision != document.revision:
            kind.update(timesheet_id, known.key, document, keys)
            keys[revision_key] = document.revision

    def _create(self, timesheet_id: int, kind: _DocumentKind, document: Document, keys: dict[str, str]) -> Found:
        try:
            return kind.create(timesheet_id, document)
        except IntacctDuplicateControlIdError:
            # This very write ran before (its answer was lost): it is in Intacct.
            return self._found_after_write(timesheet_id, kind)
        except IntacctOutcomeUnknownError:
            logger.warning("Intacct answer lost; looking before re-sending", extra={"timesheet_id": timesheet_id})
        except IntacctBusinessError as refused:
            raise _Refused(
                f"Intacct refused the {kind.label.removeprefix('Intacct ')}: {_details(refused)}", keys
            ) from refused
        found = kind.find(timesheet_id)
        if found is not None:
            return found
        # Not there: re-send with the same control ID, so Intacct refuses it if the first one lands meanwhile.
        try:
            return kind.create(timesheet_id, document)
        except (IntacctDuplicateControlIdError, IntacctOutcomeUnknownError):
            return self._found_after_write(timesheet_id, kind)
        except IntacctBusinessError as refused:
            raise _Refused(
                f"Intacct refused the {kind.label.removeprefix('Intacct ')}: {_details(refused)}", keys
            ) from refused

    def _found_after_write(self, timesheet_id: int, kind: _DocumentKind) -> Found:
        found = kind.find(timesheet_id)
        if found is None:
            raise PostingIncompleteError(
                f"Intacct reports timesheet {timesheet_id}'s {kind.name} write as done but it cannot be found yet; "
                "it will be looked up again before anything is re-sent"
            )
        return found

    def _park(self, timesheet_id: int, content_hash: str, reason: str, keys: Mapping[str, str]) -> PushResult:
        self.state.record_parked(timesheet_id, content_hash, reason, self._clock(), intacct_keys=keys)
        logger.warning("timesheet parked", extra={"timesheet_id": timesheet_id, "reason": reason})
        return PushResult(timesheet_id, "parked", reason=reason, intacct_keys=_public(keys))

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


def _public(keys: Mapping[str, str]) -> dict[str, str]:
    """The Intacct keys people look for; the revisions are ours."""
    return {name: value for name, value in keys.items() if not name.endswith("_rev")}


def _unpostable_hash(timesheet: Timesheet, error: UnpostableError | None) -> str:
    # Unpostable as approved: re-approving it changed (modified_time moves) is what makes it worth another try.
    text = f"unpostable|{timesheet.id}|{timesheet.modified_time}|{error.reason if error else ''}"
    return hashlib.sha256(text.encode()).hexdigest()
