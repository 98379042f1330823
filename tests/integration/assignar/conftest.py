"""Integration tier for Assignar: the real client against the emulator over loopback HTTP, checked against the spec."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from intacct_assignar.assignar import AssignarClient, RetryPolicy
from intacct_assignar_dev.emulators.assignar import AssignarEmulator

from tests.unit.assignar.published_spec import (
    declares_status,
    request_errors,
    response_errors,
    spec_present,
    undocumented_query_params,
)


class SpecCheckingTransport(httpx.BaseTransport):
    """Sends for real, then checks each API request and each answer the spec documents against the spec."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.problems: list[str] = []
        self.checked = 0
        # Without the spec the exchanges still run unchecked locally; on CI a missing spec fails the test here.
        self.enabled = spec_present()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if "/v2/" not in request.url.path or not self.enabled:
            return response
        response.read()
        self.checked += 1
        self.problems += request_errors(request)
        self.problems += [f"undocumented query parameter {name}" for name in undocumented_query_params(request)]
        relative = request.url.path[request.url.path.index("/v2/") + 3 :]
        if declares_status(request.method, relative, response.status_code):
            self.problems += response_errors(request, response)
        return response

    def close(self) -> None:
        self._inner.close()


class Sleeps:
    """Stands in for time.sleep in the client: records each backoff instead of waiting it out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def emulator() -> Iterator[AssignarEmulator]:
    with AssignarEmulator(seed=7) as running:
        yield running


@pytest.fixture
def spec_transport() -> Iterator[SpecCheckingTransport]:
    transport = SpecCheckingTransport()
    yield transport
    transport.close()
    assert transport.problems == [], "requests or answers that break the published spec:\n" + "\n".join(
        transport.problems
    )


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(
    emulator: AssignarEmulator, spec_transport: SpecCheckingTransport, sleeps: Sleeps
) -> Iterator[AssignarClient]:
    with AssignarClient(
        emulator.settings(),
        transport=spec_transport,
        requests_per_second=None,
        page_size=100,
        retry=RetryPolicy(max_attempts=4, base_delay_s=0.2),
        sleep=sleeps,
        timeout_s=5.0,
    ) as connected:
        yield connected
