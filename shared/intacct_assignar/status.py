"""What `status` tells the admin, read from the state store alone (no credentials, no API call): per workflow the
last run, how it stands and how far its watermark got; for time, what was posted lately, what is parked or in
doubt and how long the oldest approval has waited; and every parked item with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol

from .config import WORKFLOWS, TenantConfig, workflow_name
from .inbound.pull import DELETIONS, progress_key
from .outbound.sweep import LAST_LOOK as WATCHER_LAST_LOOK
from .run_entries import DELETIONS_WORKFLOW
from .runs import TIME_WORKFLOW, RunEntry, RunKind, RunOutcome
from .sources import source_for
from .state import LedgerEntry, StateStore

# Every workflow `status` reports, in the order it lists them.
STATUS_WORKFLOWS: Final[tuple[str, ...]] = (*WORKFLOWS, DELETIONS_WORKFLOW, TIME_WORKFLOW)

# How many of a workflow's newest entries are read: pulls run every 15 minutes and the approval watcher every
# minute, so this reaches back hours, which is as far as the newest entry of each stage is worth looking for.
RECENT_RUNS: Final = 100

# The parts of a workflow whose newest entries each still say how it stands. A pull does not undo a parked upsert
# batch, nor a sweep a failed push; a `sync` (pull and upsert in one) stands for both inbound parts.
STAGES: Final[tuple[frozenset[RunKind], ...]] = (
    frozenset({"pull", "sync"}),
    frozenset({"upsert", "sync"}),
    frozenset({"push"}),
    frozenset({"sweep"}),
    frozenset({"reconcile"}),
    # A targeted pull stands alone: it neither undoes nor hides a failed scheduled pull.
    frozenset({"event"}),
)
_SEVERITY: Final[dict[RunOutcome, int]] = {"ok": 0, "parked": 1, "not_run": 2, "failed": 3}

# Where the approval watcher writes the oldest approved timesheet not yet in Intacct (ISO 8601) in its entries.
OLDEST_PENDING_APPROVAL: Final = "oldest_pending_approval"

Standing = Literal["ok", "parked", "failed", "not_run", "never_ran", "disabled"]


class ParkedLine(Protocol):
    """One piece of work waiting for a person: a record (an upsert refused or unmapped) or a timesheet."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class ParkedTimesheet:
    """A timesheet the ledger holds parked: the default source of parked work when no other is given."""

    id: str
    reason: str
    kind: str = "timesheet"


def ledger_parked(entries: Iterable[LedgerEntry]) -> list[ParkedTimesheet]:
    return [
        ParkedTimesheet(str(entry.timesheet_id), entry.reason or "parked without a reason (an older version kept none)")
        for entry in sorted(entries, key=lambda e: e.timesheet_id)
    ]


@dataclass(frozen=True)
class WorkflowStatus:
    workflow: str
    enabled: bool
    last_run: RunEntry | None
    # The entry its standing comes from: the worst of the newest entry of each stage (`STAGES`), else the newest.
    deciding: RunEntry | None
    watermark: datetime | None = None

    @property
    def standing(self) -> Standing:
        if not self.enabled:
            return "disabled"
        if self.deciding is None:
            return "never_ran"
        return self.deciding.outcome

    @property
    def ok(self) -> bool:
        return self.standing in ("ok", "disabled")

    def problem(self) -> str | None:
        """Why this workflow's last run keeps `status` from exiting 0, in one sentence with what to do; None when it
        does not, or when it never ran (`StatusReport.problems` says that of several workflows at once)."""
        run = self.deciding
        if self.ok or run is None:
            return None
        what = f"{self.workflow}: its last {run.kind}"
        if run.outcome == "not_run":
            return f"{what} could not run: {run.detail}"
        if run.outcome == "parked":
            return f"{what} parked {run.parked}: {run.detail}"
        return f"{what} failed: {run.detail}"

    def as_dict(self, now: datetime) -> dict[str, Any]:
        data: dict[str, Any] = {
            "workflow": self.workflow,
            "enabled": self.enabled,
            "outcome": self.standing,
            "last_run": _run(self.last_run, now),
            "watermark": _instant(self.watermark),
            "watermark_age_seconds": _age(self.watermark, now),
        }
        if self.deciding is not None and self.deciding is not self.last_run:
            data["outcome_from"] = _run(self.deciding, now)
        return data


@dataclass(frozen=True)
class TimeStatus:
    posted_last_24h: int
    posted_last_7d: int
    parked: int
    being_posted: int  # claimed, its lease live: a worker is posting it now
    in_doubt: int  # claimed, its lease run out: a write whose answer may be lost (the push looks before re-sending)
    oldest_pending_approval: datetime | None  # None: none pending when it was measured
    measured_at: datetime | None  # None: never measured (no watcher entry yet)

    def as_dict(self, now: datetime) -> dict[str, Any]:
        pending = None
        if self.measured_at is not None:
            pending = {
                "approved_at": _instant(self.oldest_pending_approval),
                "age_seconds": _age(self.oldest_pending_approval, now),
                "measured_at": _instant(self.measured_at),
            }
        return {
            "posted_last_24h": self.posted_last_24h,
            "posted_last_7d": self.posted_last_7d,
            "parked": self.parked,
            "being_posted": self.being_posted,
            "in_doubt": self.in_doubt,
            "oldest_pending_approval": pending,
        }


@dataclass(frozen=True)
class StatusReport:
    checked_at: datetime
    workflows: list[WorkflowStatus]
    time: TimeStatus
    parked: list[ParkedLine]

    @property
    def problems(self) -> list[str]:
        """Why `status` exits 1, one sentence each; empty when every enabled workflow is ok and nothing is parked."""
        found = [problem for w in self.workflows if (problem := w.problem()) is not None]
        never = [w.workflow for w in self.workflows if w.standing == "never_ran"]
        for command, names in (
            ("sync", [name for name in never if name != TIME_WORKFLOW]),
            ("push-timesheets", [name for name in never if name == TIME_WORKFLOW]),
        ):
            if names:
                have, its = ("has", "its") if len(names) == 1 else ("have", "their")
                found.append(
                    f"{', '.join(names)} {have} never run: run intacct-assignar {command}, or wait for {its} schedule"
                )
        if self.parked:
            count = len(self.parked)
            found.append(
                f"{count} {'item is' if count == 1 else 'items are'} parked (listed with the reasons): fix each "
                "cause, then send it again"
            )
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        now = self.checked_at
        return {
            "ok": self.ok,
            "checked_at": _instant(now),
            "workflows": [w.as_dict(now) for w in self.workflows],
            "time": self.time.as_dict(now),
            "parked": [{"kind": p.kind, "id": p.id, "reason": p.reason} for p in self.parked],
            "problems": self.problems,
        }


def build_status(
    store: StateStore,
    config: TenantConfig,
    *,
    parked: Sequence[ParkedLine] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> StatusReport:
    """The report, from the run history, watermarks and ledger in `store`. `parked`: the parked work to list (the
    dead-letter queues, local parked records); by default the timesheets the ledger holds parked."""
    now = clock()
    runs = {name: store.recent_runs(name, limit=RECENT_RUNS) for name in STATUS_WORKFLOWS}
    parked_timesheets = list(store.iter_ledger("parked"))
    return StatusReport(
        checked_at=now,
        workflows=[_workflow(store, config, name, entries) for name, entries in runs.items()],
        time=_time(store, now, parked_timesheets, runs[TIME_WORKFLOW]),
        parked=list(parked) if parked is not None else list(ledger_parked(parked_timesheets)),
    )


def _workflow(store: StateStore, config: TenantConfig, workflow: str, entries: Sequence[RunEntry]) -> WorkflowStatus:
    """`entries`: the workflow's newest runs, newest first."""
    if workflow == TIME_WORKFLOW:
        # The approval watcher's: up to when it has looked for approvals (a minute in which it found nothing is
        # not kept as a run, so this is how status knows it is still looking).
        enabled, watermark = True, store.get_watermark(WATCHER_LAST_LOOK)
        if watermark is not None:
            # A failed look is over once a later look went through, kept in the history or not.
            entries = [
                e for e in entries if not (e.kind == "sweep" and e.outcome == "failed" and e.ended_at < watermark)
            ]
    elif workflow == DELETIONS_WORKFLOW:
        enabled, watermark = any(config.enabled(name) for name in WORKFLOWS), store.get_watermark(DELETIONS)
    else:
        enabled, watermark = config.enabled(workflow_name(workflow)), _watermark(store, config, workflow, entries)
    return WorkflowStatus(
        workflow, enabled, last_run=entries[0] if entries else None, deciding=_deciding(entries), watermark=watermark
    )


def _failed_look_since_recovered(entry: RunEntry, last_look: datetime) -> bool:
    return entry.kind == "sweep" and entry.outcome == "failed" and entry.ended_at < last_look


def _deciding(entries: Sequence[RunEntry]) -> RunEntry | None:
    """The worst of the newest entry of each stage (the newest of them when none is worse): `entries` newest
    first."""
    newest = [next((e for e in entries if e.kind in stage), None) for stage in STAGES]
    found = [e for e in newest if e is not None]
    if not found:
        return entries[0] if entries else None
    return max(found, key=lambda e: (_SEVERITY[e.outcome], e.ended_at))


def _watermark(store: StateStore, config: TenantConfig, workflow: str, entries: Sequence[RunEntry]) -> datetime | None:
    """Where the workflow's source is read up to. Its key depends on the fields Intacct offers (`progress_key`),
    which only a pull knows: the newest pull's key first, then the key of the settings alone (a company offering
    every field), so this never asks Intacct."""
    pulled = [e.extra.get("progress_key") for e in entries if e.kind in ("pull", "sync")]
    keys = [key for key in pulled if isinstance(key, str) and key][:1]
    keys.append(progress_key(source_for(workflow_name(workflow)), config))
    for key in dict.fromkeys(keys):
        if (at := store.get_watermark(key)) is not None:
            return at
    return None


def _time(store: StateStore, now: datetime, parked: Sequence[LedgerEntry], runs: Sequence[RunEntry]) -> TimeStatus:
    # Every posted entry is read: the ledger has no index by time. Fine for a command an admin runs now and then;
    # a tenant posting hundreds of thousands of timesheets would want one (ledger_state, updated_at).
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    posted = [entry.updated_at for entry in store.iter_ledger("posted")]
    claimed = list(store.iter_ledger("claimed"))
    live = sum(1 for entry in claimed if entry.lease_until is not None and entry.lease_until > now)
    pending, measured = _oldest_pending_approval(runs)
    return TimeStatus(
        posted_last_24h=sum(1 for at in posted if at >= day),
        posted_last_7d=sum(1 for at in posted if at >= week),
        parked=len(parked),
        being_posted=live,
        in_doubt=len(claimed) - live,
        oldest_pending_approval=pending,
        measured_at=measured,
    )


def _oldest_pending_approval(runs: Sequence[RunEntry]) -> tuple[datetime | None, datetime | None]:
    """(the oldest approval not yet in Intacct, when that was measured) from the approval watcher's newest full pass
    (only a full pass sees every approved timesheet). Its `extra` without the figure (or with null) means none was
    pending then."""
    sweep = next((e for e in runs if e.kind == "sweep" and e.outcome == "ok" and e.extra.get("pass") == "full"), None)
    if sweep is None:
        return None, None
    value = sweep.extra.get(OLDEST_PENDING_APPROVAL)
    if not isinstance(value, str) or not value:
        return None, sweep.ended_at
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None, None  # not a time: as if never measured, rather than a wrong age
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)), sweep.ended_at


def _run(entry: RunEntry | None, now: datetime) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {**entry.as_dict(), "age_seconds": _age(entry.ended_at, now)}


def _instant(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def _age(at: datetime | None, now: datetime) -> int | None:
    return max(0, int((now - at).total_seconds())) if at is not None else None
