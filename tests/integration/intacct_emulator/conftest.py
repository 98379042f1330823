"""A running Intacct emulator on loopback with the small hand-made company and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore

from tests.unit.intacct_emulator.fixtures import FakeClock, small_company


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> IntacctStore:
    store = IntacctStore(clock=clock)
    small_company(store)
    return store


@pytest.fixture
def emulator(store: IntacctStore) -> Iterator[IntacctEmulator]:
    with IntacctEmulator(store, timeout_hold_s=1.0) as emulator:
        yield emulator


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, headers={"Content-Type": "application/xml"}) as client:
        yield client
