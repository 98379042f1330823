"""What reconcile asks of Assignar, of Intacct and of the push, named by the calls it makes.

The real Assignar client fits `AssignarForReconcile` as it is; `IntacctPostedTime` (over the Intacct client) fits
`PostedTimeReader`; `PostNow` (the push, in this process) and `QueueForPush` (the push queue of a deployed tenant)
fit `Requeue`. A test hands the service a fake of each.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Protocol

from ...assignar.models import Timesheet
from ...assignar.requestor import FilterValue
from .model import PostedRead, RepairResult


class ReconcileTimesheets(Protocol):
    """Assignar's timesheets, read page by page by filter, or several by id."""

    def pages(
        self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id", page_size: int | None = None
    ) -> Iterator[builtins.list[Timesheet]]: ...

    def get_many(self, timesheet_ids: Iterable[int]) -> dict[int, Timesheet]: ...


class AssignarForReconcile(Protocol):
    @property
    def timesheets(self) -> ReconcileTimesheets: ...


class PostedTimeReader(Protocol):
    """What Intacct holds from this integration, per Assignar timesheet."""

    def marked(self, first: date, last: date) -> PostedRead:
        """The documents carrying our marker dated in [first, last] (a labor TIMESHEET by its week)."""
        ...

    def by_keys(self, keys: Mapping[int, Mapping[str, str]]) -> PostedRead:
        """The documents the ledger names (timesheet -> document -> Intacct key), whatever their texts say now."""
        ...


class Requeue(Protocol):
    """Sends timesheets back through the push, asking it to retry them even if parked."""

    def requeue(self, timesheet_ids: Sequence[int]) -> list[RepairResult]: ...
