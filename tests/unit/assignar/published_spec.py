"""Assignar's published OpenAPI spec for tests, read from ../shared/specs/ and patched in memory where it is broken.

Each patch names the upstream error it works around and why it does not weaken the check. Without the file the
spec tests skip locally and fail on CI (`CI=true`).
"""

from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not a dev dependency
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import OpenAPIV30SpecValidator

REPO_ROOT = Path(__file__).resolve().parents[3]
SPEC_PATH = REPO_ROOT.parent / "shared" / "specs" / "assignar-openapi.yaml"
# The spec's own server for North America/Europe; requests to the emulator are checked as if sent there.
SPEC_SERVER = "https://api.assignar.com"
SPEC_BASE_PATH = "/v2"
# Query parameters the spec's description documents for every list ("Pagination", "Sorting", "Selecting Fields").
GLOBAL_LIST_PARAMS = frozenset({"page", "page_size", "sort", "fields"})
# The operators of the description's "Advanced Filtering" table.
DOCUMENTED_OPERATORS = frozenset(
    [
        "gt",
        "gte",
        "lt",
        "lte",
        "ne",
        "is",
        "not",
        "in",
        "not_in",
        "substring",
        "starts_with",
        "ends_with",
        "between",
        "not_between",
        "col",
        "ne_col",
        "gt_col",
        "lt_col",
        "gte_col",
        "lte_col",
    ]
)
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


@dataclass(frozen=True)
class SpecPatch:
    """One in-memory repair of the published spec: what is wrong upstream and why repairing it is safe."""

    name: str
    reason: str
    apply: Callable[[dict[str, Any]], int]  # returns how many places it changed


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                yield path, method, item, item[method]


def _drop_body_parameters(spec: dict[str, Any]) -> int:
    changed = 0
    for _path, _method, _item, operation in _operations(spec):
        params = operation.get("parameters", [])
        kept = [p for p in params if p.get("in") != "body"]
        changed += len(params) - len(kept)
        if params:
            operation["parameters"] = kept
    return changed


def _walk_schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield node
        for value in node.values():
            yield from _walk_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_schemas(value)


def _hoist_property_required(spec: dict[str, Any]) -> int:
    changed = 0
    for schema in list(_walk_schemas(spec)):
        for name, prop in schema["properties"].items():
            if isinstance(prop, dict) and isinstance(prop.get("required"), bool):
                if prop.pop("required"):
                    schema.setdefault("required", [])
                    if name not in schema["required"]:
                        schema["required"].append(name)
                changed += 1
    return changed


def _date_type_to_string_format(spec: dict[str, Any]) -> int:
    changed = 0

    def visit(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            if node.get("type") == "date":
                node["type"] = "string"
                node["format"] = "date"
                changed += 1
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(spec)
    return changed


def _move_flow_description(spec: dict[str, Any]) -> int:
    changed = 0
    for scheme in spec.get("components", {}).get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            if "description" in flow:
                scheme["description"] = flow.pop("description")
                changed += 1
    return changed


def _reconcile_path_parameters(spec: dict[str, Any]) -> int:
    changed = 0
    for path, _method, item, operation in _operations(spec):
        template = set(re.findall(r"{([^}]+)}", path))
        shared = {p["name"] for p in item.get("parameters", []) if p.get("in") == "path"}
        params = operation.setdefault("parameters", [])
        declared = {p["name"] for p in params if p.get("in") == "path"}
        for name in sorted(template - declared - shared):
            params.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
            changed += 1
        kept = [p for p in params if p.get("in") != "path" or p["name"] in template]
        changed += len(params) - len(kept)
        operation["parameters"] = kept
    return changed


PATCHES: tuple[SpecPatch, ...] = (
    SpecPatch(
        "drop `in: body` parameters",
        "GET /clients/{clientId} declares a Swagger-2 style `in: body` parameter, which OpenAPI 3 does not have "
        "(and a GET carries no body). Removing it leaves the operation's real parameter, the path id.",
        _drop_body_parameters,
    ),
    SpecPatch(
        "hoist property-level `required: true`",
        "Some request schemas (order attachments, upload URLs, project documents) put `required: true` on a "
        "property, which OpenAPI 3 forbids; the intent is the parent's `required` list, so it moves there. "
        "None of these operations is one our client calls.",
        _hoist_property_required,
    ),
    SpecPatch(
        "`type: date` -> `type: string, format: date`",
        "OrderContactsResponse types dates as `date`, not a JSON Schema type; OpenAPI spells it string/date.",
        _date_type_to_string_format,
    ),
    SpecPatch(
        "move the OAuth2 flow's `description` to the scheme",
        "An OAuth Flow Object has no `description` field; the Security Scheme Object does. The token URL and "
        "scope, which the client is checked against, are untouched.",
        _move_flow_description,
    ),
    SpecPatch(
        "reconcile path parameters with path templates",
        "Several operations (leave requests, order/project contacts and documents, user allocations) declare "
        "path parameters their path has no placeholder for, or omit ones it has. Missing ones are declared as "
        "strings, stray ones dropped. None of these operations is one our client calls.",
        _reconcile_path_parameters,
    ),
)


def running_in_ci() -> bool:
    """True on CI (`CI=true`, as CI services set it), where ../shared is checked out beside the repo."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def spec_present() -> bool:
    """Whether the spec file is there. Missing on CI fails the test: there a skip would hide a broken checkout."""
    if SPEC_PATH.is_file():
        return True
    if running_in_ci():
        pytest.fail(_missing_spec_message(), pytrace=False)
    return False


def require_spec() -> Path:
    """The spec's path; without the file the test skips locally and fails on CI."""
    if not spec_present():
        pytest.skip(_missing_spec_message())
    return SPEC_PATH


def _missing_spec_message() -> str:
    return (
        f"Assignar OpenAPI spec not found at {SPEC_PATH} (expected beside the project in ../shared/specs/); "
        "spec conformance is not checked"
    )


@functools.cache
def raw_spec() -> dict[str, Any]:
    with require_spec().open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


@functools.cache
def patched_spec() -> tuple[dict[str, Any], dict[str, int]]:
    """The spec with every patch applied, and how many places each patch changed."""
    spec = copy.deepcopy(raw_spec())
    return spec, {patch.name: patch.apply(spec) for patch in PATCHES}


def spec_errors(spec: dict[str, Any]) -> list[str]:
    return [error.message for error in OpenAPIV30SpecValidator(spec).iter_errors()]


@functools.cache
def openapi() -> OpenAPI:
    """openapi-core over the patched spec; its own spec check runs here and must pass."""
    spec, _ = patched_spec()
    return OpenAPI.from_dict(spec)


def _spec_url(url: httpx.URL) -> tuple[str, str]:
    path = urlsplit(str(url)).path
    index = path.find(SPEC_BASE_PATH + "/")
    if index < 0:
        raise AssertionError(f"{url} is not under the API base path {SPEC_BASE_PATH}")
    return SPEC_SERVER, path[index:]


def _mock_request(request: httpx.Request) -> MockRequest:
    host_url, path = _spec_url(request.url)
    return MockRequest(
        host_url,
        request.method,
        path,
        args=dict(request.url.params.multi_items()),
        headers=dict(request.headers),
        data=request.content or None,
        content_type=request.headers.get("Content-Type", "application/json").split(";")[0],
    )


def request_errors(request: httpx.Request) -> list[str]:
    """What the spec finds wrong with a request the client sent (empty when it conforms)."""
    result = openapi().unmarshal_request(_mock_request(request))
    return [
        f"{request.method} {request.url.path}: {error!r} {getattr(error, '__cause__', '')}" for error in result.errors
    ]


def response_errors(request: httpx.Request, response: httpx.Response) -> list[str]:
    """What the spec finds wrong with a response (empty when it conforms)."""
    mock = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("Content-Type", "application/json").split(";")[0],
    )
    result = openapi().unmarshal_response(_mock_request(request), mock)
    return [
        f"{request.method} {request.url.path} -> {response.status_code}: {error!r} {error.__cause__!r}"
        for error in result.errors
    ]


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec's path template and operation object for a concrete API path (relative to /v2)."""
    spec, _ = patched_spec()
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"{[^}]+}", r"[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    raise AssertionError(f"{method} {path} is not an operation in the published spec")


def declares_status(method: str, path: str, status: int) -> bool:
    _, operation = operation_for(method, path)
    return str(status) in operation.get("responses", {})


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def list_item_fields(path: str) -> frozenset[str]:
    """Top-level fields of the records a list operation returns: what the spec documents as filters and sorts."""
    spec, _ = patched_spec()
    _, operation = operation_for("get", path)
    schema = _resolve(spec, operation["responses"]["200"]["content"]["application/json"]["schema"])
    data = _resolve(spec, schema["properties"]["data"])
    if data.get("type") == "object" and "rows" in data.get("properties", {}):
        data = _resolve(spec, data["properties"]["rows"])
    if "items" not in data:
        return frozenset()  # a single-record operation: no filters documented
    items = _resolve(spec, data["items"])
    return frozenset(items["properties"])


def undocumented_query_params(request: httpx.Request) -> list[str]:
    """Query parameters that neither the operation declares nor the spec's description documents for lists."""
    _, path = _spec_url(request.url)
    relative = path[len(SPEC_BASE_PATH) :]
    _, operation = operation_for(request.method, relative)
    declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    fields = list_item_fields(relative) if request.method == "GET" else frozenset()
    wrong = []
    for name in request.url.params:
        if name in declared or (request.method == "GET" and name in GLOBAL_LIST_PARAMS):
            continue
        field, _, operator = name.partition("__")
        if field in fields and (not operator or operator in DOCUMENTED_OPERATORS):
            continue
        wrong.append(name)
    return wrong
