"""Unit tier: pure logic and hand-built protocol responses. No sockets, ever."""

import pytest
from pytest_socket import disable_socket


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup() -> None:
    disable_socket(allow_unix_socket=True)
