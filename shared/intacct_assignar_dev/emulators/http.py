"""What both emulators share: a threaded loopback HTTP server and seeded fault injection.

Each emulator subclasses `EmulatorHandler` for its protocol and runs inside a `LoopbackServer`.
"""

from __future__ import annotations

import contextlib
import random
import socket
import sys
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass
class FaultPlan:
    """Injects faults into a given share of requests, reproducibly for a given seed.

    `kinds` are emulator-specific names (for example "429", "502", "524", "timeout", "malformed");
    `rate` is the probability that any one request gets one of them.
    """

    rate: float = 0.0
    kinds: Collection[str] = ()
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        """The fault for the next request, or None."""
        if self.rate <= 0 or not self.kinds:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            return self._rng.choice(sorted(self.kinds))


class EmulatorHandler(BaseHTTPRequestHandler):
    """Base request handler: quiet logs, HTTP/1.1 keep-alive, helpers to read the body and reply."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, each keep-alive reply waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server: LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:
        # Emulators run inside tests and the demo; request lines on stderr would only be noise.
        return

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def drop_connection(self) -> None:
        """Close the connection without a status line: the client sees the server disconnect (a dropped
        connection, e.g. httpx's RemoteProtocolError "Server disconnected without sending a response")."""
        self.close_connection = True
        # OSError: the client went away first; the connection is gone either way.
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class LoopbackServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer on 127.0.0.1 (port 0 = any free port) running in a daemon thread.

    Use as a context manager, or call start() and stop().
    """

    daemon_threads = True
    # Keep-alive clients and many short requests: do not let the listen backlog drop connections.
    request_queue_size = 128

    def __init__(self, handler: type[EmulatorHandler], *, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (a test's timeout, a SIGKILLed worker, an injected disconnect) is expected
        # traffic, not an emulator failure worth a traceback; anything else still prints one.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        if self._thread is None:
            # A short poll interval makes stop() quick: tests start and stop many servers.
            self._thread = threading.Thread(
                target=self.serve_forever, kwargs={"poll_interval": 0.02}, name=type(self).__name__, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
