"""One push worker of the chaos run (`harness.py`), as a queue consumer would run the push: post every approved
timesheet it is told of, and try again later whatever is raised. It may be SIGKILLed at any instruction.

Usage: python -m tests.chaos.worker CONFIG.json INDEX
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.config import parse_config
from intacct_assignar.intacct import IntacctClient, MemorySessionCache
from intacct_assignar.outbound.push import PushService
from intacct_assignar.retry import RetryPolicy
from intacct_assignar.settings import AssignarSettings, IntacctSettings
from intacct_assignar.state import SqliteStateStore, StateStore
from intacct_assignar.state.dynamodb import DynamoStateStore

# Retried later, as the push queue redelivers: what the push and its clients raise when work must wait.
RETRIED = frozenset(
    {
        "TimesheetBusyError",
        "PostingIncompleteError",
        "LeaseLostError",
        "StateUnavailableError",
        "IntacctRateLimitError",
        "IntacctTransientError",
        "IntacctOutcomeUnknownError",
        "RateLimitedError",
        "ServerError",
        "TransportError",
        "OutcomeUnknownError",
    }
)
# Backoff short enough for a test: the emulators answer in milliseconds.
FAST = RetryPolicy(max_attempts=6, base_delay_s=0.05, max_delay_s=0.4)
DONE = frozenset({"posted", "already_posted", "parked"})


def _ledger(spec: dict[str, str]) -> StateStore:
    if spec["kind"] == "sqlite":
        return SqliteStateStore(Path(spec["path"]))
    client = boto3.client("dynamodb", endpoint_url=spec["endpoint"])
    return DynamoStateStore(spec["table"], client=client)


def main(config_path: str, index: int) -> None:
    config: dict[str, Any] = json.loads(Path(config_path).read_text())
    ids_file, stop_file = Path(config["ids_file"]), Path(config["stop_file"])
    errors_file = Path(config["errors_dir"]) / f"errors-{index}-{os.getpid()}.json"
    rng = random.Random(f"{config['seed']}-{index}-{os.getpid()}")
    state = _ledger(config["ledger"])
    intacct = IntacctClient(
        IntacctSettings.model_validate(config["intacct"]),
        timezone=config["zone"],
        sessions=MemorySessionCache(),
        retry=FAST,
        timeout_s=config["client_timeout_s"],
    )
    assignar = AssignarClient(
        AssignarSettings.model_validate(config["assignar"]),
        requests_per_second=None,
        retry=FAST,
        timeout_s=config["client_timeout_s"] * 2,
    )
    # The in-doubt window and lease are shortened here, as only a test may (the tenant settings' floors are
    # Intacct's 15 minutes and a minute): the emulated Intacct's late commits land within seconds.
    push = PushService(
        assignar,
        intacct,
        state,
        parse_config(config["tenant"]),
        doubt_window_s=config["doubt_window_s"],
        lease_s=config["lease_s"],
    )
    done: set[int] = set()
    unexpected: Counter[str] = Counter()
    retried: Counter[str] = Counter()
    while not stop_file.exists():
        try:
            ids = json.loads(ids_file.read_text())
        except (OSError, ValueError):
            ids = []
        todo = [i for i in ids if i not in done]
        rng.shuffle(todo)
        while todo and not stop_file.exists():
            # Batches as the push queue delivers them (one to six messages): their writes go in one Intacct
            # request, so a kill or a lost answer strikes several timesheets' documents at once.
            size = rng.randint(1, 6)
            batch, todo = todo[:size], todo[size:]
            outcomes = push.post_together(dict.fromkeys(batch, False))
            for timesheet_id in batch:
                outcome = outcomes[timesheet_id]
                if isinstance(outcome, Exception):  # the queue's contract: whatever is raised comes back later
                    name = type(outcome).__name__
                    (retried if name in RETRIED else unexpected)[name] += 1
                    if name not in RETRIED:
                        print(f"worker {index}: timesheet {timesheet_id}: {name}: {outcome}", file=sys.stderr)
                elif outcome.outcome in DONE:
                    done.add(timesheet_id)
        errors_file.write_text(json.dumps({"unexpected": unexpected, "retried": retried}))
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
