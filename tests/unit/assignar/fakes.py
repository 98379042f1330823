"""Hand-built Assignar answers for unit tests, served through httpx.MockTransport (no sockets)."""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx
from intacct_assignar.assignar import AssignarClient, RetryPolicy
from intacct_assignar.settings import AssignarSettings
from pydantic import SecretStr

API_URL = "https://api.assignar.com/v2"
TOKEN_URL = "https://login.assignar.com/oauth2/token"
CLIENT_SECRET = "s3cr3t-client-value"
ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.sig-abc123"

Responder = Callable[[httpx.Request], httpx.Response]


def settings() -> AssignarSettings:
    return AssignarSettings.model_validate(
        {
            "ASSIGNAR_CLIENT_ID": "client-id-1",
            "ASSIGNAR_CLIENT_SECRET": SecretStr(CLIENT_SECRET),
            "ASSIGNAR_API_URL": API_URL,
            "ASSIGNAR_TOKEN_URL": TOKEN_URL,
        }
    )


def envelope(
    data: Any, status: int = 200, *, http_status: int | None = None, count: int | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"status": status, "data": data}
    if count is not None:
        body["count"] = count
    return httpx.Response(http_status or status, json=body)


def message(status: int, text: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"message": text}, headers=headers)


class FakeAssignar:
    """Answers tokens and a plausible default for every API call; `script` queues specific answers first."""

    def __init__(self, *, token_lifetime_s: int = 3600) -> None:
        self.requests: list[httpx.Request] = []
        self.scripted: deque[httpx.Response | Exception] = deque()
        self.token_lifetime_s = token_lifetime_s
        self.tokens_issued = 0
        self.handler: Responder | None = None
        self.token_refusal: httpx.Response | None = None

    def script(self, *answers: httpx.Response | Exception) -> None:
        self.scripted.extend(answers)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) != TOKEN_URL]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URL:
            if self.token_refusal is not None:
                return self.token_refusal
            self.tokens_issued += 1
            return httpx.Response(
                200, json={"access_token": f"{ACCESS_TOKEN}{self.tokens_issued}", "expires_in": self.token_lifetime_s}
            )
        if self.scripted:
            answer = self.scripted.popleft()
            if isinstance(answer, Exception):
                raise answer
            return answer
        if self.handler is not None:
            return self.handler(request)
        return default_answer(request)


def default_answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path.removeprefix("/v2/").rstrip("/")
    parts = path.split("/")
    if request.method == "GET" and parts[0] == "timesheets-expanded" and len(parts) == 1:
        return envelope({"count": 1, "rows": [{"id": 5000, "status": "APPROVED"}]})
    if request.method == "GET" and len(parts) == 1:
        return envelope([{"id": 1, "name": "one"}], count=1)
    if request.method == "GET":
        return envelope(
            {
                "id": int(parts[1]),
                "name": "one",
                "company_name": "one",
                "client_id": 3,
                "order_owner": 4,
                "start_date": "2026-01-01",
                "end_date": "2026-01-31",
            }
        )
    if request.method == "POST":
        sent = json.loads(request.content)
        return envelope({"id": 42, **sent}, status=201)
    if parts[-1] == "process":
        return envelope(None)
    return httpx.Response(204)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def make_client(
    fake: FakeAssignar,
    *,
    sleeps: Sleeps | None = None,
    clock: FakeClock | None = None,
    max_attempts: int = 4,
    **kwargs: Any,
) -> AssignarClient:
    kwargs.setdefault("requests_per_second", None)
    return AssignarClient(
        settings(),
        transport=httpx.MockTransport(fake),
        retry=RetryPolicy(max_attempts=max_attempts, base_delay_s=0.5, max_delay_s=8.0, rng=random.Random(1)),
        sleep=sleeps or Sleeps(),
        clock=clock or FakeClock(),
        **kwargs,
    )
