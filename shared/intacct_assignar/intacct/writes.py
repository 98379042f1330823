"""One write to send with others in a single request (`IntacctClient.write_batch`), named without loading the
client: the documents the push writes describe their writes with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Write:
    """A generic `create` or `update` of one record of `object_name`, or a legacy function such as
    `create_potransaction` (`object_name` None), each sent under its own function control ID."""

    function: str
    body: Mapping[str, Any]
    controlid: str
    object_name: str | None = None

    @classmethod
    def create(cls, object_name: str, record: Mapping[str, Any], *, controlid: str) -> Write:
        return cls("create", record, controlid, object_name)

    @classmethod
    def update(cls, object_name: str, record: Mapping[str, Any], *, controlid: str) -> Write:
        return cls("update", record, controlid, object_name)

    @classmethod
    def legacy(cls, name: str, body: Mapping[str, Any], *, controlid: str) -> Write:
        return cls(name, body, controlid)
