"""What the inbound sync asks of Intacct and of Assignar, as small protocols: the pull reads, the upsert writes.

`IntacctClient` and `AssignarClient` satisfy them as they are, without naming them; so do the in-memory fakes
the unit tests run the pull and the upsert on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

from ..assignar.models import Activity, Asset, Client, EmploymentType, Project, Role, UserType, Worker, WorkOrder
from ..catalog import Lookup
from ..config import WorkflowName
from ..intacct.pull import Queries
from ..settings import IntacctSettings

# --- Intacct ----------------------------------------------------------------------------------------------


class IntacctReader(Queries, Lookup, Protocol):
    """What the pull asks of Intacct: pages of an object (`query`) in the company's `zone`, which fields the
    company offers (`lookup`), and whose definitions those are (`settings`: company, entity and user)."""

    @property
    def settings(self) -> IntacctSettings: ...

    def connect(self) -> None:
        """Log in now, so that refused credentials stop a sync before any work (`run_sync`)."""
        ...


# --- Assignar ---------------------------------------------------------------------------------------------

# A write as the upsert sends it: the fields to set, by Assignar's names (`payloads.to_assignar`, or a part of it).
Fields = Mapping[str, object]


class Stored(Protocol):
    """An Assignar record as the upsert reads it: its id and whether it is active; its fields by name."""

    @property
    def id(self) -> int: ...

    @property
    def active(self) -> bool | None: ...


R_co = TypeVar("R_co", bound=Stored, covariant=True)
T_co = TypeVar("T_co", covariant=True)


class WorkflowResource(Protocol[R_co]):
    """One workflow's records in Assignar: found by a key, read, created and partly updated; never deleted."""

    def index_by(self, key: str, values: Iterable[str] | None = None) -> Mapping[str, R_co]: ...

    def find_by(self, key: str, value: str) -> R_co | None: ...

    def get(self, record_id: int) -> R_co: ...

    def create(self, payload: Fields) -> R_co: ...

    def update(self, record_id: int, payload: Fields) -> None: ...


class Listing(Protocol[T_co]):
    """A short list read whole: the user types and employment types a worker is linked to by name."""

    def list(self) -> Sequence[T_co]: ...


class AssignarResources(Protocol):
    """Assignar as the upsert sees it: each workflow's records, and the types workers link to."""

    @property
    def clients(self) -> WorkflowResource[Client]: ...

    @property
    def projects(self) -> WorkflowResource[Project]: ...

    @property
    def work_orders(self) -> WorkflowResource[WorkOrder]: ...

    @property
    def activities(self) -> WorkflowResource[Activity]: ...

    @property
    def roles(self) -> WorkflowResource[Role]: ...

    @property
    def assets(self) -> WorkflowResource[Asset]: ...

    @property
    def workers(self) -> WorkflowResource[Worker]: ...

    @property
    def user_types(self) -> Listing[UserType]: ...

    @property
    def employment_types(self) -> Listing[EmploymentType]: ...


def by_workflow(assignar: AssignarResources) -> dict[WorkflowName, WorkflowResource[Stored]]:
    """Each workflow's resource under the workflow's name, for code written once for every workflow."""
    return {
        "clients": assignar.clients,
        "projects": assignar.projects,
        "work_orders": assignar.work_orders,
        "activities": assignar.activities,
        "roles": assignar.roles,
        "assets": assignar.assets,
        "workers": assignar.workers,
    }
