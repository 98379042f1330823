"""Benchmark: what pulling a 5,000-employee company from Intacct costs, and how fast responses are parsed.

Prints (1) Intacct API transactions and HTTP requests for a full pull and for a no-change incremental pull of
every object, against the emulator over loopback HTTP; (2) parse-and-normalize throughput of a full page of
2,000 employees in records/s, beside bare expat on the same bytes. Run: `make bench` or
`.venv/bin/python benchmarks/intacct_pull.py --employees 5000`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from xml.parsers import expat
from zoneinfo import ZoneInfo

import httpx
from intacct_assignar.intacct import ChangePull, IntacctClient, MemorySessionCache, Window, deletions, protocol
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.sources import EMPLOYEES, SOURCES
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company

ZONE = ZoneInfo("America/Denver")


class RecordingTransport(httpx.HTTPTransport):
    """Keeps every response body, so the parser can be timed on the exact bytes the gateway sent."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        self.bodies.append(response.content)
        return response


def pull_costs(employees: int, latency_s: float) -> tuple[list[tuple[str, int, int, int]], int, int, float, bytes]:
    now = datetime.now(ZONE).replace(microsecond=0)
    at = [now - timedelta(days=1)]
    store = IntacctStore(timezone=str(ZONE), clock=lambda: at[0].replace(tzinfo=None))
    generate_company(store, employees=employees, seed=11)
    at[0] = now
    transport = RecordingTransport()
    with IntacctEmulator(store, latency_s=latency_s) as emulator:
        settings = IntacctSettings.model_validate(emulator.settings_env())
        client = IntacctClient(
            settings,
            timezone=ZONE,
            http=httpx.Client(transport=transport, timeout=60),
            sessions=MemorySessionCache(),
            clock=lambda: at[0].timestamp(),  # session timeouts are read against the emulated clock
        )
        client.connect()  # the session is counted apart from the pulls
        rows = []
        started = time.perf_counter()
        for source in SOURCES:
            before_tx, before_http = client.counters.api_transactions, client.counters.http_requests
            count = sum(1 for _ in ChangePull(client, source.object_name, source.fields, Window(None, now)).records())
            rows.append(
                (
                    source.object_name,
                    count,
                    client.counters.api_transactions - before_tx,
                    client.counters.http_requests - before_http,
                )
            )
        full_wall = time.perf_counter() - started
        employee_page = max(transport.bodies, key=len)

        # A scheduled run after the lookback has passed with nothing changed.
        lookback = timedelta(hours=2)
        later = now + lookback + timedelta(minutes=15)
        at[0] = later
        client.connect()  # two quiet hours later the session has lapsed: a cold run opens one first
        before, before_http = client.counters.api_transactions, client.counters.http_requests
        window = Window.incremental(later - timedelta(minutes=15), lookback, later)
        for source in SOURCES:
            for _ in ChangePull(client, source.object_name, source.fields, window).records():
                pass
        for _ in deletions(client, [s.object_name for s in SOURCES], window):
            pass
        quiet = client.counters.api_transactions - before
        quiet_http = client.counters.http_requests - before_http
    return rows, quiet, quiet_http, full_wall, employee_page


def throughput(body: bytes, repeats: int) -> tuple[int, float, float]:
    records = len(protocol.parse_response(body).results[0].records)

    def bare() -> None:
        parser = expat.ParserCreate()
        parser.Parse(body, True)

    def ours() -> None:
        protocol.parse_response(body)

    def best(run: Callable[[], None], n: int) -> float:
        times = []
        for _ in range(n):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return records, records / best(bare, repeats), records / best(ours, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="emulated Intacct latency per call")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    rows, quiet, quiet_http, full_wall, page = pull_costs(args.employees, args.latency_ms / 1000)
    print(f"Intacct pull of a {args.employees}-employee company (emulator over loopback HTTP)")
    print(f"{'object':<14}{'records':>9}{'transactions':>14}{'HTTP requests':>15}")
    for name, count, tx, http in rows:
        print(f"{name:<14}{count:>9}{tx:>14}{http:>15}")
    total_records = sum(r[1] for r in rows)
    total_tx = sum(r[2] for r in rows)
    print(f"{'full pull':<14}{total_records:>9}{total_tx:>14}{sum(r[3] for r in rows):>15}")
    print(f"full pull wall time: {full_wall:.2f}s at {args.latency_ms:.0f} ms emulated latency per call")
    print(f"no-change incremental pull: {quiet} transactions ({len(SOURCES)} object queries + 1 AUDITHISTORY)")
    print(f"  HTTP requests: {quiet_http}; plus 1 getAPISession only when a cold process has no session")

    records, bare_rate, our_rate = throughput(page, args.repeats)
    print(f"\nParsing one gateway page of {records} {EMPLOYEES.object_name} records ({len(page) / 1024:.0f} KiB):")
    print(f"  bare expat (no handlers):         {bare_rate:>10,.0f} records/s")
    print(f"  parse + check + normalize (ours): {our_rate:>10,.0f} records/s  ({bare_rate / our_rate:.1f}x slower)")


if __name__ == "__main__":
    main()
