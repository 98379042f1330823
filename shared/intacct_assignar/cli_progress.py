"""Live progress for `sync` and `push-timesheets` on a terminal: one line per workflow, drawn while the run works
and cleared when its summary is printed. Nothing is drawn for `--json` or when the output is not a terminal (a
pipe, a log file, a scheduler), so what those read is the summary alone."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn


def _bar(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<12}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TextColumn("[dim]{task.fields[doing]}"),
        console=console,
        transient=True,  # the summary table replaces it
    )


class LiveSync:
    """`inbound.sync.SyncProgress` drawn as a rich progress display: per workflow, what it reads, then how many
    of its records have been applied to Assignar out of those queued."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def _task(self, workflow: str) -> TaskID:
        if workflow not in self.tasks:
            self.tasks[workflow] = self.progress.add_task(workflow, total=None, doing="waiting")
        return self.tasks[workflow]

    def reading(self, source: str, workflows: Sequence[str]) -> None:
        for workflow in workflows:
            self.progress.update(self._task(workflow), doing=f"reading Intacct {source}")

    def queued(self, workflow: str, count: int) -> None:
        task = self._task(workflow)
        total = (self.progress.tasks[self.tasks_index(task)].total or 0) + count
        self.progress.update(task, total=total, doing="applying to Assignar")

    def applied(self, workflow: str) -> None:
        task = self._task(workflow)
        self.progress.advance(task)
        state = self.progress.tasks[self.tasks_index(task)]
        if state.total is not None and state.completed >= state.total:
            self.progress.update(task, doing="done")

    def tasks_index(self, task: TaskID) -> int:
        return next(index for index, each in enumerate(self.progress.tasks) if each.id == task)


class LivePush:
    """Timesheets posted so far out of those found, while `push-timesheets` works through them."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("timesheets", total=None, doing="reading approved timesheets from Assignar")

    def planned(self, count: int) -> None:
        self.progress.update(self.task, total=count, doing="posting to Intacct")

    def done_one(self) -> None:
        self.progress.advance(self.task)


@contextmanager
def live_sync(console: Console, *, quiet: bool) -> Iterator[LiveSync | None]:
    """A `LiveSync` while the block runs, or None when nothing should be drawn (`quiet`, or not a terminal)."""
    if quiet or not console.is_terminal:
        yield None
        return
    with _bar(console) as progress:
        yield LiveSync(progress)


@contextmanager
def live_push(console: Console, *, quiet: bool) -> Iterator[LivePush | None]:
    if quiet or not console.is_terminal:
        yield None
        return
    with _bar(console) as progress:
        yield LivePush(progress)
