"""The emulator on loopback HTTP: one POST endpoint, one request in flight per company, injected faults
(429/502/malformed do nothing; 524, timeout and drop commit the work and lose the answer, as real traffic shows;
late loses the answer at once and commits `late_commit_s` later), drawn at random from a `FaultPlan` (`faults`
for any request, `write_faults` only for requests holding a write function) or armed for the next requests of
one function with `fail_next`.
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from intacct_assignar.intacct.xmlcodec import to_xml

from ..http import EmulatorHandler, FaultPlan, LoopbackServer
from .errors import RATE_LIMIT_EXCEEDED, errormessage
from .gateway import EmulatorCredentials, EmulatorStats, Gateway, GatewayReply
from .store import IntacctStore

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
FAULT_KINDS = ("429", "502", "524", "timeout", "malformed", "drop", "late")
DEFAULT_TIMEOUT_HOLD_S = 35.0
DEFAULT_LATE_COMMIT_S = 2.0

_HTML = "text/html; charset=UTF-8"
_BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
# What Cloudflare sends when the origin is still working but the edge gave up (reference §2.3).
_TIMEOUT_524 = (
    b"<!DOCTYPE html><html><head><title>api.intacct.com | 524: A timeout occurred</title></head><body>"
    b'<div id="cf-error-details"><h1>A timeout occurred</h1><span>Error code 524</span></div></body></html>'
)


def _rate_limited() -> GatewayReply:
    document = {"response": {"control": {"status": "failure"}, "errormessage": errormessage([RATE_LIMIT_EXCEEDED])}}
    return GatewayReply(429, to_xml(document))


@dataclass
class IntacctEmulatorStats(EmulatorStats):
    """The gateway's stats plus the server's: `late_commits_landed` counts "late" faults whose work ran."""

    late_commits_landed: int = 0

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.late_commits_landed = 0


@dataclass(order=True)
class _LateCommit:
    """A request answered 524 at once whose work runs at `due` (monotonic seconds)."""

    due: float
    sequence: int
    body: bytes = field(compare=False)
    # The function control ids Intacct knew as completed when the request arrived: only those refuse it.
    known_control_ids: frozenset[str] = field(compare=False)


@dataclass
class _QueuedFault:
    """A fault armed by `fail_next`: for the next `remaining` requests that `pattern` matches (None: any)."""

    kind: str
    pattern: re.Pattern[bytes] | None
    remaining: int


# `<function ...>` then the function's element; whitespace and comments may come between.
_FUNCTION_START = rb"<function\b[^>]*>(?:\s|<!--.*?-->)*<"


def _function_pattern(function: str) -> re.Pattern[bytes]:
    """Matches a request carrying a `<function>` whose element is named `function`.

    A function holds exactly one element, so the name is looked for right after `<function ...>`: that keeps
    `create` from matching `<create_potransaction>` and `query` from matching readByQuery's `<query>` child.
    """
    return re.compile(_FUNCTION_START + re.escape(function.encode()) + rb"[\s/>]", re.DOTALL)


# create, update, delete and the legacy create_*/update_*/delete_* (create_potransaction, update_sotransaction…).
_FUNCTION_TAG = re.compile(rb"<function\b")
_WRITE_FUNCTION = re.compile(_FUNCTION_START + rb"(?:create|update|delete)(?:_[\w.-]*)?[\s/>]", re.DOTALL)


def holds_write_function(body: bytes) -> bool:
    """Whether a request body holds at least one write function (create, update, delete, create_potransaction…);
    query, readByQuery, readMore, read, readByName, lookup and getAPISession are reads."""
    return _WRITE_FUNCTION.search(body) is not None


class _Server(LoopbackServer):
    emulator: IntacctEmulator


class _Handler(EmulatorHandler):
    server: _Server

    def do_POST(self) -> None:
        emulator = self.server.emulator
        body = self.read_body()
        arrived = time.monotonic()
        emulator.stats.add("http_requests")
        if self.path.split("?", 1)[0] != GATEWAY_PATH:
            self.reply(404, b"Not Found", "text/plain")
            return
        fault = emulator.draw_fault(body)
        if fault is not None:
            emulator.stats.count_fault(fault)
        if fault == "429":
            self._send(_rate_limited())
            return
        if fault == "502":
            self._send(GatewayReply(502, _BAD_GATEWAY, _HTML))
            return
        if fault == "malformed":
            self._send(GatewayReply(200, b'<?xml version="1.0" encoding="UTF-8"?>\n<response><control><status>succ'))
            return
        if fault == "late":
            # The edge gives up at once; the origin, busy elsewhere, gets to the work later (it never held the
            # company's slot meanwhile, so other requests are served and see nothing yet).
            emulator.schedule_late_commit(body, arrived)
            self._send(GatewayReply(524, _TIMEOUT_524, _HTML))
            return
        if not emulator.company_slot.acquire(blocking=False):
            # Intacct runs one API transaction job per company at a time; an overlapping one is throttled.
            emulator.stats.add("throttled")
            self._send(_rate_limited())
            return
        try:
            emulator.take_time(body)
            reply = emulator.gateway.handle(body)
            # Runs before the answer leaves, so a test's change is in place before the client's next request.
            if emulator.after_request is not None:
                emulator.after_request()
        except Exception:
            # An emulator bug: answer like a failing origin (HTTP 500, no XML), with the traceback to debug it.
            reply = GatewayReply(500, traceback.format_exc().encode(), "text/plain; charset=UTF-8")
        finally:
            emulator.company_slot.release()
        if fault == "524":
            self._send(GatewayReply(524, _TIMEOUT_524, _HTML))
            return
        if fault == "drop":
            self.drop_connection()
            return
        if fault == "timeout" and emulator.stopping.wait(emulator.timeout_hold_s):
            return
        self._send(reply)

    def do_GET(self) -> None:
        self.reply(405, b"Use POST", "text/plain", {"Allow": "POST"})

    def _send(self, reply: GatewayReply) -> None:
        try:
            self.reply(reply.status, reply.body, reply.content_type)
        except OSError:
            # The client gave up (a timeout fault, typically); nothing is left to tell it.
            self.close_connection = True


class IntacctEmulator:
    """A Sage Intacct XML gateway for one company, serving `store` on a loopback port."""

    def __init__(
        self,
        store: IntacctStore,
        latency_s: float = 0.0,
        per_function_s: float = 0.0,
        faults: FaultPlan | None = None,
        session_duration_s: float = 3600,
        port: int = 0,
        credentials: EmulatorCredentials | None = None,
        timeout_hold_s: float = DEFAULT_TIMEOUT_HOLD_S,
        write_faults: FaultPlan | None = None,
        late_commit_s: float = DEFAULT_LATE_COMMIT_S,
    ) -> None:
        for plan in (faults, write_faults):
            unknown = set(plan.kinds) - set(FAULT_KINDS) if plan else set()
            if unknown:
                raise ValueError(f"unknown Intacct fault kinds {sorted(unknown)}; use {', '.join(FAULT_KINDS)}")
        if late_commit_s < 0:
            raise ValueError(f"late_commit_s must not be negative, got {late_commit_s}")
        self.store = store
        self.credentials = credentials or EmulatorCredentials()
        self.latency_s = latency_s
        self.per_function_s = per_function_s
        self.faults = faults
        self.write_faults = write_faults
        self.timeout_hold_s = timeout_hold_s
        self.late_commit_s = late_commit_s
        self.port = port
        self.stats = IntacctEmulatorStats()
        self.after_request: Callable[[], object] | None = None
        self.company_slot = threading.Lock()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._queued: list[_QueuedFault] = []
        self._queued_lock = threading.Lock()
        # Late commits: a heap by due time, served by one worker thread while the emulator runs.
        self._late_changed = threading.Condition()
        self._late_queue: list[_LateCommit] = []
        self._late_pending = 0
        self._late_sequence = itertools.count()
        self._late_worker: threading.Thread | None = None
        self._late_closing = False
        # Tracebacks of late commits the gateway failed on (an emulator bug; nobody is left to answer).
        self.late_commit_errors: list[str] = []
        self.gateway = Gateway(
            store,
            self.credentials,
            session_duration_s=session_duration_s,
            endpoint_url=lambda: self.endpoint_url,
            stats=self.stats,
        )

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Intacct emulator is not running: call start() or use it as a context manager")
        return self._server.url

    @property
    def endpoint_url(self) -> str:
        return f"{self.url}{GATEWAY_PATH}"

    def settings_env(self) -> dict[str, str]:
        """INTACCT_* variables that point a client at this emulator."""
        env = {
            "INTACCT_SENDER_ID": self.credentials.sender_id,
            "INTACCT_SENDER_PASSWORD": self.credentials.sender_password,
            "INTACCT_COMPANY_ID": self.credentials.company_id,
            "INTACCT_USER_ID": self.credentials.user_id,
            "INTACCT_USER_PASSWORD": self.credentials.user_password,
            "INTACCT_ENDPOINT_URL": self.endpoint_url,
        }
        if self.credentials.entity_id is not None:
            env["INTACCT_ENTITY_ID"] = self.credentials.entity_id
        return env

    def fail_next(self, kind: str, *, function: str | None = None, times: int = 1) -> None:
        """Give the next `times` requests holding a `function` element (e.g. "create", "update",
        "create_potransaction"; None: any request) fault `kind`, exactly as a random fault of that kind.

        Armed faults come before the random plans, in the order armed. "524", "timeout" and "drop" still let the
        gateway do the work first, so a write is committed and only its answer is lost; "late" answers 524 at once
        and commits `late_commit_s` after the request arrived.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown Intacct fault kind {kind!r}; use {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if function is not None and not function.strip():
            raise ValueError("function must be a function element name such as 'create', or None for any request")
        pattern = None if function is None else _function_pattern(function.strip())
        with self._queued_lock:
            self._queued.append(_QueuedFault(kind, pattern, times))

    def draw_fault(self, body: bytes) -> str | None:
        """The fault for a request with this body: the first armed one that matches, else, for a request holding
        a write function, `write_faults`' draw, else (or when that draws none) the `faults` plan's."""
        with self._queued_lock:
            for queued in self._queued:
                if queued.pattern is None or queued.pattern.search(body):
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._queued.remove(queued)
                    return queued.kind
        if self.write_faults is not None and holds_write_function(body):
            kind = self.write_faults.draw()
            if kind is not None:
                return kind
        return self.faults.draw() if self.faults else None

    # --- late commits ---------------------------------------------------------------------------------------

    @property
    def late_commits_pending(self) -> int:
        """Late commits answered 524 whose work has not landed yet."""
        with self._late_changed:
            return self._late_pending

    def schedule_late_commit(self, body: bytes, arrived: float) -> None:
        """Run the request `body` `late_commit_s` after `arrived` (time.monotonic()), taking the company's slot
        then. Its control ids are checked as Intacct would when it arrived: one completed only meanwhile (a
        re-send) does not refuse it. Once the emulator is stopped, it lands at once instead."""
        commit = _LateCommit(
            arrived + self.late_commit_s, next(self._late_sequence), body, self._completed_control_ids()
        )
        with self._late_changed:
            self._late_pending += 1
            if self._late_worker is not None and not self._late_closing:
                heapq.heappush(self._late_queue, commit)
                self._late_changed.notify_all()
                return
        self._land(commit)

    def take_time(self, body: bytes) -> None:
        """How long Intacct works on a request, holding the company's slot: `latency_s` for the request (the
        round trip, the envelope, the session) and `per_function_s` for each function in it. How Intacct's time
        divides between the two is not published; benchmarks show several honest splits side by side."""
        seconds = self.latency_s
        if self.per_function_s > 0:
            seconds += self.per_function_s * len(_FUNCTION_TAG.findall(body))
        if seconds > 0:
            time.sleep(seconds)

    def settle_late_commits(self, timeout: float = 30.0) -> None:
        """Wait until every late commit scheduled so far has landed; TimeoutError after `timeout` seconds."""
        with self._late_changed:
            if not self._late_changed.wait_for(lambda: self._late_pending == 0, timeout):
                raise TimeoutError(f"{self._late_pending} late commits still pending after {timeout} s")

    def _completed_control_ids(self) -> frozenset[str]:
        gateway = self.gateway
        with gateway._lock:
            return frozenset(gateway._completed_control_ids)

    def _land(self, commit: _LateCommit) -> None:
        """Run a late commit like any request (blocking for the company's slot rather than being refused)."""
        gateway = self.gateway
        try:
            with self.company_slot:
                self.take_time(commit.body)
                # Control ids completed after the request arrived were unknown to it: hide them while it runs.
                # Safe: every gateway request runs holding the slot, so no other one sees the set meanwhile.
                with gateway._lock:
                    newer = gateway._completed_control_ids - commit.known_control_ids
                    gateway._completed_control_ids -= newer
                try:
                    gateway.handle(commit.body)
                finally:
                    with gateway._lock:
                        gateway._completed_control_ids |= newer
                if self.after_request is not None:
                    self.after_request()
        except Exception:
            self.late_commit_errors.append(traceback.format_exc())
        finally:
            self.stats.add("late_commits_landed")
            with self._late_changed:
                self._late_pending -= 1
                self._late_changed.notify_all()

    def _run_late_commits(self) -> None:
        while True:
            with self._late_changed:
                while True:
                    if self._late_queue:
                        wait_s = self._late_queue[0].due - time.monotonic()
                        if self._late_closing or wait_s <= 0:
                            commit = heapq.heappop(self._late_queue)
                            break
                        self._late_changed.wait(wait_s)
                    elif self._late_closing:
                        return
                    else:
                        self._late_changed.wait()
            self._land(commit)

    def expire_sessions(self) -> None:
        self.gateway.expire_sessions()

    def expire_result_ids(self) -> None:
        self.gateway.expire_result_ids()

    def start(self) -> Self:
        if self._server is None:
            self.stopping.clear()
            server = _Server(_Handler, port=self.port)
            server.emulator = self
            with self._late_changed:
                self._late_closing = False
                self._late_worker = threading.Thread(
                    target=self._run_late_commits, name="IntacctEmulator-late-commits", daemon=True
                )
                self._late_worker.start()
            self._server = server.start()
        return self

    def stop(self) -> None:
        """Stop serving. Pending late commits are not discarded: each lands at once, in due order, before
        stop() returns (so the store holds every write a client may have caused)."""
        if self._server is not None:
            self.stopping.set()
            self._server.stop()
            self._server = None
        with self._late_changed:
            worker = self._late_worker
            self._late_closing = True
            self._late_changed.notify_all()
        if worker is not None:
            worker.join(timeout=30)
            with self._late_changed:
                self._late_worker = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
