"""Backoff decisions, Retry-After, pacing and the call counter, on injected clocks and random sources."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from intacct_assignar.assignar import CallCounter, RateLimiter, RetryPolicy
from intacct_assignar.assignar.resilience import parse_retry_after


class Recorder:
    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock[0] += seconds


def test_backoff_ceilings_double_and_stop_at_the_cap() -> None:
    # Given a policy whose jitter always picks the ceiling
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    policy = RetryPolicy(max_attempts=10, base_delay_s=0.5, max_delay_s=4.0, rng=Top())

    # Then the waits after attempts 1..6 double up to the cap
    assert [policy.delay_s(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_is_jittered_below_the_ceiling() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=30.0, rng=random.Random(3))
    delays = [policy.delay_s(3) for _ in range(50)]
    assert all(0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 40  # spread, so clients retrying together do not stampede


def test_retry_after_wins_over_the_computed_backoff_but_not_over_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=10.0, rng=random.Random(1))
    assert policy.delay_s(1, retry_after_s=7) == 7
    assert policy.delay_s(1, retry_after_s=120) == 10.0


def test_attempts_count_the_first_try() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.should_retry(n) for n in (1, 2, 3)] == [True, True, False]
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), ("0", 0.0), ("1.5", 1.5), ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0), ("soon", None), (None, None)],
)
def test_retry_after_is_read_in_both_http_forms(header: str | None, seconds: float | None) -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds


def test_the_rate_limiter_spaces_calls_and_lets_idle_time_count() -> None:
    # Given 4 calls a second on a controllable clock
    clock = [100.0]
    sleep = Recorder(clock)
    limiter = RateLimiter(4, clock=lambda: clock[0], sleep=sleep)

    # When three calls come at once, then one after a long pause
    for _ in range(3):
        limiter.acquire()
    clock[0] += 10
    limiter.acquire()

    # Then the burst was spaced a quarter second apart and the late call did not wait
    assert sleep.delays == [0.25, 0.25]


def test_no_rate_limit_never_waits() -> None:
    sleep = Recorder([0.0])
    limiter = RateLimiter(None, sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert sleep.delays == []


def test_the_counter_reports_calls_by_method_and_resource() -> None:
    counter = CallCounter()
    counter.record("get", "users")
    counter.record("GET", "users")
    counter.record("POST", "clients")
    assert counter.total == 3
    assert counter.count("GET", "users") == 2
    assert counter.count(resource="clients") == 1
    assert str(counter) == "3 Assignar calls (GET users: 2, POST clients: 1)"
    counter.reset()
    assert counter.total == 0
