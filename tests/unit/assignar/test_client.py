"""The Assignar client's behaviour over hand-built answers: tokens, retries, lost creates, paging, filters."""

from __future__ import annotations

import json

import httpx
import pytest
from intacct_assignar.assignar import (
    AuthenticationError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    UniqueConstraintError,
)
from intacct_assignar.assignar.client import query_value

from tests.unit.assignar.fakes import FakeAssignar, FakeClock, Sleeps, envelope, make_client, message


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


def test_paging_reads_until_a_short_page() -> None:
    # Given 2 full pages of 3 and a last page of 1
    fake = FakeAssignar()
    fake.script(
        envelope([{"id": i} for i in (1, 2, 3)], count=7),
        envelope([{"id": i} for i in (4, 5, 6)], count=7),
        envelope([{"id": 7}], count=7),
    )
    with make_client(fake, page_size=3) as client:
        # When all workers are listed
        workers = client.workers.list()

    # Then three pages were read in id order
    assert [w.id for w in workers] == [1, 2, 3, 4, 5, 6, 7]
    params = [dict(r.url.params) for r in fake.api_requests()]
    assert params == [{"page": str(n), "page_size": "3", "sort": "id"} for n in (1, 2, 3)]


def test_index_by_sends_the_keys_in_chunks_of_in_filters() -> None:
    # Given five employee ids and at most two per filter
    fake = FakeAssignar()
    fake.script(
        envelope([{"id": 1, "employee_id": "E1"}, {"id": 2, "employee_id": "E2"}]),
        envelope([{"id": 3, "employee_id": "E3"}]),
        envelope([{"id": 5, "employee_id": "E5"}]),
    )
    with make_client(fake, in_filter_size=2) as client:
        # When workers are indexed by employee_id
        index = client.workers.index_by("employee_id", ["E5", "E1", "E2", "E3", "E4", "E1"])

    # Then three list calls found the four that exist
    assert [r.url.params["employee_id__in"] for r in fake.api_requests()] == ["E1,E2", "E3,E4", "E5"]
    assert sorted(index) == ["E1", "E2", "E3", "E5"]


def test_index_by_keeps_the_older_record_when_two_share_a_key() -> None:
    fake = FakeAssignar()
    fake.script(envelope([{"id": 9, "external_id": "C-1"}, {"id": 4, "external_id": "C-1"}]))
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
    # Given Assignar says the timesheet is already processed
    fake = FakeAssignar()
    fake.script(envelope(None), message(400, "[400] Timesheet already processed"))
    with make_client(fake) as client:
        # When it is marked twice
        first, second = client.timesheets.mark_processed(5), client.timesheets.mark_processed(5)

    # Then the first call did it and the second reports it was done
    assert (first, second) == (True, False)


def test_approved_unprocessed_timesheets_are_one_filtered_list() -> None:
    fake = FakeAssignar()
    with make_client(fake) as client:
        client.timesheets.approved_unprocessed(modified_since="2026-11-01T00:00:00Z")
    params = fake.api_requests()[0].url.params
    assert params["status__in"].split(",")[0] == "APPROVED"
    assert params["processed_at__is"] == "null"
    assert params["modified_time__gte"] == "2026-11-01T00:00:00Z"


def test_calls_are_counted_by_method_and_resource_including_retries() -> None:
    # Given one retry and one token
    fake = FakeAssignar()
    fake.script(message(502, "Bad Gateway"))
    with make_client(fake) as client:
        client.clients.get(1)
        client.workers.list()

        # Then the counter shows each call
        assert client.calls.by_call() == {"GET clients": 2, "GET users": 1, "POST oauth2/token": 1}
        assert client.calls.count("GET") == 3
        assert str(client.calls).startswith("4 Assignar calls")


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


def test_a_server_that_ignores_paging_is_caught_not_read_forever() -> None:
    # Given Assignar answers every page with the same full page
    fake = FakeAssignar()
    fake.handler = lambda request: envelope([{"id": 1}, {"id": 2}])
    with make_client(fake, page_size=2) as client, pytest.raises(ServerError, match="previous page"):
        # When the list is read
        client.roles.list()

    # Then the client stopped at the second page
    assert len(fake.api_requests()) == 2
