"""A timesheet's claim on the ledger while it is being posted, and what its keys record of each Intacct document.

For each kind of document (`timesheet`, `equipment`) the keys hold its Intacct key under the kind's name, the
revision it holds (`_rev`), the generation of its last write (`_gen`, part of the function control ID), and a
write sent whose answer is not known yet (`_pending`). Only the Intacct keys are for people (`public_keys`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .document_kinds import DocumentKind, Found


@dataclass
class Claim:
    """The claim being worked on: its number fences every ledger write, `keys` is its progress."""

    timesheet_id: int
    attempt: int
    keys: dict[str, str]


@dataclass
class Pending:
    """A write sent (or about to be) whose answer is not known: what, which generation, since when."""

    revision: str
    generation: int
    action: str
    since: datetime

    def encode(self) -> str:
        return f"{self.revision}|{self.generation}|{self.action}|{self.since.isoformat()}"

    @classmethod
    def decode(cls, text: str) -> Pending:
        revision, generation, action, since = text.split("|", 3)
        return cls(revision, int(generation), action, datetime.fromisoformat(since))


def adopt(claim: Claim, kind: DocumentKind, found: Found) -> None:
    claim.keys[kind.name] = found.key
    claim.keys[f"{kind.name}_rev"] = found.revision


def forget(claim: Claim, kind: DocumentKind) -> None:
    claim.keys.pop(kind.name, None)
    claim.keys.pop(f"{kind.name}_rev", None)


# Set when reconcile found gone from Intacct a document the ledger says was posted (a person deleted it), with
# the day it looked: the timesheet stays processed in Assignar, by this integration, and may be posted again.
REOPENED = "reopened"

_PRIVATE_SUFFIXES = ("_rev", "_gen", "_pending")
_PRIVATE_NAMES = frozenset({REOPENED})


def public_keys(keys: Mapping[str, str]) -> dict[str, str]:
    """The Intacct keys people look for; revisions, generations, pending writes and reopenings are ours."""
    return {
        name: value
        for name, value in keys.items()
        if not name.endswith(_PRIVATE_SUFFIXES) and name not in _PRIVATE_NAMES
    }


def describe_keys(keys: Mapping[str, str]) -> str:
    names = {"timesheet": "timesheet", "equipment": "purchasing transaction"}
    return ", ".join(f"{names.get(name, name)} {value}" for name, value in public_keys(keys).items())
