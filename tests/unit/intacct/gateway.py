"""Hand-built Intacct gateway answers in the documented shapes, and a fake transport that serves them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from intacct_assignar.intacct.xmlcodec import parse_xml
from intacct_assignar.settings import IntacctSettings

ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"
ZONE = "America/Denver"
SESSION_ENDPOINT = "https://na12.intacct.com/ia/xml/xmlgw.phtml"


def settings(**overrides: str) -> IntacctSettings:
    values = {
        "INTACCT_SENDER_ID": "acme_sender",
        "INTACCT_SENDER_PASSWORD": "sender-secret-pw",
        "INTACCT_COMPANY_ID": "acme-builders",
        "INTACCT_USER_ID": "ws_assignar",
        "INTACCT_USER_PASSWORD": "user-secret-pw",
        "INTACCT_ENDPOINT_URL": ENDPOINT,
    }
    values.update(overrides)
    return IntacctSettings.model_validate(values)


def control(status: str = "success", controlid: str = "c1") -> str:
    return (
        f"<control><status>{status}</status><senderid>acme_sender</senderid><controlid>{controlid}</controlid>"
        "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>"
    )


def auth_ok(timeout: str = "2030-01-01T12:00:00-07:00") -> str:
    return (
        "<authentication><status>success</status><userid>ws_assignar</userid><companyid>acme-builders</companyid>"
        f"<locationid></locationid><sessiontimestamp>2026-11-25T10:00:00-07:00</sessiontimestamp>"
        f"<sessiontimeout>{timeout}</sessiontimeout></authentication>"
    )


def error(errorno: str, description: str = "", description2: str = "", correction: str = "") -> str:
    return (
        f"<error><errorno>{errorno}</errorno><description>{description}</description>"
        f"<description2>{description2}</description2><correction>{correction}</correction></error>"
    )


def response(*results: str, timeout: str = "2030-01-01T12:00:00-07:00") -> bytes:
    body = f"<response>{control()}<operation>{auth_ok(timeout)}{''.join(results)}</operation></response>"
    return ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode()


def result(function: str, controlid: str, data: str = "", status: str = "success", errors: str = "") -> str:
    errormessage = f"<errormessage>{errors}</errormessage>" if errors else ""
    return (
        f"<result><status>{status}</status><function>{function}</function><controlid>{controlid}</controlid>"
        f"{data}{errormessage}</result>"
    )


def session_result(controlid: str, session_id: str = "sess-1", endpoint: str = SESSION_ENDPOINT) -> str:
    data = f"<data><api><sessionid>{session_id}</sessionid><endpoint>{endpoint}</endpoint><locationid/></api></data>"
    return result("getAPISession", controlid, data)


@dataclass
class Sent:
    """One request as the fake gateway saw it."""

    url: str
    document: dict[str, object]

    @property
    def functions(self) -> list[dict[str, object]]:
        content = self.document["request"]["operation"]["content"]
        return list(content["function"])

    @property
    def function_names(self) -> list[str]:
        return [next(k for k in f if not k.startswith("@")) for f in self.functions]

    @property
    def controlids(self) -> list[str]:
        return [str(f["@controlid"]) for f in self.functions]

    @property
    def authentication(self) -> dict[str, object]:
        return self.document["request"]["operation"]["authentication"]

    @property
    def control(self) -> dict[str, object]:
        return self.document["request"]["control"]


Reply = Callable[[Sent], httpx.Response]


@dataclass
class FakeGateway:
    """Answers getAPISession itself and every other request with the next scripted reply."""

    replies: list[Reply] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    sessions: int = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        document = parse_xml(request.content, force_list=["function"])
        sent = Sent(str(request.url), document)
        self.sent.append(sent)
        if sent.function_names == ["getAPISession"]:
            self.sessions += 1
            return httpx.Response(200, content=response(session_result(sent.controlids[0], f"sess-{self.sessions}")))
        if not self.replies:
            raise AssertionError(f"unexpected request: {sent.function_names}")
        return self.replies.pop(0)(sent)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def calls(self) -> list[Sent]:
        return [s for s in self.sent if s.function_names != ["getAPISession"]]


def ok(*results: Callable[[Sent], str]) -> Reply:
    """A 200 answer whose results are built from the request (so control IDs echo back)."""

    def reply(sent: Sent) -> httpx.Response:
        return httpx.Response(200, content=response(*(build(sent) for build in results)))

    return reply


def raw(status: int, body: bytes | str, headers: dict[str, str] | None = None) -> Reply:
    def reply(_sent: Sent) -> httpx.Response:
        return httpx.Response(status, content=body.encode() if isinstance(body, str) else body, headers=headers)

    return reply
