"""Checking that the Intacct records a timesheet's documents name (employee, projects, tasks, items, vendor) are
there and active before anything is written, so a refusal names the record a person must fix."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..intacct import QuerySpec
from ..intacct.filters import MAX_IN_VALUES, and_, eq, in_, or_
from .documents import References
from .ports import IntacctReads


class ReferenceChecker:
    """Are the employee, projects, tasks, items and vendor there and active in Intacct? One request per check.

    Records found active are remembered for `ttl_s`, so a batch of timesheets for one crew and job reads each
    once; problems are never remembered, so a fix in Intacct is seen at the next attempt.
    """

    def __init__(
        self, intacct: IntacctReads, *, ttl_s: float = 300.0, clock: Callable[[], float] = time.monotonic
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
