"""Reading an HTTP answer from Intacct or Assignar within limits: bytes on the wire, bytes after decompression, and
one deadline for the whole answer. Both clients send through `read_answer`, so a hostile or broken server cannot
take more memory or time than its limits allow.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

MB = 2**20
# How much one decompression step may produce: the most an answer can overshoot its cap after decompression.
_PIECE_BYTES = 64 * 1024
# The encodings we ask for, and so the only ones we accept: each is decompressed here a piece at a time. httpx
# would also offer br and zstd when their packages are installed, and decode them with no limit on the output.
ACCEPTED_ENCODINGS = "gzip, deflate"
# What a response's stream is once its answer was read (see `read_answer`).
_READ = httpx.ByteStream(b"")


@dataclass(frozen=True)
class AnswerLimits:
    """How much of one answer a client reads: bytes on the wire, bytes after decompression, and seconds in all.

    `deadline_s` runs from sending the request to the last byte of the answer. httpx's own read timeout is per
    read: a server sending one byte a second never trips it, so the deadline is checked on every chunk that
    arrives (and a server sending nothing at all is still stopped by the read timeout).
    """

    max_wire_bytes: int
    max_decoded_bytes: int
    deadline_s: float

    def __post_init__(self) -> None:
        if self.max_wire_bytes < 1 or self.max_decoded_bytes < 1 or self.deadline_s <= 0:
            raise ValueError("answer limits must be positive")


@dataclass(frozen=True)
class Answer:
    """A whole answer, read within its limits and decompressed."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


class UnusableAnswerError(Exception):
    """The answer was given up on: too big, too slow, or in an encoding we cannot read within limits.

    Nothing in it can be trusted to say what the server did, so callers treat it like a lost answer: a read may
    be tried again, a write may have happened. `http_status` is the status line's, when it arrived;
    `wire_bytes` and `decoded_bytes` how much of the body had been read when it was given up.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str,
        http_status: int | None = None,
        wire_bytes: int = 0,
        decoded_bytes: int = 0,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.http_status = http_status
        self.wire_bytes = wire_bytes
        self.decoded_bytes = decoded_bytes


class AnswerTooLargeError(UnusableAnswerError):
    """More bytes than `limit_bytes` on the wire (`after_decompression` False) or once decompressed (True)."""

    def __init__(self, message: str, *, limit_bytes: int, after_decompression: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit_bytes = limit_bytes
        self.after_decompression = after_decompression


class AnswerTooSlowError(UnusableAnswerError):
    """The whole answer did not arrive within `deadline_s` of sending the request."""

    def __init__(self, message: str, *, deadline_s: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.deadline_s = deadline_s


def read_answer(
    http: httpx.Client,
    request: httpx.Request,
    *,
    service: str,
    limits: AnswerLimits,
    auth: httpx.Auth | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Answer:
    """Send `request` and read its whole answer within `limits`, or raise an `UnusableAnswerError` saying which.

    The body is streamed and counted as it arrives, never read whole first: a 1 MB gzip bomb is refused after
    `max_decoded_bytes` (plus one 64 KB piece) of output. httpx errors (connect, per-read timeout, dropped
    connection) pass through unchanged for the caller to classify. `auth` is httpx's, as `client.send` takes it.
    """
    request.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
    deadline = clock() + limits.deadline_s
    response = http.send(request, stream=True, auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT)
    try:
        return _Reading(response, service, limits, deadline, clock).whole()
    finally:
        # Unread, the connection is closed rather than reused: the rest of the body is never read.
        response.close()
        # httpx binds each response and its stream to one another, a reference cycle that only the cycle collector
        # frees, and that one seldom looks at objects which lived through a page's parse. Unbound, the response (with
        # its request, and a body a transport read into it) goes as soon as its answer is read.
        response.stream = _READ


class _Reading:
    """One answer being read: counts both sizes and watches the clock on every chunk."""

    def __init__(
        self,
        response: httpx.Response,
        service: str,
        limits: AnswerLimits,
        deadline: float,
        clock: Callable[[], float],
    ) -> None:
        self.response = response
        self.service = service
        self.limits = limits
        self.deadline = deadline
        self.clock = clock
        self.wire_bytes = 0
        self.decoded_bytes = 0

    def whole(self) -> Answer:
        response, limits = self.response, self.limits
        self._check_deadline()
        announced = _content_length(response)
        if announced is not None and announced > limits.max_wire_bytes:
            raise self._too_large(
                f"{self.service}'s answer announced {_size(announced)}, over the {_size(limits.max_wire_bytes)} "
                "limit on the wire; it was not read",
                limits.max_wire_bytes,
                decoded=False,
            )
        if response.is_stream_consumed:
            # A transport that reads bodies itself (a test double, a recording wrapper) handed over the body
            # already decoded: only its size after decompression can still be checked.
            self.decoded_bytes = len(response.content)
            if self.decoded_bytes > limits.max_decoded_bytes:
                raise self._exceeded(limits.max_decoded_bytes, decoded=True)
            return Answer(response.status_code, response.headers, response.content)
        pieces: list[bytes] = []
        for piece in self._decoded(self._wire()):
            self.decoded_bytes += len(piece)
            if self.decoded_bytes > limits.max_decoded_bytes:
                raise self._exceeded(limits.max_decoded_bytes, decoded=True)
            self._check_deadline()
            pieces.append(piece)
        return Answer(response.status_code, response.headers, b"".join(pieces))

    def _wire(self) -> Iterator[bytes]:
        for chunk in self.response.iter_raw():
            self.wire_bytes += len(chunk)
            if self.wire_bytes > self.limits.max_wire_bytes:
                raise self._exceeded(self.limits.max_wire_bytes, decoded=False)
            self._check_deadline()
            yield chunk

    def _decoded(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        # Content-Encoding lists codings in the order they were applied: undo them last first.
        stream: Iterable[bytes] = chunks
        for coding in reversed(self.response.headers.get_list("Content-Encoding", split_commas=True)):
            coding = coding.strip().lower()
            if coding in ("", "identity"):
                continue
            if coding in ("gzip", "x-gzip"):
                stream = _Inflater(zlib.MAX_WBITS | 16, self).run(stream)
            elif coding == "deflate":
                stream = _Inflater(zlib.MAX_WBITS, self, raw_fallback=True).run(stream)
            else:
                raise UnusableAnswerError(
                    f"{self.service} answered in Content-Encoding {coding!r}, which was not asked for "
                    f"(we accept {ACCEPTED_ENCODINGS})",
                    **self.progress(),
                )
        yield from stream

    def _check_deadline(self) -> None:
        if self.clock() > self.deadline:
            raise AnswerTooSlowError(
                f"{self.service}'s answer did not arrive in full within {self.limits.deadline_s:g} s "
                f"({_size(self.wire_bytes)} received on the wire)",
                deadline_s=self.limits.deadline_s,
                **self.progress(),
            )

    def _exceeded(self, limit: int, *, decoded: bool) -> AnswerTooLargeError:
        where = "after decompression" if decoded else "on the wire"
        return self._too_large(
            f"{self.service}'s answer exceeded {_size(limit)} {where} ({_size(self.wire_bytes)} read on the wire, "
            f"{_size(self.decoded_bytes)} once decompressed); it was not read further",
            limit,
            decoded=decoded,
        )

    def _too_large(self, message: str, limit: int, *, decoded: bool) -> AnswerTooLargeError:
        return AnswerTooLargeError(message, limit_bytes=limit, after_decompression=decoded, **self.progress())

    def progress(self) -> dict[str, Any]:
        """Where the reading stood, for an error to carry."""
        return {
            "service": self.service,
            "http_status": self.response.status_code,
            "wire_bytes": self.wire_bytes,
            "decoded_bytes": self.decoded_bytes,
        }


class _Inflater:
    """gzip or deflate undone a bounded piece at a time: zlib stops at `_PIECE_BYTES` of output per step.

    (httpx's own decoders inflate each network chunk whole: 64 KB of a gzip bomb becomes 64 MB at once.)
    """

    def __init__(self, wbits: int, reading: _Reading, *, raw_fallback: bool = False) -> None:
        self._zlib = zlib.decompressobj(wbits)
        self._reading = reading
        # Servers send "deflate" both zlib-wrapped (as the RFC says) and raw; httpx accepts both, so do we. A
        # wrong guess fails on the header, before any output: keep the input until then to start over with.
        self._raw_fallback = raw_fallback
        self._unanswered = b""

    def run(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            yield from self._feed(chunk)
        yield from self._feed(b"")
        tail = self._zlib.flush()
        if tail:
            yield tail

    def _feed(self, data: bytes) -> Iterator[bytes]:
        if self._raw_fallback:
            self._unanswered += data
        while True:
            try:
                piece = self._zlib.decompress(data, _PIECE_BYTES)
            except zlib.error as exc:
                if self._raw_fallback:
                    self._raw_fallback = False
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    data = self._unanswered
                    continue
                raise UnusableAnswerError(
                    f"{self._reading.service}'s answer could not be decompressed ({exc})", **self._reading.progress()
                ) from exc
            if piece:
                self._raw_fallback, self._unanswered = False, b""
                yield piece
            data = self._zlib.unconsumed_tail
            # A full piece may leave output inside zlib even when all input is taken: ask again until it is short.
            if not data and len(piece) < _PIECE_BYTES:
                return


def _content_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _size(count: int) -> str:
    if count >= MB:
        return f"{count / MB:.4g} MB"
    if count >= 1024:
        return f"{count / 1024:.4g} KB"
    return f"{count} bytes"
