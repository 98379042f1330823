"""The Intacct client against hand-built gateway answers: every documented response shape, no sockets."""

from __future__ import annotations

import random

import httpx
import pytest
from intacct_assignar.intacct import (
    IntacctAuthenticationError,
    IntacctBusinessError,
    IntacctClient,
    IntacctConfigurationError,
    IntacctDuplicateControlIdError,
    IntacctOutcomeUnknownError,
    IntacctQueryExpiredError,
    IntacctRateLimitError,
    IntacctTransientError,
    MemorySessionCache,
    RetryPolicy,
)

from . import gateway as g
from .gateway import FakeGateway, Sent


def make_client(fake: FakeGateway, **kwargs: object) -> tuple[IntacctClient, list[float]]:
    slept: list[float] = []
    kwargs.setdefault("timezone", g.ZONE)
    client = IntacctClient(
        g.settings(),
        http=fake.client(),
        sessions=MemorySessionCache(),
        sleep=slept.append,
        **kwargs,
    )
    return client, slept


def projects_page(sent: Sent) -> str:
    data = (
        '<data listtype="PROJECT" totalcount="1" offset="0" count="1" numremaining="0">'
        "<PROJECT><RECORDNO>7</RECORDNO><PROJECTID>24-0117</PROJECTID><NAME>Riverside Clinic &amp; Lab</NAME>"
        "<PARENTID/><WHENMODIFIED>11/20/2026 08:15:00</WHENMODIFIED></PROJECT></data>"
    )
    return g.result("query", sent.controlids[0], data)


def test_query_success_logs_in_once_and_reads_one_record_as_a_list_of_one() -> None:
    # Given a gateway that answers a query with a single record
    fake = FakeGateway([g.ok(projects_page), g.ok(projects_page)])
    client, _ = make_client(fake)

    # When we query twice
    first = client.query("PROJECT", ["RECORDNO", "PROJECTID", "NAME", "PARENTID", "WHENMODIFIED"])
    client.query("PROJECT", ["RECORDNO"])

    # Then one session served both, at the endpoint getAPISession returned, and values came back decoded
    assert fake.sessions == 1
    assert [s.url for s in fake.calls()] == [g.SESSION_ENDPOINT] * 2
    assert fake.calls()[0].authentication == {"sessionid": "sess-1"}
    assert first.records == [
        {
            "RECORDNO": "7",
            "PROJECTID": "24-0117",
            "NAME": "Riverside Clinic & Lab",
            "PARENTID": None,
            "WHENMODIFIED": "11/20/2026 08:15:00",
        }
    ]
    assert first.listtype == "PROJECT" and first.numremaining == 0
    assert client.counters.api_transactions == 3  # getAPISession + two queries
    assert client.counters.http_requests == 3


def test_request_envelope_is_in_schema_order_with_credentials_in_login_only() -> None:
    # Given
    fake = FakeGateway([g.ok(projects_page)])
    client, _ = make_client(fake, timezone="America/Denver")

    # When
    client.query("PROJECT", ["RECORDNO"])

    # Then the login request carries the user, the session request only the session
    login, call = fake.sent
    assert list(login.document["request"]) == ["control", "operation"]
    assert list(login.control) == ["senderid", "password", "controlid", "uniqueid", "dtdversion", "includewhitespace"]
    assert login.authentication == {
        "login": {"userid": "ws_assignar", "companyid": "acme-builders", "password": "user-secret-pw"}
    }
    assert call.control["uniqueid"] == "false"
    assert list(call.document["request"]["operation"]) == ["@transaction", "authentication", "content"]


def test_entity_id_selects_the_entity_at_login() -> None:
    # Given a multi-entity company and INTACCT_ENTITY_ID set
    fake = FakeGateway([g.ok(projects_page)])
    client = IntacctClient(
        g.settings(INTACCT_ENTITY_ID="DENVER"), timezone=g.ZONE, http=fake.client(), sessions=MemorySessionCache()
    )

    # When
    client.query("PROJECT", ["RECORDNO"])

    # Then both the login and getAPISession name the entity
    login = fake.sent[0]
    assert login.authentication["login"]["locationid"] == "DENVER"
    assert login.functions[0]["getAPISession"] == {"locationid": "DENVER"}


def test_authentication_failure_at_login_is_a_configuration_error_with_intacct_words() -> None:
    # Given a gateway that refuses the sender authorization
    def refuse(_request: httpx.Request) -> httpx.Response:
        body = (
            f"<response>{g.control()}<operation><authentication><status>failure</status><userid>ws_assignar</userid>"
            "<companyid>acme-builders</companyid></authentication><errormessage>"
            + g.error(
                "XL03000006",
                "Invalid Web Services Authorization",
                "The sender ID &#039;acme_sender&#039; is not authorized to make Web Services requests to company ID "
                "&#039;acme-builders&#039;.",
                "Contact the company administrator to grant Web Services authorization to this sender ID.",
            )
            + "</errormessage></operation></response>"
        )
        return httpx.Response(200, content=body.encode())

    client = IntacctClient(g.settings(), timezone=g.ZONE, http=httpx.Client(transport=httpx.MockTransport(refuse)))

    # When / Then
    with pytest.raises(IntacctAuthenticationError) as caught:
        client.query("PROJECT", ["RECORDNO"])
    error = caught.value
    assert error.errorno == "XL03000006"
    assert "not authorized" in (error.description2 or "")
    assert error.correction and "grant Web Services authorization" in error.correction
    assert "secret-pw" not in str(error) and "secret-pw" not in repr(client)


def test_an_expired_session_is_renewed_once_and_the_call_goes_through() -> None:
    # Given a session the gateway has forgotten
    expired = g.raw(
        200,
        f"<response>{g.control()}<operation><authentication><status>failure</status></authentication>"
        f"<errormessage>{g.error('XL03000006', 'Invalid session')}</errormessage></operation></response>",
    )
    fake = FakeGateway([expired, g.ok(projects_page)])
    client, _ = make_client(fake)

    # When
    result = client.query("PROJECT", ["RECORDNO"])

    # Then a second login happened and the retry used the new session
    assert result.records[0]["RECORDNO"] == "7"
    assert fake.sessions == 2
    assert fake.calls()[-1].authentication == {"sessionid": "sess-2"}


def test_a_session_refused_twice_is_not_retried_forever() -> None:
    # Given
    expired = g.raw(
        200,
        f"<response>{g.control()}<operation><authentication><status>failure</status></authentication>"
        f"<errormessage>{g.error('XL03000006', 'Invalid session')}</errormessage></operation></response>",
    )
    fake = FakeGateway([expired, expired])
    client, _ = make_client(fake)

    # When / Then
    with pytest.raises(IntacctAuthenticationError):
        client.query("PROJECT", ["RECORDNO"])
    assert fake.sessions == 2


def test_session_is_refreshed_before_its_timeout() -> None:
    # Given a session that times out at a known instant
    now = [0.0]
    fake = FakeGateway([g.ok(projects_page), g.ok(projects_page)])
    client = IntacctClient(
        g.settings(), timezone=g.ZONE, http=fake.client(), sessions=MemorySessionCache(), clock=lambda: now[0]
    )
    client.query("PROJECT", ["RECORDNO"])  # session timeout in the response: 2030-01-01T12:00:00-07:00

    # When the clock passes the timeout minus the refresh margin
    from datetime import datetime

    now[0] = datetime.fromisoformat("2030-01-01T11:56:00-07:00").timestamp()
    client.query("PROJECT", ["RECORDNO"])

    # Then a new session was opened before the call
    assert fake.sessions == 2


def test_control_failure_raises_configuration_error() -> None:
    # Given malformed request XML reported at control level
    body = (
        f"<response>{g.control('failure')}<errormessage>"
        + g.error(
            "XL03000003",
            "",
            "XML Parse schema error: Fatal Error 76: Opening and ending tag mismatch. "
            "[Support ID: p5rxS%7EYxEXrDEnVyr0F531W8X9bQAAACQ]",
        )
        + "</errormessage></response>"
    )
    fake = FakeGateway([g.raw(200, body)])
    client, _ = make_client(fake)

    # When / Then
    with pytest.raises(IntacctConfigurationError) as caught:
        client.query("PROJECT", ["RECORDNO"])
    assert caught.value.errorno == "XL03000003"
    assert "Support ID: p5rxS~YxEX" in str(caught.value)  # URL-decoded so people can quote it to support


def test_partial_create_failure_keeps_the_created_record_and_the_error() -> None:
    # Given two creates in one request, the second refused as a duplicate
    def results(sent: Sent) -> str:
        one = g.result(
            "create",
            sent.controlids[0],
            '<data listtype="objects" count="1"><project><RECORDNO>41</RECORDNO><PROJECTID>P-1</PROJECTID>'
            "</project></data>",
        )
        two = g.result(
            "create",
            sent.controlids[1],
            status="failure",
            errors=g.error(
                "BL34000061",
                "Another Project with the given value(s) P-2  already exists",
                "",
                "Use a unique value instead.",
            ),
        )
        return one + two

    fake = FakeGateway([g.ok(results)])
    client, _ = make_client(fake)
    from intacct_assignar.intacct import protocol

    functions = [
        protocol.create("PROJECT", [{"PROJECTID": "P-1", "NAME": "One"}], controlid="p-1"),
        protocol.create("PROJECT", [{"PROJECTID": "P-2", "NAME": "Two"}], controlid="p-2"),
    ]

    # When
    first, second = client.execute(functions, uniqueid=True)

    # Then the first is created, the second carries Intacct's own reason
    assert first.ok and first.records == [{"RECORDNO": "41", "PROJECTID": "P-1"}]
    assert not second.ok
    error = second.error()
    assert isinstance(error, IntacctBusinessError)
    assert error.errorno == "BL34000061" and error.correction == "Use a unique value instead."
    assert fake.calls()[0].control["uniqueid"] == "true"
    assert client.counters.api_transactions == 1 + 2


def test_single_create_returns_recordno_and_sends_escaped_values() -> None:
    # Given
    def created(sent: Sent) -> str:
        return g.result(
            "create",
            sent.controlids[0],
            '<data listtype="objects" count="1"><timesheet><RECORDNO>812</RECORDNO></timesheet></data>',
        )

    fake = FakeGateway([g.ok(created)])
    client, _ = make_client(fake, timezone="America/Denver")
    from datetime import date
    from decimal import Decimal

    # When
    written = client.create(
        "TIMESHEET",
        {
            "EMPLOYEEID": "E100",
            "BEGINDATE": date(2026, 11, 22),
            "DESCRIPTION": "Assignar timesheet #5 <R&D>",
            "TIMESHEETENTRIES": {"TIMESHEETENTRY": [{"ENTRYDATE": date(2026, 11, 23), "QTY": Decimal("7.50")}]},
        },
        controlid="asg-ts-5-abc",
    )

    # Then
    assert written.recordno == "812"
    sent = fake.calls()[0]
    assert sent.controlids == ["asg-ts-5-abc"]
    body = sent.functions[0]["create"]["TIMESHEET"]
    assert body["BEGINDATE"] == "11/22/2026"
    assert body["DESCRIPTION"] == "Assignar timesheet #5 <R&D>"  # escaped on the wire, intact after parsing
    assert body["TIMESHEETENTRIES"]["TIMESHEETENTRY"] == {"ENTRYDATE": "11/23/2026", "QTY": "7.5"}


def test_duplicate_control_id_is_typed() -> None:
    # Given the gateway refuses a function control ID that already completed
    def duplicate(sent: Sent) -> str:
        return g.result(
            "create",
            sent.controlids[0],
            status="failure",
            errors=g.error(
                "BL01001973",
                "Duplicate function control ID",
                "A function with control ID 'asg-ts-5-abc' was already executed and completed.",
            ),
        )

    fake = FakeGateway([g.ok(duplicate)])
    client, _ = make_client(fake)

    # When / Then
    with pytest.raises(IntacctDuplicateControlIdError):
        client.create("TIMESHEET", {"EMPLOYEEID": "E100"}, controlid="asg-ts-5-abc")


def test_rate_limit_backs_off_with_jitter_then_succeeds() -> None:
    # Given two 429s before the answer
    limited = g.raw(
        429,
        f"<response>{g.control('failure')}<errormessage>{g.error('GW-0010', 'Rate limit exceeded')}"
        "</errormessage></response>",
    )
    fake = FakeGateway([limited, limited, g.ok(projects_page)])
    client, slept = make_client(fake, retry=RetryPolicy(max_attempts=5, base_delay_s=1.0, rng=random.Random(1)))

    # When
    result = client.query("PROJECT", ["RECORDNO"])

    # Then it waited twice, within the growing jitter bounds, and counted the retries
    assert result.ok
    assert len(slept) == 2 and 0 <= slept[0] <= 1.0 and 0 <= slept[1] <= 2.0
    assert client.counters.retries == 2


def test_rate_limit_honours_retry_after_and_gives_up_after_max_attempts() -> None:
    # Given
    limited = g.raw(429, "<html>Too Many Requests</html>", {"Retry-After": "7"})
    fake = FakeGateway([limited] * 3)
    client, slept = make_client(fake, retry=RetryPolicy(max_attempts=3))

    # When / Then
    with pytest.raises(IntacctRateLimitError):
        client.query("PROJECT", ["RECORDNO"])
    assert slept == [7.0, 7.0]


def test_reads_are_retried_on_5xx_and_html_bodies() -> None:
    # Given a 502 and a Cloudflare error page before the answer
    html = '<!DOCTYPE html><html><div class="cf-error-details">Error 520</div></html>'
    fake = FakeGateway([g.raw(502, "Bad Gateway"), g.raw(200, html), g.ok(projects_page)])
    client, slept = make_client(fake)

    # When
    result = client.query("PROJECT", ["RECORDNO"])

    # Then
    assert result.ok and len(slept) == 2


def test_a_read_that_keeps_failing_raises_transient() -> None:
    fake = FakeGateway([g.raw(503, "busy")] * 2)
    client, _ = make_client(fake, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(IntacctTransientError):
        client.query("PROJECT", ["RECORDNO"])


@pytest.mark.parametrize(
    "reply",
    [
        g.raw(524, "<html>A timeout occurred</html>"),
        g.raw(502, "Bad Gateway"),
        g.raw(200, "<response><control><status>succ"),
    ],
    ids=["524", "502", "truncated"],
)
def test_writes_are_never_resent_when_the_outcome_is_unknown(reply: g.Reply) -> None:
    # Given a write whose answer is lost
    fake = FakeGateway([reply])
    client, slept = make_client(fake)

    # When / Then: one attempt only, and the error says to look it up
    with pytest.raises(IntacctOutcomeUnknownError) as caught:
        client.create("TIMESHEET", {"EMPLOYEEID": "E100"}, controlid="asg-ts-9-ff")
    assert len(fake.calls()) == 1 and slept == []
    assert "look it up" in str(caught.value)


def test_a_write_timeout_after_sending_is_outcome_unknown() -> None:
    # Given a transport that times out reading the answer
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(200, content=g.response(g.session_result(parse_controlid(request))))
        raise httpx.ReadTimeout("read timed out", request=request)

    client = IntacctClient(
        g.settings(),
        timezone=g.ZONE,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        sessions=MemorySessionCache(),
    )

    # When / Then
    with pytest.raises(IntacctOutcomeUnknownError):
        client.create("TIMESHEET", {"EMPLOYEEID": "E100"}, controlid="asg-ts-10-aa")
    assert len(calls) == 2


def test_a_write_that_could_not_connect_is_retried_because_nothing_was_sent() -> None:
    # Given the first connection attempt fails
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            return httpx.Response(200, content=g.response(g.session_result(parse_controlid(request))))
        if len(attempts) == 2:
            raise httpx.ConnectError("connection refused", request=request)
        sent = parse_controlid(request)
        return httpx.Response(
            200,
            content=g.response(
                g.result(
                    "create",
                    sent,
                    '<data listtype="objects" count="1"><timesheet><RECORDNO>5</RECORDNO></timesheet></data>',
                )
            ),
        )

    client = IntacctClient(
        g.settings(),
        timezone=g.ZONE,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        sessions=MemorySessionCache(),
        sleep=lambda _s: None,
    )

    # When
    written = client.create("TIMESHEET", {"EMPLOYEEID": "E100"}, controlid="asg-ts-11-bb")

    # Then
    assert written.recordno == "5"


def parse_controlid(request: httpx.Request) -> str:
    from intacct_assignar.intacct.xmlcodec import parse_xml

    document = parse_xml(request.content, force_list=["function"])
    return str(document["request"]["operation"]["content"]["function"][0]["@controlid"])


def test_read_by_query_follows_read_more_and_reads_lower_case_listtype() -> None:
    # Given two pages of a legacy readByQuery
    def first(sent: Sent) -> str:
        data = (
            '<data listtype="employee" count="1" totalcount="2" numremaining="1" resultId="7765623332WU1hh8CoA4QA">'
            "<employee><RECORDNO>1</RECORDNO><EMPLOYEEID>E1</EMPLOYEEID></employee></data>"
        )
        return g.result("readByQuery", sent.controlids[0], data)

    def second(sent: Sent) -> str:
        data = (
            '<data listtype="employee" count="1" totalcount="2" numremaining="0" resultId="">'
            "<employee><RECORDNO>2</RECORDNO><EMPLOYEEID>E2</EMPLOYEEID></employee></data>"
        )
        return g.result("readMore", sent.controlids[0], data)

    fake = FakeGateway([g.ok(first), g.ok(second)])
    client, _ = make_client(fake)

    # When
    pages = list(client.read_by_query("EMPLOYEE", "STATUS = 'T'", fields=["RECORDNO", "EMPLOYEEID"]))

    # Then
    assert [[r["EMPLOYEEID"] for r in page] for page in pages] == [["E1"], ["E2"]]
    assert fake.calls()[1].functions[0]["readMore"] == {"resultId": "7765623332WU1hh8CoA4QA"}


def test_expired_result_id_raises_a_restartable_error() -> None:
    # Given readMore on a resultId Intacct has dropped
    def first(sent: Sent) -> str:
        data = (
            '<data listtype="employee" count="1" totalcount="2" numremaining="1" resultId="abc">'
            "<employee><RECORDNO>1</RECORDNO></employee></data>"
        )
        return g.result("readByQuery", sent.controlids[0], data)

    def expired(sent: Sent) -> str:
        return g.result(
            "readMore",
            sent.controlids[0],
            status="failure",
            errors=g.error("readMore failed", "", "Attempt to readMore with an invalid or expired resultId: abc"),
        )

    fake = FakeGateway([g.ok(first), g.ok(expired)])
    client, _ = make_client(fake)

    # When / Then
    pages = client.read_by_query("EMPLOYEE", "")
    next(pages)
    with pytest.raises(IntacctQueryExpiredError) as caught:
        next(pages)
    assert "expired resultId" in str(caught.value)


def test_session_endpoint_outside_intacct_is_refused() -> None:
    # Given a getAPISession answer pointing somewhere else
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=g.response(g.session_result(parse_controlid(request), endpoint="https://evil.example.com/x"))
        )

    client = IntacctClient(
        g.settings(),
        timezone=g.ZONE,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        sessions=MemorySessionCache(),
    )

    # When / Then
    with pytest.raises(IntacctConfigurationError, match=r"evil\.example\.com"):
        client.query("PROJECT", ["RECORDNO"])


def test_responses_with_entities_are_refused() -> None:
    # Given a response that declares an entity (billion laughs, XXE)
    body = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]>'
        "<response><control><status>success</status></control></response>"
    )
    fake = FakeGateway([g.raw(200, body)])
    client, _ = make_client(fake, retry=RetryPolicy(max_attempts=1))

    # When / Then: treated as a broken answer, never expanded
    with pytest.raises(IntacctTransientError, match="DOCTYPE"):
        client.query("PROJECT", ["RECORDNO"])


def test_results_must_pair_with_the_functions_sent() -> None:
    # Given answers for a different control ID
    def wrong(_sent: Sent) -> str:
        return g.result("create", "someone-else", '<data listtype="objects" count="0"/>')

    fake = FakeGateway([g.ok(wrong), g.ok(wrong)])
    client, _ = make_client(fake, retry=RetryPolicy(max_attempts=1))

    # When / Then: a read cannot trust it (and would retry); a write's outcome is unknown
    with pytest.raises(IntacctTransientError, match="control IDs"):
        client.query("PROJECT", ["RECORDNO"])
    with pytest.raises(IntacctOutcomeUnknownError, match="control IDs"):
        client.create("PROJECT", {"PROJECTID": "P-9"}, controlid="p-9")


def test_html_error_pages_are_lost_answers_not_configuration_errors() -> None:
    # Given a Cloudflare page served with HTTP 200 (no DOCTYPE: well-formed XML that is not a <response>)
    page = '<html><head><title>502</title></head><body><div class="cf-error-details">Bad gateway</div></body></html>'
    fake = FakeGateway([g.raw(200, page), g.ok(projects_page), g.raw(403, page)])
    client, slept = make_client(fake)

    # When / Then: a read retries through it; a write is reported as outcome unknown, never "fix settings"
    assert client.query("PROJECT", ["RECORDNO"]).ok and len(slept) == 1
    with pytest.raises(IntacctOutcomeUnknownError, match="not an Intacct <response>"):
        client.create("PROJECT", {"PROJECTID": "P-10"}, controlid="p-10")


def test_temporarily_off_line_is_transient() -> None:
    # Given the gateway's "temporarily off-line" refusal, then the answer
    offline = g.raw(
        200,
        f"<response>{g.control('failure')}<errormessage>"
        + g.error("XL03000001", "The Service is Temporarily Off-line", "", "Please Try Again Later")
        + "</errormessage></response>",
    )
    fake = FakeGateway([offline, g.ok(projects_page)])
    client, slept = make_client(fake)

    # When / Then
    assert client.query("PROJECT", ["RECORDNO"]).ok and len(slept) == 1


def test_characters_xml_cannot_carry_are_replaced_in_outgoing_text() -> None:
    # Given free text with a control character (pasted from a phone note)
    def created(sent: Sent) -> str:
        return g.result(
            "create",
            sent.controlids[0],
            '<data listtype="objects" count="1"><customer><RECORDNO>3</RECORDNO></customer></data>',
        )

    fake = FakeGateway([g.ok(created)])
    client, _ = make_client(fake)

    # When
    client.create("CUSTOMER", {"CUSTOMERID": "C-1", "NAME": "Bell\x07 & Sons"}, controlid="c-1")

    # Then the request was well-formed XML and kept the rest of the text
    assert fake.calls()[0].functions[0]["create"]["CUSTOMER"]["NAME"] == "Bell  & Sons"


def test_failed_requests_are_not_counted_as_billed_transactions() -> None:
    # Given a 429 before the answer
    limited = g.raw(429, "<html>Too Many Requests</html>")
    fake = FakeGateway([limited, g.ok(projects_page)])
    client, _ = make_client(fake)

    # When
    client.query("PROJECT", ["RECORDNO"])

    # Then only the session and the answered query count
    assert client.counters.api_transactions == 2
    assert client.counters.http_requests == 3


def test_one_create_of_several_records_can_fail_after_creating_some() -> None:
    # Given one create function with two projects, where Intacct created the first and refused the second:
    # the result is a failure whose data still lists the record that was created (reference §2.2)
    def partly(sent: Sent) -> str:
        return g.result(
            "create",
            sent.controlids[0],
            '<data listtype="objects" count="1"><project><RECORDNO>51</RECORDNO><PROJECTID>P-51</PROJECTID>'
            "</project></data>",
            status="failure",
            errors=g.error("BL34000061", "Another Project with the given value(s) P-52  already exists"),
        )

    fake = FakeGateway([g.ok(partly)])
    client, _ = make_client(fake)
    from intacct_assignar.intacct import protocol

    function = protocol.create("PROJECT", [{"PROJECTID": "P-51"}, {"PROJECTID": "P-52"}], controlid="pp-1")

    # When
    (result,) = client.execute([function], uniqueid=True)

    # Then the caller sees both what was created and why the rest was refused
    assert not result.ok
    assert result.records == [{"RECORDNO": "51", "PROJECTID": "P-51"}]
    assert result.error().errorno == "BL34000061"
    assert client.counters.api_transactions == 1 + 2


@pytest.mark.parametrize(
    ("body", "said"),
    [
        # A record 200,000 elements deep: refused while parsing (without the guard: RecursionError on reading it)
        (
            "<response><control><status>success</status></control><operation><authentication><status>success"
            "</status></authentication><result><status>success</status><function>query</function><controlid>"
            "query-1</controlid><data>" + "<a>" * 200_000 + "</a>" * 200_000 + "</data></result></operation>"
            "</response>",
            "nested deeper than 100",
        ),
        # cut off mid-answer
        (
            '<?xml version="1.0"?><response><control><status>success</status></control><operation><auth',
            "not well-formed",
        ),
    ],
    ids=["too-deep", "truncated"],
)
def test_hostile_or_broken_answers_are_clear_errors(body: str, said: str) -> None:
    # Given a gateway that answers every try with the same broken body
    fake = FakeGateway([g.raw(200, body)] * 2)
    client, _ = make_client(fake, retry=RetryPolicy(max_attempts=2))

    # When / Then: a read gives up after its tries with a sentence saying what was wrong, where and how often
    with pytest.raises(IntacctTransientError, match=said) as caught:
        client.query("PROJECT", ["RECORDNO"])
    assert (caught.value.host, caught.value.attempts) == ("na12.intacct.com", 2)
