"""Intacct's Smart Events with an HTTP Post action, as `intacct-assignar smart-events print` tells the admin to set
them up: each record added or changed of a watched object posts the configured body, its `{!OBJECT.FIELD!}`
injections rendered, to the configured URL.

Not a witness of Intacct: it sends exactly what `print` prints and renders injections the way the product's guesses
say Intacct does (`intacct_assignar.smart_events`, GUESSES 2-4). It sends no content type, since what Intacct sends is
not known, so the receiver's tolerance of that is exercised. Deliveries are synchronous: the change returns once its
notice was answered, which is what a latency measurement from change to Assignar wants.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

import httpx
from intacct_assignar.smart_events import SmartEventSetup

from .store import IntacctStore

_INJECTION = re.compile(r"\{!([A-Za-z0-9_]+)\.([A-Za-z0-9_.]+)!\}")


@dataclass(frozen=True)
class Delivery:
    object_name: str
    event: str
    recordno: int
    status: int
    sent_at: float  # time.time() when the notice was sent


def render(template: str, object_name: str, record: dict[str, Any]) -> str:
    """The body with each `{!OBJECT.FIELD!}` of this object replaced by the record's value as text (GUESS 3-4)."""

    def value(match: re.Match[str]) -> str:
        if match.group(1).upper() != object_name:
            return match.group(0)  # another object's injection: left as typed
        found = record.get(match.group(2).upper())
        if isinstance(found, datetime):
            return found.strftime("%m/%d/%Y %H:%M:%S")  # the company's local time, as the XML API writes it
        if isinstance(found, date):
            return found.strftime("%m/%d/%Y")
        return "" if found is None else str(found)

    return _INJECTION.sub(value, template)


@dataclass
class SmartEventCallouts:
    """The company's Smart Events, live while entered as a context manager (or between `start` and `stop`)."""

    store: IntacctStore
    setups: Sequence[SmartEventSetup]
    post: Callable[..., httpx.Response] = httpx.post
    deliveries: list[Delivery] = field(default_factory=list)

    def start(self) -> Self:
        self.store.on_change.append(self._on_change)
        return self

    def stop(self) -> None:
        if self._on_change in self.store.on_change:
            self.store.on_change.remove(self._on_change)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _on_change(self, event: str, object_name: str, record: dict[str, Any]) -> None:
        for setup in self.setups:
            if setup.object_name != object_name or event not in setup.events:
                continue
            sent_at = time.time()
            answer = self.post(setup.url, content=render(setup.body, object_name, record).encode(), timeout=10.0)
            self.deliveries.append(Delivery(object_name, event, int(record["RECORDNO"]), answer.status_code, sent_at))
