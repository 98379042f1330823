"""OAuth2 client-credentials tokens for the Assignar API, cached until shortly before they expire."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from intacct_assignar.answers import MB, AnswerLimits, UnusableAnswerError, read_answer
from intacct_assignar.assignar.errors import (
    AuthenticationError,
    RateLimitedError,
    ServerError,
    TransportError,
    assignar_message,
)
from intacct_assignar.assignar.resilience import CallCounter, Clock, parse_retry_after

# Assignar's documentation says to copy this scope exactly; it is the same for every tenant.
ASSIGNAR_SCOPE = "target-entity:b816a5d3-40c3-477f-a551-1d066d7211cc:api_access"
# Assignar documents tokens as lasting one hour; used only when the answer omits expires_in.
DEFAULT_TOKEN_LIFETIME_S = 3600.0
# A token answer is a few hundred bytes; the client passes its own limits, these serve a provider used alone.
TOKEN_ANSWER_LIMITS = AnswerLimits(max_wire_bytes=1 * MB, max_decoded_bytes=1 * MB, deadline_s=60.0)


@dataclass(frozen=True)
class AccessToken:
    value: SecretStr
    expires_at: float  # on the provider's clock

    def __repr__(self) -> str:
        return f"AccessToken(value=**********, expires_at={self.expires_at})"


class TokenProvider:
    """Fetches a bearer token with HTTP Basic client credentials and reuses it until `refresh_margin_s` before expiry.

    `invalidate()` drops the cached token, e.g. after Assignar answers 401 to it. Failures are typed as the API's
    are: 429 is `RateLimitedError`, 5xx `ServerError`, no answer `TransportError` (all retried by the client's
    loop); refused credentials or scope (400/401) are `AuthenticationError`. An answer beyond `answer_limits` (too
    big or too slow) is a `TransportError`, retried like any other lost answer.
    """

    def __init__(
        self,
        http: httpx.Client,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scope: str = ASSIGNAR_SCOPE,
        refresh_margin_s: float = 60.0,
        clock: Clock = time.monotonic,
        counter: CallCounter | None = None,
        answer_limits: AnswerLimits = TOKEN_ANSWER_LIMITS,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._counter = counter
        self._answer_limits = answer_limits
        self._token: AccessToken | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenProvider(token_url={self._token_url!r}, client_id={self._client_id!r})"

    def bearer(self) -> str:
        """The current access token, fetching a new one when none is cached or it is about to expire."""
        with self._lock:
            token = self._token
            if token is None or self._clock() >= token.expires_at - self._refresh_margin_s:
                token = self._token = self._fetch()
            return token.value.get_secret_value()

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> AccessToken:
        if self._counter is not None:
            self._counter.record("POST", "oauth2/token")
        started = self._clock()
        request = self._http.build_request(
            "POST",
            self._token_url,
            data={"grant_type": "client_credentials", "scope": self._scope},
            headers={"Accept": "application/json"},
        )
        try:
            response = read_answer(
                self._http,
                request,
                service="Assignar's token endpoint",
                limits=self._answer_limits,
                auth=httpx.BasicAuth(self._client_id, self._client_secret.get_secret_value()),
            )
        except UnusableAnswerError as exc:
            raise TransportError(
                str(exc), method="POST", path=self._token_url, status=exc.http_status, may_have_landed=False
            ) from None
        except httpx.HTTPError as exc:
            # Asking for a token changes nothing at Assignar, so every failure to get an answer is retryable.
            # The httpx message names the URL only; the credentials travel in a header it does not print.
            raise TransportError(
                f"could not reach the Assignar token endpoint: {type(exc).__name__}",
                method="POST",
                path=self._token_url,
                may_have_landed=False,
            ) from None
        context: dict[str, Any] = {
            "method": "POST",
            "path": self._token_url,
            "status": response.status_code,
            "assignar_message": assignar_message(response.content),
        }
        if response.status_code == 429:
            raise RateLimitedError(
                "the Assignar token endpoint is rate limiting",
                retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
                **context,
            )
        if response.status_code >= 500:
            raise ServerError("the Assignar token endpoint failed", **context)
        if response.status_code != 200:
            raise AuthenticationError(
                "Assignar refused the client credentials; check ASSIGNAR_CLIENT_ID, ASSIGNAR_CLIENT_SECRET "
                "(Assignar dashboard, Settings > API Access) and ASSIGNAR_TOKEN_URL",
                **context,
            )
        try:
            body = json.loads(response.content)
            value = str(body["access_token"])
            lifetime = float(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME_S)
        except (ValueError, KeyError, TypeError, RecursionError):
            raise AuthenticationError(
                "the Assignar token endpoint answered without an access_token",
                method="POST",
                path=self._token_url,
                status=response.status_code,
            ) from None
        return AccessToken(value=SecretStr(value), expires_at=started + lifetime)
