"""What the push asks of Intacct and of Assignar, named by the calls it makes.

The real clients (`IntacctClient`, `AssignarClient`) fit these as they are; each piece of the push asks only for
what it uses, so a test can hand it a fake of that much.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from ..assignar.models import Timesheet
from ..catalog import Lookup
from ..intacct.filters import Filter
from ..intacct.protocol import QuerySpec, Result
from ..settings import IntacctSettings

if TYPE_CHECKING:
    # Only named in signatures: the approval watcher imports these ports (through the push's hashing) and never
    # loads the Intacct client.
    from ..intacct import IntacctBusinessError, Write, WriteResult


class IntacctReads(Protocol):
    """Reading records: checking references, finding a document again by its marker or its key."""

    def query(
        self,
        object_name: str,
        select: Sequence[str],
        *,
        filter: Filter | None = None,
        orderby: Sequence[tuple[str, bool]] = (),
        docparid: str | None = None,
    ) -> Result: ...

    def query_batch(self, queries: Sequence[QuerySpec]) -> list[Result]: ...


class IntacctWrites(IntacctReads, Protocol):
    """Writing documents, several in one request, each under the caller's function control ID (sent with
    `uniqueid=true`): one answer per write, in order, a refusal as its error (`IntacctClient.write_batch`)."""

    def write_batch(self, writes: Sequence[Write]) -> list[WriteResult | IntacctBusinessError]: ...


class IntacctForPush(IntacctWrites, Lookup, Protocol):
    """All the push uses: reads, writes, `lookup` for the company's fields, and which company and entity it is."""

    @property
    def settings(self) -> IntacctSettings: ...


class AssignarTimesheets(Protocol):
    """Reading approved timesheets, and marking one processed once its time is in Intacct."""

    def get(self, timesheet_id: int) -> Timesheet: ...
    def get_many(self, timesheet_ids: Iterable[int]) -> dict[int, Timesheet]: ...
    def mark_processed(self, timesheet_id: int) -> bool: ...


class AssignarForPush(Protocol):
    """All the push uses of Assignar: its timesheets."""

    @property
    def timesheets(self) -> AssignarTimesheets: ...
