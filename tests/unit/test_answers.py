"""Answers read within limits (answers.py), and how both clients classify an answer given up on. No sockets."""

from __future__ import annotations

import gzip
import struct
import time
import tracemalloc
import zlib
from collections.abc import Iterable, Iterator

import httpx
import pytest
from intacct_assignar.answers import (
    MB,
    AnswerLimits,
    AnswerTooLargeError,
    AnswerTooSlowError,
    UnusableAnswerError,
    read_answer,
)
from intacct_assignar.assignar.errors import OutcomeUnknownError, ServerError, TransportError
from intacct_assignar.assignar.requestor import ASSIGNAR_ANSWER_LIMITS
from intacct_assignar.intacct import (
    IntacctClient,
    IntacctOutcomeUnknownError,
    IntacctTransientError,
    MemorySessionCache,
    RetryPolicy,
)
from intacct_assignar.intacct.client import INTACCT_MAX_DECODED_BYTES, INTACCT_MAX_WIRE_BYTES

from tests.unit.assignar import fakes
from tests.unit.intacct import gateway as g

PIECE = 64 * 1024


def gzip_bomb(unpacked_mb: int) -> bytes:
    """A valid gzip body of `unpacked_mb` MB of zeros, about a thousand times smaller, built in well under a second.

    Each MB is compressed alone after a full flush, so the compressed MBs after the first are the same bytes and
    can be repeated; the trailer is written for the whole.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MB)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = compressor.flush()[:-8]
    crc = 0
    for _ in range(unpacked_mb):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (unpacked_mb * MB) & 0xFFFFFFFF)
    return first + repeated * (unpacked_mb - 1) + final_block + trailer


class Chunks(httpx.SyncByteStream):
    """A response body that arrives chunk by chunk, optionally slowly; records how much was taken and closing."""

    def __init__(self, chunks: Iterable[bytes], *, every_s: float = 0.0) -> None:
        self._chunks = chunks
        self._every_s = every_s
        self.taken = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if self._every_s:
                time.sleep(self._every_s)
            self.taken += len(chunk)
            yield chunk

    def close(self) -> None:
        self.closed = True


def pieces(body: bytes, size: int = PIECE) -> Iterator[bytes]:
    return (body[i : i + size] for i in range(0, len(body), size))


def serving(response: httpx.Response) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda _request: response))


def read(response: httpx.Response, limits: AnswerLimits, service: str = "Intacct") -> bytes:
    with serving(response) as http:
        return read_answer(http, http.build_request("GET", "https://gw.test/"), service=service, limits=limits).content


ROOMY = AnswerLimits(max_wire_bytes=8 * MB, max_decoded_bytes=8 * MB, deadline_s=10.0)
BODY = b"<response>" + b"<x>text</x>" * 5000 + b"</response>"


def deflate(body: bytes, wbits: int) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(body) + compressor.flush()


# --- answers.py --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("", BODY),
        ("identity", BODY),
        ("gzip", gzip.compress(BODY)),
        ("deflate", deflate(BODY, zlib.MAX_WBITS)),
        ("deflate", deflate(BODY, -zlib.MAX_WBITS)),  # raw deflate, as some servers send it
        ("deflate, gzip", gzip.compress(deflate(BODY, zlib.MAX_WBITS))),
    ],
    ids=["plain", "identity", "gzip", "deflate", "raw-deflate", "deflate-then-gzip"],
)
def test_an_answer_within_its_limits_is_read_whole_and_decompressed(encoding: str, encoded: bytes) -> None:
    # Given an answer arriving in small chunks
    headers = {"Content-Encoding": encoding} if encoding else {}
    response = httpx.Response(200, headers=headers, stream=Chunks(pieces(encoded, 777)))

    # When / Then
    assert read(response, ROOMY) == BODY


def test_only_the_encodings_decompressed_here_are_asked_for() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        read_answer(http, http.build_request("GET", "https://gw.test/"), service="Intacct", limits=ROOMY)

    assert seen[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_a_gzip_bomb_is_refused_at_intacct_s_cap_with_memory_to_match() -> None:
    # Given 1 MB of gzip that unpacks to 1 GB, against Intacct's own limits
    bomb = gzip_bomb(1024)
    stream = Chunks(pieces(bomb))
    response = httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=stream)
    limits = AnswerLimits(INTACCT_MAX_WIRE_BYTES, INTACCT_MAX_DECODED_BYTES, 120.0)

    # When
    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLargeError) as refused:
            read(response, limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Then reading stopped one piece past the cap, the memory stayed near it, and the error says which limit
    error = refused.value
    assert error.after_decompression and error.limit_bytes == 64 * MB
    assert 64 * MB < error.decoded_bytes <= 64 * MB + PIECE
    assert stream.taken < len(bomb) / 4  # about 64 KB of the 1 MB bomb
    assert peak < 100 * MB, f"peak {peak / MB:.0f} MB"
    assert str(error).startswith("Intacct's answer exceeded 64 MB after decompression")
    assert stream.closed


def test_a_shrunk_cap_bounds_memory_to_the_cap() -> None:
    # Given the same bomb against a 1 MB cap
    response = httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=Chunks(pieces(gzip_bomb(1024))))

    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLargeError, match="exceeded 1 MB after decompression"):
            read(response, AnswerLimits(max_wire_bytes=MB, max_decoded_bytes=MB, deadline_s=10.0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 3 * MB, f"peak {peak / MB:.1f} MB"


def test_a_body_larger_than_the_wire_cap_is_refused_while_arriving() -> None:
    # Given a plain 4 MB body sent without a Content-Length
    stream = Chunks(pieces(bytes(4 * MB)))
    response = httpx.Response(200, stream=stream)

    # When / Then
    with pytest.raises(AnswerTooLargeError, match="Assignar's answer exceeded 1 MB on the wire") as refused:
        read(response, AnswerLimits(max_wire_bytes=MB, max_decoded_bytes=8 * MB, deadline_s=10.0), "Assignar")
    assert not refused.value.after_decompression
    assert stream.taken <= MB + PIECE


def test_an_announced_length_over_the_wire_cap_is_refused_before_reading() -> None:
    stream = Chunks(pieces(bytes(4 * MB)))
    response = httpx.Response(200, headers={"Content-Length": str(4 * MB)}, stream=stream)

    with pytest.raises(AnswerTooLargeError, match="announced 4 MB, over the 1 MB limit on the wire"):
        read(response, AnswerLimits(max_wire_bytes=MB, max_decoded_bytes=8 * MB, deadline_s=10.0))
    assert stream.taken == 0
    assert stream.closed


def test_a_trickle_is_cut_off_at_the_deadline_for_the_whole_answer() -> None:
    # Given an answer arriving one byte every 50 ms (each read is quick: no read timeout would ever trip)
    stream = Chunks([b"x"] * 200, every_s=0.05)
    response = httpx.Response(200, stream=stream)

    # When
    started = time.monotonic()
    with pytest.raises(AnswerTooSlowError, match=r"Intacct's answer did not arrive in full within 0\.3 s") as slow:
        read(response, AnswerLimits(max_wire_bytes=MB, max_decoded_bytes=MB, deadline_s=0.3))
    took = time.monotonic() - started

    # Then it stopped at the deadline, not after the 10 s the body would take
    assert 0.3 <= took < 0.6
    assert slow.value.deadline_s == 0.3 and 0 < slow.value.wire_bytes < 200
    assert stream.closed


def test_a_slow_answer_within_its_deadline_is_read() -> None:
    response = httpx.Response(200, stream=Chunks([b"a", b"b", b"c"], every_s=0.02))

    assert read(response, AnswerLimits(max_wire_bytes=MB, max_decoded_bytes=MB, deadline_s=5.0)) == b"abc"


@pytest.mark.parametrize(
    ("headers", "body", "said"),
    [
        ({"Content-Encoding": "br"}, b"\x8b\x00\x80", "Content-Encoding 'br', which was not asked for"),
        ({"Content-Encoding": "gzip"}, b"this is not gzip at all", "could not be decompressed"),
    ],
    ids=["unasked-encoding", "corrupt-gzip"],
)
def test_an_answer_that_cannot_be_decompressed_is_unusable(headers: dict[str, str], body: bytes, said: str) -> None:
    response = httpx.Response(200, headers=headers, stream=Chunks([body]))

    with pytest.raises(UnusableAnswerError, match=said):
        read(response, ROOMY)


def test_a_body_a_transport_already_read_is_still_held_to_the_cap() -> None:
    # Given a test double whose answer is already in memory
    response = httpx.Response(200, content=bytes(2 * MB))

    with pytest.raises(AnswerTooLargeError, match="exceeded 1 MB after decompression"):
        read(response, AnswerLimits(max_wire_bytes=8 * MB, max_decoded_bytes=MB, deadline_s=5.0))


# --- the Intacct client ------------------------------------------------------------------------------

SMALL = AnswerLimits(max_wire_bytes=MB, max_decoded_bytes=MB, deadline_s=0.3)


def bomb_reply(_sent: g.Sent) -> httpx.Response:
    return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=Chunks(pieces(gzip_bomb(64))))


def trickle_reply(_sent: g.Sent) -> httpx.Response:
    return httpx.Response(200, stream=Chunks([b"<"] * 100, every_s=0.05))


def intacct_client(fake: g.FakeGateway, attempts: int, **options: object) -> IntacctClient:
    options.setdefault("answer_limits", SMALL)
    return IntacctClient(
        g.settings(),
        timezone=g.ZONE,
        http=fake.client(),
        sessions=MemorySessionCache(),
        retry=RetryPolicy(max_attempts=attempts),
        sleep=lambda _s: None,
        **options,  # type: ignore[arg-type]  # the options are IntacctClient's own keywords
    )


@pytest.mark.parametrize(
    ("reply", "said"), [(bomb_reply, "after decompression"), (trickle_reply, "within 0.3 s")], ids=["bomb", "trickle"]
)
def test_an_intacct_read_given_up_on_is_retried_then_a_clear_error(reply: g.Reply, said: str) -> None:
    # Given a gateway answering every query unusably
    fake = g.FakeGateway([reply, reply])
    client = intacct_client(fake, attempts=2)

    # When / Then: retried like a transient failure, then said where and how often
    with pytest.raises(IntacctTransientError, match=said) as caught:
        client.query("PROJECT", ["RECORDNO"])
    assert (caught.value.host, caught.value.attempts) == ("na12.intacct.com", 2)
    assert len(fake.calls()) == 2
    assert client.counters.api_transactions == 1  # the session only: nothing unusable is billed as answered


def test_an_intacct_write_given_up_on_has_an_unknown_outcome_and_is_not_sent_again() -> None:
    fake = g.FakeGateway([bomb_reply])
    client = intacct_client(fake, attempts=5)

    with pytest.raises(IntacctOutcomeUnknownError, match=r"after decompression.*may have been committed"):
        client.create("PROJECT", {"PROJECTID": "P-1"}, controlid="project-P-1")
    assert len(fake.calls()) == 1


# --- the Assignar client -----------------------------------------------------------------------------


def assignar_bomb(_request: httpx.Request | None = None) -> httpx.Response:
    return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=Chunks(pieces(gzip_bomb(64))))


def test_an_assignar_read_given_up_on_is_retried_then_a_clear_error() -> None:
    fake = fakes.FakeAssignar()
    fake.handler = assignar_bomb
    client = fakes.make_client(fake, max_attempts=3, answer_limits=SMALL)

    with pytest.raises(TransportError, match="Assignar's answer exceeded 1 MB after decompression") as caught:
        client.clients.get(7)
    assert (caught.value.host, caught.value.attempts) == ("api.assignar.com", 3)
    assert len(fake.api_requests()) == 3


def test_an_assignar_create_given_up_on_may_have_landed_and_is_not_sent_again_without_a_key() -> None:
    fake = fakes.FakeAssignar()
    fake.handler = assignar_bomb
    client = fakes.make_client(fake, max_attempts=3, answer_limits=SMALL)

    with pytest.raises(OutcomeUnknownError, match="may have reached Assignar"):
        client.requestor.call("POST", "clients/", json={"name": "Acme"})
    assert len(fake.api_requests()) == 1


def test_an_assignar_create_given_up_on_is_looked_up_by_its_key() -> None:
    # Given a create whose answer is a bomb, and a record with its key that Assignar stored meanwhile
    fake = fakes.FakeAssignar()
    stored = {"id": 12, "name": "Acme", "integration_id": "intacct:C-1"}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return assignar_bomb()
        return fakes.serve_list([stored])(request)

    fake.handler = answer
    client = fakes.make_client(fake, max_attempts=3, answer_limits=SMALL)

    # When
    created = client.clients.create({"name": "Acme", "integration_id": "intacct:C-1"})

    # Then the stored record is returned and the create went out once
    assert created.id == 12
    assert [r.method for r in fake.api_requests()].count("POST") == 1


def test_an_assignar_token_answer_given_up_on_is_retried_then_a_clear_error() -> None:
    fake = fakes.FakeAssignar()
    fake.token_failures.extend(assignar_bomb() for _ in range(3))
    client = fakes.make_client(fake, max_attempts=3, answer_limits=SMALL)

    with pytest.raises(TransportError, match="Assignar's token endpoint's answer exceeded 1 MB"):
        client.clients.get(7)
    assert fake.api_requests() == []


def test_assignar_json_nested_too_deep_is_a_clear_error_not_a_recursion_error() -> None:
    fake = fakes.FakeAssignar()
    fake.handler = lambda _request: httpx.Response(200, content=b"[" * 200_000 + b"]" * 200_000)
    client = fakes.make_client(fake, max_attempts=2)

    with pytest.raises(ServerError, match="nested too deeply"):
        client.clients.get(7)


def test_the_default_caps_are_the_documented_ones() -> None:
    assert (INTACCT_MAX_WIRE_BYTES, INTACCT_MAX_DECODED_BYTES) == (32 * MB, 64 * MB)
    assert AnswerLimits(max_wire_bytes=16 * MB, max_decoded_bytes=32 * MB, deadline_s=60.0) == ASSIGNAR_ANSWER_LIMITS


def test_intacct_s_deadline_for_a_whole_answer_is_its_timeout_by_default() -> None:
    # Given a client whose timeout is 0.3 s and a gateway trickling its answer
    fake = g.FakeGateway([trickle_reply])
    client = intacct_client(fake, attempts=1, answer_limits=None, timeout_s=0.3)

    # When / Then
    started = time.monotonic()
    with pytest.raises(IntacctTransientError, match=r"within 0\.3 s"):
        client.query("PROJECT", ["RECORDNO"])
    assert time.monotonic() - started < 1.0
