"""The Assignar records we read and write, one service per entity over the shared `Requestor`.

Entities in the users' words: `workers`, `clients`, `projects`, `work_orders`, `activities`, `roles`, `assets`,
`timesheets`; each says where it lives in the API and which of its fields find a create whose answer was lost.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from intacct_assignar.assignar.envelope import Envelope
from intacct_assignar.assignar.errors import TimesheetNotApprovedError, ValidationError
from intacct_assignar.assignar.models import (
    APPROVED_STATUSES,
    Activity,
    Asset,
    AssignarRecord,
    Client,
    EmploymentType,
    Project,
    Role,
    Timesheet,
    UserType,
    Worker,
    WorkOrder,
    assignar_time,
)
from intacct_assignar.assignar.requestor import FILTER_OPERATORS, FilterValue, LandedLookup, Requestor, query_value

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=AssignarRecord)


@dataclass(frozen=True)
class ResourceInfo:
    """Where an entity lives in the API and which of its fields identify a record we created."""

    name: str
    path: str
    model: type[AssignarRecord]
    # Tried in order to find a create whose answer was lost; each is unique in Assignar or in our data.
    lookup_keys: tuple[str, ...] = ()
    # The published operation paths end in "/" for some collections (`/clients/`, `/projects/`).
    collection_slash: bool = False
    # Fields the published PUT body schema marks required. Assignar applies a PUT partially, but to stay
    # within the published schema an update always carries them (read from the record when not given).
    update_requires: tuple[str, ...] = ()

    @property
    def collection(self) -> str:
        return self.path + ("/" if self.collection_slash else "")

    @property
    def filterable(self) -> frozenset[str]:
        """Top-level fields of the record: the only fields Assignar documents as filters."""
        return frozenset(self.model.model_fields)


RESOURCES: dict[str, ResourceInfo] = {
    info.name: info
    for info in (
        ResourceInfo("workers", "users", Worker, ("integration_id", "employee_id")),
        ResourceInfo("user_types", "user-types", UserType),
        ResourceInfo("employment_types", "employment-types", EmploymentType, ("name",), update_requires=("name",)),
        ResourceInfo(
            "clients",
            "clients",
            Client,
            ("integration_id", "external_id"),
            collection_slash=True,
            update_requires=("name", "company_name"),
        ),
        ResourceInfo("projects", "projects", Project, ("integration_id", "external_id"), collection_slash=True),
        ResourceInfo(
            "work_orders",
            "orders",
            WorkOrder,
            ("integration_id",),
            update_requires=("client_id", "order_owner", "start_date", "end_date"),
        ),
        ResourceInfo(
            "activities", "activities", Activity, ("integration_id", "external_id"), update_requires=("name",)
        ),
        ResourceInfo("roles", "tasks", Role, ("integration_id", "external_id"), update_requires=("name",)),
        ResourceInfo("assets", "assets", Asset, ("integration_id", "external_id"), update_requires=("name",)),
    )
}


class Resource(Generic[T]):
    """List (all pages), filter, index, read, create and partially update one kind of Assignar record.

    Writes take the fields to set by Assignar's names: the payload builders type them (`models.ClientFields`
    and its kin), while the upsert, written once for every entity, sends whichever fields it found changed.
    """

    def __init__(self, requestor: Requestor, info: ResourceInfo) -> None:
        self._requestor = requestor
        self.info = info

    def __repr__(self) -> str:
        return f"Resource({self.info.name!r}, path={self.info.collection!r})"

    def pages(
        self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id", page_size: int | None = None
    ) -> Iterator[builtins.list[T]]:
        """Every page of records matching `filters` (`{"active": True, "external_id__in": [...]}`), in `sort` order.

        Sorted by id (the default), pages are read by keyset, which no quiet cap on page sizes and no record
        leaving the filter meanwhile can trip up (see `Requestor.pages`); any other sort by page number.
        """
        params = self._filter_params(filters or {})
        self._check_sort(sort)
        return self._requestor.pages(
            self.info.collection, params, self._parse, sort=sort, page_size=page_size, name=self.info.name
        )

    def list(self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id") -> list[T]:
        return [record for page in self.pages(filters, sort=sort) for record in page]

    def index_by(self, key: str, values: Iterable[str] | None = None) -> dict[str, T]:
        """Records by `key` (integration_id, external_id, employee_id...), for the given values or for all.

        With values, they go as `key__in` filters, at most `in_filter_size` a call and few enough that the
        request URL stays under `max_url_length`: a few list calls instead of one GET per record. A value
        containing a comma (the `__in` separator) is looked up on its own as `key=value`. Records without the
        key are left out; when two share a value the lowest id is kept.
        """
        if values is None:
            return self._index(key, self.list())
        wanted = sorted({value for value in values if value})
        found: list[T] = []
        plain = [value for value in wanted if "," not in value]
        for chunk in self._requestor.in_chunks(self.info.collection, key, plain):
            missing = set(chunk)
            for page in self.pages({f"{key}__in": chunk}):
                found.extend(page)
                missing.difference_update(str(getattr(record, key, "")) for record in page)
                if not missing:
                    # Every value is found, and pages come in id order: further pages could only hold newer
                    # records sharing a value, which the index ignores anyway. Saves the closing empty page.
                    break
        for value in (value for value in wanted if "," in value):
            found.extend(self.list({key: value}))
        return self._index(key, found)

    def find_by(self, key: str, value: str) -> T | None:
        """The record whose `key` equals `value` (the oldest, if several share it), or None. One list call."""
        first_page = next(self.pages({key: value}, page_size=1), [])
        return first_page[0] if first_page else None

    def get(self, record_id: int) -> T:
        return self._parse(self._requestor.call("GET", f"{self.info.path}/{record_id}").record)

    def create(self, payload: Mapping[str, object]) -> T:
        """Create a record. If the answer is lost, Assignar is searched by the payload's keys before any resend."""
        body = dict(payload)
        envelope = self._requestor.call("POST", self.info.collection, json=body, landed=self._lookup_for(body))
        return self._parse(envelope.record)

    def update(self, record_id: int, payload: Mapping[str, object]) -> None:
        """Change only the fields in `payload` (Assignar's PUT leaves the others as they are).

        Fields the published schema requires on PUT are added from the current record when missing, at the
        cost of one GET; callers that have them (a full mapped record) should send them.
        """
        body = dict(payload)
        missing = [name for name in self.info.update_requires if name not in body]
        if missing:
            current = self._requestor.call("GET", f"{self.info.path}/{record_id}").record
            body = {name: current[name] for name in missing if current.get(name) is not None} | body
        self._requestor.call("PUT", f"{self.info.path}/{record_id}", json=body)

    def _lookup_for(self, body: Mapping[str, object]) -> LandedLookup | None:
        for key in self.info.lookup_keys:
            value = body.get(key)
            if isinstance(value, str) and value:

                def find(key: str = key, value: str = value) -> Envelope | None:
                    found = self.find_by(key, value)
                    return None if found is None else Envelope(status=201, data=found.model_dump(exclude_unset=True))

                return LandedLookup(key, value, find)
        return None

    def _parse(self, row: Mapping[str, Any]) -> T:
        # info.model is the class T stands for; ResourceInfo is not generic so the registry can hold them all.
        return cast(T, self.info.model.model_validate(row))

    def _filter_params(self, filters: Mapping[str, FilterValue]) -> dict[str, str]:
        params: dict[str, str] = {}
        for name, value in filters.items():
            field, _, operator = name.partition("__")
            if field not in self.info.filterable:
                raise ValueError(f"{self.info.name} cannot be filtered by {field!r}: not a top-level field")
            if operator and operator not in FILTER_OPERATORS:
                raise ValueError(f"{operator!r} is not an Assignar filter operator (in {name!r})")
            params[name] = query_value(value)
        return params

    def _check_sort(self, sort: str) -> None:
        for field in sort.split(","):
            if field.lstrip("-") not in self.info.filterable:
                raise ValueError(f"{self.info.name} cannot be sorted by {field!r}: not a top-level field")

    def _index(self, key: str, records: Iterable[T]) -> dict[str, T]:
        index: dict[str, T] = {}
        for record in sorted(records, key=lambda r: r.id):
            value = getattr(record, key, None)
            if value is None or value == "":
                continue
            kept = index.setdefault(str(value), record)
            if kept is not record:
                logger.warning(
                    "two Assignar records share a key; keeping the older",
                    extra={"resource": self.info.name, "key": key, "kept_id": kept.id, "ignored_id": record.id},
                )
        return index


TIMESHEETS = ResourceInfo("timesheets", "timesheets-expanded", Timesheet)


class Timesheets:
    """Read timesheets with their labor and equipment entries, and mark them processed once posted."""

    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor
        self._expanded = Resource[Timesheet](requestor, TIMESHEETS)

    def pages(
        self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id", page_size: int | None = None
    ) -> Iterator[builtins.list[Timesheet]]:
        """Timesheets page by page (see `Resource.pages`): process each page before the next is read."""
        return self._expanded.pages(filters, sort=sort, page_size=page_size)

    def list(self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id") -> builtins.list[Timesheet]:
        return self._expanded.list(filters, sort=sort)

    def approved_unprocessed(self, *, modified_since: datetime | str | None = None) -> builtins.list[Timesheet]:
        """Approved timesheets not yet marked processed, optionally only those modified since a time."""
        return [
            timesheet for page in self.approved_unprocessed_pages(modified_since=modified_since) for timesheet in page
        ]

    def approved_unprocessed_pages(
        self, *, modified_since: datetime | str | None = None
    ) -> Iterator[builtins.list[Timesheet]]:
        """Approved timesheets not yet marked processed, page by page in id order; with `modified_since`, only those
        Assignar changed at or after it (`modified_time__gte`, the documented `gte` operator on a top-level field).

        A datetime is sent as Assignar writes its own times (UTC, milliseconds, Z); a string as given.
        """
        filters: dict[str, FilterValue] = {"status__in": list(APPROVED_STATUSES), "processed_at__is": None}
        if modified_since:
            since = modified_since if isinstance(modified_since, str) else assignar_time(modified_since)
            filters["modified_time__gte"] = since
        return self.pages(filters)

    def get(self, timesheet_id: int) -> Timesheet:
        return self._expanded.get(timesheet_id)

    def get_many(self, timesheet_ids: Iterable[int]) -> dict[int, Timesheet]:
        """Several timesheets by id in as few list calls as the URL allows; ids Assignar does not have are absent."""
        found = self._expanded.index_by("id", (str(timesheet_id) for timesheet_id in timesheet_ids))
        return {timesheet.id: timesheet for timesheet in found.values()}

    def mark_processed(self, timesheet_id: int) -> bool:
        """Mark the timesheet processed in Assignar. False when it already was (so a repeat is harmless).

        Assignar answers 400 both when the timesheet is already processed and when it is not approved, in words
        it does not publish; so on a 400 the timesheet is read and its own `processed_at` and `status` decide.
        Raises `TimesheetNotApprovedError` (naming the status) when it is not approved.
        """
        try:
            self._requestor.call("PUT", f"timesheets/{timesheet_id}/process")
        except ValidationError as refused:
            timesheet = self.get(timesheet_id)
            if timesheet.is_processed:
                return False
            if not timesheet.is_approved:
                raise TimesheetNotApprovedError(
                    f"timesheet {timesheet_id} cannot be marked processed: its status is {timesheet.status!r}, "
                    f"not one of {', '.join(APPROVED_STATUSES)}",
                    timesheet_id=timesheet_id,
                    timesheet_status=timesheet.status,
                    method=refused.method,
                    path=refused.path,
                    status=refused.status,
                    assignar_message=refused.assignar_message,
                ) from refused
            raise
        return True
