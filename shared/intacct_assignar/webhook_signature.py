"""Signing and verifying Assignar webhook deliveries: HMAC-SHA256 of `{timestamp}.{raw body}` with the shared secret.

The emulator signs with `sign`; the webhook receiver (to come with the outbound-time work) checks with `verify`,
which requires the timestamp unless told otherwise. The format is ours (Assignar publishes none) and is described
for admins in docs/assignar-webhook.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from pydantic import SecretStr

SIGNATURE_HEADER = "X-Assignar-Signature"
TIMESTAMP_HEADER = "X-Assignar-Timestamp"
SIGNATURE_SCHEME = "sha256"
# A signed timestamp older or newer than this is refused, so a captured delivery cannot be replayed later.
DEFAULT_TOLERANCE_S = 300
# The form of a timestamp: ASCII digits only (int() would also take other scripts' digits, " 12" or "1_2"), at most 12,
# since Unix seconds have 10 until the year 2286 and a longer value must never reach the float clock arithmetic.
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def signed_message(body: bytes, timestamp: str | int | None = None) -> bytes:
    """The bytes the HMAC covers: the raw body, or `{timestamp}.{raw body}` when a timestamp is sent."""
    if timestamp is None:
        return body
    return f"{timestamp}.".encode() + body


def sign(body: bytes, secret: SecretStr | str, *, timestamp: str | int | None = None) -> str:
    """The signature header value for `body`: `sha256=<hex HMAC-SHA256>`."""
    digest = hmac.new(_key(secret), signed_message(body, timestamp), hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def signature_headers(
    body: bytes,
    secret: SecretStr | str,
    *,
    timestamp: int | None = None,
    with_timestamp: bool = True,
    signature_header: str = SIGNATURE_HEADER,
    timestamp_header: str = TIMESTAMP_HEADER,
) -> dict[str, str]:
    """The headers a sender adds to a delivery of `body` (timestamped by default, now if not given)."""
    if not with_timestamp:
        return {signature_header: sign(body, secret)}
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {signature_header: sign(body, secret, timestamp=stamp), timestamp_header: stamp}


def verify(
    body: bytes,
    secret: SecretStr | str,
    signature: str | None,
    *,
    timestamp: str | None = None,
    allow_missing_timestamp: bool = False,
    tolerance_s: int | None = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True when `signature` (the header value) is the HMAC of `timestamp` and `body` under `secret`.

    Compared in constant time. A timestamp outside `tolerance_s` of `now` fails. A missing timestamp fails too,
    since without one a captured delivery could be replayed forever; `allow_missing_timestamp=True` accepts a
    signature over the body alone, for a sender that cannot timestamp and is explicitly allowed by configuration.
    """
    if not signature:
        return False
    # Stripped as an HTTP header value is; and ASCII or refused, since a signature is hex and anything else (a lone
    # surrogate, say) could not be encoded to compare as bytes.
    signature = signature.strip()
    if not signature.isascii() or not signature.startswith(f"{SIGNATURE_SCHEME}="):
        return False
    if timestamp is None:
        if not allow_missing_timestamp:
            return False
    else:
        if not UNIX_SECONDS.fullmatch(timestamp):
            return False
        stamp = int(timestamp)
        current = time.time() if now is None else now
        if tolerance_s is not None and abs(current - stamp) > tolerance_s:
            return False
    expected = sign(body, secret, timestamp=timestamp)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii"))


def _key(secret: SecretStr | str) -> bytes:
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not value:
        raise ValueError("the webhook secret is empty; set ASSIGNAR_WEBHOOK_SECRET")
    return value.encode()
