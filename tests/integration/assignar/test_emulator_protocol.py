"""The emulator's wire protocol, spoken with plain httpx: OAuth2 token endpoint, bearer checks, errors, webhooks."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from intacct_assignar.assignar import ASSIGNAR_SCOPE, TimesheetEvent
from intacct_assignar.webhook_signature import verify
from intacct_assignar_dev.emulators.assignar import AssignarEmulator
from intacct_assignar_dev.emulators.http import EmulatorHandler, LoopbackServer

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "whsec-integration-1"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token(emulator: AssignarEmulator, **overrides: Any) -> httpx.Response:
    form = {"grant_type": "client_credentials", "scope": ASSIGNAR_SCOPE} | overrides.pop("form", {})
    headers = {"Authorization": basic(emulator.client_id, emulator.client_secret.get_secret_value())}
    headers |= overrides.pop("headers", {})
    return httpx.post(emulator.token_url, data=form, headers=headers)


@pytest.fixture
def bearer(emulator: AssignarEmulator) -> dict[str, str]:
    return {"Authorization": "Bearer " + token(emulator).json()["access_token"]}


def test_the_token_endpoint_issues_an_hour_long_bearer_jwt(emulator: AssignarEmulator) -> None:
    answer = token(emulator)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].count(".") == 2


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"headers": {"Authorization": basic("emulator-client", "wrong")}}, 401, "invalid_client"),
        ({"headers": {"Authorization": "Bearer nope"}}, 401, "invalid_client"),
        ({"form": {"scope": "api_access"}}, 400, "invalid_scope"),
        ({"form": {"grant_type": "password"}}, 400, "unsupported_grant_type"),
    ],
)
def test_the_token_endpoint_refuses_what_assignar_refuses(
    emulator: AssignarEmulator, overrides: dict[str, Any], status: int, error: str
) -> None:
    answer = token(emulator, **overrides)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic abc"])
def test_the_api_refuses_requests_without_a_valid_token(emulator: AssignarEmulator, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = httpx.get(emulator.api_url + "/users", headers=headers)
    assert answer.status_code == 401


def test_an_expired_token_is_refused(emulator: AssignarEmulator, bearer: dict[str, str]) -> None:
    assert httpx.get(emulator.api_url + "/users", headers=bearer).status_code == 200
    emulator.expire_tokens()
    assert httpx.get(emulator.api_url + "/users", headers=bearer).status_code == 401


def test_missing_records_and_unknown_paths_are_404(emulator: AssignarEmulator, bearer: dict[str, str]) -> None:
    missing = httpx.get(emulator.api_url + "/clients/999", headers=bearer)
    assert (missing.status_code, missing.json()) == (404, {"message": "[404] Object Not Found - Client (id:999)"})
    assert httpx.get(emulator.api_url + "/timesheets-expanded/1", headers=bearer).status_code == 404
    assert httpx.get(emulator.api_url + "/widgets", headers=bearer).status_code == 404


def test_statuses_follow_the_spec_per_resource(emulator: AssignarEmulator, bearer: dict[str, str]) -> None:
    # Given the spec's per-operation statuses: clients answer 201/204, assets and users 200 with a status body
    created = httpx.post(emulator.api_url + "/clients/", json={"name": "A", "company_name": "A"}, headers=bearer)
    asset = httpx.post(emulator.api_url + "/assets", json={"name": "Dozer"}, headers=bearer)
    put_client = httpx.put(
        emulator.api_url + f"/clients/{created.json()['data']['id']}", json={"name": "B"}, headers=bearer
    )
    put_asset = httpx.put(
        emulator.api_url + f"/assets/{asset.json()['data']['id']}", json={"name": "D6"}, headers=bearer
    )

    assert (created.status_code, created.json()["status"]) == (201, 201)
    assert (asset.status_code, asset.json()["status"]) == (200, 201)
    assert (put_client.status_code, put_client.content) == (204, b"")
    assert (put_asset.status_code, put_asset.json()) == (200, {"status": 204})


def test_a_list_is_the_documented_envelope(emulator: AssignarEmulator, bearer: dict[str, str]) -> None:
    for n in range(5):
        emulator.seed("tasks", {"name": f"Role {n}", "external_id": f"R{n}"})
    answer = httpx.get(
        emulator.api_url + "/tasks",
        params={"page": 2, "page_size": 2, "sort": "-external_id", "fields": "id,external_id"},
        headers=bearer,
    )
    body = answer.json()
    assert (body["status"], body["count"]) == (200, 5)
    assert [row["external_id"] for row in body["data"]] == ["R2", "R1"]
    assert set(body["data"][0]) == {"id", "external_id"}


def test_a_page_size_cap_serves_smaller_pages_without_a_word() -> None:
    # Given an emulator capping pages at 2, and five roles
    with AssignarEmulator(page_size_cap=2) as emulator:
        for n in range(5):
            emulator.seed("tasks", {"name": f"Role {n}", "external_id": f"R{n}"})
        headers = {"Authorization": "Bearer " + token(emulator).json()["access_token"]}

        # When pages of 10 are asked for
        pages = [
            httpx.get(
                emulator.api_url + "/tasks", params={"page": page, "page_size": 10, "sort": "id"}, headers=headers
            ).json()
            for page in (1, 2, 3, 4)
        ]

    # Then each page holds 2 (numbered in pages of 2), the status is 200 and nothing says it was capped
    assert [[row["external_id"] for row in body["data"]] for body in pages] == [["R0", "R1"], ["R2", "R3"], ["R4"], []]
    assert {body["status"] for body in pages} == {200}


def test_a_stale_read_fault_empties_one_list_answer(emulator: AssignarEmulator, bearer: dict[str, str]) -> None:
    emulator.seed("tasks", {"name": "Labourer", "external_id": "LAB"})
    emulator.fail_next("stale_read", method="GET", path="/tasks")
    first, second = (httpx.get(emulator.api_url + "/tasks", headers=bearer).json() for _ in range(2))
    assert (first["data"], first["count"]) == ([], 0)
    assert [row["external_id"] for row in second["data"]] == ["LAB"]


def test_latency_is_the_emulator_s_own_not_the_shared_server_s() -> None:
    # Given an emulator with 100 ms latency per request (its own knob; the shared LoopbackServer has none)
    with AssignarEmulator(latency_s=0.1) as emulator:
        started = time.monotonic()
        # When one token is asked for
        answer = token(emulator)
        elapsed = time.monotonic() - started

    # Then the answer took at least that long
    assert answer.status_code == 200
    assert elapsed >= 0.1


def test_a_timesheet_list_uses_the_count_and_rows_shape(emulator: AssignarEmulator, bearer: dict[str, str]) -> None:
    body = httpx.get(emulator.api_url + "/timesheets-expanded", headers=bearer).json()
    assert body == {"status": 200, "data": {"count": 0, "rows": []}}


def test_the_rate_limit_answers_429_with_retry_after() -> None:
    with AssignarEmulator(rate_limit_per_s=3, retry_after_s=2) as emulator:
        answers = [httpx.get(emulator.api_url + "/users") for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert answers[-1].headers["Retry-After"] == "2"


# --- webhooks ---------------------------------------------------------------------------------------------


class Receiver(EmulatorHandler):
    """Stands in for our webhook receiver: keeps what arrives and answers 202."""

    received: list[tuple[bytes, dict[str, str]]]
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.read_body()
        with self.lock:
            self.received.append((body, dict(self.headers.items())))
        self.reply(202, b"", "application/json")


@pytest.fixture
def receiver() -> Iterator[tuple[LoopbackServer, list[tuple[bytes, dict[str, str]]]]]:
    received: list[tuple[bytes, dict[str, str]]] = []
    handler = type("CapturingReceiver", (Receiver,), {"received": received})
    with LoopbackServer(handler) as server:
        yield server, received


def seed_timesheet(emulator: AssignarEmulator) -> int:
    client = emulator.seed("clients", {"name": "Acme", "company_name": "Acme"})
    project = emulator.seed("projects", {"name": "Depot", "client_id": client["id"]})
    worker = emulator.seed("users", {"user_type_id": 2, "first_name": "Ann", "last_name": "Lee"})
    return emulator.create_timesheet(worker_id=worker["id"], project_id=project["id"], work_date=date(2026, 11, 23))


def test_approval_sends_a_signed_webhook_our_receiver_can_verify(
    receiver: tuple[LoopbackServer, list[tuple[bytes, dict[str, str]]]],
) -> None:
    # Given an emulator configured with our receiver's URL and the shared secret
    server, received = receiver
    with AssignarEmulator(webhook_url=server.url + "/webhooks/assignar", webhook_secret=WEBHOOK_SECRET) as emulator:
        timesheet_id = seed_timesheet(emulator)

        # When a supervisor approves the timesheet
        delivery = emulator.approve_timesheet(timesheet_id)

    # Then one event naming the timesheet arrived, signed over timestamp and raw body
    assert delivery is not None and delivery.delivered
    ((body, headers),) = received
    event = TimesheetEvent.model_validate_json(body)
    assert (event.event, event.timesheet_id) == ("timesheet.approved", timesheet_id)
    assert verify(body, WEBHOOK_SECRET, headers["X-Assignar-Signature"], timestamp=headers["X-Assignar-Timestamp"])
    assert not verify(
        body, "another-secret", headers["X-Assignar-Signature"], timestamp=headers["X-Assignar-Timestamp"]
    )


def test_webhook_header_names_and_the_timestamp_are_configurable(
    receiver: tuple[LoopbackServer, list[tuple[bytes, dict[str, str]]]],
) -> None:
    server, received = receiver
    with AssignarEmulator(
        webhook_url=server.url,
        webhook_secret=WEBHOOK_SECRET,
        webhook_signature_header="X-Hub-Signature-256",
        webhook_with_timestamp=False,
    ) as emulator:
        emulator.approve_timesheet(seed_timesheet(emulator))
    ((body, headers),) = received
    assert "X-Assignar-Timestamp" not in headers
    assert not verify(body, WEBHOOK_SECRET, headers["X-Hub-Signature-256"])
    assert verify(body, WEBHOOK_SECRET, headers["X-Hub-Signature-256"], allow_missing_timestamp=True)


def test_a_receiver_that_is_down_is_recorded_not_raised() -> None:
    with AssignarEmulator(webhook_url="http://127.0.0.1:9/unreachable", webhook_secret=WEBHOOK_SECRET) as emulator:
        delivery = emulator.approve_timesheet(seed_timesheet(emulator))
    assert delivery is not None and not delivery.delivered
    assert emulator.webhook_deliveries == [delivery]


def test_the_emulator_never_shows_its_secrets() -> None:
    with AssignarEmulator(webhook_url="http://127.0.0.1:9/", webhook_secret=WEBHOOK_SECRET) as emulator:
        shown = f"{emulator!r} {emulator.webhook!r} {emulator.settings()!r}"
        secret = emulator.client_secret.get_secret_value()
    assert secret not in shown
    assert WEBHOOK_SECRET not in shown


def test_a_malformed_link_list_is_a_400_not_a_crash(emulator: AssignarEmulator, bearer: dict[str, str]) -> None:
    answer = httpx.post(
        emulator.api_url + "/users",
        json={"user_type_id": 2, "first_name": "A", "last_name": "B", "tasks": [5]},
        headers=bearer,
    )
    assert (answer.status_code, answer.json()) == (400, {"message": "[400] Invalid value for tasks"})
