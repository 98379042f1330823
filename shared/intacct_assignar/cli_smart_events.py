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
from .smart_events import ROUTE_PATH, TOKEN_SETTING, EventsTokenError, checked_token, setups

smart_events_app = typer.Typer(
    name="smart-events",
    help="Intacct Smart Events: changes in Intacct reach Assignar within a minute.",
    no_args_is_help=True,
)

PLACEHOLDER_URL = f"https://<WebhookApi id>.execute-api.<region>.amazonaws.com{ROUTE_PATH}"


class _Token(BaseSettings):
    """The token alone, from the environment or `.env`: for printing without a stack (the demo, a URL given)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    events_token: SecretStr | None = Field(default=None, alias=TOKEN_SETTING)


@smart_events_app.command(
    "print",
    epilog=(
        "Examples:\n\n  intacct-assignar smart-events print --stack intacct-assignar-acme\n\n"
        "  INTACCT_EVENTS_TOKEN=... intacct-assignar smart-events print "
        "--url https://abc123.execute-api.us-east-1.amazonaws.com/intacct-events"
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

    With --stack, the token is the one the stack generated in its secret (IntacctEventsTokenSecretArn), read with
    your AWS credentials; without, INTACCT_EVENTS_TOKEN (environment or .env). Exit status 2 when the token is not
    set or not at least 32 letters, digits, '-' or '_', or when the stack lacks an output this needs.
    """
    from .aws.stack import find_stack

    apply_debug(ctx, debug)
    tenant = load_config(config or ctx.obj.get("config"))
    del state  # accepted like every command's; this one keeps nothing
    deployed = find_stack(stack) if stack is not None else None
    try:
        if deployed is not None:
            # The stack's secret is the one the receiver compares with: a token left in .env is not asked.
            token = checked_token(
                deployed.events_token(),
                f"{TOKEN_SETTING} in the stack's IntacctEventsTokenSecret",
                "put a new one as DEPLOY.md says (Smart Events, rotating the token), then run this again",
            )
        else:
            given = _Token().events_token
            token = checked_token(
                given.get_secret_value() if given else None,
                f"{TOKEN_SETTING} in the environment or .env",
                "run this with --stack NAME to read the stack's own, or set it to that (for the demo, "
                "openssl rand -hex 32 makes one)",
            )
    except EventsTokenError as exc:
        Console(stderr=True).print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(2) from None
    if url is None and deployed is not None:
        url = deployed.intacct_events_url
        if url is None:
            Console(stderr=True).print(
                f"[red]stack {escape(deployed.name)} has no IntacctEventsUrl output:[/red] deploy this version of "
                "template.yaml to it (sam deploy), then try again",
                highlight=False,
            )
            raise typer.Exit(2)
    found = setups(tenant, url or PLACEHOLDER_URL, token)
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
