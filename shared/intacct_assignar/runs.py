"""Run history: one small entry per pull, upsert batch, push, sweep or reconcile, kept in the state store for
`RUN_RETENTION` so that `status` can say what ran, when and how it ended without any AWS console.

The vocabulary every writer and reader shares: `RunEntry` is what is stored (and what the functions' metrics are
taken from); `RunKind` and `RunOutcome` name what happened in the admin's words.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol

logger = logging.getLogger(__name__)

# "event": a targeted pull, the records Intacct's Smart Events named, read minutes before the scheduled pull would.
RunKind = Literal["pull", "upsert", "sync", "push", "sweep", "reconcile", "event"]
RUN_KINDS: Final[tuple[RunKind, ...]] = ("pull", "upsert", "sync", "push", "sweep", "reconcile", "event")

# ok: everything it took on went through. parked: it finished, and some records or timesheets wait for a person.
# failed: it stopped (Intacct refused the read, Assignar was down) and its work waits for the next run.
# not_run: the workflow is enabled but cannot run (a setting is missing); `detail` says which.
RunOutcome = Literal["ok", "parked", "failed", "not_run"]
RUN_OUTCOMES: Final[tuple[RunOutcome, ...]] = ("ok", "parked", "failed", "not_run")

# Entries older than this are dropped (DynamoDB's TTL, SQLite on write): status needs days, not years.
RUN_RETENTION: Final = timedelta(days=90)

# The time flow's workflow name in run history (inbound entries use the workflow's own: "workers", ...).
TIME_WORKFLOW: Final = "time"


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True)
class RunEntry:
    """One run of one workflow. `workflow` is an inbound workflow ("workers"), "deletions", or "time" (pushes,
    sweeps and reconciles of approved timesheets); `kind` says which part of it ran.

    Counts, in the admin's words: `read` records or timesheets read from the source, `written` created or updated
    in the target, `unchanged` read and already right, `parked` handed to a person. `detail` is the one sentence
    a failed or not-run entry ends with. `extra` carries figures only some kinds have (e.g. the sweep's
    `oldest_pending_approval`, ISO 8601), as plain JSON values.
    """

    workflow: str
    kind: RunKind
    started_at: datetime
    ended_at: datetime
    outcome: RunOutcome
    read: int = 0
    written: int = 0
    unchanged: int = 0
    parked: int = 0
    intacct_transactions: int = 0
    assignar_calls: int = 0
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False)
    run_id: str = field(default_factory=new_run_id)

    def __post_init__(self) -> None:
        for what, value in (("started_at", self.started_at), ("ended_at", self.ended_at)):
            if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
                raise ValueError(f"RunEntry.{what} must be timezone-aware, got naive {value.isoformat()}")
        if self.kind not in RUN_KINDS:
            raise ValueError(f"run kind must be one of {', '.join(RUN_KINDS)}, got {self.kind!r}")
        if self.outcome not in RUN_OUTCOMES:
            raise ValueError(f"run outcome must be one of {', '.join(RUN_OUTCOMES)}, got {self.outcome!r}")
        counts = ("read", "written", "unchanged", "parked", "intacct_transactions", "assignar_calls")
        negative = [name for name in counts if getattr(self, name) < 0]
        if negative:
            raise ValueError(f"run counts cannot be negative: {', '.join(negative)}")

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    def expires_at(self) -> datetime:
        return self.ended_at.astimezone(UTC) + RUN_RETENTION

    def ended(self, at: datetime, **changes: Any) -> RunEntry:
        return replace(self, ended_at=at, **changes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunEntry:
        """The entry `as_dict` wrote (how both state stores keep it: one JSON text)."""
        return cls(
            workflow=str(data["workflow"]),
            kind=data["kind"],
            started_at=datetime.fromisoformat(data["started_at"]),
            ended_at=datetime.fromisoformat(data["ended_at"]),
            outcome=data["outcome"],
            read=int(data.get("read", 0)),
            written=int(data.get("written", 0)),
            unchanged=int(data.get("unchanged", 0)),
            parked=int(data.get("parked", 0)),
            intacct_transactions=int(data.get("intacct_transactions", 0)),
            assignar_calls=int(data.get("assignar_calls", 0)),
            detail=data.get("detail"),
            extra=dict(data.get("extra") or {}),
            run_id=str(data["run_id"]),
        )

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> RunEntry:
        return cls.from_dict(json.loads(text))

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "workflow": self.workflow,
            "kind": self.kind,
            "started_at": self.started_at.astimezone(UTC).isoformat(),
            "ended_at": self.ended_at.astimezone(UTC).isoformat(),
            "seconds": round(self.seconds, 3),
            "outcome": self.outcome,
            "read": self.read,
            "written": self.written,
            "unchanged": self.unchanged,
            "parked": self.parked,
            "intacct_transactions": self.intacct_transactions,
            "assignar_calls": self.assignar_calls,
            "detail": self.detail,
            "extra": dict(self.extra),
        }


class RunLog(Protocol):
    """Where finished runs go: the state store's history (for `status`), the functions' metrics, or both.

    A failure to record must never cost the run it describes: implementations log it and return."""

    def record(self, entry: RunEntry) -> None: ...


class RunLogs:
    """Several run logs as one (the state store's history and the metrics, in the functions)."""

    def __init__(self, *logs: RunLog) -> None:
        self.logs = logs

    def record(self, entry: RunEntry) -> None:
        for log in self.logs:
            log.record(entry)


def readable_entries(texts: Iterable[str]) -> Iterator[RunEntry]:
    """The entries in `texts` (as the stores keep them), leaving out any this version cannot read (a kind or an
    outcome a newer version wrote during an upgrade, a damaged item) with one WARNING each: one entry must not
    keep `status` from showing all the others."""
    for text in texts:
        try:
            yield RunEntry.from_json(text)
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("a run-history entry was left out: this version cannot read it (%s)", error)
