"""The Assignar public API v2 transport: every call authenticated, paced, retried and counted; lists read page by page.

What to ask for is the resources' (`resources.py`); how to ask, and what a lost answer means, is this module's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar
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
    TransportError,
    error_for_response,
)
from intacct_assignar.assignar.models import AssignarRecord
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

R = TypeVar("R", bound=AssignarRecord)


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


class RequestorOptions(TypedDict, total=False):
    """How a `Requestor` behaves; `AssignarClient` takes the same keywords and hands them on."""

    http: httpx.Client | None
    transport: httpx.BaseTransport | None
    timeout_s: float
    answer_limits: AnswerLimits
    retry: RetryPolicy | None
    requests_per_second: float | None
    page_size: int
    in_filter_size: int
    max_url_length: int
    token_refresh_margin_s: float
    clock: Clock
    sleep: Sleep
    counter: CallCounter | None


class Requestor:
    """Talks to one Assignar tenant. Thread-safe; the resources of one `AssignarClient` share it.

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
        self.requests_per_second = requests_per_second or None  # the pace kept, None for none
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

    def __repr__(self) -> str:
        return f"Requestor(api_url={self.api_url!r}, tokens={self._tokens!r})"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

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

    def pages(
        self,
        collection: str,
        params: Mapping[str, str],
        parse: Callable[[Mapping[str, Any]], R],
        *,
        sort: str,
        page_size: int | None = None,
        name: str,
    ) -> Iterator[list[R]]:
        """Every page of `collection` matching `params`, in `sort` order, each row read by `parse`.

        Sorted by id, pages are read by keyset: each asks for ids above the last one seen (`id__gt`, a
        documented operator on a top-level field), until a page comes back empty. Nothing is inferred from a
        short page, so a server that quietly caps `page_size` cannot truncate the list, and records leaving the
        filter meanwhile (a timesheet another run marks processed) cannot shift later records out of reach. Any
        other sort is read by page number, also until an empty page. `name` says what is listed, in errors.
        """
        size = page_size or self.page_size
        if sort == "id":
            return self._keyset_pages(collection, dict(params), parse, size, name)
        return self._numbered_pages(collection, dict(params), parse, size, sort, name)

    def _keyset_pages(
        self, collection: str, params: dict[str, str], parse: Callable[[Mapping[str, Any]], R], size: int, name: str
    ) -> Iterator[list[R]]:
        floor = params.pop("id__gt", None)
        last = int(floor) if floor is not None else None
        while True:
            query = {**params, "page": "1", "page_size": str(size), "sort": "id"}
            if last is not None:
                query["id__gt"] = str(last)
            rows = [parse(row) for row in self.call("GET", collection, params=query).rows]
            if not rows:
                return
            ids = [row.id for row in rows]
            if ids != sorted(ids) or (last is not None and ids[0] <= last):
                # Keyset paging relies on both; a server honouring neither would be read forever or skip records.
                raise ServerError(
                    f"Assignar answered a page of {name} after id {last} with ids {ids[:5]}...: "
                    "it ignored the id sort or the id__gt filter",
                    method="GET",
                    path=collection,
                )
            yield rows
            last = ids[-1]

    def _numbered_pages(
        self,
        collection: str,
        params: dict[str, str],
        parse: Callable[[Mapping[str, Any]], R],
        size: int,
        sort: str,
        name: str,
    ) -> Iterator[list[R]]:
        # `count` is not used to stop: Assignar does not define it, and the spec's own examples contradict it
        # (a list of one asset with `count: 0`). A short page is not the end either: the server may cap sizes.
        page = 1
        previous: list[int] = []
        while True:
            envelope = self.call(
                "GET", collection, params={**params, "page": str(page), "page_size": str(size), "sort": sort}
            )
            rows = [parse(row) for row in envelope.rows]
            if not rows:
                return
            ids = [row.id for row in rows]
            if ids == previous:
                # A server that ignores `page` would otherwise be read forever.
                raise ServerError(
                    f"Assignar answered page {page} of {name} with the previous page again",
                    method="GET",
                    path=collection,
                )
            yield rows
            previous = ids
            page += 1

    def in_chunks(self, collection: str, key: str, values: Sequence[str]) -> Iterator[list[str]]:
        """`values` in runs of at most `in_filter_size` whose request URL, paging included, fits `max_url_length`."""
        # The longest URL a page of this filter can have without the values: paging and keyset parameters at
        # their widest.
        widest = {f"{key}__in": "", "id__gt": "9" * 19, "page": "9" * 9, "page_size": str(self.page_size)}
        fixed = len(str(httpx.URL(f"{self.api_url}/{collection}", params={**widest, "sort": "id"})))
        budget = self.max_url_length - fixed
        separator = _encoded_length(",")
        chunk: list[str] = []
        used = 0
        for value in values:
            cost = _encoded_length(value) + (separator if chunk else 0)
            if chunk and (len(chunk) >= self.in_filter_size or used + cost > budget):
                yield chunk
                chunk, used, cost = [], 0, _encoded_length(value)
            if cost > budget:
                raise ValueError(
                    f"{key} value {value[:60]!r}... is too long for one request URL "
                    f"({self.max_url_length} characters at most)"
                )
            chunk.append(value)
            used += cost
        if chunk:
            yield chunk


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
