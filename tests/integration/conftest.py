"""What several integration tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities import parameters
from intacct_assignar.runtime import Runtime
from moto import mock_aws


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """AWS on moto, with test credentials and a fresh runtime: no secret or client cached by an earlier test."""
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    parameters.clear_caches()
    Runtime.reset()
    with mock_aws():
        yield
    parameters.clear_caches()
    Runtime.reset()
