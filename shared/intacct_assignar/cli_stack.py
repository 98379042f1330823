"""`--stack NAME` for any command: the deployed tenant a command works on, found from its stack's outputs.

`open_target` gives a command its state store and, with `--stack`, the stack's queues. `--state` still wins for
the store when both are given (`--state dynamodb://TABLE` alone reaches a tenant's table without its queues).
Imports nothing of `cli`, so any command module can use it, in any import order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer

from .aws.stack import DeployedStack, find_stack
from .parked import ParkedWork
from .state import StateStore, open_state

StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack",
        help="A deployed tenant: its CloudFormation stack's name. Its state table and queues come from the "
        "stack's outputs (AWS credentials and region from the environment, e.g. AWS_PROFILE and AWS_REGION).",
    ),
]


@dataclass
class Target:
    """The tenant a command works on: its state store, and its deployed stack when `--stack` named one."""

    store: StateStore
    stack: DeployedStack | None = None

    def parked_work(self) -> ParkedWork:
        """Everything parked for this tenant: the store's, and the stack's dead-letter queues when there is one."""
        return ParkedWork(self.store, self.stack.dead_letter_queues() if self.stack is not None else ())


@contextmanager
def open_target(ctx: typer.Context, state: str | None, stack: str | None) -> Iterator[Target]:
    """The store `--state` names (after or before the subcommand), else the stack's table, else the default file;
    and the stack `--stack` names. A missing stack or output is one sentence (`AwsSetupError`, exit 2)."""
    from .cli import DEFAULT_STATE  # at call time: `cli` imports the command modules that use this one

    deployed = find_stack(stack) if stack else None
    location = state or (ctx.obj or {}).get("state") or (deployed.state_location if deployed else DEFAULT_STATE)
    with open_state(location) as store:
        yield Target(store, deployed)


__all__ = ["StackOption", "Target", "open_target"]
