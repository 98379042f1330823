"""Benchmark: the puller's peak memory and CPU for a full EMPLOYEE pull, by company size.

For each size the Intacct emulator runs in a process of its own (so neither its memory nor its CPU is counted), and
every measurement is a fresh Python process that pulls every employee once, over loopback HTTP:

- `service`: the puller's path, `PullService.pull("EMPLOYEE", full=True)`, publishing to a queue that serializes
  each message as SQS would be sent it and keeps nothing (the Lambda's SqsPublisher, less the network);
- `bare`: the paging client alone, `ChangePull(...).records()`, counting records.

Printed per size and path, as ranges over `--runs` runs, with the 1-minute load average (the machine is shared):
- memory: peak RSS of the process (`ru_maxrss`; imports included, what a Lambda's memory setting has to hold), how
  far RSS rose during the pull, and the tracemalloc peak during the pull (Python's allocations only; in runs of their
  own, since tracing slows a process down), with how many times the cycle collector ran;
- CPU seconds (process time; the emulator's are not counted) per 1,000 records, and where they went: reading the
  answers, parsing them (`protocol.parse_response`: xmltodict and the records), normalizing and building messages
  (`PullService._messages`), serializing them (`to_body`, as SQS is sent them), the rest, and the part of all these
  the cycle collector took. The split times each call of those functions (two clock readings a call).
With `--profile`, the service path's top functions under cProfile at the first size (wall-clock time, inflated by
the profiler's own cost: for ranking, not for figures).

    .venv/bin/python benchmarks/puller_memory.py                       # 5,000 / 20,000 / 50,000 employees
    .venv/bin/python benchmarks/puller_memory.py --sizes 5000 --runs 1 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/Denver")
PATHS = ("service", "bare")


# --- the emulator's process -----------------------------------------------------------------------------------


def serve(employees: int) -> None:
    """Seed a company, serve it, print the client's settings as one JSON line, and serve until stdin closes."""
    from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company

    store = IntacctStore(timezone=str(ZONE))
    generate_company(store, employees=employees, seed=11)
    with IntacctEmulator(store) as emulator:
        print(json.dumps(emulator.settings_env()), flush=True)
        sys.stdin.read()


# --- one measurement's process --------------------------------------------------------------------------------


class DiscardingQueue:
    """Serializes each message as the SQS publisher does, counts it, and keeps nothing."""

    def __init__(self, stages: StageClock) -> None:
        self.messages = 0
        self.bytes = 0
        self.stages = stages
        stages.seconds["serialize messages"] = 0.0

    def publish(self, messages: Sequence[Any]) -> None:
        started = time.process_time()
        for message in messages:
            self.bytes += len(message.to_body())
            self.messages += 1
        self.stages.seconds["serialize messages"] += time.process_time() - started


def _rss_bytes() -> int:
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


class StageClock:
    """CPU seconds (process time) spent inside each wrapped function, outermost calls only."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, stage: str, owner: object, name: str) -> None:
        """Time every call of `owner.name` (a module's function or an object's method) as `stage`."""
        function: Callable[..., Any] = getattr(owner, name)
        self.seconds.setdefault(stage, 0.0)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.process_time() - started

        setattr(owner, name, timed)


class _CollectorClock:
    """CPU seconds the cycle collector took (a `gc.callbacks` entry): it runs inside whichever stage allocated."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

        self.by_generation = [0.0, 0.0, 0.0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            took = time.process_time() - self._started
            self.seconds += took
            self.by_generation[info["generation"]] += took


def measure(path: str, settings_env: dict[str, str], how: str) -> dict[str, Any]:
    """One full EMPLOYEE pull by `path`; `how` is "plain" (RSS, CPU and its split by stage), "traced"
    (tracemalloc) or "profiled" (cProfile)."""
    from intacct_assignar.config import parse_config
    from intacct_assignar.inbound.pull import PullService
    from intacct_assignar.intacct import ChangePull, IntacctClient, MemorySessionCache, Window, protocol
    from intacct_assignar.intacct import client as client_module
    from intacct_assignar.settings import IntacctSettings
    from intacct_assignar.sources import EMPLOYEES, select
    from intacct_assignar.state import SqliteStateStore

    client = IntacctClient(
        IntacctSettings.model_validate(settings_env), timezone=ZONE, sessions=MemorySessionCache(), timeout_s=300
    )
    client.connect()
    config = parse_config({"timezone": str(ZONE)})
    stages = StageClock()
    with tempfile.TemporaryDirectory() as folder, SqliteStateStore(Path(folder) / "state.db") as state:
        queue = DiscardingQueue(stages)
        service = PullService(client, state, queue, config)
        # The field lookup (one small request, kept a day) and the first use of every code path stay out of what
        # is measured: a pull of one page of one record.
        fields = select(EMPLOYEES, service.catalog, config).fields
        ChangePull(client, "EMPLOYEE", fields, Window(None, datetime.now(ZONE)), pagesize=1).page()
        if how == "plain":
            # Each wrapper costs two clock readings a call: per answer, and per record for the messages.
            stages.wrap("read the answer", client_module, "read_answer")
            stages.wrap("parse", protocol, "parse_response")
            stages.wrap("normalize + build messages", service, "_messages")

        def pull() -> int:
            if path == "service":
                return service.pull("EMPLOYEE", full=True, time_left_s=lambda: 900.0).fetched
            return sum(1 for _ in ChangePull(client, "EMPLOYEE", fields, Window(None, datetime.now(ZONE))).records())

        collector = _CollectorClock()
        gc.callbacks.append(collector)
        collections_before = sum(s["collections"] for s in gc.get_stats())
        baseline_rss = _rss_bytes()
        profiler = cProfile.Profile() if how == "profiled" else None
        if how == "traced":
            tracemalloc.start()
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        records = pull()
        if profiler is not None:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        traced_peak = tracemalloc.get_traced_memory()[1] if how == "traced" else None
        tracemalloc.stop()
        figures: dict[str, Any] = {
            "records": records,
            "messages": queue.messages,
            "cpu_s": cpu,
            "wall_s": wall,
            "baseline_rss": baseline_rss,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "traced_peak": traced_peak,
            "gc_collections": sum(s["collections"] for s in gc.get_stats()) - collections_before,
            "gc_s": collector.seconds,
            "gc_s_by_generation": collector.by_generation,
            "gc_counts": [s["collections"] for s in gc.get_stats()],
            "intacct_requests": client.counters.http_requests,
            "stages": stages.seconds,
        }
        if profiler is not None:
            stats = pstats.Stats(profiler)
            rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:25]  # type: ignore[attr-defined]
            figures["profile"] = [
                (f"{Path(file).name}:{line}({name})", calls, tottime, cumtime)
                for (file, line, name), (_cc, calls, tottime, cumtime, _callers) in rows
            ]
        return figures


# --- the driver -----------------------------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    # The children import the same code as this process, whichever checkout it came from.
    import intacct_assignar

    shared = str(Path(intacct_assignar.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([shared, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _run_child(args: Sequence[str], stdin: str) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603  # fixed argument list, no shell
        [sys.executable, __file__, *args], input=stdin, capture_output=True, text=True, env=_child_env(), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"measurement {args} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@dataclass
class Span:
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Span:
        return cls(min(values), max(values))

    def text(self, digits: int = 0) -> str:
        low, high = f"{self.low:.{digits}f}", f"{self.high:.{digits}f}"
        return low if low == high else f"{low}-{high}"


MB = 2**20


def _serve(size: int) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603  # fixed argument list, no shell
        [sys.executable, __file__, "--serve", str(size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,50000", help="employees, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--profile", action="store_true", help="also profile the service path at the first size")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=PATHS, help=argparse.SUPPRESS)
    parser.add_argument("--how", choices=("plain", "traced", "profiled"), default="plain", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.measure:
        print(json.dumps(measure(args.measure, json.loads(sys.stdin.read()), args.how)))
        return

    sizes = [int(size) for size in args.sizes.split(",")]
    paths = [path for path in args.paths.split(",") if path]
    print(f"Full EMPLOYEE pull, one fresh process per measurement, {args.runs} runs; Python {sys.version.split()[0]}")
    print("Memory:")
    print(
        f"{'employees':>10} {'path':<8}{'peak RSS MB':>13}{'RSS rise MB':>13}{'traced peak MB':>16}"
        f"{'gc runs':>9}  load (1 min, before-after)"
    )
    cpu_rows: list[str] = []
    profile: list[Any] = []
    for size in sizes:
        server = _serve(size)
        assert server.stdin is not None and server.stdout is not None
        try:
            settings = server.stdout.readline()
            for path in paths:
                load_before = os.getloadavg()[0]
                plain = [_run_child(["--measure", path, "--how", "plain"], settings) for _ in range(args.runs)]
                traced = [_run_child(["--measure", path, "--how", "traced"], settings) for _ in range(args.runs)]
                load = f"{load_before:.2f}-{os.getloadavg()[0]:.2f}"
                per_1k = 1000 / plain[0]["records"]
                print(
                    f"{size:>10} {path:<8}"
                    f"{Span.of([r['peak_rss'] / MB for r in plain]).text(1):>13}"
                    f"{Span.of([(r['peak_rss'] - r['baseline_rss']) / MB for r in plain]).text(1):>13}"
                    f"{Span.of([r['traced_peak'] / MB for r in traced]).text(1):>16}"
                    f"{Span.of([r['gc_collections'] for r in plain]).text():>9}  {load}",
                    flush=True,
                )
                stages = [name for name, seconds in plain[0]["stages"].items() if path == "service" or seconds]
                cells = [Span.of([r["cpu_s"] * per_1k for r in plain]).text(3)]
                cells += [Span.of([r["stages"][name] * per_1k for r in plain]).text(3) for name in stages]
                cells.append(Span.of([(r["cpu_s"] - sum(r["stages"].values())) * per_1k for r in plain]).text(3))
                cells.append(Span.of([r["gc_s"] * per_1k for r in plain]).text(3))
                names = ["all", *stages, "the rest", "(cycle collector, inside the above)"]
                cpu_rows.append(
                    f"{size:>10} {path:<8}  "
                    + ", ".join(f"{n} {c}" for n, c in zip(names, cells, strict=True))
                    + f"  (load {load})"
                )
            if args.profile and not profile:
                profile = _run_child(["--measure", "service", "--how", "profiled"], settings)["profile"]
        finally:
            server.stdin.close()
            server.wait(timeout=60)
    print("\nCPU seconds per 1,000 records (process time; the emulator runs in its own process):")
    for row in cpu_rows:
        print(row)
    if profile:
        print(f"\nThe service path at {sizes[0]} employees under cProfile, by own time (top {len(profile)}):")
        print(f"{'function':<60}{'calls':>10}{'own s':>9}{'cumulative s':>14}")
        for name, calls, own, cumulative in profile:
            print(f"{name[:59]:<60}{calls:>10}{own:>9.3f}{cumulative:>14.3f}")


if __name__ == "__main__":
    main()
