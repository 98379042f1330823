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

The flow is here, guards and all; its parts are beside it: `labor.py` and `equipment.py` find and write each kind
of document (with guard 3's control IDs, and the searches guard 4 makes), `claim.py` is what the ledger keeps of a
claim's progress, `references.py` the check before any write, `plan.py` the documents and the ledger's hash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Literal

from ..assignar.errors import NotFoundError, TimesheetNotApprovedError
from ..assignar.models import Timesheet
from ..catalog import FieldCatalog, definition_scope
from ..config import TenantConfig
from ..consumer import Parking
from ..intacct import (
    IntacctBusinessError,
    IntacctConfigurationError,
    IntacctDuplicateControlIdError,
    IntacctOutcomeUnknownError,
    IntacctRateLimitError,
    IntacctTransientError,
)
from ..state import StateStore
from .claim import REOPENED, Claim, Pending, adopt, describe_keys, forget, public_keys
from .document_kinds import Action, CannotLook, DocumentKind, Found, Refused
from .documents import Document, TimesheetPosting, UnpostableError, labelled
from .equipment import EquipmentTransactions
from .labor import LaborTimesheets
from .messages import PushMessage
from .plan import ledger_hash, plan, preview
from .ports import AssignarForPush, IntacctForPush
from .references import ReferenceChecker
from .results import PostingIncompleteError, PushResult, TimesheetBusyError

if TYPE_CHECKING:
    from ..intacct import Write, WriteResult

logger = logging.getLogger(__name__)


def _details(error: IntacctBusinessError) -> str:
    return "; ".join(str(detail) for detail in error.details) or str(error)


@dataclass
class _Step:
    """What one document needs: nothing, a create, an update of `known`, or a person (`refusal`)."""

    kind: DocumentKind
    document: Document | None
    action: Literal["none", "create", "update"]
    known: Found | None = None
    refusal: str | None = None


@dataclass
class _Send:
    """One write a timesheet needs: a create, or an update of `known`, under generation `generation`."""

    kind: DocumentKind
    action: Action
    document: Document
    known: Found | None
    generation: int = 0

    @property
    def key(self) -> str | None:
        return self.known.key if self.known is not None else None

    def write_for(self, timesheet_id: int) -> Write:
        return self.kind.write(timesheet_id, self.action, self.document, self.generation, self.key)


@dataclass
class _Ready:
    """A timesheet claimed and checked, with the writes it needs."""

    claim: Claim
    timesheet: Timesheet
    content_hash: str
    sends: list[_Send]


class _Unsaved(Exception):
    """What a request answered could not be saved in the ledger (the lease taken over, the ledger unreachable)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


# How many timesheets' writes share one Intacct request: the push queue's batch (ten) fits; a larger run is sent
# in requests of this many, so that one lost answer leaves at most this many in doubt.
WRITE_BATCH = 20


# --- the service --------------------------------------------------------------------------------------


class PushService:
    """Posts approved timesheets, a batch's writes in one Intacct request; safe to run in many workers at once
    against one ledger."""

    def __init__(
        self,
        assignar: AssignarForPush,
        intacct: IntacctForPush,
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
        # What `post_together` settled, by timesheet: (retry_parked asked, its result or what it raised).
        self._settled: dict[int, tuple[bool, PushResult | Exception]] = {}
        self._labor = LaborTimesheets(intacct)
        # Asked only when a purchasing transaction must be looked for (a lost answer, a re-approval).
        catalog = catalog or FieldCatalog(intacct, state, scope=definition_scope(intacct.settings), clock=clock)
        self._equipment = EquipmentTransactions(intacct, config.timesheets.equipment_transaction, catalog)

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

    def post_together(self, requests: Mapping[int, bool]) -> dict[int, PushResult | Exception]:
        """Post a batch of timesheets (id: `retry_parked`), every write of theirs in one Intacct request.

        Each timesheet is claimed, checked and its intent saved in the ledger before anything is sent, exactly as
        it is alone; then the creates and updates of all of them go in one request, each function its own control
        ID (`write_batch`), so Intacct refusing one parks that timesheet only, and an answer lost for the request
        puts each document of it through the lookup a lost answer always gets. Each timesheet's result, or what
        it raised (its "try again later"), is returned and kept for `post` to hand out once, as the queue
        consumer asks for them one by one.
        """
        self._settled = {}
        outcomes: dict[int, PushResult | Exception] = {}
        ids = list(requests)
        for start in range(0, len(ids), WRITE_BATCH):
            chunk = {timesheet_id: requests[timesheet_id] for timesheet_id in ids[start : start + WRITE_BATCH]}
            try:
                self.prefetch(list(chunk))
            except Exception:
                # Only the reads' speed-up is lost: each timesheet is read on its own, the writes still go together.
                self._prefetched = {}
                logger.warning("reading a batch of timesheets together failed; reading them one by one", exc_info=True)
            outcomes.update(self._post_all(chunk))
        self._settled = {timesheet_id: (requests[timesheet_id], outcome) for timesheet_id, outcome in outcomes.items()}
        return outcomes

    def post(
        self, timesheet_id: int, *, retry_parked: bool = False, dry_run: bool = False, confirmed_absent: bool = False
    ) -> PushResult:
        """Post the timesheet if it is approved and not yet in Intacct.

        `confirmed_absent`: a person looked in Intacct for a write whose answer was lost and which Intacct offers
        no field to search for (the parked reason asks them to), and found none. Only a person's word: never set
        by a replay of parked work (`retry_parked`), which anyone may re-drive in bulk.

        Raises `TimesheetBusyError`, `PostingIncompleteError` or `LeaseLostError` (and client errors for
        outages) when it must be tried again later; everything a person must look at comes back as a "parked"
        result instead. A timesheet `post_together` already posted (asked the same way) gets that outcome.
        """
        settled = self._settled.pop(timesheet_id, None)
        if settled is not None and settled[0] == retry_parked and not dry_run and not confirmed_absent:
            outcome = settled[1]
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        if dry_run:
            return self._preview(timesheet_id)
        outcome = self._post_all({timesheet_id: retry_parked}, confirmed_absent=confirmed_absent)[timesheet_id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # --- the flow: each timesheet claimed and checked, then every write sent in one request ----------------

    def _post_all(
        self, requests: Mapping[int, bool], *, confirmed_absent: bool = False
    ) -> dict[int, PushResult | Exception]:
        outcomes: dict[int, PushResult | Exception] = {}
        ready: list[_Ready] = []
        for timesheet_id, retry_parked in requests.items():
            try:
                prepared = self._prepare(timesheet_id, retry_parked=retry_parked, confirmed_absent=confirmed_absent)
            except Exception as error:  # this timesheet's trouble, never the batch's
                outcomes[timesheet_id] = error
                continue
            if isinstance(prepared, PushResult):
                outcomes[timesheet_id] = prepared
            elif not prepared.sends:
                outcomes[timesheet_id] = self._guarded(prepared, self._finish)
            else:
                ready.append(prepared)
        try:
            outcomes.update(self._send_all(ready))
        except Exception as error:
            # Claimed, so never "being posted elsewhere": each tries again later, and whatever was sent has its
            # intent in the ledger, to be looked for first.
            outcomes.update({prepared.claim.timesheet_id: error for prepared in ready})
        return outcomes

    def _prepare(self, timesheet_id: int, *, retry_parked: bool, confirmed_absent: bool) -> PushResult | _Ready:
        """Everything before the writes: read, plan, claim, settle lost answers, decide and check each write."""
        timesheet = self._approved(timesheet_id)
        if isinstance(timesheet, PushResult):
            return timesheet
        posting, unpostable = self._plan(timesheet)
        if timesheet.is_processed:
            entry = self.state.get_ledger(timesheet_id)
            if entry is not None and entry.state == "posted":
                return PushResult(timesheet_id, "already_posted", intacct_keys=public_keys(entry.intacct_keys))
            # Processed by this integration, whose document a person then deleted in Intacct (reconcile saw it
            # gone and reopened the ledger entry): posted again only when someone asks, as for any parked one;
            # and a re-post of it that stopped part way (claimed, its lease running out) is finished like any
            # other, the claim rule deciding when.
            reopened = entry is not None and REOPENED in entry.intacct_keys and entry.state in ("parked", "claimed")
            if entry is None or not reopened:
                return PushResult(
                    timesheet_id, "skipped", reason="already marked processed in Assignar, not by this integration"
                )
            if entry.state == "parked" and not retry_parked:
                keys = public_keys(entry.intacct_keys)
                return PushResult(timesheet_id, "parked", reason=entry.reason, intacct_keys=keys, earlier=True)
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
        claim = Claim(timesheet_id, entry.attempts, dict(entry.intacct_keys))
        if posting is None:
            assert unpostable is not None
            reason = unpostable.reason
            if public_keys(claim.keys):
                reason += f"; Intacct still holds its earlier hours ({describe_keys(claim.keys)})"
            return self._park(claim, content_hash, reason)
        try:
            sends = self._writes(claim, posting, recovering=entry.attempts > 1, confirmed_absent=confirmed_absent)
        except Refused as refused:
            return self._park(claim, content_hash, refused.reason)
        return _Ready(claim, timesheet, content_hash, sends)

    def _approved(self, timesheet_id: int) -> Timesheet | PushResult:
        """The timesheet (the batch's prefetched read, used once, else its own), or why it is skipped."""
        timesheet = self._prefetched.pop(timesheet_id, None)
        if timesheet is None:
            try:
                timesheet = self.assignar.timesheets.get(timesheet_id)
            except NotFoundError:
                return PushResult(timesheet_id, "skipped", reason="Assignar has no such timesheet")
        if not timesheet.is_approved:
            return PushResult(timesheet_id, "skipped", reason=f"not approved in Assignar (status {timesheet.status})")
        return timesheet

    def _preview(self, timesheet_id: int) -> PushResult:
        timesheet = self._approved(timesheet_id)
        if isinstance(timesheet, PushResult):
            return timesheet
        posting, unpostable = self._plan(timesheet)
        entry = self.state.get_ledger(timesheet.id)
        return preview(
            timesheet, posting, unpostable, entry=entry, settings=self.config.timesheets, references=self.references
        )

    def _finish(self, ready: _Ready) -> PushResult:
        """Every document in Intacct: the ledger says posted, then Assignar shows it processed."""
        claim = ready.claim
        claim.keys.pop(REOPENED, None)  # in Intacct again
        posted_at = self._clock()
        self.state.record_posted(claim.timesheet_id, ready.content_hash, claim.keys, posted_at, attempt=claim.attempt)
        logger.info(
            "timesheet posted to Intacct",
            extra={"timesheet_id": claim.timesheet_id, "intacct": public_keys(claim.keys)},
        )
        self._mark_processed(claim.timesheet_id)
        if "equipment" in claim.keys:
            posted = Found(claim.keys["equipment"], claim.keys.get("equipment_rev", ""))
            self._equipment.prove_if_due(claim.timesheet_id, posted)
        return PushResult(
            claim.timesheet_id,
            "posted",
            intacct_keys=public_keys(claim.keys),
            approved_at=ready.timesheet.approved_at,
            posted_at=posted_at,
        )

    def _guarded(self, ready: _Ready, step: Callable[[_Ready], PushResult]) -> PushResult | Exception:
        """A step's result; a refusal parks the timesheet, anything else raised is its outcome (retried later)."""
        try:
            return step(ready)
        except Refused as refused:
            try:
                return self._park(ready.claim, ready.content_hash, refused.reason)
            except Exception as error:
                return error
        except Exception as error:
            return error

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
            return PushResult(timesheet_id, "already_posted", intacct_keys=public_keys(entry.intacct_keys))
        return PushResult(
            timesheet_id, "parked", reason=entry.reason, intacct_keys=public_keys(entry.intacct_keys), earlier=True
        )

    def _writes(
        self, claim: Claim, posting: TimesheetPosting, *, recovering: bool, confirmed_absent: bool = False
    ) -> list[_Send]:
        """The writes the timesheet needs, each checked; `Refused` when a person must act first."""
        mode = self.config.timesheets.equipment_mode
        kinds: list[tuple[DocumentKind, Document | None]] = [(self._labor, posting.labor)]
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
            raise Refused("; ".join(refusals), claim.keys)
        sends = [
            _Send(step.kind, step.action, step.document, step.known)
            for step in steps
            if step.action != "none" and step.document is not None
        ]
        if sends:
            problems = self.references.problems(posting.references)
            if problems:
                raise Refused("; ".join(problems), claim.keys)
        return sends

    def _settle_pending(
        self, claim: Claim, kind: DocumentKind, document: Document | None, *, confirmed_absent: bool
    ) -> None:
        text = claim.keys.get(f"{kind.name}_pending")
        if text is None:
            return
        pending = Pending.decode(text)
        settles_at = pending.since + self.doubt_window
        try:
            found = kind.find(claim.timesheet_id)
        except CannotLook as cannot:
            if not confirmed_absent or self._clock() < settles_at:
                reason = self._look_for_me(claim, kind, pending, str(cannot), document)
                raise Refused(reason, claim.keys) from None
            # A person looked, as the reason asked, and said it is not there (`--not-in-intacct`): send it anew.
            del claim.keys[f"{kind.name}_pending"]
            return
        if found is not None and found.revision == pending.revision:
            adopt(claim, kind, found)
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
        self, claim: Claim, kind: DocumentKind, pending: Pending, why: str, document: Document | None
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

    def _step(self, claim: Claim, kind: DocumentKind, document: Document | None, recovering: bool) -> _Step:
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
                forget(claim, kind)
        if known is not None:
            adopt(claim, kind, known)
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

    def _intend(self, claim: Claim, sends: Sequence[_Send]) -> None:
        """Each write's intent, with a new generation (a new control ID), saved right before it is sent: a crash
        from here on leaves it where the next attempt looks. Also the fence: a holder whose lease was taken over
        stops here, before writing anything more."""
        for send in sends:
            send.generation = int(claim.keys.get(f"{send.kind.name}_gen", "0")) + 1
            claim.keys[f"{send.kind.name}_gen"] = str(send.generation)
            pending = Pending(send.document.revision, send.generation, send.action, self._clock())
            claim.keys[f"{send.kind.name}_pending"] = pending.encode()
        self.state.renew_claim(claim.timesheet_id, claim.attempt, claim.keys, self.lease_s, self._clock())

    def _send_all(self, ready: Sequence[_Ready]) -> dict[int, PushResult | Exception]:
        """Every write of the batch in one request, then each timesheet settled by its own answers.

        A write that could not be looked for if its answer were lost (a purchasing transaction before any field
        is proven to hold its marker) goes in a request of its own instead, as it went before writes were batched:
        a lost answer for the batch must not hand a person a document that was never in doubt on its own."""
        sends = [(prepared, send) for prepared in ready for send in prepared.sends]
        # Asked once per kind: while nothing is proven, each ask reads the ledger's proofs again.
        findable = {send.kind.name: send.kind.can_find() for _, send in sends}
        together = [index for index, (_, send) in enumerate(sends) if findable[send.kind.name]]
        groups = [together] if together else []
        groups += [[index] for index, (_, send) in enumerate(sends) if not findable[send.kind.name]]
        stopped: dict[int, Exception] = {}  # a timesheet whose intent could not be saved sends nothing more
        troubles: dict[int, Exception] = {}  # a timesheet whose earlier write failed sends nothing more either
        for group in groups:
            members: list[int] = []
            for timesheet_id in dict.fromkeys(sends[index][0].claim.timesheet_id for index in group):
                if timesheet_id in stopped or timesheet_id in troubles:
                    continue
                mine = [index for index in group if sends[index][0].claim.timesheet_id == timesheet_id]
                prepared = sends[mine[0]][0]
                try:
                    self._intend(prepared.claim, [sends[index][1] for index in mine])
                except Exception as error:  # its lease taken over, or the ledger unreachable: it alone stops
                    stopped[timesheet_id] = error
                    continue
                members += mine
            if not members:
                continue
            writes = [sends[index][1].write_for(sends[index][0].claim.timesheet_id) for index in members]
            answers = dict(zip(members, self._write_batch(writes), strict=True))
            # What this request answered is saved before the next one goes out: a crash from here on finds the
            # documents in the ledger, with no lookup (none may be possible yet for a purchasing transaction).
            for timesheet_id in dict.fromkeys(sends[index][0].claim.timesheet_id for index in members):
                mine = [index for index in members if sends[index][0].claim.timesheet_id == timesheet_id]
                trouble = self._settle_answers(
                    sends[mine[0]][0].claim, [sends[index][1] for index in mine], [answers[index] for index in mine]
                )
                if isinstance(trouble, _Unsaved):
                    stopped[timesheet_id] = trouble.error
                elif trouble is not None:
                    troubles[timesheet_id] = trouble
        outcomes: dict[int, PushResult | Exception] = {}
        for prepared in ready:
            timesheet_id = prepared.claim.timesheet_id
            if timesheet_id in stopped:
                # What its writes answered cannot be kept (another holder, or no ledger): their intents stand,
                # for whoever holds it next to look for.
                outcomes[timesheet_id] = stopped[timesheet_id]
                continue
            outcomes[timesheet_id] = self._guarded(
                prepared, partial(self._conclude, trouble=troubles.get(timesheet_id))
            )
        return outcomes

    def _write_batch(self, writes: Sequence[Write]) -> list[WriteResult | Exception]:
        """One request's answers, one per write: what concerns the whole request becomes each write's answer."""
        try:
            answers: list[WriteResult | Exception] = [*self.intacct.write_batch(writes)]
        except Exception as error:
            # Lost (any may have run: each is looked for), nothing ran (each is sent again), or not known.
            return [error] * len(writes)
        if len(answers) != len(writes):
            unanswered = IntacctOutcomeUnknownError(
                f"Intacct answered {len(answers)} of {len(writes)} writes; the others may have been committed"
            )
            answers += [unanswered] * (len(writes) - len(answers))
        return answers

    def _settle_answers(
        self, claim: Claim, sends: Sequence[_Send], answers: Sequence[WriteResult | Exception]
    ) -> Exception | None:
        """What each of the timesheet's writes in one request became, saved at once; the first trouble met, or
        `_Unsaved` when the ledger would not take it. Every answer is read and what it taught is saved before any
        trouble is handed on: an equipment transaction created beside a refused labor timesheet is kept in the
        ledger, never left to a lookup that may not be possible."""
        trouble: Exception | None = None
        for send, answer in zip(sends, answers, strict=True):
            try:
                self._settle_write(claim, send, answer)
            except Exception as problem:
                trouble = trouble or problem
        try:
            self.state.renew_claim(claim.timesheet_id, claim.attempt, claim.keys, self.lease_s, self._clock())
        except Exception as error:
            return _Unsaved(error)
        return trouble

    def _conclude(self, ready: _Ready, *, trouble: Exception | None) -> PushResult:
        claim = ready.claim
        if isinstance(trouble, Refused):
            raise Refused(trouble.reason, claim.keys)
        if trouble is not None:
            raise trouble
        return self._finish(ready)

    def _settle_write(self, claim: Claim, send: _Send, answer: WriteResult | Exception) -> None:
        kind, document = send.kind, send.document
        if isinstance(answer, (IntacctDuplicateControlIdError, IntacctOutcomeUnknownError)):
            # A repeat of this very write (it ran), or an answer lost (it may have run): look, never re-send now.
            found = self._look_after(claim, kind, document)
        elif isinstance(answer, IntacctBusinessError):
            # Look before calling it a refusal: a repeat refused in words we do not recognise ran all the same.
            try:
                found = self._look_after(claim, kind, document)
            except PostingIncompleteError:
                del claim.keys[f"{kind.name}_pending"]  # refused: nothing was written
                raise Refused(kind.refused(send.action, send.key, _details(answer)), claim.keys) from answer
        elif isinstance(answer, (IntacctRateLimitError, IntacctTransientError, IntacctConfigurationError)):
            # Nothing reached Intacct, or it refused the whole request at its control or authentication level,
            # before any function ran (reference: the three status levels): no doubt to wait out.
            del claim.keys[f"{kind.name}_pending"]
            raise answer
        elif isinstance(answer, Exception):
            raise answer  # not known to have run or not: the intent stays, for the next attempt to settle
        else:
            found = kind.written(claim.timesheet_id, send.action, document, send.key, answer)
        del claim.keys[f"{kind.name}_pending"]
        adopt(claim, kind, found)

    def _find_if_possible(self, claim: Claim, kind: DocumentKind) -> Found | None:
        try:
            return kind.find(claim.timesheet_id)
        except CannotLook:
            return None

    def _look_after(self, claim: Claim, kind: DocumentKind, document: Document) -> Found:
        try:
            found = kind.find(claim.timesheet_id)
        except CannotLook:
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

    def _park(self, claim: Claim, content_hash: str, reason: str) -> PushResult:
        if self.parking is not None:
            # Reported before it is recorded: if the report fails, the ledger still shows the claim, and the
            # retry reports it again, rather than a parked entry nobody was told about.
            replay = PushMessage(timesheet_id=claim.timesheet_id, trigger="replay", retry_parked=True)
            self.parking.park(replay.to_body(), reason)
        self.state.record_parked(
            claim.timesheet_id, content_hash, reason, self._clock(), intacct_keys=claim.keys, attempt=claim.attempt
        )
        logger.warning("timesheet parked", extra={"timesheet_id": claim.timesheet_id, "reason": reason})
        return PushResult(claim.timesheet_id, "parked", reason=reason, intacct_keys=public_keys(claim.keys))

    def _mark_processed(self, timesheet_id: int) -> None:
        try:
            self.assignar.timesheets.mark_processed(timesheet_id)
        except TimesheetNotApprovedError as error:
            # Un-approved after posting: the time is in Intacct; a person decides what the change means.
            logger.warning(
                "posted timesheet is no longer approved in Assignar",
                extra={"timesheet_id": timesheet_id, "status": error.timesheet_status},
            )
