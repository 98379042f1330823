"""The Assignar public API v2 client: one requestor under one typed resource per entity.

`client.workers.index_by("employee_id", ids)`, `client.clients.create({...})`, `client.timesheets.get(id)`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self, Unpack

from intacct_assignar.assignar.models import (
    Activity,
    Asset,
    Client,
    EmploymentType,
    Project,
    Role,
    UserType,
    Worker,
    WorkOrder,
)
from intacct_assignar.assignar.requestor import Requestor, RequestorOptions
from intacct_assignar.assignar.resources import RESOURCES, Resource, Timesheets
from intacct_assignar.settings import AssignarSettings


class AssignarClient:
    """Talks to one Assignar tenant. Thread-safe; reuse one per process and close it (or use `with`).

    Every resource shares one `Requestor` (tokens, pacing, retries, paging), built from `options`; see it for
    what each option does. `calls` counts the calls made, per method and resource.
    """

    def __init__(self, settings: AssignarSettings, **options: Unpack[RequestorOptions]) -> None:
        self.requestor = Requestor(settings, **options)
        self.calls = self.requestor.calls
        self.workers = Resource[Worker](self.requestor, RESOURCES["workers"])
        self.user_types = Resource[UserType](self.requestor, RESOURCES["user_types"])
        self.employment_types = Resource[EmploymentType](self.requestor, RESOURCES["employment_types"])
        self.clients = Resource[Client](self.requestor, RESOURCES["clients"])
        self.projects = Resource[Project](self.requestor, RESOURCES["projects"])
        self.work_orders = Resource[WorkOrder](self.requestor, RESOURCES["work_orders"])
        self.activities = Resource[Activity](self.requestor, RESOURCES["activities"])
        self.roles = Resource[Role](self.requestor, RESOURCES["roles"])
        self.assets = Resource[Asset](self.requestor, RESOURCES["assets"])
        self.timesheets = Timesheets(self.requestor)

    def __repr__(self) -> str:
        return f"AssignarClient({self.requestor!r})"

    def close(self) -> None:
        self.requestor.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
