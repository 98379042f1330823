"""Every request the client can send, checked against Assignar's published OpenAPI spec with openapi-core."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import httpx
import pytest
from intacct_assignar.assignar import ASSIGNAR_SCOPE, RESOURCES, AssignarClient
from intacct_assignar.assignar import models as m
from intacct_assignar.assignar.resources import TIMESHEETS, ResourceInfo
from intacct_assignar_dev.emulators.assignar.store import TABLES, TIMESHEET_FIELDS

from tests.unit.assignar.fakes import TOKEN_URL, FakeAssignar, make_client
from tests.unit.assignar.published_spec import (
    PATCHES,
    list_item_fields,
    operation_for,
    patched_spec,
    raw_spec,
    request_errors,
    spec_errors,
    undocumented_query_params,
)

# openapi-core cannot check OAuth2 schemes and warns; the bearer header is asserted in
# test_every_api_request_carries_the_bearer_token instead.
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")

WRITE_SHAPES: dict[str, Any] = {
    "workers": m.WorkerFields,
    "employment_types": m.EmploymentTypeFields,
    "clients": m.ClientFields,
    "projects": m.ProjectFields,
    "work_orders": m.WorkOrderFields,
    "activities": m.ActivityFields,
    "roles": m.RoleFields,
    "assets": m.AssetFields,
}


def sample_value(name: str, annotation: Any) -> Any:
    """A value of the declared type, so every field we can write is sent at least once."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    if annotation is bool:
        return True
    if annotation is int:
        return 7
    if annotation is str:
        return "2026-01-05" if "date" in name or name == "dob" else f"sample-{name}"
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return [dict.fromkeys(typing.get_type_hints(item), 7)]
    raise AssertionError(f"no sample for {name}: {annotation}")


def full_payload(shape: Any) -> dict[str, Any]:
    return {name: sample_value(name, hint) for name, hint in typing.get_type_hints(shape).items()}


def exercise_everything(client: AssignarClient) -> None:
    """Call every public operation of the client once, with every filter key it uses."""
    for name, info in RESOURCES.items():
        resource = getattr(client, name)
        resource.list()
        resource.list({"active": True} if "active" in info.filterable else {"id__gte": 1}, sort="-id")
        for key in info.lookup_keys:
            resource.index_by(key, ["A-1", "A-2"])
            resource.find_by(key, "A-1")
        resource.get(11)
        if name in WRITE_SHAPES:
            resource.create(full_payload(WRITE_SHAPES[name]))
            resource.update(11, {"active": False} if "active" in WRITE_SHAPES[name].__annotations__ else {})
            resource.update(11, full_payload(WRITE_SHAPES[name]))
    client.workers.index_by("employee_id")
    client.timesheets.list({"user_id": 5, "status": "APPROVED"})
    client.timesheets.approved_unprocessed(modified_since="2026-01-01T00:00:00Z")
    client.timesheets.get(5000)
    client.timesheets.mark_processed(5000)


@pytest.fixture(scope="module")
def sent() -> list[httpx.Request]:
    fake = FakeAssignar()
    with make_client(fake) as client:
        exercise_everything(client)
    return fake.requests


def test_without_the_spec_file_the_checks_skip_locally_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a local checkout without ../shared beside it
    from tests.unit.assignar import published_spec

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(published_spec, "SPEC_PATH", published_spec.REPO_ROOT / "no-such-dir" / "spec.yaml")

    # When the spec is asked for, then the test is skipped with a message naming where the file was expected
    with pytest.raises(pytest.skip.Exception, match=r"Assignar OpenAPI spec not found at .*no-such-dir"):
        published_spec.require_spec()
    assert published_spec.spec_present() is False


@pytest.mark.parametrize("ci", ["true", "1"])
def test_without_the_spec_file_on_ci_the_checks_fail_with_the_reason(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    # Given a CI run (../shared is checked out beside the repo there) whose spec file is missing
    from tests.unit.assignar import published_spec

    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(published_spec, "SPEC_PATH", published_spec.REPO_ROOT / "no-such-dir" / "spec.yaml")

    # When the spec is asked for, then the test fails (a skip would hide it) with the same message
    with pytest.raises(pytest.fail.Exception, match=r"Assignar OpenAPI spec not found at .*no-such-dir"):
        published_spec.require_spec()
    with pytest.raises(pytest.fail.Exception, match=r"Assignar OpenAPI spec not found"):
        published_spec.spec_present()


def test_the_patches_repair_every_error_the_spec_validator_reports() -> None:
    # Given the published spec, which openapi-spec-validator rejects
    original = raw_spec()
    assert spec_errors(original), "the upstream spec validates now: drop the patches in published_spec.py"

    # When every patch is applied to an in-memory copy
    patched, changes = patched_spec()

    # Then the copy is valid, and each patch was needed somewhere
    assert spec_errors(patched) == []
    assert all(changes[patch.name] > 0 for patch in PATCHES), changes


def test_every_api_request_the_client_sends_conforms_to_the_spec(sent: list[httpx.Request]) -> None:
    # Given every request the client sent while using each of its operations
    api_requests = [r for r in sent if str(r.url) != TOKEN_URL]
    assert len(api_requests) > 80

    # When each is validated by openapi-core against the (patched) spec
    problems = [problem for request in api_requests for problem in request_errors(request)]

    # Then none breaks it
    assert problems == []


def test_every_api_request_carries_the_bearer_token(sent: list[httpx.Request]) -> None:
    # Given the API requests (the spec's description: every request carries `Authorization: Bearer <token>`)
    api_requests = [r for r in sent if str(r.url) != TOKEN_URL]

    # Then each has the bearer token and the JSON content type the description asks for on every request
    assert all(r.headers["Authorization"].startswith("Bearer ey") for r in api_requests)
    assert all(r.headers["Content-Type"] == "application/json" for r in api_requests)


def test_every_query_parameter_is_one_the_spec_documents(sent: list[httpx.Request]) -> None:
    # Given the client's list requests (the spec declares no per-operation query parameters on these lists,
    # so the documented ones are page/page_size/sort/fields and top-level fields with the listed operators)
    api_requests = [r for r in sent if str(r.url) != TOKEN_URL]

    # When their query parameters are compared with what the spec documents
    undocumented = {name for request in api_requests for name in undocumented_query_params(request)}

    # Then all are documented
    assert undocumented == set()


def test_list_requests_page_with_a_stable_sort(sent: list[httpx.Request]) -> None:
    # Given the list requests
    lists = [r for r in sent if r.method == "GET" and "page" in r.url.params]

    # Then each pages with page/page_size and a sort, as the spec advises
    assert lists
    assert all("page_size" in r.url.params and r.url.params.get("sort") for r in lists)


def test_the_token_request_follows_the_documented_client_credentials_flow(sent: list[httpx.Request]) -> None:
    # Given the spec's OAuth2 scheme
    flow = raw_spec()["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]

    # When the client asked for a token
    token_requests = [r for r in sent if str(r.url) == TOKEN_URL]

    # Then it used the documented URL, Basic client credentials and the exact scope
    assert token_requests
    request = token_requests[0]
    assert str(request.url) == flow["tokenUrl"]
    assert request.headers["Authorization"].startswith("Basic ")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form == {"grant_type": "client_credentials", "scope": ASSIGNAR_SCOPE}
    assert list(flow["scopes"]) == [ASSIGNAR_SCOPE]


@pytest.mark.parametrize("info", [*RESOURCES.values(), TIMESHEETS], ids=lambda info: info.name)
def test_the_fields_the_client_reads_filters_and_sorts_by_are_top_level_fields_in_the_spec(info: ResourceInfo) -> None:
    # Given the spec's list records for the resource
    documented = list_item_fields("/" + info.collection)

    # Then every field of our read model (the only fields it lets callers filter or sort by) is one of them
    assert info.filterable <= documented, sorted(info.filterable - documented)
    assert set(info.lookup_keys) <= documented


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_emulator_filters_only_by_top_level_fields_of_the_spec(table: str) -> None:
    # Given the spec's list records for the resource
    path = "/" + table + ("/" if table in ("clients", "projects") else "")

    # Then every field the emulator shows (and so accepts as a filter or sort) is documented there
    assert TABLES[table].top_level <= list_item_fields(path)


def test_the_emulator_filters_timesheets_only_by_top_level_fields_of_the_spec() -> None:
    assert list_item_fields("/timesheets-expanded") >= TIMESHEET_FIELDS


@pytest.mark.parametrize("name", sorted(WRITE_SHAPES))
def test_updates_carry_exactly_the_fields_the_spec_requires_on_put(name: str) -> None:
    # Given the PUT body schema of the resource
    spec, _ = patched_spec()
    info = RESOURCES[name]
    _, operation = operation_for("put", f"/{info.path}/1")
    body = operation["requestBody"]
    if "$ref" in body:
        body = spec["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
    schema = body["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]

    # Then the client knows the same required fields
    assert set(info.update_requires) == set(schema.get("required", []))


def test_a_partial_update_fills_the_required_fields_from_the_record() -> None:
    # Given a client and a work order whose PUT schema requires four fields
    fake = FakeAssignar()
    with make_client(fake) as client:
        # When only the description changes
        client.work_orders.update(9, {"job_description": "Pour slab"})

    # Then the record is read once and the PUT carries the required fields with the change
    get, put = fake.api_requests()
    assert (get.method, get.url.path) == ("GET", "/v2/orders/9")
    assert json.loads(put.content) == {
        "client_id": 3,
        "order_owner": 4,
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
        "job_description": "Pour slab",
    }


def test_the_client_knows_exactly_the_filter_operators_the_spec_documents() -> None:
    # The client's list and this test's reading of the spec's "Advanced Filtering" table are kept apart on
    # purpose (one is code, one is the check); they must agree.
    from intacct_assignar.assignar.requestor import FILTER_OPERATORS

    from .published_spec import DOCUMENTED_OPERATORS

    assert FILTER_OPERATORS == DOCUMENTED_OPERATORS
