"""How many Assignar calls, and how long, to index every worker by employee_id, against the emulator.

Seeds the emulator with N workers, serves them with realistic per-request latency, and compares ways to build
the employee_id -> worker index, beside the floor that the page-size limit, the latency and the rate limit allow.

    .venv/bin/python benchmarks/assignar_index.py --workers 5000 --latency-ms 50 150
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from intacct_assignar.assignar import AssignarClient
from intacct_assignar_dev.emulators.assignar import AssignarEmulator


@dataclass
class Outcome:
    strategy: str
    api_calls: int
    token_calls: int
    seconds: float
    indexed: int
    note: str = ""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=5000, help="workers to seed (default 5000)")
    parser.add_argument(
        "--latency-ms", type=float, nargs=2, default=(50.0, 150.0), metavar=("MIN", "MAX"), help="per request"
    )
    parser.add_argument("--page-size", type=int, default=500, help="client page size (default 500)")
    parser.add_argument("--max-page-size", type=int, default=1000, help="largest page the server allows")
    parser.add_argument(
        "--page-size-cap", type=int, default=None, help="serve at most this many a page, silently (default: no cap)"
    )
    parser.add_argument("--in-size", type=int, default=200, help="keys per employee_id__in filter (default 200)")
    parser.add_argument("--client-rps", type=float, default=8.0, help="client pacing, requests/second")
    parser.add_argument("--server-rps", type=float, default=10.0, help="server rate limit answering 429")
    parser.add_argument("--sample", type=int, default=40, help="GET-per-worker calls timed, then extrapolated")
    return parser.parse_args()


def run(
    emulator: AssignarEmulator, args: argparse.Namespace, strategy: str, index: Callable[[AssignarClient], int]
) -> Outcome:
    with AssignarClient(
        emulator.settings(), requests_per_second=args.client_rps, page_size=args.page_size, in_filter_size=args.in_size
    ) as client:
        started = time.perf_counter()
        indexed = index(client)
        seconds = time.perf_counter() - started
        return Outcome(
            strategy,
            api_calls=client.calls.total - client.calls.count("POST", "oauth2/token"),
            token_calls=client.calls.count("POST", "oauth2/token"),
            seconds=seconds,
            indexed=indexed,
        )


def main() -> None:
    args = parse_args()
    low, high = (ms / 1000 for ms in args.latency_ms)
    mean_latency = (low + high) / 2
    with AssignarEmulator(
        latency_s=(low, high),
        rate_limit_per_s=args.server_rps,
        max_page_size=args.max_page_size,
        page_size_cap=args.page_size_cap,
        seed=1,
    ) as emulator:
        for n in range(1, args.workers + 1):
            emulator.seed(
                "users",
                {
                    "user_type_id": 2,
                    "first_name": f"Worker{n}",
                    "last_name": "Field",
                    "employee_id": f"E{n:05d}",
                    "integration_id": f"EMPLOYEE:{n}",
                },
            )
        workers = emulator.records("users")
        ids = [w["id"] for w in workers]
        employee_ids = [w["employee_id"] for w in workers]

        outcomes = [
            run(emulator, args, "list every worker, index locally", lambda c: len(c.workers.index_by("employee_id"))),
            run(
                emulator,
                args,
                f"employee_id__in, {args.in_size} keys a call",
                lambda c: len(c.workers.index_by("employee_id", employee_ids)),
            ),
        ]
        sample = run(
            emulator, args, "one GET per worker", lambda c: len([c.workers.get(i) for i in ids[: args.sample]])
        )
        scale = args.workers / max(sample.indexed, 1)
        outcomes.append(
            Outcome(
                sample.strategy,
                api_calls=args.workers,
                token_calls=sample.token_calls,
                seconds=sample.seconds * scale,
                indexed=args.workers,
                note=f"timed on {sample.indexed}, extrapolated",
            )
        )
        refused = sum(1 for entry in emulator.request_log if entry.status == 429)

    largest_page = min(args.max_page_size, args.page_size_cap or args.max_page_size)
    floor_calls = math.ceil(args.workers / largest_page)
    pace = 1 / min(args.client_rps, args.server_rps) if args.client_rps or args.server_rps else 0.0
    floor_seconds = max(floor_calls * mean_latency, (floor_calls - 1) * pace + mean_latency)

    print(f"Indexing {args.workers:,} Assignar workers by employee_id against the emulator")
    print(
        f"latency {args.latency_ms[0]:.0f}-{args.latency_ms[1]:.0f} ms/request, server limit {args.server_rps:g} req/s "
        f"(429 above), client pacing {args.client_rps:g} req/s, page size {args.page_size} (server max "
        f"{args.max_page_size}{f', silently capped at {args.page_size_cap}' if args.page_size_cap else ''})"
    )
    print()
    print(f"{'strategy':<40} {'Assignar calls':>15} {'time':>10}  note")
    for outcome in outcomes:
        calls = f"{outcome.api_calls:,} + {outcome.token_calls} token"
        print(f"{outcome.strategy:<40} {calls:>15} {outcome.seconds:>9.1f}s  {outcome.note}")
        assert outcome.indexed == args.workers, f"{outcome.strategy} indexed {outcome.indexed}"
    floor = f"{floor_calls} + 1 token"
    print(
        f"{'floor: full pages of ' + str(largest_page):<40} {floor:>15} {floor_seconds:>9.1f}s  "
        f"ceil(N / max page) calls at mean latency {mean_latency * 1000:.0f} ms, paced"
    )
    print()
    print(f"429 answers seen: {refused}")


if __name__ == "__main__":
    main()
