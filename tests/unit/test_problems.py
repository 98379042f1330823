"""Expected failures said in a sentence or two with the setting to fix and the README's exit status."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from intacct_assignar.assignar.errors import AuthenticationError, ServerError, TransportError, ValidationError
from intacct_assignar.config import load_config
from intacct_assignar.intacct.errors import (
    IntacctAuthenticationError,
    IntacctBusinessError,
    IntacctConfigurationError,
    IntacctErrorDetail,
    IntacctTransientError,
)
from intacct_assignar.problems import FAILED, SETTINGS, explain
from intacct_assignar.state import StateLocationError

SIGN_IN = IntacctErrorDetail("XL03000006", "Sign-in information is incorrect")
NOT_AUTHORIZED = IntacctErrorDetail(
    "XL03000006",
    "Invalid Web Services Authorization",
    "The sender ID 'acme_sender' is not authorized to make Web Services requests to company ID 'acme'.",
)


def test_a_refused_login_names_the_user_settings_and_exits_2() -> None:
    problem = explain(IntacctAuthenticationError("Intacct refused the login or session", [SIGN_IN]))
    assert problem.exit_code == SETTINGS and problem.stops_run
    assert problem.errorno == "XL03000006"
    assert "INTACCT_USER_ID, INTACCT_USER_PASSWORD and INTACCT_COMPANY_ID" in problem.message
    assert "Sign-in information is incorrect" in problem.message


def test_an_unauthorized_sender_names_the_sender_settings_and_exits_2() -> None:
    # Intacct reports it at the authentication level with the same errorno (reference §2.3)
    problem = explain(IntacctAuthenticationError("refused", [NOT_AUTHORIZED], level="authentication"))
    assert problem.exit_code == SETTINGS
    assert "INTACCT_SENDER_ID and INTACCT_SENDER_PASSWORD" in problem.message
    assert "not authorized to make Web Services requests" in problem.message


def test_an_intacct_that_does_not_answer_names_the_host_and_tries_and_exits_1() -> None:
    error = IntacctTransientError("could not reach Intacct: ConnectError")
    error.host, error.attempts = "api.intacct.com", 5
    problem = explain(error)
    assert problem.exit_code == FAILED and problem.unavailable and not problem.stops_run
    assert problem.message.startswith("Intacct at api.intacct.com did not answer usably after 5 tries")


def test_a_refused_read_carries_intaccts_errorno_and_words() -> None:
    detail = IntacctErrorDetail("Permission Denied", "You do not have permission for API operation query")
    problem = explain(IntacctBusinessError("Intacct refused query (failure)", [detail], function="query"))
    assert (problem.exit_code, problem.errorno) == (FAILED, "Permission Denied")
    assert (
        problem.message
        == "Intacct refused query: Permission Denied: You do not have permission for API operation query"
    )


def test_other_refusals_of_the_whole_request_are_settings_problems() -> None:
    detail = IntacctErrorDetail("PL04000055", "This company is a demo company and has expired.")
    assert explain(IntacctConfigurationError("Intacct refused the request", [detail])).exit_code == SETTINGS


def test_assignar_credentials_refused_at_the_token_endpoint_exit_2_naming_the_settings() -> None:
    refused = AuthenticationError(
        "Assignar refused the client credentials; check ASSIGNAR_CLIENT_ID, ASSIGNAR_CLIENT_SECRET",
        method="POST",
        path="https://login.assignar.com/oauth2/token",
        status=401,
    )
    problem = explain(refused)
    assert problem.exit_code == SETTINGS and problem.stops_run
    assert "ASSIGNAR_CLIENT_ID" in problem.message


def test_assignar_not_answering_names_the_host_and_tries() -> None:
    for error in (
        TransportError("no answer", may_have_landed=False, path="/users"),
        ServerError("down", path="/users"),
    ):
        error.host, error.attempts = "api.assignar.com", 5
        problem = explain(error)
        assert problem.exit_code == FAILED and problem.unavailable
        assert problem.message.startswith("Assignar at api.assignar.com did not answer usably after 5 tries")


def test_an_assignar_refusal_of_one_record_is_a_failure_not_a_settings_problem() -> None:
    problem = explain(ValidationError("first_name is required", path="/users", status=400))
    assert problem.exit_code == FAILED and not problem.stops_run and not problem.unavailable


def test_assignar_refusing_one_resource_does_not_stop_the_run() -> None:
    # A 403 on one resource costs that workflow (the sync's queue); only refused credentials stop everything
    problem = explain(AuthenticationError("refused", method="PUT", path="/tasks/7", status=403))
    assert problem.exit_code == SETTINGS and not problem.stops_run


def test_settings_files_and_ports() -> None:
    assert explain(StateLocationError("state location 'x://y' ...")).exit_code == SETTINGS
    assert explain(OSError(errno.EADDRINUSE, "Address already in use")).exit_code == SETTINGS


def test_a_config_file_that_is_not_utf8_is_a_settings_problem_naming_the_file(tmp_path: Path) -> None:
    # Given a tenant document saved as Latin-1
    path = tmp_path / "tenant.toml"
    path.write_bytes('timezone = "Am\xe9rica/Denver"\n'.encode("latin-1"))

    # When it is loaded, the refusal names the file and what to do
    with pytest.raises(Exception) as refused:
        load_config(path)
    problem = explain(refused.value)
    assert problem.exit_code == SETTINGS
    assert str(path) in problem.message and "save it as UTF-8" in problem.message


def test_what_nobody_foresaw_points_at_debug() -> None:
    problem = explain(KeyError("RECORDNO"))
    assert not problem.expected
    assert problem.exit_code == FAILED
    assert "--debug" in problem.message
