"""The Assignar client's behaviour over hand-built answers: tokens, retries, lost creates, paging, filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from intacct_assignar.assignar import (
    AuthenticationError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TimesheetNotApprovedError,
    TransportError,
    UniqueConstraintError,
    ValidationError,
)
from intacct_assignar.assignar.models import Timesheet
from intacct_assignar.assignar.requestor import query_value

from tests.unit.assignar.fakes import FakeAssignar, FakeClock, Sleeps, envelope, make_client, message, serve_list


def test_a_token_is_fetched_once_and_reused() -> None:
    # Given a client
    fake = FakeAssignar()
    with make_client(fake) as client:
        # When it makes three calls
        client.clients.get(1)
        client.projects.get(2)
        client.roles.get(3)

    # Then one token served them all, as a bearer header
    assert fake.tokens_issued == 1
    assert all(r.headers["Authorization"] == "Bearer " + fake_token(1) for r in fake.api_requests())


def fake_token(n: int) -> str:
    from tests.unit.assignar.fakes import ACCESS_TOKEN

    return f"{ACCESS_TOKEN}{n}"


def test_a_token_is_renewed_shortly_before_it_expires() -> None:
    # Given a client whose token lasts an hour, renewed a minute early
    fake, clock = FakeAssignar(token_lifetime_s=3600), FakeClock()
    with make_client(fake, clock=clock) as client:
        client.clients.get(1)

        # When 58 minutes pass, then 59 and a bit
        clock.now += 58 * 60
        client.clients.get(1)
        tokens_before_margin = fake.tokens_issued
        clock.now += 61
        client.clients.get(1)

    # Then the token is reused inside its life and renewed inside the margin, without a 401
    assert tokens_before_margin == 1
    assert fake.tokens_issued == 2


def test_a_401_gets_one_fresh_token_and_one_retry() -> None:
    # Given Assignar refuses the first token (revoked early)
    fake = FakeAssignar()
    fake.script(message(401, "Unauthorized"))
    with make_client(fake) as client:
        # When a record is read
        record = client.clients.get(7)

    # Then a new token was fetched and the read succeeded with it
    assert record.id == 7
    assert fake.tokens_issued == 2
    assert fake.api_requests()[-1].headers["Authorization"] == "Bearer " + fake_token(2)


def test_a_second_401_in_a_row_is_an_authentication_error() -> None:
    # Given Assignar refuses every token
    fake = FakeAssignar()
    fake.script(message(401, "Unauthorized"), message(401, "Unauthorized"))
    with make_client(fake) as client, pytest.raises(AuthenticationError) as raised:
        # When a record is read
        client.clients.get(7)

    # Then the client gives up after one refresh and says what to check
    assert fake.tokens_issued == 2
    assert "credentials" in str(raised.value)


def test_refused_client_credentials_are_an_authentication_error_naming_the_settings() -> None:
    # Given the token endpoint refuses the credentials
    fake = FakeAssignar()
    fake.token_refusal = httpx.Response(401, json={"error": "invalid_client"})
    with make_client(fake) as client, pytest.raises(AuthenticationError) as raised:
        # When a call needs a token
        client.clients.get(1)

    # Then the error names the settings to fix and Assignar's reason, and no API call was made
    assert "ASSIGNAR_CLIENT_SECRET" in str(raised.value)
    assert raised.value.assignar_message == "invalid_client"
    assert fake.api_requests() == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(429, json={"error": "slow_down"}, headers={"Retry-After": "2"}),
        httpx.Response(503, text="Service Unavailable"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("timed out"),
    ],
    ids=["429", "503", "connect-error", "read-timeout"],
)
def test_a_token_endpoint_hiccup_is_retried_in_the_same_loop(failure: httpx.Response | Exception) -> None:
    # Given the token endpoint fails once (rate limit, outage, lost connection)
    fake, sleeps = FakeAssignar(), Sleeps()
    fake.token_failures.append(failure)
    with make_client(fake, sleeps=sleeps) as client:
        # When a record is read
        record = client.clients.get(7)

    # Then the token was asked for again after one backoff and the read went through once
    assert record.id == 7
    assert fake.tokens_issued == 1
    assert len(fake.api_requests()) == 1
    assert len(sleeps.delays) == 1
    if isinstance(failure, httpx.Response) and failure.status_code == 429:
        assert sleeps.delays == [2.0]


def test_a_create_waiting_on_a_failing_token_endpoint_is_sent_once_without_a_lookup() -> None:
    # Given the token endpoint answers 502 twice: the POST cannot have been sent meanwhile
    fake = FakeAssignar()
    fake.token_failures.extend([httpx.Response(502), httpx.Response(502)])
    with make_client(fake) as client:
        created = client.roles.create({"name": "Labourer"})

    # Then no lookup and no OutcomeUnknownError: one POST once the token came
    assert [r.method for r in fake.api_requests()] == ["POST"]
    assert created.id == 42


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.Response(429, json={"error": "slow_down"}), RateLimitedError),
        (httpx.Response(500, text="oops"), ServerError),
        (httpx.ConnectError("refused"), TransportError),
    ],
)
def test_a_token_endpoint_that_stays_down_ends_in_its_own_typed_error(
    failure: httpx.Response | Exception, error: type[Exception]
) -> None:
    # Given the token endpoint fails on every attempt
    fake = FakeAssignar()
    fake.token_failures.extend([failure] * 4)
    with make_client(fake, max_attempts=4) as client, pytest.raises(error) as raised:
        client.clients.get(1)

    # Then it was asked four times, never classed as refused credentials, and no API call was made
    assert not isinstance(raised.value, AuthenticationError)
    assert len(fake.requests) == 4
    assert fake.api_requests() == []


@pytest.mark.parametrize("refusal", [(400, "invalid_scope"), (401, "invalid_client")])
def test_refused_credentials_or_scope_are_not_retried(refusal: tuple[int, str]) -> None:
    fake = FakeAssignar()
    fake.token_refusal = httpx.Response(refusal[0], json={"error": refusal[1]})
    with make_client(fake) as client, pytest.raises(AuthenticationError):
        client.clients.get(1)
    assert len(fake.requests) == 1


def test_a_get_is_retried_after_5xx_with_exponential_backoff() -> None:
    # Given two server errors before a good answer
    fake, sleeps = FakeAssignar(), Sleeps()
    fake.script(message(502, "Bad Gateway"), message(503, "Service Unavailable"))
    with make_client(fake, sleeps=sleeps) as client:
        # When a record is read
        record = client.clients.get(7)

    # Then it was read on the third try after two jittered waits under a doubling ceiling
    assert record.id == 7
    assert len(fake.api_requests()) == 3
    assert len(sleeps.delays) == 2
    assert 0 <= sleeps.delays[0] <= 0.5
    assert 0 <= sleeps.delays[1] <= 1.0


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    # Given Assignar asks for three seconds' rest
    fake, sleeps = FakeAssignar(), Sleeps()
    fake.script(message(429, "Too Many Requests", {"Retry-After": "3"}))
    with make_client(fake, sleeps=sleeps) as client:
        # When a list is read
        client.clients.list()

    # Then the client waited exactly that long, once
    assert sleeps.delays == [3.0]


def test_retries_run_out_into_a_typed_error() -> None:
    # Given Assignar keeps answering 429
    fake = FakeAssignar()
    fake.script(*[message(429, "Too Many Requests", {"Retry-After": "1"}) for _ in range(4)])
    with make_client(fake, max_attempts=4) as client, pytest.raises(RateLimitedError) as raised:
        # When a list is read
        client.clients.list()

    # Then four attempts were made and the hint is kept
    assert len(fake.api_requests()) == 4
    assert raised.value.retry_after_s == 1.0


def test_a_rejected_payload_is_not_retried() -> None:
    # Given Assignar refuses a duplicate external_id
    fake = FakeAssignar()
    fake.script(message(400, "[400] Unique Constraint Error - external_id"))
    with make_client(fake) as client, pytest.raises(UniqueConstraintError) as raised:
        # When the client is created
        client.clients.create({"name": "Acme", "company_name": "Acme", "external_id": "C-1"})

    # Then it is one attempt, and the error names the field
    assert len(fake.api_requests()) == 1
    assert raised.value.field == "external_id"


def test_a_create_that_landed_before_a_5xx_is_found_not_repeated() -> None:
    # Given the create fails with 500 after Assignar stored it
    fake = FakeAssignar()
    fake.script(
        message(500, "Internal Server Error"),
        envelope([{"id": 77, "name": "Acme", "integration_id": "customer:1"}], count=1),
    )
    with make_client(fake) as client:
        # When the client is created
        created = client.clients.create({"name": "Acme", "company_name": "Acme", "integration_id": "customer:1"})

    # Then the client looked it up by integration_id and returned it without a second POST
    methods = [(r.method, r.url.path, r.url.params.get("integration_id")) for r in fake.api_requests()]
    assert methods == [("POST", "/v2/clients/", None), ("GET", "/v2/clients/", "customer:1")]
    assert created.id == 77


def test_a_create_that_did_not_land_is_sent_again_after_the_lookup() -> None:
    # Given the create fails with 503 and Assignar has no such record
    fake = FakeAssignar()
    fake.script(message(503, "Service Unavailable"), envelope([], count=0))
    with make_client(fake) as client:
        # When the role is created
        created = client.roles.create({"name": "Labourer", "external_id": "LAB-1"})

    # Then it was looked up by external_id, then posted once more
    assert [r.method for r in fake.api_requests()] == ["POST", "GET", "POST"]
    assert fake.api_requests()[1].url.params["external_id"] == "LAB-1"
    assert created.id == 42


def test_a_create_that_may_have_landed_on_its_last_attempt_is_looked_up_not_raised_as_retryable() -> None:
    # Given only one attempt is allowed and the create fails with 500 after Assignar stored it
    fake = FakeAssignar()
    fake.script(
        message(500, "Internal Server Error"),
        envelope([{"id": 77, "name": "Acme", "integration_id": "customer:1"}], count=1),
    )
    with make_client(fake, max_attempts=1) as client:
        created = client.clients.create({"name": "Acme", "company_name": "Acme", "integration_id": "customer:1"})

    # Then the final lookup found it
    assert [r.method for r in fake.api_requests()] == ["POST", "GET"]
    assert created.id == 77


def test_a_create_failing_on_every_attempt_and_not_found_is_outcome_unknown() -> None:
    # Given every POST answers 500 and the lookups never find the record
    fake = FakeAssignar()
    fake.handler = lambda request: (
        message(500, "[500] Internal Server Error") if request.method == "POST" else envelope([], count=0)
    )
    with make_client(fake, max_attempts=3) as client, pytest.raises(OutcomeUnknownError) as raised:
        client.clients.create({"name": "Acme", "company_name": "Acme", "integration_id": "customer:1"})

    # Then it is not a retryable ServerError: the caller must not blindly try again
    assert not isinstance(raised.value, ServerError)
    assert "integration_id='customer:1'" in str(raised.value)
    assert [r.method for r in fake.api_requests()] == ["POST", "GET", "POST", "GET", "POST", "GET"]


def test_a_resend_refused_as_a_duplicate_of_our_key_returns_the_stored_record() -> None:
    # Given the first POST stored the record and failed, the lookup missed it (read lag), the resend hit the key
    fake = FakeAssignar()
    fake.script(
        message(502, "Bad Gateway"),
        envelope([], count=0),
        message(400, "[400] Unique Constraint Error - integration_id"),
        envelope([{"id": 77, "integration_id": "customer:1"}], count=1),
    )
    with make_client(fake) as client:
        created = client.clients.create({"name": "Acme", "company_name": "Acme", "integration_id": "customer:1"})

    # Then the final lookup returned the stored record
    assert [r.method for r in fake.api_requests()] == ["POST", "GET", "POST", "GET"]
    assert created.id == 77


def test_a_resend_refused_as_a_duplicate_but_still_not_found_is_outcome_unknown() -> None:
    fake = FakeAssignar()
    fake.script(
        message(502, "Bad Gateway"),
        envelope([], count=0),
        message(400, "[400] Unique Constraint Error - integration_id"),
        envelope([], count=0),
    )
    with make_client(fake) as client, pytest.raises(OutcomeUnknownError) as raised:
        client.clients.create({"name": "Acme", "company_name": "Acme", "integration_id": "customer:1"})
    assert isinstance(raised.value.__cause__, UniqueConstraintError)


def test_a_lookup_that_fails_is_outcome_unknown_not_a_resend() -> None:
    # Given the create fails with 500 and every lookup answers 503
    fake = FakeAssignar()
    fake.handler = lambda request: message(500 if request.method == "POST" else 503, "down")
    with make_client(fake, max_attempts=2) as client, pytest.raises(OutcomeUnknownError, match="looking for"):
        client.roles.create({"name": "Labourer", "external_id": "LAB-1"})
    assert [r.method for r in fake.api_requests()].count("POST") == 1


def test_a_create_without_a_key_is_never_blindly_repeated() -> None:
    # Given the answer to a create is lost (read timeout after sending)
    fake = FakeAssignar()
    fake.script(httpx.ReadTimeout("timed out"))
    with make_client(fake) as client, pytest.raises(OutcomeUnknownError) as raised:
        # When a role without integration_id or external_id is created
        client.roles.create({"name": "Labourer"})

    # Then it was sent once, and the error says how to make it safe
    assert [r.method for r in fake.api_requests()] == ["POST"]
    assert "key" in str(raised.value)


def test_a_create_refused_before_sending_is_simply_retried() -> None:
    # Given the connection is refused once (the request never left)
    fake = FakeAssignar()
    fake.script(httpx.ConnectError("refused"))
    with make_client(fake) as client:
        # When a role without keys is created
        created = client.roles.create({"name": "Labourer"})

    # Then it was retried without a lookup
    assert [r.method for r in fake.api_requests()] == ["POST", "POST"]
    assert created.id == 42


def test_a_create_hit_by_429_is_retried_without_a_lookup() -> None:
    # Given a 429 (Assignar did not act on the request)
    fake = FakeAssignar()
    fake.script(message(429, "Too Many Requests", {"Retry-After": "0"}))
    with make_client(fake) as client:
        client.roles.create({"name": "Labourer"})

    # Then the POST was simply sent again
    assert [r.method for r in fake.api_requests()] == ["POST", "POST"]


def test_a_put_is_retried_after_a_lost_answer() -> None:
    # Given the answer to an update is lost once
    fake = FakeAssignar()
    fake.script(httpx.RemoteProtocolError("Server disconnected"))
    with make_client(fake) as client:
        # When a worker is deactivated (users' PUT schema requires nothing)
        client.workers.update(5, {"active": False})

    # Then the same PUT was sent again
    assert [r.method for r in fake.api_requests()] == ["PUT", "PUT"]


def test_paging_asks_for_ids_above_the_last_seen_until_an_empty_page() -> None:
    # Given 7 workers and pages of 3
    fake = FakeAssignar()
    fake.handler = serve_list([{"id": i} for i in range(1, 8)])
    with make_client(fake, page_size=3) as client:
        # When all workers are listed
        workers = client.workers.list()

    # Then each page asked for ids above the previous page's last, and the empty fourth page ended the list
    assert [w.id for w in workers] == [1, 2, 3, 4, 5, 6, 7]
    params = [dict(r.url.params) for r in fake.api_requests()]
    first = {"page": "1", "page_size": "3", "sort": "id"}
    assert params == [first, first | {"id__gt": "3"}, first | {"id__gt": "6"}, first | {"id__gt": "7"}]


def test_a_server_capping_the_page_size_silently_still_yields_every_record() -> None:
    # Given a server that returns at most 2 records a page whatever page_size asks for
    fake = FakeAssignar()
    fake.handler = serve_list([{"id": i} for i in range(1, 8)], page_size_cap=2)
    with make_client(fake, page_size=5) as client:
        # When all workers are listed, by id and by another sort
        by_id = client.workers.list()
        by_number = client.workers.list(sort="-id")

    # Then no short page was taken for the last: every record arrived both ways
    assert [w.id for w in by_id] == [1, 2, 3, 4, 5, 6, 7]
    assert sorted(w.id for w in by_number) == [1, 2, 3, 4, 5, 6, 7]


def test_a_caller_s_id_floor_starts_the_keyset() -> None:
    fake = FakeAssignar()
    fake.handler = serve_list([{"id": i} for i in range(1, 8)])
    with make_client(fake, page_size=3) as client:
        assert [w.id for w in client.workers.list({"id__gt": 5})] == [6, 7]
    assert [r.url.params["id__gt"] for r in fake.api_requests()] == ["5", "7"]


def test_index_by_sends_the_keys_in_chunks_of_in_filters() -> None:
    # Given four workers, five employee ids asked for and at most two per filter
    fake = FakeAssignar()
    fake.handler = serve_list([{"id": n, "employee_id": f"E{n}"} for n in (1, 2, 3, 5)])
    with make_client(fake, in_filter_size=2) as client:
        # When workers are indexed by employee_id
        index = client.workers.index_by("employee_id", ["E5", "E1", "E2", "E3", "E4", "E1"])

    # Then three filters (each read to its empty page) found the four that exist
    chunks = [r.url.params["employee_id__in"] for r in fake.api_requests() if "id__gt" not in r.url.params]
    assert chunks == ["E1,E2", "E3,E4", "E5"]
    assert sorted(index) == ["E1", "E2", "E3", "E5"]


def test_index_by_keeps_chunk_urls_short_whatever_the_count() -> None:
    # Given 300 GUID-like keys (36 characters each), up to 200 a filter, and URLs of at most 2,000 characters
    guids = [f"{n:08d}-1111-2222-3333-444455556666" for n in range(300)]
    fake = FakeAssignar()
    fake.handler = serve_list([{"id": n + 1, "integration_id": guid} for n, guid in enumerate(guids)])
    with make_client(fake, in_filter_size=200, max_url_length=2000) as client:
        # When workers are indexed by integration_id
        index = client.workers.index_by("integration_id", guids)

    # Then every key was found, and every request URL stayed within the limit although 200 keys would not
    assert sorted(index) == guids
    requests = fake.api_requests()
    assert max(len(str(r.url)) for r in requests) <= 2000
    assert len(",".join(guids[:200])) > 2000
    assert (
        sum(len(r.url.params["integration_id__in"].split(",")) for r in requests if "id__gt" not in r.url.params) == 300
    )


def test_a_key_containing_a_comma_is_looked_up_on_its_own() -> None:
    # Given a worker whose employee_id contains a comma (the __in separator)
    fake = FakeAssignar()
    fake.handler = serve_list([{"id": 1, "employee_id": "E1"}, {"id": 2, "employee_id": "SMITH,J"}])
    with make_client(fake) as client:
        # When workers are indexed by employee_id
        index = client.workers.index_by("employee_id", ["E1", "SMITH,J"])

    # Then the comma key went as a plain equality filter, never split inside an __in list
    assert sorted(index) == ["E1", "SMITH,J"]
    sent = [dict(r.url.params) for r in fake.api_requests() if "id__gt" not in r.url.params]
    assert [p.get("employee_id__in") for p in sent] == ["E1", None]
    assert sent[1]["employee_id"] == "SMITH,J"


def test_a_list_filter_value_containing_a_comma_is_refused_naming_it() -> None:
    fake = FakeAssignar()
    with make_client(fake) as client, pytest.raises(ValueError, match="'SMITH,J' contains a comma"):
        client.workers.list({"employee_id__in": ["E1", "SMITH,J"]})
    assert fake.api_requests() == []


def test_index_by_keeps_the_older_record_when_two_share_a_key() -> None:
    fake = FakeAssignar()
    fake.handler = serve_list([{"id": 9, "external_id": "C-1"}, {"id": 4, "external_id": "C-1"}])
    with make_client(fake) as client:
        index = client.clients.index_by("external_id", ["C-1"])
    assert index["C-1"].id == 4


@pytest.mark.parametrize(
    ("filters", "problem"),
    [({"colour": "red"}, "cannot be filtered by 'colour'"), ({"name__like": "x"}, "not an Assignar filter operator")],
)
def test_filters_outside_the_documented_language_are_refused_before_sending(
    filters: dict[str, str], problem: str
) -> None:
    fake = FakeAssignar()
    with make_client(fake) as client, pytest.raises(ValueError, match=problem):
        client.clients.list(filters)
    assert fake.api_requests() == []


def test_filter_values_are_spelt_as_assignar_expects() -> None:
    assert query_value(["E1", 2]) == "E1,2"
    assert query_value(True) == "true"
    assert query_value(None) == "null"
    assert query_value(3) == "3"


def test_marking_a_timesheet_processed_twice_is_harmless() -> None:
    # Given Assignar refuses the second mark in words we do not rely on, and the timesheet shows processed_at
    fake = FakeAssignar()
    fake.script(
        envelope(None),
        message(400, "[400] Something unpublished"),
        envelope({"id": 5, "status": "APPROVED", "processed_at": "2026-11-25T21:00:00.000Z"}),
    )
    with make_client(fake) as client:
        # When it is marked twice
        first, second = client.timesheets.mark_processed(5), client.timesheets.mark_processed(5)

    # Then the first call did it, and the second read the timesheet and reports it was done
    assert (first, second) == (True, False)
    assert [(r.method, r.url.path) for r in fake.api_requests()][-1] == ("GET", "/v2/timesheets-expanded/5")


def test_marking_an_unapproved_timesheet_processed_is_a_typed_error_naming_the_status() -> None:
    # Given Assignar refuses the mark and the timesheet is only submitted
    fake = FakeAssignar()
    fake.script(message(400, "[400] Something unpublished"), envelope({"id": 5, "status": "SUBMITTED"}))
    with make_client(fake) as client, pytest.raises(TimesheetNotApprovedError) as raised:
        client.timesheets.mark_processed(5)

    # Then the error names the status, and is still a validation error (a 400) for generic handlers
    assert raised.value.timesheet_status == "SUBMITTED"
    assert "'SUBMITTED'" in str(raised.value)
    assert isinstance(raised.value, ValidationError)


def test_a_refused_mark_on_an_approved_unprocessed_timesheet_keeps_assignar_s_error() -> None:
    fake = FakeAssignar()
    fake.script(message(400, "[400] Locked"), envelope({"id": 5, "status": "APPROVED"}))
    with make_client(fake) as client, pytest.raises(ValidationError, match="Locked") as raised:
        client.timesheets.mark_processed(5)
    assert not isinstance(raised.value, TimesheetNotApprovedError)


def test_approved_unprocessed_timesheets_are_one_filtered_list() -> None:
    fake = FakeAssignar()
    with make_client(fake) as client:
        client.timesheets.approved_unprocessed(modified_since="2026-11-01T00:00:00Z")
    params = fake.api_requests()[0].url.params
    assert params["status__in"].split(",")[0] == "APPROVED"
    assert params["processed_at__is"] == "null"
    assert params["modified_time__gte"] == "2026-11-01T00:00:00Z"


def test_a_time_filter_is_sent_as_assignar_writes_its_own_times() -> None:
    # Given the watcher's watermark, an aware time in another zone with microseconds
    since = datetime(2026, 11, 20, 9, 0, 5, 123456, tzinfo=ZoneInfo("America/Denver"))
    fake = FakeAssignar()
    with make_client(fake) as client:
        list(client.timesheets.approved_unprocessed_pages(modified_since=since))
    # Then it goes in UTC, to the millisecond (rounded down, so nothing at that moment is left out), with a Z
    assert fake.api_requests()[0].url.params["modified_time__gte"] == "2026-11-20T16:00:05.123Z"


@pytest.mark.parametrize(
    ("fields", "approved_at"),
    [
        (
            {"status": "APPROVED", "modified_time": "2026-11-20T16:00:05.123Z"},
            datetime(2026, 11, 20, 16, 0, 5, 123000, tzinfo=UTC),
        ),
        (
            {"status": "APPROVED_WITH_PAY_RATES", "modified_time": "2026-11-20T16:00:05"},
            datetime(2026, 11, 20, 16, 0, 5, tzinfo=UTC),
        ),
        ({"status": "SUBMITTED", "modified_time": "2026-11-20T16:00:05.123Z"}, None),
        (
            {"status": "APPROVED", "modified_time": "2026-11-20T16:00:05.123Z", "processed_at": "2026-11-20T16:01:00Z"},
            None,
        ),
        ({"status": "APPROVED", "modified_time": None}, None),
        ({"status": "APPROVED", "modified_time": "not a time"}, None),
    ],
)
def test_a_timesheet_s_approval_time_is_its_last_change_while_approved_and_unprocessed(
    fields: dict[str, Any], approved_at: datetime | None
) -> None:
    assert Timesheet.model_validate({"id": 1, **fields}).approved_at == approved_at


def test_calls_are_counted_by_method_and_resource_including_retries() -> None:
    # Given one retry and one token
    fake = FakeAssignar()
    fake.script(message(502, "Bad Gateway"))
    with make_client(fake) as client:
        client.clients.get(1)
        client.workers.list()

        # Then the counter shows each call
        assert client.calls.by_call() == {"GET clients": 2, "GET users": 2, "POST oauth2/token": 1}
        assert client.calls.count("GET") == 4
        assert str(client.calls).startswith("5 Assignar calls")


def test_the_client_paces_its_calls_to_the_configured_rate() -> None:
    # Given a client limited to 2 calls a second on a frozen clock
    fake, sleeps = FakeAssignar(), Sleeps()
    with make_client(fake, sleeps=sleeps, requests_per_second=2) as client:
        # When it makes three calls at the same instant
        for record_id in (1, 2, 3):
            client.clients.get(record_id)

    # Then it waited half a second more before each further call
    assert sleeps.delays == [0.5, 1.0]


def test_a_5xx_that_never_ends_is_a_server_error_with_assignars_words() -> None:
    fake = FakeAssignar()
    fake.script(*[message(500, "[500] Something went wrong.") for _ in range(4)])
    with make_client(fake) as client, pytest.raises(ServerError) as raised:
        client.assets.get(3)
    assert "Something went wrong" in str(raised.value)
    assert json.loads(fake.api_requests()[0].content or b"null") is None


@pytest.mark.parametrize(
    ("sort", "problem"), [("id", "ignored the id sort or the id__gt filter"), ("-id", "previous page")]
)
def test_a_server_that_ignores_paging_is_caught_not_read_forever(sort: str, problem: str) -> None:
    # Given Assignar answers every page with the same full page
    fake = FakeAssignar()
    fake.handler = lambda request: envelope([{"id": 1}, {"id": 2}])
    with make_client(fake, page_size=2) as client, pytest.raises(ServerError, match=problem):
        # When the list is read
        client.roles.list(sort=sort)

    # Then the client stopped at the second page
    assert len(fake.api_requests()) == 2


def test_a_page_out_of_id_order_is_refused_rather_than_skipping_records() -> None:
    fake = FakeAssignar()
    fake.handler = lambda request: envelope([{"id": 5}, {"id": 2}])
    with make_client(fake) as client, pytest.raises(ServerError, match="ignored the id sort"):
        client.roles.list()
