"""Raw Intacct request XML for the emulator's tests (deliberately not the product's client), and response reading."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from intacct_assignar.intacct.xmlcodec import parse_xml
from intacct_assignar_dev.emulators.intacct import EmulatorCredentials

CREDENTIALS = EmulatorCredentials()


def fn(name: str, inner: str = "", controlid: str = "f1") -> str:
    """One <function> element holding `<name>inner</name>`."""
    return f'<function controlid="{escape(controlid)}"><{name}>{inner}</{name}></function>'


def login(
    *,
    user_id: str = CREDENTIALS.user_id,
    company_id: str = CREDENTIALS.company_id,
    password: str = CREDENTIALS.user_password,
    location_id: str | None = None,
) -> str:
    location = f"<locationid>{location_id}</locationid>" if location_id is not None else ""
    return (
        f"<login><userid>{user_id}</userid><companyid>{company_id}</companyid>"
        f"<password>{password}</password>{location}</login>"
    )


def request(
    *functions: str,
    auth: str | None = None,
    session_id: str | None = None,
    uniqueid: bool = False,
    transaction: bool = False,
    sender_id: str = CREDENTIALS.sender_id,
    sender_password: str = CREDENTIALS.sender_password,
    controlid: str = "req-1",
) -> bytes:
    """A whole request document: control, one operation, the functions given."""
    if session_id is not None:
        auth = f"<sessionid>{session_id}</sessionid>"
    auth = auth if auth is not None else login()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<request><control><senderid>{sender_id}</senderid><password>{sender_password}</password>"
        f"<controlid>{controlid}</controlid><uniqueid>{str(uniqueid).lower()}</uniqueid>"
        "<dtdversion>3.0</dtdversion><includewhitespace>false</includewhitespace></control>"
        f'<operation transaction="{str(transaction).lower()}"><authentication>{auth}</authentication>'
        f"<content>{''.join(functions)}</content></operation></request>"
    ).encode()


_RECORD_PARENTS = frozenset({"data"})
_LISTS = frozenset({"result", "error"})


def parse(body: bytes) -> dict[str, Any]:
    """The <response> element; results, errors and data records always as lists."""
    document = parse_xml(body, force_list=lambda parent, tag: tag in _LISTS or (parent in _RECORD_PARENTS))
    response: dict[str, Any] = document["response"]
    return response


def results(body: bytes) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = parse(body)["operation"]["result"]
    return results


def result(body: bytes) -> dict[str, Any]:
    only = results(body)
    assert len(only) == 1, only
    return only[0]


def records(found: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    data = found["data"][0] if isinstance(found["data"], list) else found["data"]
    rows: list[dict[str, Any]] = data.get(tag, []) if data else []
    return rows


def data_attributes(found: dict[str, Any]) -> dict[str, str]:
    data = found["data"][0] if isinstance(found["data"], list) else found["data"]
    return {key[1:]: value for key, value in data.items() if key.startswith("@")}


def errors(found: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = found["errormessage"]["error"]
    return errors


def query(obj: str, fields: list[str], *, filter_xml: str = "", orderby: str = "", extra: str = "") -> str:
    select = "".join(f"<field>{name}</field>" for name in fields)
    filter_part = f"<filter>{filter_xml}</filter>" if filter_xml else ""
    order_part = f"<orderby>{orderby}</orderby>" if orderby else ""
    return f"<object>{obj}</object><select>{select}</select>{filter_part}{order_part}{extra}"
