"""The emulator's HTTP face: the OAuth2 token endpoint, the v2 routes, bearer checks, pacing and injected faults."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlsplit

from intacct_assignar_dev.emulators.assignar.query import QueryError
from intacct_assignar_dev.emulators.assignar.store import TABLES, ApiError
from intacct_assignar_dev.emulators.http import EmulatorHandler, LoopbackServer

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from intacct_assignar_dev.emulators.assignar.emulator import AssignarEmulator

TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a URL path, not a password
API_PREFIX = "/v2"
_RECORD = re.compile(r"^/(?P<table>[a-z-]+)/(?P<id>\d+)$")
_COLLECTION = re.compile(r"^/(?P<table>[a-z-]+)/?$")
_PROCESS = re.compile(r"^/timesheets/(?P<id>\d+)/process$")
_TIMESHEET = re.compile(r"^/timesheets-expanded/(?P<id>\d+)$")


class _Disconnect(Exception):
    """Drop the connection without an answer (after `hang_s`), as a timeout or a crashed gateway would."""

    def __init__(self, hang_s: float = 0.0) -> None:
        super().__init__()
        self.hang_s = hang_s


class AssignarServer(LoopbackServer):
    """The loopback server carrying a reference to the emulator whose state it serves."""

    def __init__(self, emulator: AssignarEmulator, *, port: int = 0) -> None:
        super().__init__(AssignarHandler, port=port)
        self.emulator = emulator


class AssignarHandler(EmulatorHandler):
    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    @property
    def emulator(self) -> AssignarEmulator:
        return cast(AssignarServer, self.server).emulator

    def _handle(self, method: str) -> None:
        emulator = self.emulator
        url = urlsplit(self.path)
        body = self.read_body()
        try:
            status, payload, headers = self._answer(emulator, method, url.path, url.query, body)
        except _Disconnect as drop:
            if drop.hang_s > 0:
                time.sleep(drop.hang_s)
            self.close_connection = True
            emulator.log_request(method, url.path, None)
            return
        except Exception:  # an emulator bug must still answer, as Assignar's gateway would, not hang the client
            logger.exception("Assignar emulator failed on %s %s", method, url.path)
            status, payload, headers = 500, {"message": "[500] Internal Server Error"}, {}
        emulator.log_request(method, url.path, status)
        raw = b"" if payload is None else json.dumps(payload).encode()
        self.reply(status, raw, "application/json", headers)

    def _answer(
        self, emulator: AssignarEmulator, method: str, path: str, query: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if not emulator.admit_request():
            return 429, {"message": "[429] Too Many Requests"}, {"Retry-After": str(emulator.retry_after_s)}
        emulator.wait_latency()
        fault = emulator.draw_fault(method, path)
        if fault in ("429", "500", "502", "503", "504"):
            headers = {"Retry-After": str(emulator.retry_after_s)} if fault == "429" else {}
            return int(fault), {"message": f"[{fault}] Injected fault"}, headers
        if fault == "timeout":
            raise _Disconnect(emulator.fault_hang_s)
        if fault == "disconnect":
            raise _Disconnect()
        answer = self._route(emulator, method, path, query, body)
        if fault == "commit_then_500":
            return 500, {"message": "[500] Internal Server Error"}, {}
        if fault == "commit_then_disconnect":
            raise _Disconnect()
        if fault == "commit_then_timeout":
            raise _Disconnect(emulator.fault_hang_s)
        if fault == "stale_read" and method == "GET":
            return _without_rows(*answer)
        return answer

    def _route(
        self, emulator: AssignarEmulator, method: str, path: str, query: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if path == TOKEN_PATH:
            if method != "POST":
                return 405, {"error": "invalid_request"}, {}
            return self._token(emulator, body)
        if not path.startswith(API_PREFIX + "/"):
            return 404, {"message": "Not Found"}, {}
        if not emulator.token_is_valid(self.headers.get("Authorization")):
            return 401, {"message": "Unauthorized"}, {}
        try:
            return self._api(emulator, method, path[len(API_PREFIX) :], dict(parse_qsl(query)), body)
        except (ApiError, QueryError) as error:
            status = error.status if isinstance(error, ApiError) else 400
            return status, {"message": str(error)}, {}

    def _token(self, emulator: AssignarEmulator, body: bytes) -> tuple[int, Any, dict[str, str]]:
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        client_id, client_secret = _basic_credentials(self.headers.get("Authorization"))
        if not emulator.credentials_match(client_id, client_secret):
            return 401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="assignar"'}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, {}
        if form.get("scope") != emulator.scope:
            return 400, {"error": "invalid_scope"}, {}
        token, lifetime = emulator.issue_token()
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}, {}

    def _api(
        self, emulator: AssignarEmulator, method: str, path: str, params: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        state = emulator.state
        if match := _PROCESS.match(path):
            if method != "PUT":
                raise ApiError(405, "[405] Method Not Allowed")
            state.process_timesheet(int(match["id"]))
            return 200, {"status": 200}, {}
        if path.rstrip("/") == "/timesheets-expanded" and method == "GET":
            rows, total = state.query_timesheets(emulator.page_params(params), max_page_size=emulator.max_page_size)
            return 200, {"status": 200, "data": {"count": total, "rows": rows}}, {}
        if (match := _TIMESHEET.match(path)) and method == "GET":
            return 200, {"status": 200, "data": state.get_timesheet(int(match["id"]))}, {}
        if match := _COLLECTION.match(path):
            table = _table(match["table"])
            if method == "GET":
                rows, total = state.query(table, emulator.page_params(params), max_page_size=emulator.max_page_size)
                return 200, {"status": 200, "data": rows, "count": total}, {}
            if method == "POST":
                created = state.create(table, _json(body))
                return TABLES[table].create_status, {"status": 201, "data": created}, {}
        elif match := _RECORD.match(path):
            table, record_id = _table(match["table"]), int(match["id"])
            if method == "GET":
                return 200, {"status": 200, "data": state.get(table, record_id)}, {}
            if method == "PUT":
                state.update(table, record_id, _json(body))
                if TABLES[table].update_status == 200:
                    return 200, {"status": 204}, {}
                return 204, None, {}
        else:
            raise ApiError(404, "[404] Not Found")
        raise ApiError(405, "[405] Method Not Allowed")


def _without_rows(status: int, payload: Any, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    """A list answer emptied, in whichever of the two list shapes it has; any other answer unchanged."""
    if status != 200 or not isinstance(payload, dict):
        return status, payload, headers
    data = payload.get("data")
    if isinstance(data, list):
        return status, {**payload, "data": [], "count": 0}, headers
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        return status, {**payload, "data": {"count": 0, "rows": []}}, headers
    return status, payload, headers


def _table(name: str) -> str:
    if name not in TABLES:
        raise ApiError(404, "[404] Not Found")
    return name


def _json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError(400, "[400] Payload is not valid JSON") from None


def _basic_credentials(header: str | None) -> tuple[str, str]:
    if not header or not header.lower().startswith("basic "):
        return "", ""
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret
