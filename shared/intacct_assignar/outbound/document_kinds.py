"""What the push asks of each kind of Intacct document it writes, and what a search for one finds.

The push (`push.py`) decides what to send and when; a kind (`labor.py`: an Intacct timesheet, `equipment.py`: a
purchasing transaction) knows how its document is found by the marker it carries, rechecked by its key,
created and updated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .documents import Document, revision_of

if TYPE_CHECKING:
    from ..intacct import Write, WriteResult

Action = Literal["create", "update"]


@dataclass(frozen=True)
class Found:
    key: str
    revision: str
    state: str | None = None  # as Intacct names it (TIMESHEET: "Submitted", "Approved"…), when read


class CannotLook(Exception):
    """Intacct offers no field this document's marker can be searched in: only a person can tell if it is there."""


class Refused(Exception):
    """Intacct refused, or a person must change something first; carries what is in Intacct so far."""

    def __init__(self, reason: str, keys: Mapping[str, str]) -> None:
        self.reason = reason
        self.keys = dict(keys)
        super().__init__(reason)


class DocumentKind(Protocol):
    name: str  # the ledger key ("timesheet", "equipment")
    what: str  # the time it carries, in people's words ("labor", "equipment")
    label: str  # the Intacct document, in people's words

    def find(self, timesheet_id: int) -> Found | None:
        """This timesheet's document, by its marker; raises `CannotLook` when no field can be searched for it."""
        ...

    def can_find(self) -> bool:
        """Whether `find` can search for this kind of document now (its answer may be lost and looked for)."""
        ...

    def recheck(self, timesheet_id: int, known: Found) -> Found | None: ...
    def describe(self, document: Document) -> str: ...
    def write(self, timesheet_id: int, action: Action, document: Document, generation: int, key: str | None) -> Write:
        """The function that creates the document, or updates the one Intacct holds under `key`, under a control
        ID made of the timesheet, the document, its revision and `generation`."""
        ...

    def written(
        self, timesheet_id: int, action: Action, document: Document, key: str | None, answer: WriteResult
    ) -> Found:
        """The document as Intacct holds it after the write's successful `answer`."""
        ...

    def cannot_update(self, found: Found) -> str | None: ...
    def refused(self, action: str, key: str | None, details: str) -> str: ...


def only_found(
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
            str(record[key_field]), revision, text_of(record.get(state_field)) if state_field else None
        )
        for record in records
        if (revision := revision_of(timesheet_id, text_of(record.get(text_field)))) is not None
        and record.get(key_field) not in (None, "")
    }
    found = list(by_key.values())
    if len(found) > 1:
        raise Refused(
            f"Intacct holds {len(found)} {label}s for this timesheet ({', '.join(f.key for f in found)}); delete "
            "all but one in Intacct, then replay this timesheet",
            {},
        )
    return found[0] if found else None


def text_of(value: Any) -> str | None:
    """A text Intacct sent, or None when it sent none (a missing field, an empty one, a non-text)."""
    return value if isinstance(value, str) and value else None
