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
        self.token_failures: deque[httpx.Response | Exception] = deque()

    def script(self, *answers: httpx.Response | Exception) -> None:
        self.scripted.extend(answers)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) != TOKEN_URL]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URL:
            if self.token_refusal is not None:
                return self.token_refusal
            if self.token_failures:
                failure = self.token_failures.popleft()
                if isinstance(failure, Exception):
                    raise failure
                return failure
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


def serve_list(records: list[dict[str, Any]], *, page_size_cap: int | None = None) -> Responder:
    """Answers list calls from `records` as Assignar would: `field`, `field__in` and `id__gt` filters, sort by id,
    `page`/`page_size` paging, and (with `page_size_cap`) a silent cap on the page size."""

    def answer(request: httpx.Request) -> httpx.Response:
        rows = sorted(records, key=lambda row: int(row["id"]))
        for name, value in request.url.params.items():
            field, _, operator = name.partition("__")
            if name in ("page", "page_size", "sort"):
                continue
            if operator == "in":
                rows = [row for row in rows if str(row.get(field)) in value.split(",")]
            elif operator == "gt":
                rows = [row for row in rows if int(row[field]) > int(value)]
            elif not operator:
                rows = [row for row in rows if str(row.get(field)) == value]
            else:
                raise AssertionError(f"the fake does not filter by {name}")
        size = int(request.url.params.get("page_size", len(rows) or 1))
        size = min(size, page_size_cap or size)
        start = (int(request.url.params.get("page", "1")) - 1) * size
        return envelope(rows[start : start + size], count=len(rows))

    return answer


def default_answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path.removeprefix("/v2/").rstrip("/")
    parts = path.split("/")
    # Lists hold one record; the page after it (by number, or by keyset: ids above it) is empty.
    after = int(request.url.params.get("id__gt", "0"))
    first_page = request.url.params.get("page", "1") == "1"
    if request.method == "GET" and parts[0] == "timesheets-expanded" and len(parts) == 1:
        rows = [{"id": 5000, "status": "APPROVED"}] if after < 5000 and first_page else []
        return envelope({"count": len(rows), "rows": rows})
    if request.method == "GET" and len(parts) == 1:
        rows = [{"id": 1, "name": "one"}] if after < 1 and first_page else []
        return envelope(rows, count=len(rows))
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
