"""Several CLI runs opening one new SQLite state file at the same moment: each waits its turn, none fails.

Real processes (spawned, so each has its own SQLite library state and file locks, as separate CLI runs do).
Three long-lived workers take part in every round: each round names a fresh file, the workers meet at a
barrier, then each opens the file, writes its own watermark and closes it.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Final

import pytest
from intacct_assignar.state import SqliteStateStore
from intacct_assignar.state.sqlite import _SCHEMA, SCHEMA_VERSION

pytestmark = pytest.mark.integration

WORKERS: Final = 3
ROUNDS: Final = 30
NOW: Final = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
# How long the parent waits for a worker before calling the test hung (the store's busy timeout is 10 s).
PATIENCE_S: Final = 60.0


class DeferredBeginStore(SqliteStateStore):
    """The store as the second release opened it: WAL switched once, then `BEGIN` (deferred) and the DDL.

    Only the negative control uses it, to show that the rounds below do catch the failure they guard against.
    """

    def _open_schema(self, busy_timeout_s: float) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA user_version").fetchone()
        self._db.executescript(f"BEGIN;{';'.join(_SCHEMA)};PRAGMA user_version={SCHEMA_VERSION};COMMIT;")


STORES: Final[dict[str, type[SqliteStateStore]]] = {"current": SqliteStateStore, "deferred": DeferredBeginStore}


def open_and_write(
    store: str, worker: int, paths: Queue[str | None], start: Barrier, outcomes: Queue[tuple[int, str | None]]
) -> None:
    """One CLI run per round: open the round's file the moment every worker is ready, write, close."""
    while (path := paths.get()) is not None:
        start.wait(timeout=PATIENCE_S)
        try:
            with STORES[store](path) as state:
                state.set_watermark(f"WORKER-{worker}", NOW)
        except Exception as error:  # reported to the parent, which decides what the round means
            outcomes.put((worker, f"{type(error).__name__}: {error}"))
        else:
            outcomes.put((worker, None))


@dataclass
class Rounds:
    run: int = 0
    failures: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def run_rounds(store: str, folder: Path, *, rounds: int, stop_at_first_failure: bool = False) -> Rounds:
    context = multiprocessing.get_context("spawn")  # what macOS and Windows use; no state copied from pytest
    start = context.Barrier(WORKERS)
    paths: list[Queue[str | None]] = [context.Queue() for _ in range(WORKERS)]
    outcomes: Queue[tuple[int, str | None]] = context.Queue()
    workers = [
        context.Process(target=open_and_write, args=(store, n, paths[n], start, outcomes), daemon=True)
        for n in range(WORKERS)
    ]
    for process in workers:
        process.start()
    done = Rounds()
    try:
        for number in range(rounds):
            path = folder / f"round-{number}.db"  # fresh each round: the race is over creating the file
            for queue in paths:
                queue.put(str(path))
            answers = [outcomes.get(timeout=PATIENCE_S) for _ in range(WORKERS)]
            done.run += 1
            done.files.append(path)
            done.failures += [f"round {number}, worker {n}: {failure}" for n, failure in answers if failure]
            if stop_at_first_failure and done.failures:
                break
    finally:
        for queue in paths:
            queue.put(None)
        for process in workers:
            process.join(timeout=PATIENCE_S)
            if process.is_alive():  # pragma: no cover - only when a worker hung, which the test reports
                process.kill()
    return done


def test_three_processes_opening_a_new_state_file_together_never_fail(tmp_path: Path) -> None:
    # Given three processes that open the same new state file at the same moment, 30 times over
    # When each opens it, writes its own watermark and closes it
    done = run_rounds("current", tmp_path, rounds=ROUNDS)

    # Then no process failed in any round, and every file is a current WAL file holding all three watermarks
    assert done.failures == []
    assert done.run == ROUNDS
    for path in done.files:
        with SqliteStateStore(path) as state:
            assert [state.get_watermark(f"WORKER-{n}") for n in range(WORKERS)] == [NOW] * WORKERS
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_rounds_catch_a_store_that_opens_with_a_deferred_begin(tmp_path: Path) -> None:
    """Negative control: without it, the test above could pass because the rounds never really collide.

    The failure is a race, so it is likely rather than certain: where this was written, a third or more of the
    rounds of the old way of opening fail ("database is locked" from the WAL switch, which SQLite does not wait
    for), on two CPUs and pinned to one alike, so 30 rounds without one would take odds under one in 100,000.
    It stops at the first failure.
    """
    # Given the same three processes, opening new files the way the second release did
    # When they race as above
    done = run_rounds("deferred", tmp_path, rounds=ROUNDS, stop_at_first_failure=True)

    # Then at least one process failed, and the way the store reports a lock it did not get
    assert done.failures, f"no process failed in {done.run} rounds: the test above would not catch the race"
    assert "StateUnavailableError" in done.failures[0] and "locked by another process" in done.failures[0]
