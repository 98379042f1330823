"""Benchmark: exactly once under a large storm (the CI test `tests/integration/outbound/test_chaos.py` is its
small twin).

`--workers` push worker processes share one ledger (`--ledger sqlite|dynamodb`, the latter on a moto server) and
post `--timesheets` approved timesheets arriving in `--waves`, while workers are SIGKILLed at random, Intacct
loses answers to writes it committed (dropped connections, 524s, answers held past the client's patience,
commits landing late) and both services throttle and fail. Prints the storm's figures and what Intacct holds:
duplicates, missing, wrong hours, not processed — each should be 0 — and parked (the unpostable ones).

    .venv/bin/python benchmarks/push_chaos.py
    .venv/bin/python benchmarks/push_chaos.py --timesheets 200 --workers 4 --ledger dynamodb --json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos.harness import ChaosPlan, run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesheets", type=int, default=120)
    parser.add_argument("--unpostable", type=int, default=6)
    parser.add_argument("--waves", type=int, default=6)
    parser.add_argument("--wave-interval", type=float, default=2.0, help="seconds between waves of approvals")
    parser.add_argument("--kill-every", type=float, nargs=2, default=(0.3, 1.0), metavar=("MIN", "MAX"))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--ledger", choices=("sqlite", "dynamodb"), default="sqlite")
    parser.add_argument("--write-fault-rate", type=float, default=0.35)
    parser.add_argument("--deadline", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    args = parser.parse_args()
    plan = dataclasses.replace(
        ChaosPlan(),
        timesheets=args.timesheets,
        unpostable=args.unpostable,
        waves=args.waves,
        wave_interval_s=args.wave_interval,
        kill_every_s=tuple(args.kill_every),
        workers=args.workers,
        ledger=args.ledger,
        write_fault_rate=args.write_fault_rate,
        storm_after_last_wave_s=8.0,
        deadline_s=args.deadline,
        seed=args.seed,
    )
    report = run_chaos(plan)
    print(json.dumps(report.as_dict(), indent=2, default=str) if args.json else report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
