"""What an Intacct Smart Event sends the stack, and what the admin types into Intacct to make it send it.

Sage documents that a Smart Event can run an HTTP Post action when a record is added or changed, with
`{!OBJECT.FIELD!}` injections in what it sends, but not the request's format, headers or retries (reference §6.4,
open question 6). So the format is ours: the admin types the URL and the body below into the action, and every guess
about what Intacct then sends is in this module, marked GUESS with what would confirm it. The receiver
(`inbound/events.py`) and `smart-events print` both read it from here, and so does the emulator's callout, which
sends exactly what `print` tells the admin to configure.

GUESSES (each would be confirmed by one Smart Event in a sandbox company, its delivery seen in the stack's access log
or a request bin, and its row in the smart event log, `get_list object="smarteventlog"`):
1. The action's URL may carry a query string, sent as typed: the token travels there (`?token=...`). A header
   (`X-Intacct-Events-Token`) is accepted too, should the action turn out to let the admin add one.
2. The body is sent as typed, each injection replaced by the field's value as text. Its content type is unknown: the
   body is read as JSON when it looks like a JSON object and as form fields otherwise, whatever the header says.
3. `{!OBJECT.RECORDNO!}` renders the record's RECORDNO (digits), for every object the workflows read.
4. `{!OBJECT.WHENMODIFIED!}` renders as the XML API writes timestamps, `MM/DD/YYYY HH:MM:SS` in the company's time
   zone (the tenant document's `timezone`); a 12-hour clock with AM/PM, a missing seconds part and ISO 8601 are read
   too. A company whose users write dates day first would render `DD/MM/YYYY`: while the day is 12 or less it reads
   as another date, so the notice looks stale or from the future (401); from the 13th it is no date at all (400 "not
   a timestamp"). Either way the refused-deliveries alarm fires and the scheduled pull carries the changes.
   Not listed by Sage either way, and as likely: the injection may be rendered in the time zone and date format of
   the user who made the change (their preferences), not the company's. Then notices of users in another zone are
   refused as stale or ahead, and of users with day-first dates as above, while others' pass; what the admin sees
   is the refused-deliveries alarm and the receiver's log naming why. The fix is in Intacct (those users' time zone
   and date format set to the company's), DEPLOY.md §5b. One Smart Event fired by a user with other preferences in
   a sandbox would tell.
5. Intacct may retry a delivery it thinks failed: a repeated notice only reads the record again (and publishes
   nothing when it has not changed), so repeats are harmless; a stale one is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

from .config import TenantConfig
from .sources import RECORD_KEY, SOURCES, WHENMODIFIED, IntacctSource

ROUTE_PATH: Final = "/intacct-events"
# GUESS 1: where the token is looked for, in this order.
TOKEN_PARAMETER: Final = "token"  # noqa: S105 - a parameter's name, not a secret
TOKEN_HEADER: Final = "X-Intacct-Events-Token"  # noqa: S105 - a header's name
# The setting that holds the tenant's token: the key in the stack's token secret, and the variable in `.env`.
TOKEN_SETTING: Final = "INTACCT_EVENTS_TOKEN"  # noqa: S105 - a setting's name
# Long enough not to be guessed, and URL-safe so that it travels in the action's URL as typed (GUESS 1): the stack
# generates 48 letters and digits; `openssl rand -hex 32` makes 64.
TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{32,}")
# The events to tick in the Smart Event: a record added, a record changed. A deletion reaches Assignar through the
# deletions pull (AUDITHISTORY), which reads every object at once; a Smart Event on delete would read nothing.
EVENTS: Final = ("Add", "Set")
# Our body's three fields. Nothing else in a notice is read, and these only as a hint: the record itself is read
# from Intacct, so a forged notice that slips past the token costs one read.
OBJECT_FIELD: Final = "object"
KEY_FIELD: Final = "key"
MODIFIED_FIELD: Final = "modified"
# GUESS 4: how a WHENMODIFIED injection may read.
TIMESTAMP_FORMATS: Final = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)
_RECORDNO = re.compile(r"[0-9]{1,15}")
_OBJECT = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def body_template(object_name: str) -> str:
    """The body the admin types into the Smart Event's HTTP Post action for one object (one line of JSON)."""
    return json.dumps(
        {
            OBJECT_FIELD: object_name,
            KEY_FIELD: f"{{!{object_name}.{RECORD_KEY}!}}",
            MODIFIED_FIELD: f"{{!{object_name}.{WHENMODIFIED}!}}",
        },
        separators=(", ", ": "),
    )


class EventsTokenError(ValueError):
    """The tenant's token is not set, or not long and URL-safe. Says where it came from and the fix, never its value."""


def checked_token(value: str | None, setting: str, fix: str) -> str:
    """The token, when it has `TOKEN_SHAPE`; `EventsTokenError` naming `setting` (where it was read) and `fix`."""
    if not value:
        raise EventsTokenError(f"the Smart Event token ({setting}) is not set: {fix}")
    if TOKEN_SHAPE.fullmatch(value) is None:
        # Neither the value nor its length: a message goes to logs and terminals.
        raise EventsTokenError(
            f"the Smart Event token ({setting}) must be at least 32 letters, digits, '-' or '_': {fix}"
        )
    return value


def events_url(url: str, token: str) -> str:
    """The action's URL: the route with the token as a query parameter (GUESS 1), encoded, so that no token can
    end the query early or add a parameter (a checked token needs none; the encoding costs nothing)."""
    return f"{url}{'&' if '?' in url else '?'}{TOKEN_PARAMETER}={quote(token, safe='')}"


@dataclass(frozen=True)
class SmartEventSetup:
    """What to enter in Intacct for one object: a Smart Event on these events, with an HTTP Post of this body."""

    object_name: str
    workflows: tuple[str, ...]
    events: tuple[str, ...]
    url: str
    body: str

    def as_dict(self) -> dict[str, object]:
        return {
            "object": self.object_name,
            "workflows": list(self.workflows),
            "events": list(self.events),
            "url": self.url,
            "body": self.body,
        }


def watched_sources(config: TenantConfig) -> list[IntacctSource]:
    """The objects the enabled workflows read, in dependency order: one Smart Event each."""
    # Not `inbound.pull.sources_for`: the receiver that asks must not load the pull.
    return [source for source in SOURCES if any(config.enabled(workflow) for workflow in source.workflows)]


def setups(config: TenantConfig, url: str, token: str) -> list[SmartEventSetup]:
    """One Smart Event per object the enabled workflows read (ITEM once, for roles and assets)."""
    return [
        SmartEventSetup(
            source.object_name,
            tuple(w for w in source.workflows if config.enabled(w)),
            EVENTS,
            events_url(url, token),
            body_template(source.object_name),
        )
        for source in watched_sources(config)
    ]


# --- reading a notice -----------------------------------------------------------------------------------------


class NoticeError(ValueError):
    """A body that is not a notice in our format; the message names what is wrong in one sentence."""


@dataclass(frozen=True)
class Notice:
    """What a notice says: which record of which object changed, and when Intacct says it was modified."""

    object_name: str  # upper case, as the XML API names objects
    recordno: str
    modified: str  # as rendered; `modified_at` reads it


def token_from(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    """The token a delivery presents (GUESS 1); `headers` with lower-case names."""
    return query.get(TOKEN_PARAMETER) or headers.get(TOKEN_HEADER.lower())


def read_notice(body: bytes) -> Notice:
    """The notice in a body, JSON or form fields (GUESS 2); `NoticeError` for anything else."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoticeError(f"the body is not UTF-8 text (invalid byte at offset {exc.start})") from None
    fields = _json_fields(text) if text.lstrip()[:1] in ("{", "[") else _form_fields(text)
    missing = [name for name in (OBJECT_FIELD, KEY_FIELD, MODIFIED_FIELD) if not fields.get(name)]
    if missing:
        raise NoticeError(f"the notice has no {', '.join(missing)} (the body must be the one smart-events print shows)")
    object_name, recordno = fields[OBJECT_FIELD].strip(), fields[KEY_FIELD].strip()
    if not _OBJECT.fullmatch(object_name):
        raise NoticeError("the notice's object is not an Intacct object name")
    if not _RECORDNO.fullmatch(recordno):
        # An injection Intacct left as typed (`{!EMPLOYEE.RECORDNO!}`) lands here: the field name was misspelt.
        raise NoticeError("the notice's key is not a RECORDNO (digits); check the body's {!OBJECT.RECORDNO!}")
    return Notice(object_name.upper(), recordno, fields[MODIFIED_FIELD].strip())


def modified_at(notice: Notice, zone: ZoneInfo) -> datetime:
    """When the record was modified, as an aware time (GUESS 4); `NoticeError` when it cannot be read."""
    text = notice.modified[:40]
    for form in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, form).replace(tzinfo=zone)  # the company's zone, given
        except ValueError:
            continue
    raise NoticeError("the notice's modified time is not a timestamp (expected MM/DD/YYYY HH:MM:SS)")


def _json_fields(text: str) -> dict[str, str]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NoticeError(f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError):
        raise NoticeError("the body is not JSON this receiver can read (too deeply nested or a huge number)") from None
    if not isinstance(document, dict):
        raise NoticeError("the body must be a JSON object")
    # Values as text only: an injection renders as text, and a number would be the admin's own edit of the body.
    return {key: value if isinstance(value, str) else str(value) for key, value in document.items() if key in _FIELDS}


def _form_fields(text: str) -> dict[str, str]:
    try:
        parsed = parse_qs(text, keep_blank_values=False, strict_parsing=False, max_num_fields=20)
    except ValueError:
        raise NoticeError("the body is neither JSON nor form fields") from None
    return {key: values[-1] for key, values in parsed.items() if key in _FIELDS and values}


_FIELDS: Final = frozenset({OBJECT_FIELD, KEY_FIELD, MODIFIED_FIELD})

__all__: Sequence[str] = [
    "EVENTS",
    "ROUTE_PATH",
    "TOKEN_HEADER",
    "TOKEN_PARAMETER",
    "TOKEN_SETTING",
    "TOKEN_SHAPE",
    "EventsTokenError",
    "Notice",
    "NoticeError",
    "SmartEventSetup",
    "body_template",
    "checked_token",
    "events_url",
    "modified_at",
    "read_notice",
    "setups",
    "token_from",
    "watched_sources",
]
