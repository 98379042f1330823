"""How the Assignar client paces, retries and counts its calls: backoff policy, rate limiter, call counter."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from ..retry import RetryPolicy, parse_retry_after

__all__ = ["CallCounter", "Clock", "RateLimiter", "RetryPolicy", "Sleep", "parse_retry_after"]

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RateLimiter:
    """Spaces requests at most `requests_per_second` apart, across threads; None or 0 means unlimited."""

    def __init__(
        self, requests_per_second: float | None, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        if requests_per_second is not None and requests_per_second < 0:
            raise ValueError(f"requests_per_second must not be negative, got {requests_per_second}")
        self.interval_s = 1.0 / requests_per_second if requests_per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self.interval_s <= 0:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_at)
            self._next_at = start + self.interval_s
        if start > now:
            self._sleep(start - now)


class CallCounter:
    """Counts HTTP calls to Assignar by method and resource (retries included), for benchmarks and the demo."""

    def __init__(self) -> None:
        self._calls: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def record(self, method: str, resource: str) -> None:
        with self._lock:
            self._calls[(method.upper(), resource)] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    def count(self, method: str | None = None, resource: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (m, r), n in self._calls.items()
                if (method is None or m == method.upper()) and (resource is None or r == resource)
            )

    def by_call(self) -> dict[str, int]:
        """`{"GET users": 12, "POST oauth2/token": 1, ...}`, sorted by name."""
        with self._lock:
            return {f"{m} {r}": n for (m, r), n in sorted(self._calls.items())}

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def __str__(self) -> str:
        calls = ", ".join(f"{name}: {n}" for name, n in self.by_call().items())
        return f"{self.total} Assignar calls" + (f" ({calls})" if calls else "")
