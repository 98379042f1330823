"""Hostile answers over real loopback HTTP, against the real Intacct and Assignar clients: a gzip bomb, a trickle
one byte at a time, a document 200,000 levels deep. Each must end in a clear error, within its deadline, with
bounded memory; reads are retried first, writes are never sent twice."""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from intacct_assignar.answers import MB, AnswerLimits
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.assignar import RetryPolicy as AssignarRetryPolicy
from intacct_assignar.assignar.errors import AssignarError, OutcomeUnknownError, ServerError, TransportError
from intacct_assignar.intacct import (
    IntacctClient,
    IntacctError,
    IntacctOutcomeUnknownError,
    IntacctTransientError,
    MemorySessionCache,
    RetryPolicy,
)
from intacct_assignar.intacct.client import INTACCT_MAX_DECODED_BYTES, INTACCT_MAX_WIRE_BYTES
from intacct_assignar.intacct.xmlcodec import parse_xml
from intacct_assignar.settings import AssignarSettings
from intacct_assignar_dev.emulators.http import EmulatorHandler, LoopbackServer

from tests.unit.intacct import gateway as g
from tests.unit.test_answers import gzip_bomb

pytestmark = pytest.mark.integration

DEADLINE_S = 1.0
ATTEMPTS = 2
SLACK_S = 1.0  # thread start-up, the session and token requests, and a loaded CI machine
MEMORY_BOUND = 100 * MB
BOMB = gzip_bomb(1024)  # 1 MB on the wire, 1 GB unpacked
DEEP_XML = b"<a>" * 200_000 + b"</a>" * 200_000
DEEP_JSON = b"[" * 200_000 + b"]" * 200_000
INTACCT_PATH = "/ia/xml/xmlgw.phtml"
TOKEN_PATH = "/oauth2/token"


class HostileServer(LoopbackServer):
    """Answers sign-ins properly (Intacct's getAPISession, Assignar's token) and everything else with `kind`."""

    def __init__(self, kind: str, *, bomb: bytes = BOMB) -> None:
        super().__init__(HostileHandler)
        self.kind = kind
        self.bomb = bomb
        self.requests: list[str] = []
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def handle_error(self, request: object, client_address: object) -> None:
        # The client hangs up on purpose mid-answer; a broken pipe here is the expected outcome, not news.
        return


class HostileHandler(EmulatorHandler):
    server: HostileServer

    def do_GET(self) -> None:
        self.server.requests.append(f"GET {self.path}")
        self._hostile(json=True)

    def do_POST(self) -> None:
        body = self.read_body()
        if self.path == TOKEN_PATH:
            self.reply(200, b'{"access_token": "token-1", "expires_in": 3600}', "application/json")
            return
        if self.path == INTACCT_PATH:
            sent = g.Sent(self.path, parse_xml(body, force_list=["function"]))
            if sent.function_names == ["getAPISession"]:
                endpoint = f"{self.server.url}{INTACCT_PATH}"
                answer = g.response(g.session_result(sent.controlids[0], endpoint=endpoint))
                self.reply(200, answer, "text/xml")
                return
            self.server.requests.append(f"POST {','.join(sent.function_names)}")
            self._hostile(json=False)
            return
        self.server.requests.append(f"POST {self.path}")
        self._hostile(json=True)

    def _hostile(self, *, json: bool) -> None:
        self.close_connection = True
        try:
            if self.server.kind == "bomb":
                self._send(self.server.bomb, {"Content-Encoding": "gzip"})
            elif self.server.kind == "deep":
                self._send(DEEP_JSON if json else DEEP_XML, {})
            else:
                self._trickle()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up on the answer, as it should

    def _send(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        for start in range(0, len(body), 64 * 1024):
            self.wfile.write(body[start : start + 64 * 1024])

    def _trickle(self) -> None:
        # One byte every 0.2 s: each read returns long before any read timeout, so only a deadline stops it.
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.flush()
        for _ in range(1000):
            if self.server.stopping.wait(0.2):
                return
            self.wfile.write(b"<")
            self.wfile.flush()


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    with HostileServer(request.param) as server:
        yield server


def intacct_client(server: HostileServer, limits: AnswerLimits | None = None) -> IntacctClient:
    return IntacctClient(
        g.settings(INTACCT_ENDPOINT_URL=f"{server.url}{INTACCT_PATH}"),
        timezone=g.ZONE,
        sessions=MemorySessionCache(),
        retry=RetryPolicy(max_attempts=ATTEMPTS, base_delay_s=0.01),
        sleep=lambda _s: None,
        # Intacct's own caps; only the deadline is shrunk, to keep the trickle short.
        answer_limits=limits or AnswerLimits(INTACCT_MAX_WIRE_BYTES, INTACCT_MAX_DECODED_BYTES, DEADLINE_S),
    )


def assignar_client(server: HostileServer) -> AssignarClient:
    settings = AssignarSettings.model_validate(
        {
            "ASSIGNAR_CLIENT_ID": "client-1",
            "ASSIGNAR_CLIENT_SECRET": "secret-1",
            "ASSIGNAR_API_URL": f"{server.url}/v2",
            "ASSIGNAR_TOKEN_URL": f"{server.url}{TOKEN_PATH}",
        }
    )
    return AssignarClient(
        settings,
        requests_per_second=None,
        retry=AssignarRetryPolicy(max_attempts=ATTEMPTS, base_delay_s=0.01),
        sleep=lambda _s: None,
        # Assignar's own caps (16 MB on the wire, 32 MB decompressed); only the deadline is shrunk.
        answer_limits=AnswerLimits(16 * MB, 32 * MB, DEADLINE_S),
    )


def measured(call: Callable[[], object]) -> tuple[BaseException, float, int]:
    """The error `call` ends in, how long it took, and the peak of memory allocated meanwhile (all threads)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        error: BaseException = exc
    else:
        raise AssertionError("the hostile answer was accepted")
    finally:
        took = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return error, took, peak


INTACCT_SAYS = {
    "bomb": "Intacct's answer exceeded 64 MB after decompression",
    "trickle": "Intacct's answer did not arrive in full within 1 s",
    "deep": "nested deeper than 100 elements",
}


@pytest.mark.parametrize("hostile", sorted(INTACCT_SAYS), indirect=True)
def test_an_intacct_read_of_a_hostile_answer_is_retried_then_a_clear_error(hostile: HostileServer) -> None:
    # Given the real client against a gateway that signs in properly, then answers every query with hostility
    with intacct_client(hostile) as client:
        # When
        error, took, peak = measured(lambda: client.query("PROJECT", ["RECORDNO"]))

    # Then: retried like a transient failure, then one clear sentence, in time and in bounded memory
    assert isinstance(error, IntacctTransientError), repr(error)
    assert INTACCT_SAYS[hostile.kind] in str(error)
    assert error.attempts == ATTEMPTS and error.host == "127.0.0.1"
    assert hostile.requests == ["POST query"] * ATTEMPTS
    assert took < ATTEMPTS * DEADLINE_S + SLACK_S, f"{took:.1f} s"
    assert peak < MEMORY_BOUND, f"peak {peak / MB:.0f} MB"


@pytest.mark.parametrize("hostile", ["bomb", "trickle"], indirect=True)
def test_an_intacct_write_of_a_hostile_answer_has_an_unknown_outcome_and_is_sent_once(hostile: HostileServer) -> None:
    with intacct_client(hostile) as client:
        error, took, peak = measured(lambda: client.create("PROJECT", {"PROJECTID": "P-1"}, controlid="project-P-1"))

    assert isinstance(error, IntacctOutcomeUnknownError), repr(error)
    assert "may have been committed" in str(error)
    assert hostile.requests == ["POST create"]
    assert took < DEADLINE_S + SLACK_S, f"{took:.1f} s"
    assert peak < MEMORY_BOUND, f"peak {peak / MB:.0f} MB"


ASSIGNAR_SAYS = {
    "bomb": (TransportError, "Assignar's answer exceeded 32 MB after decompression"),
    "trickle": (TransportError, "Assignar's answer did not arrive in full within 1 s"),
    "deep": (ServerError, "JSON nested too deeply"),
}


@pytest.mark.parametrize("hostile", sorted(ASSIGNAR_SAYS), indirect=True)
def test_an_assignar_read_of_a_hostile_answer_is_retried_then_a_clear_error(hostile: HostileServer) -> None:
    with assignar_client(hostile) as client:
        error, took, peak = measured(lambda: client.clients.get(7))

    kind, said = ASSIGNAR_SAYS[hostile.kind]
    assert isinstance(error, kind), repr(error)
    assert isinstance(error, AssignarError) and said in str(error)
    assert error.attempts == ATTEMPTS
    assert hostile.requests == ["GET /v2/clients/7"] * ATTEMPTS
    assert took < ATTEMPTS * DEADLINE_S + SLACK_S, f"{took:.1f} s"
    assert peak < MEMORY_BOUND, f"peak {peak / MB:.0f} MB"


@pytest.mark.parametrize("hostile", ["bomb", "trickle"], indirect=True)
def test_an_assignar_create_of_a_hostile_answer_may_have_landed_and_is_sent_once(hostile: HostileServer) -> None:
    # Given a create without a key to look it up by: a lost answer cannot be checked, so it is never re-sent
    with assignar_client(hostile) as client:
        error, took, peak = measured(lambda: client.requestor.call("POST", "clients/", json={"name": "Acme"}))

    assert isinstance(error, OutcomeUnknownError), repr(error)
    assert hostile.requests == ["POST /v2/clients/"]
    assert took < DEADLINE_S + SLACK_S, f"{took:.1f} s"
    assert peak < MEMORY_BOUND, f"peak {peak / MB:.0f} MB"


@pytest.mark.parametrize("hostile", ["bomb"], indirect=True)
def test_negative_control_without_caps_the_memory_check_trips(hostile: HostileServer) -> None:
    # Given caps far above the answer, and a smaller bomb (128 MB unpacked) to keep the test light: the memory
    # measured must then exceed the bound the other tests hold, or those tests could not fail
    hostile.bomb = gzip_bomb(128)
    uncapped = AnswerLimits(max_wire_bytes=1024 * MB, max_decoded_bytes=1024 * MB, deadline_s=30.0)
    with intacct_client(hostile, uncapped) as client:
        error, _, peak = measured(lambda: client.query("PROJECT", ["RECORDNO"]))

    # Then the whole bomb was unpacked (and only then refused as not XML), far past the bound
    assert isinstance(error, IntacctError) and "not XML" in str(error)
    assert peak > MEMORY_BOUND, f"peak {peak / MB:.0f} MB"
