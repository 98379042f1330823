"""Intacct's value formats both ways: MM/DD/YYYY dates, zone-less timestamps in the company's zone, plain numbers.

Intacct timestamps carry no zone (reference §3.3); WHENMODIFIED is in the company's local time. Everything
inside the product is a timezone-aware datetime; conversion happens only here, with the configured zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

DATE_FORMAT = "%m/%d/%Y"
TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"


# Characters XML 1.0 cannot carry at all: one in free text (a pasted comment) would fail the whole request.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class IntacctValueError(ValueError):
    """A value from Intacct is not in the format Intacct documents."""


# Intacct writes dates and timestamps in full (`04/01/2012`, `09/16/2013 15:50:21`): those are read with a regular
# expression, several times faster than strptime, which a pull would spend on two values a record. Any other shape
# goes to strptime, so what is accepted stays exactly what strptime accepts; an impossible day fails both alike.
_FULL_DATE = re.compile(r"(\d\d)/(\d\d)/(\d\d\d\d)", re.ASCII)
_FULL_TIMESTAMP = re.compile(r"(\d\d)/(\d\d)/(\d\d\d\d) (\d\d):(\d\d):(\d\d)", re.ASCII)


def parse_date(text: str | None) -> date | None:
    """`04/01/2012` -> date; empty -> None."""
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    try:
        if (full := _FULL_DATE.fullmatch(stripped)) is not None:
            month, day, year = map(int, full.groups())
            return date(year, month, day)
        return datetime.strptime(stripped, DATE_FORMAT).date()
    except ValueError as exc:
        raise IntacctValueError(f"expected an Intacct date MM/DD/YYYY, got {text!r}") from exc


def parse_timestamp(text: str | None, zone: ZoneInfo) -> datetime | None:
    """`09/16/2013 15:50:21` in the company's zone -> aware datetime; empty -> None."""
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    try:
        if (full := _FULL_TIMESTAMP.fullmatch(stripped)) is not None:
            month, day, year, hour, minute, second = map(int, full.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=zone)
        naive = datetime.strptime(stripped, TIMESTAMP_FORMAT)
    except ValueError as exc:
        raise IntacctValueError(f"expected an Intacct timestamp MM/DD/YYYY HH:MM:SS, got {text!r}") from exc
    return naive.replace(tzinfo=zone)


def format_timestamp(moment: datetime, zone: ZoneInfo) -> str:
    """An aware datetime as Intacct filters want it, in the company's zone (naive ones are refused)."""
    if moment.tzinfo is None:
        raise ValueError("refusing a naive datetime: its zone would be guessed")
    return moment.astimezone(zone).strftime(TIMESTAMP_FORMAT)


def format_date(day: date) -> str:
    return day.strftime(DATE_FORMAT)


def format_number(number: Decimal | int | float) -> str:
    """Plain digits: no thousands separators, no exponent, no trailing zeros (reference §3.4)."""
    if isinstance(number, bool):
        raise TypeError("a boolean is not a number here")
    value = number if isinstance(number, Decimal) else Decimal(str(number))
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def to_text(value: object, zone: ZoneInfo) -> str | None:
    """Any outgoing field value as the text Intacct expects; None stays None (an empty element)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_timestamp(value, zone)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, (Decimal, int, float)):
        return format_number(value)
    if isinstance(value, str):
        return _NOT_XML.sub(" ", value)
    raise TypeError(f"cannot send a {type(value).__name__} to Intacct")
