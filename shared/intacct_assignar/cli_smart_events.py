"""`smart-events print`: what the admin enters in Intacct so that a change reaches Assignar within a minute.

One Smart Event per object the enabled workflows read, each with an HTTP Post action: the URL with the tenant's token
and the body to type, exactly as `smart_events.py` defines them (DEPLOY.md "Smart Events" walks through it).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console
from rich.markup import escape

from .cli import ConfigOption, DebugOption, StateOption, apply_debug
from .cli_stack import StackOption
from .config import load_config
from .smart_events import ROUTE_PATH, setups

smart_events_app = typer.Typer(
    name="smart-events",
    help="Intacct Smart Events: changes in Intacct reach Assignar within a minute.",
    no_args_is_help=True,
)

PLACEHOLDER_URL = f"https://<WebhookApi id>.execute-api.<region>.amazonaws.com{ROUTE_PATH}"


class _Token(BaseSettings):
    """The token alone, from the environment or `.env` (the same key as in the stack's Intacct secret)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    events_token: SecretStr | None = Field(default=None, alias="INTACCT_EVENTS_TOKEN")


@smart_events_app.command(
    "print",
    epilog=(
        "Examples:\n\n  INTACCT_EVENTS_TOKEN=... intacct-assignar smart-events print --stack intacct-assignar-acme\n\n"
        "  intacct-assignar smart-events print --url https://abc123.execute-api.us-east-1.amazonaws.com/intacct-events"
    ),
)
def print_setup(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option("--url", help="The stack's IntacctEventsUrl output (else read with --stack).")
    ] = None,
    stack: StackOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable list only.")] = False,
    config: ConfigOption = None,
    state: StateOption = None,
    debug: DebugOption = False,
) -> None:
    """Print, per object the enabled workflows read, the Smart Event to create in Intacct: its object and events,
    the HTTP Post URL with the tenant's token, and the body to type.

    The token is INTACCT_EVENTS_TOKEN (environment or .env): the value you put in the stack's Intacct secret.
    Exit status 2 when it is not set, or when the stack has no IntacctEventsUrl output.
    """
    from .aws.stack import find_stack

    apply_debug(ctx, debug)
    tenant = load_config(config or ctx.obj.get("config"))
    del state  # accepted like every command's; this one keeps nothing
    token = _Token().events_token
    if token is None or not token.get_secret_value():
        Console(stderr=True).print(
            "[red]INTACCT_EVENTS_TOKEN is not set:[/red] generate one (openssl rand -hex 32), put it in the stack's "
            "Intacct secret (DEPLOY.md, Smart Events) and in the environment, then run this again",
            highlight=False,
        )
        raise typer.Exit(2)
    if url is None and stack is not None:
        url = find_stack(stack).intacct_events_url
        if url is None:
            Console(stderr=True).print(
                f"[red]stack {escape(stack)} has no IntacctEventsUrl output:[/red] deploy this version of "
                "template.yaml to it (sam deploy), then try again",
                highlight=False,
            )
            raise typer.Exit(2)
    found = setups(tenant, url or PLACEHOLDER_URL, token.get_secret_value())
    if as_json:
        print(json.dumps([setup.as_dict() for setup in found], indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)  # a URL or body wrapped would be copied wrong
    if url is None:
        console.print("[yellow]No --url or --stack: replace the URL's first part with the stack's IntacctEventsUrl.[/]")
    console.print(
        f"In Intacct (Platform Services, Customization Services > Smart Events), create {len(found)} Smart Events:\n"
    )
    for number, setup in enumerate(found, start=1):
        console.print(f"[bold]{number}. {setup.object_name}[/bold] (for {', '.join(setup.workflows)})")
        console.print(f"   Object: {setup.object_name}    Events: {', '.join(setup.events)}    Condition: none")
        console.print("   Action: HTTP Post")
        console.print(f"   URL:    {escape(setup.url)}")
        console.print(f"   Body:   {escape(setup.body)}")
        console.print()
    console.print(
        "Keep the URL secret: its token is what lets Intacct in. Without Platform Services, skip this: the scheduled "
        "pull brings every change within its schedule (15 minutes by default)."
    )
