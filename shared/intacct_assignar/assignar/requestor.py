"""The Assignar public API v2 client: authenticated, paced, retried and counted calls, one typed resource per entity.

Entities in the users' words: `workers`, `clients`, `projects`, `work_orders`, `activities`, `roles`, `assets`.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast
from urllib.parse import urlsplit

import httpx

from intacct_assignar.answers import MB, Answer, AnswerLimits, UnusableAnswerError, read_answer
from intacct_assignar.assignar.auth import TokenProvider
from intacct_assignar.assignar.envelope import Envelope, parse_envelope
from intacct_assignar.assignar.errors import (
    AssignarError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TimesheetNotApprovedError,
    TransportError,
    ValidationError,
    error_for_response,
)
from intacct_assignar.assignar.models import (
    APPROVED_STATUSES,
    Activity,
    ActivityFields,
    AssetFields,
    AssignarRecord,
    Client,
    ClientFields,
    EmploymentType,
    EmploymentTypeFields,
    Project,
    ProjectFields,
    Role,
    RoleFields,
    Timesheet,
    UserType,
    Worker,
    WorkerFields,
    WorkOrder,
    WorkOrderFields,
)
from intacct_assignar.assignar.models import Asset as AssetModel
from intacct_assignar.assignar.resilience import CallCounter, Clock, RateLimiter, RetryPolicy, Sleep, parse_retry_after
from intacct_assignar.settings import AssignarSettings

logger = logging.getLogger(__name__)

# The filter operators Assignar documents ("Advanced Filtering" in the API description): `field__op=value`.
FILTER_OPERATORS = frozenset(
    {
        "gt",
        "gte",
        "lt",
        "lte",
        "ne",
        "is",
        "not",
        "in",
        "not_in",
        "substring",
        "starts_with",
        "ends_with",
        "between",
        "not_between",
        "col",
        "ne_col",
        "gt_col",
        "lt_col",
        "gte_col",
        "lte_col",
    }
)
FilterValue = str | int | float | bool | None | Sequence[str | int]

# Assignar's pages (`page_size` records of JSON) run to a few MB at most: these caps leave a wide margin and keep
# one answer well inside a 512 MB Lambda. The deadline covers a whole answer, however slowly it trickles in.
ASSIGNAR_ANSWER_LIMITS = AnswerLimits(max_wire_bytes=16 * MB, max_decoded_bytes=32 * MB, deadline_s=60.0)

T = TypeVar("T", bound=AssignarRecord)
P = TypeVar("P", bound=Mapping[str, object])


def query_value(value: FilterValue) -> str:
    """A filter value as Assignar's query string spells it: lists comma-separated, booleans and null in lowercase.

    A list item containing a comma is refused: Assignar would read it as two values.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    items = [str(item) for item in value]
    for item in items:
        if "," in item:
            raise ValueError(
                f"the list filter value {item!r} contains a comma, which Assignar reads as a separator between "
                "values; look it up on its own (field=value)"
            )
    return ",".join(items)


def _encoded_length(value: str) -> int:
    """How many characters `value` takes in a query string once percent-encoded (as httpx sends it)."""
    return len(str(httpx.QueryParams({"": value}))) - 1


class AssignarClient:
    """Talks to one Assignar tenant. Thread-safe; reuse one per process and close it (or use `with`).

    `client.workers.index_by("employee_id", ids)`, `client.clients.create({...})`, `client.timesheets.get(id)`.

    `requests_per_second` paces every call (Assignar publishes no limit; stay polite). `page_size` is what
    each list call asks for; a server that returns fewer is still read to the end. `in_filter_size` and
    `max_url_length` bound each `__in` lookup (Assignar publishes no URL limit; 4,000 characters passes common
    gateways). `answer_limits` caps each answer, the token's included (see `answers.py`). `transport` or `http`
    inject a test double; `clock`/`sleep` make backoff testable without waiting.
    """

    def __init__(
        self,
        settings: AssignarSettings,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 30.0,
        answer_limits: AnswerLimits = ASSIGNAR_ANSWER_LIMITS,
        retry: RetryPolicy | None = None,
        requests_per_second: float | None = 8.0,
        page_size: int = 500,
        in_filter_size: int = 200,
        max_url_length: int = 4000,
        token_refresh_margin_s: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        counter: CallCounter | None = None,
    ) -> None:
        if page_size < 1 or in_filter_size < 1:
            raise ValueError("page_size and in_filter_size must be positive")
        self._owns_http = http is None
        self._http = http or httpx.Client(transport=transport, timeout=timeout_s)
        self._answer_limits = answer_limits
        self.api_url = str(settings.api_url).rstrip("/")
        self._retry = retry or RetryPolicy()
        self._limiter = RateLimiter(requests_per_second, clock=clock, sleep=sleep)
        self._sleep = sleep
        self.page_size = page_size
        self.in_filter_size = in_filter_size
        self.max_url_length = max_url_length
        self.calls = counter or CallCounter()
        self._tokens = TokenProvider(
            self._http,
            token_url=str(settings.token_url),
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            refresh_margin_s=token_refresh_margin_s,
            clock=clock,
            counter=self.calls,
            answer_limits=answer_limits,
        )
        self.workers = Resource[Worker, WorkerFields](self, RESOURCES["workers"])
        self.user_types = Resource[UserType, Mapping[str, object]](self, RESOURCES["user_types"])
        self.employment_types = Resource[EmploymentType, EmploymentTypeFields](self, RESOURCES["employment_types"])
        self.clients = Resource[Client, ClientFields](self, RESOURCES["clients"])
        self.projects = Resource[Project, ProjectFields](self, RESOURCES["projects"])
        self.work_orders = Resource[WorkOrder, WorkOrderFields](self, RESOURCES["work_orders"])
        self.activities = Resource[Activity, ActivityFields](self, RESOURCES["activities"])
        self.roles = Resource[Role, RoleFields](self, RESOURCES["roles"])
        self.assets = Resource[AssetModel, AssetFields](self, RESOURCES["assets"])
        self.timesheets = Timesheets(self)

    def __repr__(self) -> str:
        return f"AssignarClient(api_url={self.api_url!r}, tokens={self._tokens!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, object] | None = None,
        landed: LandedLookup | None = None,
    ) -> Envelope:
        """One API call with pacing, one token refresh on 401, and backoff on 429/5xx/lost connections.

        GET and PUT are retried, and so is fetching the token they need. A POST is retried only when Assignar
        cannot have acted on it (429, connection refused, no token yet); when it may have landed (5xx, timeout,
        dropped connection) `landed` is searched first and its record returned if found. A POST that may have
        landed never ends in a retryable error: when retries run out, or a resend hits a unique-constraint error
        on the key we sent, `landed` is searched once more and the record returned, else `OutcomeUnknownError`.
        Without `landed` such a POST is never repeated.
        """
        method = method.upper()
        attempt = 0
        refreshed = False
        may_have_landed = False  # whether any attempt of this POST may have been stored
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                bearer = self._tokens.bearer()
            except (RateLimitedError, ServerError, TransportError) as token_error:
                # The token endpoint failed: the API request was never sent, and asking again is harmless.
                error: AssignarError = token_error
                retry_after = token_error.retry_after_s if isinstance(token_error, RateLimitedError) else None
                sent = False
            else:
                sent = True
                try:
                    response = self._send(method, path, params, json, bearer)
                except httpx.TransportError as exc:
                    error = _transport_error(exc, method, path)
                except UnusableAnswerError as exc:
                    # Too big, too slow or unreadable: Assignar answered, so the request may have landed.
                    error = TransportError(
                        str(exc), method=method, path=path, status=exc.http_status, may_have_landed=True
                    )
                else:
                    if response.status_code == 401 and not refreshed:
                        # Tokens can be revoked or expire early; one fresh token is worth one more try.
                        refreshed = True
                        attempt -= 1
                        self._tokens.invalidate()
                        continue
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    try:
                        if response.is_success:
                            return parse_envelope(response.status_code, response.content, method=method, path=path)
                        error = error_for_response(
                            response.status_code, response.content, method=method, path=path, retry_after_s=retry_after
                        )
                    except RecursionError:
                        # JSON nested deeper than Python's recursion limit: hostile or broken, never Assignar's.
                        error = ServerError(
                            "Assignar answered with JSON nested too deeply to read",
                            method=method,
                            path=path,
                            status=response.status_code,
                        )
            landed_now = method == "POST" and sent and _may_have_landed(error)
            may_have_landed = may_have_landed or landed_now
            if method == "POST" and may_have_landed:
                if landed is None:
                    raise OutcomeUnknownError(
                        "the create may have reached Assignar and the payload has no key to check it by, "
                        f"so it was not sent again; what came back: {error.args[0]}",
                        method=method,
                        path=path,
                        status=error.status,
                    ) from error
                if not _is_transient(error) or not self._retry.should_retry(attempt):
                    # Out of retries, or refused (a unique-constraint error on our own key means an earlier
                    # attempt is stored): the record is there or we cannot know; never a retryable error.
                    return self._find_landed(landed, error, method, path)
            elif not _is_transient(error) or not self._retry.should_retry(attempt):
                if _is_transient(error):
                    # Said to people as "Assignar at HOST did not answer after N tries".
                    host = urlsplit(error.path).hostname or urlsplit(self.api_url).hostname  # the token URL is absolute
                    error.host, error.attempts = host, attempt
                raise error
            delay = self._retry.delay_s(attempt, retry_after)
            logger.warning(
                "Assignar call failed, retrying",
                extra={"method": method, "path": path, "attempt": attempt, "delay_s": round(delay, 3)}
                | {"error": str(error)},
            )
            self._sleep(delay)
            if landed is not None and landed_now:
                # Look before resending: the wait above also gives Assignar time to finish the write.
                found = self._look(landed, error, method, path)
                if found is not None:
                    logger.info("Assignar had created the record before failing", extra={"path": path})
                    return found

    def _find_landed(self, landed: LandedLookup, error: AssignarError, method: str, path: str) -> Envelope:
        """The record an earlier attempt of this create stored, or OutcomeUnknownError."""
        found = self._look(landed, error, method, path)
        if found is not None:
            logger.info("Assignar had created the record before failing", extra={"path": path})
            return found
        raise OutcomeUnknownError(
            f"the create may have reached Assignar, but no record with {landed.description} was found after: {error}",
            method=method,
            path=path,
            status=error.status,
            assignar_message=error.assignar_message,
        ) from error

    def _look(self, landed: LandedLookup, error: AssignarError, method: str, path: str) -> Envelope | None:
        try:
            return landed.find()
        except AssignarError as lookup_error:
            # The lookup has its own retries; if it still fails we cannot tell whether the create landed.
            raise OutcomeUnknownError(
                f"the create may have reached Assignar and looking for {landed.description} failed "
                f"({lookup_error}), so it was not sent again",
                method=method,
                path=path,
                status=error.status,
            ) from lookup_error

    def _send(
        self, method: str, path: str, params: Mapping[str, str] | None, json: Mapping[str, object] | None, bearer: str
    ) -> Answer:
        self._limiter.acquire()
        self.calls.record(method, path.strip("/").split("/", 1)[0])
        request = self._http.build_request(
            method,
            f"{self.api_url}/{path.lstrip('/')}",
            params=dict(params) if params else None,
            json=dict(json) if json is not None else None,
            # Assignar's documentation asks for the JSON content type on every request, bodies or not.
            headers={
                "Authorization": f"Bearer {bearer}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )
        return read_answer(self._http, request, service="Assignar", limits=self._answer_limits)


@dataclass(frozen=True)
class LandedLookup:
    """How to find a create whose answer was lost: by the first lookup key its payload carries."""

    key: str
    value: str
    find: Callable[[], Envelope | None]

    @property
    def description(self) -> str:
        return f"{self.key}={self.value!r}"


def _transport_error(exc: httpx.TransportError, method: str, path: str) -> TransportError:
    # Only a refused or timed-out connection proves the request never left; anything later may have landed.
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    return TransportError(
        f"no answer from Assignar: {type(exc).__name__}", method=method, path=path, may_have_landed=not never_sent
    )


def _is_transient(error: AssignarError) -> bool:
    return isinstance(error, RateLimitedError | ServerError | TransportError)


def _may_have_landed(error: AssignarError) -> bool:
    if isinstance(error, TransportError):
        return error.may_have_landed
    return isinstance(error, ServerError)


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
        ResourceInfo("assets", "assets", AssetModel, ("integration_id", "external_id"), update_requires=("name",)),
    )
}


class Resource(Generic[T, P]):
    """List (all pages), filter, index, read, create and partially update one kind of Assignar record."""

    def __init__(self, client: AssignarClient, info: ResourceInfo) -> None:
        self._client = client
        self.info = info

    def __repr__(self) -> str:
        return f"Resource({self.info.name!r}, path={self.info.collection!r})"

    def pages(
        self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id", page_size: int | None = None
    ) -> Iterator[list[T]]:
        """Every page of records matching `filters` (`{"active": True, "external_id__in": [...]}`), in `sort` order.

        Sorted by id (the default), pages are read by keyset: each asks for ids above the last one seen
        (`id__gt`, a documented operator on a top-level field), until a page comes back empty. Nothing is
        inferred from a short page, so a server that quietly caps `page_size` cannot truncate the list, and
        records leaving the filter meanwhile (a timesheet another run marks processed) cannot shift later
        records out of reach. Any other sort is read by page number, also until an empty page.
        """
        size = page_size or self._client.page_size
        params = self._filter_params(filters or {})
        self._check_sort(sort)
        if sort == "id":
            return self._keyset_pages(params, size)
        return self._numbered_pages(params, size, sort)

    def _keyset_pages(self, params: dict[str, str], size: int) -> Iterator[list[T]]:
        floor = params.pop("id__gt", None)
        last = int(floor) if floor is not None else None
        while True:
            query = {**params, "page": "1", "page_size": str(size), "sort": "id"}
            if last is not None:
                query["id__gt"] = str(last)
            rows = [self._parse(row) for row in self._client.call("GET", self.info.collection, params=query).rows]
            if not rows:
                return
            ids = [row.id for row in rows]
            if ids != sorted(ids) or (last is not None and ids[0] <= last):
                # Keyset paging relies on both; a server honouring neither would be read forever or skip records.
                raise ServerError(
                    f"Assignar answered a page of {self.info.name} after id {last} with ids {ids[:5]}...: "
                    "it ignored the id sort or the id__gt filter",
                    method="GET",
                    path=self.info.collection,
                )
            yield rows
            last = ids[-1]

    def _numbered_pages(self, params: dict[str, str], size: int, sort: str) -> Iterator[list[T]]:
        # `count` is not used to stop: Assignar does not define it, and the spec's own examples contradict it
        # (a list of one asset with `count: 0`). A short page is not the end either: the server may cap sizes.
        page = 1
        previous: list[int] = []
        while True:
            envelope = self._client.call(
                "GET",
                self.info.collection,
                params={**params, "page": str(page), "page_size": str(size), "sort": sort},
            )
            rows = [self._parse(row) for row in envelope.rows]
            if not rows:
                return
            ids = [row.id for row in rows]
            if ids == previous:
                # A server that ignores `page` would otherwise be read forever.
                raise ServerError(
                    f"Assignar answered page {page} of {self.info.name} with the previous page again",
                    method="GET",
                    path=self.info.collection,
                )
            yield rows
            previous = ids
            page += 1

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
        for chunk in self._in_chunks(key, [value for value in wanted if "," not in value]):
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

    def _in_chunks(self, key: str, values: Sequence[str]) -> Iterator[builtins.list[str]]:
        """`values` in runs of at most `in_filter_size` whose request URL, paging included, fits `max_url_length`."""
        client = self._client
        # The longest URL a page of this filter can have without the values: paging and keyset parameters at
        # their widest.
        widest = {f"{key}__in": "", "id__gt": "9" * 19, "page": "9" * 9, "page_size": str(client.page_size)}
        fixed = len(str(httpx.URL(f"{client.api_url}/{self.info.collection}", params={**widest, "sort": "id"})))
        budget = client.max_url_length - fixed
        separator = _encoded_length(",")
        chunk: list[str] = []
        used = 0
        for value in values:
            cost = _encoded_length(value) + (separator if chunk else 0)
            if chunk and (len(chunk) >= client.in_filter_size or used + cost > budget):
                yield chunk
                chunk, used, cost = [], 0, _encoded_length(value)
            if cost > budget:
                raise ValueError(
                    f"{key} value {value[:60]!r}... is too long for one request URL "
                    f"({client.max_url_length} characters at most)"
                )
            chunk.append(value)
            used += cost
        if chunk:
            yield chunk

    def find_by(self, key: str, value: str) -> T | None:
        """The record whose `key` equals `value` (the oldest, if several share it), or None. One list call."""
        first_page = next(self.pages({key: value}, page_size=1), [])
        return first_page[0] if first_page else None

    def get(self, record_id: int) -> T:
        return self._parse(self._client.call("GET", f"{self.info.path}/{record_id}").record)

    def create(self, payload: P) -> T:
        """Create a record. If the answer is lost, Assignar is searched by the payload's keys before any resend."""
        body = dict(payload)
        envelope = self._client.call("POST", self.info.collection, json=body, landed=self._lookup_for(body))
        return self._parse(envelope.record)

    def update(self, record_id: int, payload: P) -> None:
        """Change only the fields in `payload` (Assignar's PUT leaves the others as they are).

        Fields the published schema requires on PUT are added from the current record when missing, at the
        cost of one GET; callers that have them (a full mapped record) should send them.
        """
        body = dict(payload)
        missing = [name for name in self.info.update_requires if name not in body]
        if missing:
            current = self._client.call("GET", f"{self.info.path}/{record_id}").record
            body = {name: current[name] for name in missing if current.get(name) is not None} | body
        self._client.call("PUT", f"{self.info.path}/{record_id}", json=body)

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

    def __init__(self, client: AssignarClient) -> None:
        self._client = client
        self._expanded = Resource[Timesheet, Mapping[str, object]](client, TIMESHEETS)

    def pages(
        self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id", page_size: int | None = None
    ) -> Iterator[builtins.list[Timesheet]]:
        """Timesheets page by page (see `Resource.pages`): process each page before the next is read."""
        return self._expanded.pages(filters, sort=sort, page_size=page_size)

    def list(self, filters: Mapping[str, FilterValue] | None = None, *, sort: str = "id") -> builtins.list[Timesheet]:
        return self._expanded.list(filters, sort=sort)

    def approved_unprocessed(self, *, modified_since: str | None = None) -> builtins.list[Timesheet]:
        """Approved timesheets not yet marked processed, optionally only those modified since an ISO time."""
        filters: dict[str, FilterValue] = {"status__in": list(APPROVED_STATUSES), "processed_at__is": None}
        if modified_since:
            filters["modified_time__gte"] = modified_since
        return self.list(filters)

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
            self._client.call("PUT", f"timesheets/{timesheet_id}/process")
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
