"""Intacct value formats and the query filter tree."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from intacct_assignar.intacct import filters as f
from intacct_assignar.intacct import protocol
from intacct_assignar.intacct.values import (
    IntacctValueError,
    format_number,
    format_timestamp,
    parse_date,
    parse_timestamp,
    to_text,
)
from intacct_assignar.intacct.xmlcodec import parse_xml

DENVER = ZoneInfo("America/Denver")


def test_timestamps_are_read_and_written_in_the_company_zone() -> None:
    # Given a zone-less Intacct timestamp of a Denver company
    moment = parse_timestamp("11/20/2026 08:15:00", DENVER)

    # Then it is 15:15 UTC, and writing it back gives the same text whatever zone we hold it in
    assert moment == datetime(2026, 11, 20, 15, 15, tzinfo=UTC)
    assert format_timestamp(moment.astimezone(UTC), DENVER) == "11/20/2026 08:15:00"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2026, 1, 1), DENVER)


def test_empty_values_are_none_and_bad_ones_name_the_value() -> None:
    assert parse_date("") is None and parse_timestamp(None, DENVER) is None
    assert parse_date("04/01/2012") == date(2012, 4, 1)
    with pytest.raises(IntacctValueError, match="2012-04-01"):
        parse_date("2012-04-01")


@pytest.mark.parametrize(
    ("value", "text"),
    [(Decimal("7.50"), "7.5"), (Decimal("1E+3"), "1000"), (8, "8"), (0.25, "0.25"), (Decimal("-0.0"), "0")],
)
def test_numbers_are_plain(value: Decimal | int | float, text: str) -> None:
    assert format_number(value) == text


def test_outgoing_values() -> None:
    assert to_text(True, DENVER) == "true"
    assert to_text(date(2026, 11, 22), DENVER) == "11/22/2026"
    assert to_text(None, DENVER) is None
    with pytest.raises(TypeError):
        to_text(object(), DENVER)


def test_and_or_collapse_and_render_every_child() -> None:
    # Given a tree with a missing part and repeated operators
    tree = f.and_(
        None,
        f.eq("STATUS", "active"),
        f.or_(f.gt("WHENMODIFIED", "01/01/2026 00:00:00"), f.and_(f.eq("WHENMODIFIED", "x"), f.gt("RECORDNO", "5"))),
        f.in_("GLGROUP", ["Labor", "Equipment"]),
    )

    # When rendered and read back as XML
    assert tree is not None
    function = protocol.query("ITEM", ["RECORDNO"], controlid="q1", filter=tree)
    xml = protocol.build_request(
        sender_id="s",
        sender_password="p",
        controlid="c",
        auth=protocol.SessionAuth("x"),
        functions=[function],
    )
    query = parse_xml(xml)["request"]["operation"]["content"]["function"]["query"]

    # Then the structure is Intacct's
    assert query["filter"]["and"]["equalto"] == {"field": "STATUS", "value": "active"}
    assert query["filter"]["and"]["in"] == {"field": "GLGROUP", "value": ["Labor", "Equipment"]}
    inner = query["filter"]["and"]["or"]
    assert inner["greaterthan"] == {"field": "WHENMODIFIED", "value": "01/01/2026 00:00:00"}
    assert inner["and"]["greaterthan"] == {"field": "RECORDNO", "value": "5"}
    assert list(query) == ["object", "select", "filter", "pagesize", "offset"]
    assert f.and_(None, None) is None
    assert f.or_(f.eq("A", "1")) == f.eq("A", "1")


def test_query_limits_are_enforced_before_sending() -> None:
    with pytest.raises(ValueError, match="pagesize"):
        protocol.query("PROJECT", ["RECORDNO"], controlid="q", pagesize=2001)
    with pytest.raises(ValueError, match="selected field"):
        protocol.query("PROJECT", [], controlid="q")
    with pytest.raises(ValueError, match="1 to 1000"):
        f.in_("A", [str(i) for i in range(1001)])
    with pytest.raises(ValueError, match="alone"):
        protocol.build_request(
            sender_id="s",
            sender_password="p",
            controlid="c",
            auth=protocol.SessionAuth("x"),
            functions=[protocol.get_api_session(controlid="a"), protocol.read("X", [1], controlid="b")],
        )
