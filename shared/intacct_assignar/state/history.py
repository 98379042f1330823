"""The run log `status` reads: each finished run's entry kept in the state store (`StateStore.record_run`)."""

from __future__ import annotations

import logging
from typing import Protocol

from ..runs import RunEntry

logger = logging.getLogger(__name__)


class RunHistory(Protocol):
    """The one thing the run log needs of a store (`StateStore.record_run`)."""

    def record_run(self, entry: RunEntry) -> None: ...


class StateRunLog:
    """Keeps run entries in the state store. A write that fails is one WARNING line and nothing more: the run it
    describes already happened, and losing its history must not turn it into a failure (or a retried batch)."""

    def __init__(self, store: RunHistory) -> None:
        self.store = store

    def record(self, entry: RunEntry) -> None:
        if not worth_keeping(entry):
            return
        try:
            self.store.record_run(entry)
        except Exception as exc:  # whatever the store raises: throttling, a missing grant, a full disk
            logger.warning(
                "the %s %s run finished but was not added to the run history (%s: %s); status shows the run "
                "before it until the next one is kept: check the function may write to the state store",
                entry.workflow,
                entry.kind,
                type(exc).__name__,
                exc,
                extra={"workflow": entry.workflow, "kind": entry.kind, "outcome": entry.outcome},
            )


def worth_keeping(entry: RunEntry) -> bool:
    """Whether a run belongs in the history. The approval watcher looks every minute; a look that found nothing
    is not kept (1,440 a day would bury every other run of "time"): its watermark says when it last looked, and
    its metrics still count it. Full passes, looks that found something and failed looks are kept."""
    idle = entry.kind == "sweep" and entry.extra.get("pass") == "incremental" and entry.read == 0
    return not (idle and entry.outcome == "ok")
