"""Sage Intacct XML gateway client: sessions, one request in flight per company, retries that never re-send writes.

Reads (query, readByQuery/readMore, read) are retried with jittered backoff on rate limits and transient
failures. Writes (create, update, delete, legacy create_*) go out with `uniqueid=true` and the caller's
deterministic function control ID; a write whose answer is lost raises `IntacctOutcomeUnknownError` and is
never re-sent by this client.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from ..answers import MB, AnswerLimits, UnusableAnswerError, read_answer
from ..retry import RetryPolicy, parse_retry_after
from ..settings import IntacctSettings
from . import protocol
from .definitions import ObjectDefinition, parse_lookup
from .errors import (
    IntacctAuthenticationError,
    IntacctBusinessError,
    IntacctConfigurationError,
    IntacctError,
    IntacctOutcomeUnknownError,
    IntacctRateLimitError,
    IntacctTransientError,
)
from .filters import Filter
from .protocol import Function, Login, QuerySpec, Record, Result, SessionAuth
from .values import to_text
from .writes import Write

logger = logging.getLogger(__name__)

MAX_CONTROLID_LENGTH = 256
# Refresh a session this long before Intacct says it times out, so a long pull never meets an expired one.
SESSION_REFRESH_MARGIN_S = 300.0
# When a response carries no sessiontimeout (some do not), trust a session this long before re-reading it.
ASSUMED_SESSION_LIFETIME_S = 1800.0


@dataclass
class IntacctCounters:
    """What this client cost: HTTP requests, and API transactions as Intacct bills them (reference §6.1)."""

    http_requests: int = 0
    api_transactions: int = 0
    sessions_opened: int = 0
    retries: int = 0
    by_function: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "http_requests": self.http_requests,
            "api_transactions": self.api_transactions,
            "sessions_opened": self.sessions_opened,
            "retries": self.retries,
            "by_function": dict(self.by_function),
        }


# Intacct asks for backoff on 429s and Cloudflare pages (reference §2.3): start at a second, cap at a minute.
INTACCT_RETRY = RetryPolicy(max_attempts=5, base_delay_s=1.0, max_delay_s=60.0)

# A full page (1000-2000 records) is 1-3 MB of XML: these caps leave a wide margin and still keep one answer, and
# the dicts parsed from it, well inside a 512 MB Lambda. The deadline for a whole answer is the client's timeout.
INTACCT_MAX_WIRE_BYTES = 32 * MB
INTACCT_MAX_DECODED_BYTES = 64 * MB


@dataclass(frozen=True)
class Session:
    session_id: str = field(repr=False)
    endpoint: str
    expires_at: float  # epoch seconds


class SessionCache(Protocol):
    """Where sessions live between calls: process memory here, a shared store later if it pays."""

    def get(self, key: str) -> Session | None: ...
    def put(self, key: str, session: Session) -> None: ...
    def forget(self, key: str) -> None: ...


class MemorySessionCache:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Session | None:
        with self._lock:
            return self._sessions.get(key)

    def put(self, key: str, session: Session) -> None:
        with self._lock:
            self._sessions[key] = session

    def forget(self, key: str) -> None:
        with self._lock:
            self._sessions.pop(key, None)


# A warm Lambda reuses its process: keep sessions (and the per-company lock) at module level so they survive
# from one invocation to the next.
_DEFAULT_SESSIONS = MemorySessionCache()
_COMPANY_LOCKS: dict[str, threading.Lock] = {}
_COMPANY_LOCKS_GUARD = threading.Lock()


def _company_lock(company_id: str) -> threading.Lock:
    # The standard level of service allows one API transaction job at a time per company (reference §6.1).
    with _COMPANY_LOCKS_GUARD:
        return _COMPANY_LOCKS.setdefault(company_id.lower(), threading.Lock())


@dataclass(frozen=True)
class WriteResult:
    """What Intacct answered for one written record: its RECORDNO and, where given, its ID field."""

    recordno: str | None
    record: Record
    key: str | None = None


class IntacctClient:
    """One Intacct company (and entity) as seen through the XML gateway.

    `timezone` is the company's zone (the tenant's `timezone` setting) and has no default on purpose:
    Intacct timestamps carry no zone, and a wrong guess would shift every change window by hours.
    `answer_limits` caps each answer (see `answers.py`); by default 32 MB on the wire, 64 MB decompressed, and
    `timeout_s` for the whole answer.
    """

    def __init__(
        self,
        settings: IntacctSettings,
        *,
        timezone: str | ZoneInfo,
        http: httpx.Client | None = None,
        sessions: SessionCache | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 120.0,
        answer_limits: AnswerLimits | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        # Timeouts are explicit: a read timeout on a write is an unknown outcome, so it must be bounded.
        self._http = http or httpx.Client(timeout=httpx.Timeout(timeout_s, connect=10.0))
        self._owns_http = http is None
        self._answer_limits = answer_limits or AnswerLimits(
            max_wire_bytes=INTACCT_MAX_WIRE_BYTES, max_decoded_bytes=INTACCT_MAX_DECODED_BYTES, deadline_s=timeout_s
        )
        self._sessions = sessions or _DEFAULT_SESSIONS
        self._retry = retry or INTACCT_RETRY
        self._sleep = sleep
        self._clock = clock
        self._lock = _company_lock(settings.company_id)
        self._function_seq = 0
        self.counters = IntacctCounters()

    # --- lifecycle -----------------------------------------------------------------------------------

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> IntacctClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        s = self.settings
        return f"IntacctClient(company={s.company_id!r}, entity={s.entity_id!r}, user={s.user_id!r})"

    def connect(self) -> None:
        """Open a session now (if none is cached and fresh), so that login problems surface before any work."""
        self._session()

    # --- reads ---------------------------------------------------------------------------------------

    def query(
        self,
        object_name: str,
        select: Sequence[str],
        *,
        filter: Filter | None = None,
        orderby: Sequence[tuple[str, bool]] = (),
        pagesize: int = protocol.MAX_QUERY_PAGESIZE,
        offset: int = 0,
        case_insensitive: bool = False,
        docparid: str | None = None,
    ) -> Result:
        """One page of a `query`: records plus totalcount/numremaining."""
        function = protocol.query(
            object_name,
            select,
            controlid=self._next_controlid("query"),
            filter=filter,
            orderby=orderby,
            pagesize=pagesize,
            offset=offset,
            case_insensitive=case_insensitive,
            docparid=docparid,
        )
        return self.execute([function])[0].raise_for_status()

    def query_batch(self, queries: Sequence[QuerySpec]) -> list[Result]:
        """Several first pages of `query` in one request (one HTTP round trip; each still one API transaction).

        Results come back in order and unchecked: one failing query must not hide the answers of the others.
        """
        functions = [
            protocol.query(
                spec.object_name,
                spec.select,
                controlid=self._next_controlid("query"),
                filter=spec.filter,
                pagesize=spec.pagesize,
                docparid=spec.docparid,
            )
            for spec in queries
        ]
        return self.execute(functions) if functions else []

    def lookup_batch(self, object_names: Sequence[str | tuple[str, str]]) -> list[Result]:
        """Several objects' `lookup` in one request (one HTTP round trip; each still one API transaction).

        An item is an object name, or (object name, transaction definition) for a transaction object's `docparid`.
        Results come back in order and unchecked (read each with `definitions.parse_lookup`): one object Intacct
        refuses must not hide the others' definitions.
        """
        named = [(item, None) if isinstance(item, str) else item for item in object_names]
        functions = [
            protocol.lookup(name, docparid=docparid, controlid=self._next_controlid("lookup"))
            for name, docparid in named
        ]
        return self.execute(functions) if functions else []

    def read_by_query(
        self, object_name: str, query_text: str, *, fields: Sequence[str] = ("*",), pagesize: int = 1000
    ) -> Iterator[list[Record]]:
        """Pages of a legacy readByQuery, following resultId with readMore until nothing remains.

        An expired resultId raises `IntacctQueryExpiredError`: Intacct cannot resume it, the caller restarts.
        """
        first = protocol.read_by_query(
            object_name, query_text, controlid=self._next_controlid("readByQuery"), fields=fields, pagesize=pagesize
        )
        result = self.execute([first])[0].raise_for_status()
        yield result.records
        while result.numremaining and result.result_id:
            more = protocol.read_more(result.result_id, controlid=self._next_controlid("readMore"))
            result = self.execute([more])[0].raise_for_status()
            yield result.records

    def lookup(self, object_name: str) -> ObjectDefinition:
        """The object's fields and relationships in this company, for this user (one API transaction)."""
        function = protocol.lookup(object_name, controlid=self._next_controlid("lookup"))
        result = self.execute([function])[0].raise_for_status()
        return parse_lookup(object_name, result.raw_data)

    def read(self, object_name: str, keys: Sequence[int | str], *, fields: Sequence[str] = ("*",)) -> list[Record]:
        function = protocol.read(object_name, keys, controlid=self._next_controlid("read"), fields=fields)
        return self.execute([function])[0].raise_for_status().records

    # --- writes --------------------------------------------------------------------------------------

    def create(self, object_name: str, record: Mapping[str, Any], *, controlid: str) -> WriteResult:
        """Create one record; `controlid` must be deterministic for the business event (e.g. the timesheet)."""
        return self._write_one(Write.create(object_name, record, controlid=controlid))

    def update(self, object_name: str, record: Mapping[str, Any], *, controlid: str) -> WriteResult:
        return self._write_one(Write.update(object_name, record, controlid=controlid))

    def delete(self, object_name: str, keys: Sequence[int | str], *, controlid: str) -> None:
        function = protocol.delete(object_name, keys, controlid=_checked(controlid))
        self.execute([function], uniqueid=True)[0].raise_for_status()

    def legacy_create(self, name: str, body: Mapping[str, Any], *, controlid: str) -> WriteResult:
        """A legacy `create_*` function (e.g. create_potransaction) answering with `<key>`."""
        return self._write_one(Write.legacy(name, body, controlid=controlid))

    def write_batch(self, writes: Sequence[Write]) -> list[WriteResult | IntacctBusinessError]:
        """Several writes in one request: one HTTP round trip, one wait for the company's turn.

        Each is its own function under its own control ID with `uniqueid=true`, and the operation is not a
        transaction, so Intacct refusing one costs that one only (reference §5.3): its answer is its error, the
        others' their results, in order. What concerns the whole request raises as for a single write: nothing
        ran (rate limit, unreachable), or the answer was lost (`IntacctOutcomeUnknownError`: any may have run).
        """
        if not writes:
            return []
        results = self.execute([self._function(write) for write in writes], uniqueid=True)
        return [_write_result(result) if result.ok else result.error() for result in results]

    def _write_one(self, write: Write) -> WriteResult:
        answer = self.write_batch([write])[0]
        if isinstance(answer, IntacctBusinessError):
            raise answer
        return answer

    def _function(self, write: Write) -> Function:
        controlid = _checked(write.controlid)
        if write.object_name is None:
            return protocol.legacy(write.function, self._outgoing(write.body), controlid=controlid)
        if write.function not in ("create", "update"):
            raise ValueError(f"a generic write is a create or an update, not {write.function!r}")
        build = protocol.create if write.function == "create" else protocol.update
        return build(write.object_name, [self._outgoing(write.body)], controlid=controlid)

    # --- the request loop ----------------------------------------------------------------------------

    def execute(
        self, functions: Sequence[Function], *, uniqueid: bool = False, transaction: bool = False
    ) -> list[Result]:
        """Send functions in one request over the session and return one `Result` per function, in order.

        Control and authentication failures raise; function failures stay on their `Result`.
        """
        writes = any(f.writes for f in functions)
        relogged = False
        while True:
            session = self._session()
            body = protocol.build_request(
                sender_id=self.settings.sender_id,
                sender_password=self.settings.sender_password.get_secret_value(),
                controlid=uuid.uuid4().hex,
                auth=SessionAuth(session.session_id),
                functions=functions,
                uniqueid=uniqueid,
                transaction=transaction,
            )
            try:
                response = self._send(session.endpoint, body, functions, writes=writes)
            except IntacctAuthenticationError as exc:
                # Sessions can die early (password change, admin logout): log in again once, then give up.
                # Safe for writes too: a refused session means nothing in the request ran.
                if exc.level != "authentication" or relogged:
                    raise
                logger.info("Intacct session refused; logging in again", extra={"errorno": exc.errorno})
                self._sessions.forget(self._session_key)
                relogged = True
                continue
            self._renew(session, response.authentication)
            return response.results

    def _send(self, url: str, body: bytes, functions: Sequence[Function], *, writes: bool) -> protocol.Response:
        """One request, retried with backoff while Intacct says nothing ran (rate limit) or a read failed."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._post(url, body, functions, writes=writes)
            except (IntacctRateLimitError, IntacctTransientError) as exc:
                if not self._retry.should_retry(attempt):
                    # Said to people as "Intacct at HOST did not answer after N tries".
                    exc.host, exc.attempts = urlsplit(url).hostname, attempt
                    raise
                self._back_off(attempt, exc)

    def _post(self, url: str, body: bytes, functions: Sequence[Function], *, writes: bool) -> protocol.Response:
        names = ",".join(f.name for f in functions)
        request = self._http.build_request("POST", url, content=body, headers={"Content-Type": "application/xml"})
        with self._lock:
            try:
                reply = read_answer(self._http, request, service="Intacct", limits=self._answer_limits)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached Intacct: safe to try again, even for a write.
                raise IntacctTransientError(f"could not reach Intacct: {type(exc).__name__}") from exc
            except httpx.TransportError as exc:
                raise self._lost_answer(f"no answer from Intacct: {type(exc).__name__}", writes, None) from exc
            except UnusableAnswerError as exc:
                # Too big, too slow or unreadable: Intacct answered, but not in a way that says what ran.
                self.counters.http_requests += 1
                raise self._lost_answer(str(exc), writes, exc.http_status) from exc
        self.counters.http_requests += 1
        status = reply.status_code
        if status == 429:
            raise IntacctRateLimitError(
                "Intacct rate limit (HTTP 429, GW-0010)",
                http_status=429,
                retry_after_s=parse_retry_after(reply.headers.get("Retry-After")),
            )
        if status == 524:
            # The CDN cut the connection while Intacct went on processing (reference §2.3).
            raise self._lost_answer("Intacct timed out behind its CDN (HTTP 524)", writes, status)
        if status >= 500:
            raise self._lost_answer(f"Intacct server error on {names}", writes, status)
        try:
            response = protocol.parse_response(reply.content, http_status=status)
            protocol.check_results(response.results, functions)
        except protocol.UnreadableAnswerError as exc:
            # An HTML error page, a cut-off body, or results that do not pair with what we sent: we cannot
            # tell what ran.
            raise self._lost_answer(f"Intacct answered with {exc}", writes, status) from exc
        # Only functions Intacct answered ran, and only those are billed (reference §6.1).
        for function in functions:
            self.counters.by_function[function.name] += 1
            self.counters.api_transactions += function.transactions
        return response

    @staticmethod
    def _lost_answer(message: str, writes: bool, status: int | None) -> IntacctError:
        if writes:
            return IntacctOutcomeUnknownError(
                message + "; the write may have been committed: look it up before sending again", http_status=status
            )
        return IntacctTransientError(message, http_status=status)

    def _back_off(self, attempt: int, exc: IntacctError) -> None:
        retry_after = exc.retry_after_s if isinstance(exc, IntacctRateLimitError) else None
        delay = self._retry.delay_s(attempt, retry_after)
        self.counters.retries += 1
        logger.warning("Intacct did not answer usably (%s); trying again in %.1f s", exc.message, delay)
        self._sleep(delay)

    # --- sessions ------------------------------------------------------------------------------------

    @property
    def _session_key(self) -> str:
        s = self.settings
        return "|".join((s.sender_id, s.company_id, s.entity_id or "", s.user_id, str(s.endpoint_url)))

    def _session(self) -> Session:
        session = self._sessions.get(self._session_key)
        if session is not None and session.expires_at - SESSION_REFRESH_MARGIN_S > self._clock():
            return session
        return self._open_session()

    def _open_session(self) -> Session:
        """getAPISession with the login credentials, alone in its request, against the configured endpoint."""
        s = self.settings
        function = protocol.get_api_session(controlid=self._next_controlid("getAPISession"), location_id=s.entity_id)
        body = protocol.build_request(
            sender_id=s.sender_id,
            sender_password=s.sender_password.get_secret_value(),
            controlid=uuid.uuid4().hex,
            auth=Login(s.user_id, s.company_id, s.user_password.get_secret_value(), s.entity_id),
            functions=[function],
        )
        response = self._send(str(s.endpoint_url), body, [function], writes=False)
        result = response.results[0] if response.results else None
        if result is None:
            raise IntacctConfigurationError("getAPISession answered without a result")
        result.raise_for_status()
        api = result.records[0] if result.records else {}
        session_id, endpoint = api.get("SESSIONID"), api.get("ENDPOINT")
        if not session_id or not endpoint:
            raise IntacctConfigurationError("getAPISession answered without a session ID and endpoint")
        self._check_endpoint(endpoint)
        session = Session(session_id, endpoint, self._expiry(response.authentication))
        self._sessions.put(self._session_key, session)
        self.counters.sessions_opened += 1
        return session

    def _check_endpoint(self, endpoint: str) -> None:
        # Never send credentials to a host we were not configured for: the session endpoint must be an
        # Intacct host, or the very host configured (an emulator or a proxy on purpose).
        configured = urlsplit(str(self.settings.endpoint_url)).hostname or ""
        host = urlsplit(endpoint).hostname or ""
        if not (host == configured or host.endswith(".intacct.com")):
            raise IntacctConfigurationError(
                f"getAPISession returned endpoint host {host!r}, which is neither an Intacct host nor {configured!r}"
            )

    def _renew(self, session: Session, auth: protocol.Authentication) -> None:
        # Every call pushes the session timeout forward (reference §1.3): remember the new one.
        expires_at = self._expiry(auth)
        if expires_at > session.expires_at:
            self._sessions.put(self._session_key, Session(session.session_id, session.endpoint, expires_at))

    def _expiry(self, auth: protocol.Authentication) -> float:
        if auth.session_timeout:
            try:
                timeout = datetime.fromisoformat(auth.session_timeout)
                if timeout.tzinfo is None:
                    timeout = timeout.replace(tzinfo=self.zone)  # Intacct's own times are company-local
                return timeout.timestamp()
            except ValueError:
                logger.warning("unreadable sessiontimeout %r; assuming a short session", auth.session_timeout)
        return self._clock() + ASSUMED_SESSION_LIFETIME_S

    # --- helpers -------------------------------------------------------------------------------------

    def _next_controlid(self, name: str) -> str:
        # Reads run with uniqueid=false, so their control IDs only need to pair results with functions.
        self._function_seq += 1
        return f"{name}-{self._function_seq}"

    def _outgoing(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {key: self._outgoing_value(value) for key, value in record.items()}

    def _outgoing_value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return self._outgoing(value)
        if isinstance(value, (list, tuple)):
            return [self._outgoing_value(item) for item in value]
        return to_text(value, self.zone)


def _checked(controlid: str) -> str:
    if not 1 <= len(controlid) <= MAX_CONTROLID_LENGTH:
        raise ValueError(f"a function control ID must be 1-{MAX_CONTROLID_LENGTH} characters")
    return controlid


def _write_result(result: Result) -> WriteResult:
    record = result.records[0] if result.records else {}
    recordno = record.get("RECORDNO")
    return WriteResult(str(recordno) if recordno is not None else result.key, record, result.key)
