"""A stateful Assignar tenant on loopback: the public API v2 and its token endpoint, plus an admin API for tests."""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

import httpx
from intacct_assignar.assignar.auth import ASSIGNAR_SCOPE
from intacct_assignar.assignar.models import APPROVED_STATUSES
from intacct_assignar.assignar.webhooks import TimesheetEvent
from intacct_assignar.settings import AssignarSettings
from intacct_assignar.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_headers
from pydantic import SecretStr

from intacct_assignar_dev.emulators.assignar.server import API_PREFIX, TOKEN_PATH, AssignarServer
from intacct_assignar_dev.emulators.assignar.store import (
    EquipmentEntry,
    LaborEntry,
    Record,
    TenantState,
)
from intacct_assignar_dev.emulators.http import FaultPlan

FAULT_KINDS = frozenset(
    {
        "429",
        "500",
        "502",
        "503",
        "504",
        "timeout",
        "disconnect",
        "commit_then_500",
        "commit_then_disconnect",
        "commit_then_timeout",
        # A list answered with no rows, as a lagging read replica does just after a write; other calls unaffected.
        "stale_read",
    }
)


@dataclass
class WebhookConfig:
    """Where and how the emulator announces approvals. Header names are configurable, as the receiver's are."""

    url: str
    secret: SecretStr
    signature_header: str = SIGNATURE_HEADER
    timestamp_header: str = TIMESTAMP_HEADER
    with_timestamp: bool = True
    timeout_s: float = 5.0

    def __repr__(self) -> str:
        return f"WebhookConfig(url={self.url!r}, secret=**********)"


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to deliver an event: what was sent, and the receiver's status (or the error)."""

    event: TimesheetEvent
    body: bytes
    headers: Mapping[str, str]
    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class _QueuedFault:
    kind: str
    method: str | None
    path: str | None
    remaining: int


@dataclass(frozen=True)
class RequestLogEntry:
    method: str
    path: str
    status: int | None  # None: the connection was dropped without an answer


@dataclass
class _Tokens:
    lifetime_s: int
    issued: dict[str, float] = field(default_factory=dict)


class AssignarEmulator:
    """An Assignar tenant. Knobs: latency range, a request-rate limit answering 429, seeded random faults (the
    token endpoint included), `max_page_size` (larger asks are refused with 400) and `page_size_cap` (larger
    asks are silently served pages of the cap, as some servers do).

    `client_secret` defaults to a fresh random value; read it (and the URLs) from `settings()`:

        with AssignarEmulator(webhook_url=receiver_url, webhook_secret="s3cret") as assignar:
            client = AssignarClient(assignar.settings())
            worker = assignar.seed("users", {"user_type_id": 2, "first_name": "Ann", "last_name": "Lee"})
            timesheet_id = assignar.create_timesheet(worker_id=worker["id"], project_id=..., work_date=...)
            assignar.approve_timesheet(timesheet_id)  # signs and posts the timesheet.approved webhook
    """

    def __init__(
        self,
        *,
        client_id: str = "emulator-client",
        client_secret: str | None = None,
        scope: str = ASSIGNAR_SCOPE,
        token_lifetime_s: int = 3600,
        latency_s: float | tuple[float, float] = 0.0,
        rate_limit_per_s: float | None = None,
        retry_after_s: int = 1,
        faults: FaultPlan | None = None,
        fault_hang_s: float = 2.0,
        max_page_size: int = 1000,
        page_size_cap: int | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | SecretStr | None = None,
        webhook_signature_header: str = SIGNATURE_HEADER,
        webhook_timestamp_header: str = TIMESTAMP_HEADER,
        webhook_with_timestamp: bool = True,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        port: int = 0,
    ) -> None:
        if faults is not None and (unknown := set(faults.kinds) - FAULT_KINDS):
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {sorted(FAULT_KINDS)}")
        self.client_id = client_id
        self._client_secret = SecretStr(client_secret or secrets.token_urlsafe(24))
        self.scope = scope
        self.latency_s = latency_s
        self.rate_limit_per_s = rate_limit_per_s
        self.retry_after_s = retry_after_s
        self.faults = faults or FaultPlan()
        self.fault_hang_s = fault_hang_s
        self.max_page_size = max_page_size
        if page_size_cap is not None and page_size_cap < 1:
            raise ValueError(f"page_size_cap must be positive, got {page_size_cap}")
        self.page_size_cap = page_size_cap
        self.state = TenantState(clock=lambda: datetime.fromtimestamp(clock(), UTC))
        self.webhook: WebhookConfig | None = None
        if webhook_url:
            if webhook_secret is None:
                raise ValueError("a webhook_url needs a webhook_secret to sign deliveries with")
            self.webhook = WebhookConfig(
                url=webhook_url,
                secret=webhook_secret if isinstance(webhook_secret, SecretStr) else SecretStr(webhook_secret),
                signature_header=webhook_signature_header,
                timestamp_header=webhook_timestamp_header,
                with_timestamp=webhook_with_timestamp,
            )
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.request_log: list[RequestLogEntry] = []
        self._clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._tokens = _Tokens(lifetime_s=token_lifetime_s)
        self._token_key = secrets.token_bytes(32)
        self._queued: list[_QueuedFault] = []
        self._recent: collections.deque[float] = collections.deque()
        self._server = AssignarServer(self, port=port)

    def __repr__(self) -> str:
        return f"AssignarEmulator(url={self.url!r}, client_id={self.client_id!r})"

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def client_secret(self) -> SecretStr:
        return self._client_secret

    def settings(self, **overrides: Any) -> AssignarSettings:
        """Connection settings for a client of this emulator (ASSIGNAR_* names; `overrides` by those names too)."""
        values: dict[str, Any] = {
            "ASSIGNAR_CLIENT_ID": self.client_id,
            "ASSIGNAR_CLIENT_SECRET": self._client_secret,
            "ASSIGNAR_API_URL": self.api_url,
            "ASSIGNAR_TOKEN_URL": self.token_url,
        }
        if self.webhook is not None:
            values["ASSIGNAR_WEBHOOK_SECRET"] = self.webhook.secret
        values.update(overrides)
        return AssignarSettings.model_validate(values)

    def settings_env(self, **overrides: str) -> dict[str, str]:
        """ASSIGNAR_* variables (or secret keys) that point a client at this emulator, as text.

        The emulator needs no client-side pacing, so ASSIGNAR_REQUESTS_PER_SECOND is 0 (unlimited)."""
        env = {
            "ASSIGNAR_CLIENT_ID": self.client_id,
            "ASSIGNAR_CLIENT_SECRET": self._client_secret.get_secret_value(),
            "ASSIGNAR_API_URL": self.api_url,
            "ASSIGNAR_TOKEN_URL": self.token_url,
            "ASSIGNAR_REQUESTS_PER_SECOND": "0",
        }
        if self.webhook is not None:
            env["ASSIGNAR_WEBHOOK_SECRET"] = self.webhook.secret.get_secret_value()
        return env | overrides

    # --- admin: data ---------------------------------------------------------------------------------------

    def seed(self, resource: str, record: Mapping[str, Any]) -> Record:
        """Create a record as a dashboard user would (same rules as the API). `resource` is the API path name:
        users, clients, projects, orders, activities, tasks, assets, employment-types."""
        return self.state.seed(resource, record)

    def seed_many(self, resource: str, records: Iterable[Mapping[str, Any]]) -> list[Record]:
        return [self.state.seed(resource, record) for record in records]

    def records(self, resource: str) -> list[Record]:
        """Every record of a resource as GET shows it."""
        return self.state.records(resource)

    def create_timesheet(
        self,
        *,
        worker_id: int,
        project_id: int,
        work_date: date,
        role_id: int | None = None,
        work_order_id: int | None = None,
        start: str = "07:00",
        labor: Iterable[LaborEntry] = (),
        equipment: Iterable[EquipmentEntry] = (),
        status: str = "SUBMITTED",
        comments: str | None = None,
    ) -> int:
        """A worker's timesheet for one day with labor (activity) and equipment (asset) entries; its id."""
        return self.state.create_timesheet(
            worker_id=worker_id,
            project_id=project_id,
            work_date=work_date,
            role_id=role_id,
            work_order_id=work_order_id,
            start=start,
            labor=labor,
            equipment=equipment,
            status=status,
            comments=comments,
        )

    def approve_timesheet(
        self, timesheet_id: int, *, status: str = "APPROVED", notify: bool = True
    ) -> WebhookDelivery | None:
        """Approve as a supervisor would; then (when a webhook is configured) deliver `timesheet.approved`."""
        if status not in APPROVED_STATUSES:
            raise ValueError(f"{status!r} is not an approved status; one of {APPROVED_STATUSES}")
        self.state.set_timesheet_status(timesheet_id, status)
        if not notify or self.webhook is None:
            return None
        return self.send_webhook(TimesheetEvent(timesheet_id=timesheet_id, occurred_at=self._now()))

    def set_timesheet_status(self, timesheet_id: int, status: str) -> None:
        self.state.set_timesheet_status(timesheet_id, status)

    def reopen_timesheet(
        self,
        timesheet_id: int,
        *,
        labor: Iterable[LaborEntry] | None = None,
        equipment: Iterable[EquipmentEntry] | None = None,
        status: str = "SUBMITTED",
    ) -> None:
        """Reverse processing and edit, as an Assignar admin can: `processed_at` is cleared, `status` set, and the
        labor and/or equipment entries given replace the old ones. Then `approve_timesheet` approves it again."""
        self.state.reopen_timesheet(timesheet_id, labor=labor, equipment=equipment, status=status)

    def send_webhook(self, event: TimesheetEvent) -> WebhookDelivery:
        """Sign and post one event to the configured receiver, once; the attempt is kept in `webhook_deliveries`."""
        if self.webhook is None:
            raise RuntimeError("no webhook_url configured on this emulator")
        config = self.webhook
        body = event.to_body()
        headers = {
            "Content-Type": "application/json",
            **signature_headers(
                body,
                config.secret,
                timestamp=int(self._clock()),
                with_timestamp=config.with_timestamp,
                signature_header=config.signature_header,
                timestamp_header=config.timestamp_header,
            ),
        }
        try:
            response = httpx.post(config.url, content=body, headers=headers, timeout=config.timeout_s)
            delivery = WebhookDelivery(event, body, headers, response.status_code)
        except httpx.HTTPError as exc:
            delivery = WebhookDelivery(event, body, headers, None, error=type(exc).__name__)
        with self._lock:
            self.webhook_deliveries.append(delivery)
        return delivery

    # --- admin: behaviour ----------------------------------------------------------------------------------

    def fail_next(self, kind: str, *, method: str | None = None, path: str | None = None, times: int = 1) -> None:
        """Inject `kind` into the next `times` requests matching `method` and a path starting with `path`
        (relative to /v2, e.g. "/users"; the token endpoint is "/oauth2/token")."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        with self._lock:
            self._queued.append(_QueuedFault(kind, method.upper() if method else None, path, times))

    def expire_tokens(self) -> None:
        """Every token issued so far stops working now, as after a credential rotation."""
        with self._lock:
            self._tokens.issued.clear()

    def calls(self, method: str | None = None, path_prefix: str = "") -> int:
        """Requests the emulator received (answered or dropped), optionally by method and path prefix."""
        with self._lock:
            return sum(
                1
                for entry in self.request_log
                if (method is None or entry.method == method.upper()) and entry.path.startswith(path_prefix)
            )

    # --- used by the HTTP handler --------------------------------------------------------------------------

    def log_request(self, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self.request_log.append(RequestLogEntry(method, path, status))

    def admit_request(self) -> bool:
        """False when the last second already saw `rate_limit_per_s` requests."""
        if not self.rate_limit_per_s:
            return True
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit_per_s:
                return False
            self._recent.append(now)
            return True

    def wait_latency(self) -> None:
        low, high = self.latency_s if isinstance(self.latency_s, tuple) else (self.latency_s, self.latency_s)
        if high <= 0:
            return
        with self._lock:
            delay = self._rng.uniform(low, high)
        time.sleep(delay)

    def page_params(self, params: Mapping[str, str]) -> dict[str, str]:
        """The list query as served: `page_size` silently lowered to `page_size_cap`, pages counted in that size."""
        served = dict(params)
        if self.page_size_cap is not None and served.get("page_size", "").isdigit():
            served["page_size"] = str(min(int(served["page_size"]), self.page_size_cap))
        return served

    def draw_fault(self, method: str, path: str) -> str | None:
        relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
        with self._lock:
            for queued in self._queued:
                if (queued.method in (None, method)) and (queued.path is None or relative.startswith(queued.path)):
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._queued.remove(queued)
                    return queued.kind
        # Random faults hit the token endpoint too: Assignar's login service can be slow or down like the API.
        kind = self.faults.draw()
        if kind is not None and kind.startswith("commit_then") and method == "GET":
            return kind.removeprefix("commit_then_")
        return kind

    def credentials_match(self, client_id: str, client_secret: str) -> bool:
        expected = f"{self.client_id}:{self._client_secret.get_secret_value()}".encode()
        return hmac.compare_digest(expected, f"{client_id}:{client_secret}".encode())

    def issue_token(self) -> tuple[str, int]:
        """A JWT-shaped bearer token (Assignar's are JWTs; clients must treat them as opaque)."""
        issued_at = self._clock()
        claims = {
            "sub": self.client_id,
            "scope": self.scope,
            "iat": int(issued_at),
            "exp": int(issued_at) + self._tokens.lifetime_s,
            "jti": secrets.token_hex(8),
        }
        header = _b64({"alg": "HS256", "typ": "JWT"})
        payload = _b64(claims)
        signature = hmac.new(self._token_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
        with self._lock:
            self._tokens.issued[token] = issued_at + self._tokens.lifetime_s
        return token, self._tokens.lifetime_s

    def token_is_valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        token = authorization[len("Bearer ") :].strip()
        with self._lock:
            expires_at = self._tokens.issued.get(token)
        return expires_at is not None and self._clock() < expires_at

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


def _b64(value: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).rstrip(b"=").decode()
