"""The emulator on loopback HTTP: one POST endpoint, one request in flight per company, injected faults
(429/502/malformed do nothing; 524 and timeout commit the work and lose the answer, as real traffic shows),
drawn at random from a `FaultPlan` or armed for the next requests of one function with `fail_next`.
"""

from __future__ import annotations

import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from ...intacct.xmlcodec import to_xml
from ..http import EmulatorHandler, FaultPlan, LoopbackServer
from .errors import RATE_LIMIT_EXCEEDED, errormessage
from .gateway import EmulatorCredentials, EmulatorStats, Gateway, GatewayReply
from .store import IntacctStore

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
FAULT_KINDS = ("429", "502", "524", "timeout", "malformed")
DEFAULT_TIMEOUT_HOLD_S = 35.0

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
class _QueuedFault:
    """A fault armed by `fail_next`: for the next `remaining` requests that `pattern` matches (None: any)."""

    kind: str
    pattern: re.Pattern[bytes] | None
    remaining: int


def _function_pattern(function: str) -> re.Pattern[bytes]:
    """Matches a request carrying a `<function>` whose element is named `function`.

    A function holds exactly one element, so the name is looked for right after `<function ...>`: that keeps
    `create` from matching `<create_potransaction>` and `query` from matching readByQuery's `<query>` child.
    """
    return re.compile(rb"<function\b[^>]*>\s*<" + re.escape(function.encode()) + rb"[\s/>]")


class _Server(LoopbackServer):
    emulator: IntacctEmulator


class _Handler(EmulatorHandler):
    server: _Server

    def do_POST(self) -> None:
        emulator = self.server.emulator
        body = self.read_body()
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
        if not emulator.company_slot.acquire(blocking=False):
            # Intacct runs one API transaction job per company at a time; an overlapping one is throttled.
            emulator.stats.add("throttled")
            self._send(_rate_limited())
            return
        try:
            if emulator.latency_s > 0:
                time.sleep(emulator.latency_s)
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
        faults: FaultPlan | None = None,
        session_duration_s: float = 3600,
        port: int = 0,
        credentials: EmulatorCredentials | None = None,
        timeout_hold_s: float = DEFAULT_TIMEOUT_HOLD_S,
    ) -> None:
        unknown = set(faults.kinds) - set(FAULT_KINDS) if faults else set()
        if unknown:
            raise ValueError(f"unknown Intacct fault kinds {sorted(unknown)}; use {', '.join(FAULT_KINDS)}")
        self.store = store
        self.credentials = credentials or EmulatorCredentials()
        self.latency_s = latency_s
        self.faults = faults
        self.timeout_hold_s = timeout_hold_s
        self.port = port
        self.stats = EmulatorStats()
        self.after_request: Callable[[], object] | None = None
        self.company_slot = threading.Lock()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._queued: list[_QueuedFault] = []
        self._queued_lock = threading.Lock()
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

        Armed faults come before the random plan, in the order armed. "524" and "timeout" still let the gateway
        do the work first, so a write is committed and only its answer is lost.
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
        """The fault for a request with this body: the first armed one that matches, else the random plan's."""
        with self._queued_lock:
            for queued in self._queued:
                if queued.pattern is None or queued.pattern.search(body):
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._queued.remove(queued)
                    return queued.kind
        return self.faults.draw() if self.faults else None

    def expire_sessions(self) -> None:
        self.gateway.expire_sessions()

    def expire_result_ids(self) -> None:
        self.gateway.expire_result_ids()

    def start(self) -> Self:
        if self._server is None:
            self.stopping.clear()
            server = _Server(_Handler, port=self.port)
            server.emulator = self
            self._server = server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.stopping.set()
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
