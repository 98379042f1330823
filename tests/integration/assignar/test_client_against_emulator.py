"""The real Assignar client against the emulator over loopback HTTP; every exchange is checked against the spec."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from intacct_assignar.assignar import AssignarClient, OutcomeUnknownError, RetryPolicy, TimesheetNotApprovedError
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.http import FaultPlan

from tests.integration.assignar.conftest import Sleeps, SpecCheckingTransport

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")]


class Clock:
    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


def seed_workers(emulator: AssignarEmulator, count: int, start: int = 1) -> None:
    for n in range(start, start + count):
        emulator.seed(
            "users",
            {
                "user_type_id": 2,
                "first_name": f"Worker{n}",
                "last_name": "Field",
                "employee_id": f"E{n:05d}",
                "integration_id": f"employee:{n}",
            },
        )


def statuses(emulator: AssignarEmulator, path_prefix: str = "/v2") -> list[int | None]:
    return [entry.status for entry in emulator.request_log if entry.path.startswith(path_prefix)]


# --- tokens ----------------------------------------------------------------------------------------------


def test_a_token_revoked_by_assignar_is_replaced_after_one_401(
    emulator: AssignarEmulator, client: AssignarClient
) -> None:
    # Given a client that already holds a token
    client.roles.create({"name": "Labourer", "external_id": "LAB"})

    # When Assignar invalidates every token, then the client reads again
    emulator.expire_tokens()
    roles = client.roles.list()

    # Then the read got one 401, fetched one new token and succeeded
    assert [r.external_id for r in roles] == ["LAB"]
    assert statuses(emulator, "/v2/tasks") == [201, 401, 200, 200]
    assert emulator.calls("POST", "/oauth2/token") == 2


def test_a_token_near_expiry_is_renewed_before_assignar_refuses_it(spec_transport: SpecCheckingTransport) -> None:
    # Given an emulator issuing 2-minute tokens and a client renewing 1 minute early, on one shared clock
    clock = Clock()
    with (
        AssignarEmulator(token_lifetime_s=120, clock=clock) as emulator,
        AssignarClient(emulator.settings(), transport=spec_transport, requests_per_second=None, clock=clock) as client,
    ):
        client.clients.list()

        # When 70 seconds pass (inside the margin), and later 130 more (past the server's expiry)
        clock.now += 70
        client.clients.list()
        clock.now += 130
        client.clients.list()

        # Then each renewal happened before the call, so Assignar never answered 401
        assert emulator.calls("POST", "/oauth2/token") == 3
        assert 401 not in statuses(emulator)


# --- paging and filters ----------------------------------------------------------------------------------


def test_a_long_list_is_read_page_by_page_completely(emulator: AssignarEmulator, client: AssignarClient) -> None:
    # Given 1,050 workers and pages of 100
    seed_workers(emulator, 1050)

    # When all are listed
    workers = client.workers.list()

    # Then 11 pages and a final empty one delivered every worker once, in order
    assert len(workers) == 1050
    assert len({w.id for w in workers}) == 1050
    assert [w.id for w in workers] == sorted(w.id for w in workers)
    assert client.calls.count("GET", "users") == 12


@pytest.mark.parametrize("sort", ["id", "-employee_id"])
def test_a_server_capping_page_size_silently_still_yields_every_record(
    spec_transport: SpecCheckingTransport, sort: str
) -> None:
    # Given an Assignar that serves at most 30 records a page whatever page_size asks, and a client asking 100
    with AssignarEmulator(page_size_cap=30) as emulator:
        seed_workers(emulator, 250)
        with AssignarClient(
            emulator.settings(), transport=spec_transport, requests_per_second=None, page_size=100
        ) as client:
            # When all workers are listed (by keyset on id, or by page number on another sort)
            workers = client.workers.list(sort=sort)

    # Then none was lost to the short pages: 9 pages of at most 30, then an empty one
    assert sorted(w.employee_id or "" for w in workers) == [f"E{n:05d}" for n in range(1, 251)]
    assert client.calls.count("GET", "users") == 10


@pytest.mark.parametrize(
    ("resource", "key"),
    [
        ("workers", "employee_id"),
        ("workers", "integration_id"),
        ("clients", "external_id"),
        ("clients", "integration_id"),
        ("roles", "external_id"),
    ],
)
def test_records_are_indexed_by_their_keys_in_a_few_list_calls(
    emulator: AssignarEmulator, client: AssignarClient, resource: str, key: str
) -> None:
    # Given 250 records of each kind
    seed_workers(emulator, 250)
    for n in range(1, 251):
        emulator.seed(
            "clients",
            {"name": f"C{n}", "company_name": f"C{n}", "external_id": f"C{n:04d}", "integration_id": f"customer:{n}"},
        )
        emulator.seed("tasks", {"name": f"Role {n}", "external_id": f"LAB{n:04d}"})
    records = emulator.records({"workers": "users", "clients": "clients", "roles": "tasks"}[resource])
    wanted = [str(r[key]) for r in records[::2]] + ["MISSING-1"]

    # When the client indexes 125 of them (and one that does not exist) by the key
    client.requestor.in_filter_size = 50
    index = getattr(client, resource).index_by(key, wanted)

    # Then it found exactly those, with one filter per 50 keys: a batch whose keys all turned up ends there,
    # the last one (holding the missing key) is read on to its empty page
    assert sorted(index) == sorted(wanted[:-1])
    assert all(str(getattr(record, key)) == value for value, record in index.items())
    assert client.calls.count("GET") == 4


def test_filters_and_sort_reach_assignar_as_documented(emulator: AssignarEmulator, client: AssignarClient) -> None:
    seed_workers(emulator, 30)
    for worker in emulator.records("users")[:10]:
        emulator.state.update("users", worker["id"], {"active": False})
    inactive = client.workers.list({"active": False}, sort="-employee_id")
    assert [w.employee_id for w in inactive] == [f"E{n:05d}" for n in range(10, 0, -1)]
    assert [w.employee_id for w in client.workers.list({"employee_id__starts_with": "E0002"})] == [
        f"E{n:05d}" for n in range(20, 30)
    ]


# --- failures ---------------------------------------------------------------------------------------------


def test_429s_are_waited_out_as_retry_after_says(
    emulator: AssignarEmulator, client: AssignarClient, sleeps: Sleeps
) -> None:
    # Given Assignar answers the next two list calls with 429 and Retry-After: 1
    emulator.fail_next("429", method="GET", path="/clients", times=2)

    # When clients are listed
    client.clients.list()

    # Then the client waited one second before each retry and then succeeded
    assert sleeps.delays == [1.0, 1.0]
    assert statuses(emulator, "/v2/clients") == [429, 429, 200]


def test_the_client_rate_limit_keeps_under_assignars(spec_transport: SpecCheckingTransport) -> None:
    # Given Assignar allows 10 requests a second and the client paces itself at 8
    with (
        AssignarEmulator(rate_limit_per_s=10) as emulator,
        AssignarClient(emulator.settings(), transport=spec_transport, requests_per_second=8) as client,
    ):
        started = time.monotonic()
        # When it makes 14 calls as fast as it may
        for _ in range(14):
            client.roles.list()
        elapsed = time.monotonic() - started

        # Then none was refused, and pacing took the time it should
        assert 429 not in statuses(emulator)
        assert elapsed >= 13 / 8 - 0.05


def test_gets_survive_5xx(emulator: AssignarEmulator, client: AssignarClient, sleeps: Sleeps) -> None:
    # Given two server errors on the next reads
    emulator.seed("tasks", {"name": "Labourer", "external_id": "LAB"})
    emulator.fail_next("502", method="GET", times=1)
    emulator.fail_next("503", method="GET", times=1)

    # When roles are listed
    roles = client.roles.list()

    # Then the list arrived on the third attempt
    assert [r.external_id for r in roles] == ["LAB"]
    assert statuses(emulator, "/v2/tasks") == [502, 503, 200, 200]
    assert len(sleeps.delays) == 2


def test_a_flaky_assignar_still_yields_every_record(spec_transport: SpecCheckingTransport) -> None:
    # Given an Assignar failing a third of requests, its token endpoint included, with seeded 429/5xx/drop faults
    faults = FaultPlan(rate=0.3, kinds=("429", "500", "502", "503", "disconnect"), seed=11)
    with AssignarEmulator(faults=faults, retry_after_s=0) as emulator:
        seed_workers(emulator, 450)
        with AssignarClient(
            emulator.settings(),
            transport=spec_transport,
            requests_per_second=None,
            page_size=50,
            retry=RetryPolicy(max_attempts=10, base_delay_s=0.001, max_delay_s=0.01),
        ) as client:
            # When every worker is listed
            workers = client.workers.list()

        # Then all arrived despite the faults
        assert len({w.employee_id for w in workers}) == 450
        assert any(status and status >= 429 for status in statuses(emulator))


def test_a_failing_token_endpoint_is_retried_like_the_api(
    emulator: AssignarEmulator, client: AssignarClient, sleeps: Sleeps
) -> None:
    # Given the token endpoint answers 503, then 429, then drops the connection
    for kind in ("503", "429", "disconnect"):
        emulator.fail_next(kind, path="/oauth2/token")
    emulator.seed("tasks", {"name": "Labourer", "external_id": "LAB"})

    # When roles are listed (the first call needs a token)
    roles = client.roles.list()

    # Then the token came on the fourth try and the list on its first
    assert [r.external_id for r in roles] == ["LAB"]
    assert statuses(emulator, "/oauth2/token") == [503, 429, None, 200]
    assert statuses(emulator, "/v2/tasks") == [200, 200]
    assert len(sleeps.delays) == 3


def test_random_faults_reach_the_token_endpoint(spec_transport: SpecCheckingTransport) -> None:
    # Given every request fails at random half the time, and tokens last one second of a frozen-then-moved clock
    clock = Clock()
    faults = FaultPlan(rate=0.5, kinds=("500", "429"), seed=3)
    with AssignarEmulator(faults=faults, retry_after_s=0, token_lifetime_s=61, clock=clock) as emulator:
        with AssignarClient(
            emulator.settings(),
            transport=spec_transport,
            requests_per_second=None,
            clock=clock,
            retry=RetryPolicy(max_attempts=12, base_delay_s=0.001, max_delay_s=0.01),
        ) as client:
            # When the client reads repeatedly, needing a fresh token each time
            for _ in range(8):
                client.roles.list()
                clock.now += 10

        # Then the token endpoint saw faults too, and the client got through them
        assert any(status in (429, 500) for status in statuses(emulator, "/oauth2/token"))


@pytest.mark.parametrize("fault", ["commit_then_500", "commit_then_disconnect"])
def test_a_create_that_committed_before_failing_is_not_duplicated(
    emulator: AssignarEmulator, client: AssignarClient, fault: str
) -> None:
    # Given Assignar stores the next client and then fails to answer
    emulator.fail_next(fault, method="POST", path="/clients")

    # When the client is created
    created = client.clients.create(
        {"name": "Acme", "company_name": "Acme Pty", "external_id": "C-1", "integration_id": "customer:1"}
    )

    # Then the client found it by integration_id instead of posting again
    stored = emulator.records("clients")
    assert [r["integration_id"] for r in stored] == ["customer:1"]
    assert created.id == stored[0]["id"]
    assert emulator.calls("POST", "/v2/clients") == 1
    assert emulator.calls("GET", "/v2/clients") == 1


@pytest.mark.parametrize("max_attempts", [1, 4])
def test_a_create_failing_on_every_attempt_returns_the_stored_record(
    emulator: AssignarEmulator, spec_transport: SpecCheckingTransport, max_attempts: int
) -> None:
    # Given Assignar stores every POST of a worker and then answers 500, however often it is tried
    emulator.fail_next("commit_then_500", method="POST", path="/users", times=10)
    with AssignarClient(
        emulator.settings(),
        transport=spec_transport,
        requests_per_second=None,
        retry=RetryPolicy(max_attempts=max_attempts, base_delay_s=0.001),
        sleep=Sleeps(),
    ) as client:
        # When the worker is created (employee_id is not unique in Assignar, so only the lookup protects it)
        created = client.workers.create(
            {"user_type_id": 2, "first_name": "Ann", "last_name": "Lee", "employee_id": "E-9"}
        )

    # Then the lookup returned the one stored worker: no ServerError, no second worker
    assert [(r["id"], r["employee_id"]) for r in emulator.records("users")] == [(created.id, "E-9")]
    assert emulator.calls("POST", "/v2/users") == 1


def test_a_create_whose_lookup_lagged_ends_in_the_record_via_the_unique_key(
    emulator: AssignarEmulator, client: AssignarClient
) -> None:
    # Given Assignar stores the client then answers 500, and the lookup right after reads a lagging replica
    emulator.fail_next("commit_then_500", method="POST", path="/clients")
    emulator.fail_next("stale_read", method="GET", path="/clients")

    # When the client is created
    created = client.clients.create({"name": "Acme", "company_name": "Acme Pty", "integration_id": "customer:1"})

    # Then the resend was refused on our own integration_id, and the final lookup returned the stored record
    stored = emulator.records("clients")
    assert [r["integration_id"] for r in stored] == ["customer:1"]
    assert created.id == stored[0]["id"]
    assert statuses(emulator, "/v2/clients") == [500, 200, 400, 200]


def test_a_create_that_may_have_landed_with_assignar_unreadable_is_outcome_unknown(
    emulator: AssignarEmulator, client: AssignarClient
) -> None:
    # Given Assignar stores the role then fails, and every read fails for a while
    emulator.fail_next("commit_then_500", method="POST", path="/tasks")
    emulator.fail_next("503", method="GET", path="/tasks", times=10)

    # When the role is created, then the outcome is unknown (not a retryable error) and it was never resent
    with pytest.raises(OutcomeUnknownError):
        client.roles.create({"name": "Labourer", "external_id": "LAB"})
    assert emulator.calls("POST", "/v2/tasks") == 1
    assert len(emulator.records("tasks")) == 1


def test_a_create_whose_answer_timed_out_is_looked_up_by_employee_id(spec_transport: SpecCheckingTransport) -> None:
    # Given Assignar stores a worker and then hangs past the client's timeout
    with AssignarEmulator(fault_hang_s=1.0) as emulator:
        emulator.fail_next("commit_then_timeout", method="POST", path="/users")
        with AssignarClient(
            emulator.settings(), transport=spec_transport, requests_per_second=None, timeout_s=0.4, sleep=Sleeps()
        ) as client:
            # When the worker is created with an employee_id only
            created = client.workers.create(
                {"user_type_id": 2, "first_name": "Ann", "last_name": "Lee", "employee_id": "E-7"}
            )

        # Then one worker exists and the client returned it
        assert [(r["id"], r["employee_id"]) for r in emulator.records("users")] == [(created.id, "E-7")]


def test_a_create_that_may_have_landed_without_a_key_is_not_sent_again(
    emulator: AssignarEmulator, client: AssignarClient
) -> None:
    # Given Assignar stores the next role and then fails
    emulator.fail_next("commit_then_500", method="POST", path="/tasks")

    # When a role without external_id or integration_id is created
    with pytest.raises(OutcomeUnknownError):
        client.roles.create({"name": "Labourer"})

    # Then it was posted once: one role, never two
    assert len(emulator.records("tasks")) == 1
    assert emulator.calls("POST", "/v2/tasks") == 1


# --- records and timesheets -----------------------------------------------------------------------------


def test_every_resource_round_trips(emulator: AssignarEmulator, client: AssignarClient) -> None:
    # Given the records a sync writes, in dependency order
    acme = client.clients.create({"name": "Acme", "company_name": "Acme Pty", "external_id": "C-1"})
    depot = client.projects.create({"name": "Depot", "client_id": acme.id, "external_id": "P-1"})
    role = client.roles.create({"name": "Labourer", "external_id": "LAB"})
    worker_type = next(t for t in client.user_types.list() if t.label == "Worker")
    full_time = next(t for t in client.employment_types.list() if t.name == "Full Time")
    worker = client.workers.create(
        {
            "user_type_id": worker_type.id,
            "employment_type": full_time.id,
            "first_name": "Ann",
            "last_name": "Lee",
            "employee_id": "E-1",
            "email": "ann@example.com",
            "tasks": [{"task_id": role.id}],
        }
    )
    order = client.work_orders.create(
        {
            "client_id": acme.id,
            "project_id": depot.id,
            "order_owner": worker.id,
            "start_date": "2026-11-01",
            "end_date": "2026-12-31",
            "job_number": "T-100",
            "job_description": "Foundations",
        }
    )
    client.activities.create({"name": "Excavation", "external_id": "EXC"})
    client.assets.create({"name": "Dozer", "external_id": "EQ-1", "description": "D6"})

    # When some are changed in part
    client.clients.update(acme.id, {"active": False})
    client.work_orders.update(order.id, {"job_description": "Slab"})

    # Then reads show the change and the untouched fields
    assert (client.clients.get(acme.id).active, client.clients.get(acme.id).external_id) == (False, "C-1")
    assert (client.work_orders.get(order.id).job_description, client.work_orders.get(order.id).job_number) == (
        "Slab",
        "T-100",
    )
    assert [link.task_id for link in client.workers.get(worker.id).tasks] == [role.id]


def test_a_link_to_a_missing_record_is_a_foreign_key_error(client: AssignarClient) -> None:
    from intacct_assignar.assignar import ForeignKeyConstraintError

    with pytest.raises(ForeignKeyConstraintError):
        client.projects.create({"name": "Orphan", "client_id": 424242})


def approved_day(emulator: AssignarEmulator) -> dict[str, Any]:
    acme = emulator.seed("clients", {"name": "Acme", "company_name": "Acme Pty", "external_id": "C-1"})
    depot = emulator.seed("projects", {"name": "Depot", "client_id": acme["id"], "external_id": "P-1"})
    worker = emulator.seed("users", {"user_type_id": 2, "first_name": "Ann", "last_name": "Lee", "employee_id": "E-1"})
    dig = emulator.seed("activities", {"name": "Excavation", "external_id": "EXC"})
    dozer = emulator.seed("assets", {"name": "Dozer", "external_id": "EQ-1"})
    timesheet_id = emulator.create_timesheet(
        worker_id=worker["id"],
        project_id=depot["id"],
        work_date=date(2026, 11, 23),
        labor=[LaborEntry(dig["id"], 300)],
        equipment=[EquipmentEntry(dozer["id"], 180)],
    )
    return {"timesheet_id": timesheet_id, "worker": worker}


def test_approved_timesheets_are_read_then_marked_processed(emulator: AssignarEmulator, client: AssignarClient) -> None:
    # Given a submitted timesheet
    day = approved_day(emulator)
    timesheet_id = day["timesheet_id"]

    # Then it cannot be processed before approval, and the error says why
    assert client.timesheets.approved_unprocessed() == []
    with pytest.raises(TimesheetNotApprovedError, match="'SUBMITTED'"):
        client.timesheets.mark_processed(timesheet_id)

    # When it is approved
    emulator.approve_timesheet(timesheet_id, status="APPROVED_WITH_PAY_AND_CHARGE_RATES")
    (pending,) = client.timesheets.approved_unprocessed()

    # Then it is read with its labor and equipment, processed once, and no longer pending
    assert pending.id == timesheet_id
    assert pending.user is not None and pending.user.employee_id == "E-1"
    assert [(e.activity.external_id if e.activity else None, e.duration) for e in pending.activity_entries] == [
        ("EXC", 300)
    ]
    assert [(e.asset.external_id if e.asset else None, e.duration) for e in pending.asset_entries] == [("EQ-1", 180)]
    assert client.timesheets.get(timesheet_id).is_approved
    assert client.timesheets.mark_processed(timesheet_id) is True
    assert client.timesheets.mark_processed(timesheet_id) is False
    assert client.timesheets.approved_unprocessed() == []
    assert client.timesheets.get(timesheet_id).is_processed


def test_timesheets_leaving_the_filter_while_paging_do_not_hide_the_rest(
    emulator: AssignarEmulator, client: AssignarClient
) -> None:
    # Given 25 approved, unprocessed timesheets
    day = approved_day(emulator)
    project_id = emulator.records("projects")[0]["id"]
    ids = [day["timesheet_id"]] + [
        emulator.create_timesheet(worker_id=day["worker"]["id"], project_id=project_id, work_date=date(2026, 11, d))
        for d in range(1, 25)
    ]
    for timesheet_id in ids:
        emulator.approve_timesheet(timesheet_id)

    # When they are read 10 a page, and each page is marked processed (as another run might) before the next
    seen: list[int] = []
    for page in client.timesheets.pages({"processed_at__is": None}, page_size=10):
        seen += [timesheet.id for timesheet in page]
        for timesheet in page:
            emulator.state.process_timesheet(timesheet.id)

    # Then every timesheet was seen once: leaving the filter shifted nothing out of reach
    assert sorted(seen) == sorted(ids)
