"""The command line's error boundary: every expected failure is a sentence or two with the README's exit status,
never a traceback (unless --debug asks for one), against the emulators and hostile gateways over HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from intacct_assignar.cli import app_with_plugins
from intacct_assignar.intacct import RetryPolicy
from intacct_assignar_dev.emulators.http import EmulatorHandler, LoopbackServer
from typer.testing import CliRunner

from .tenant import Tenant, emulated_tenant

app = app_with_plugins()  # with the development package's `emulate`
runner = CliRunner()


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenant]:
    monkeypatch.chdir(tmp_path)
    # Give up quickly: the real policy backs off for about fifteen seconds before it says Intacct is down.
    monkeypatch.setattr("intacct_assignar.intacct.client.INTACCT_RETRY", RetryPolicy(max_attempts=3, base_delay_s=0.01))
    with emulated_tenant(tmp_path, employees=12, seed=3) as tenant:
        yield tenant


def assert_no_traceback(output: str) -> None:
    assert "Traceback" not in output and 'File "' not in output, output


@pytest.mark.parametrize("command", ["sync", "push-timesheets"])
def test_a_wrong_intacct_password_exits_2_naming_the_settings(tenant: Tenant, command: str) -> None:
    code, output = tenant.run(command, INTACCT_USER_PASSWORD="not-the-password")
    assert code == 2, output
    assert "Intacct refused the sign-in" in output and "INTACCT_USER_PASSWORD" in output
    assert "not-the-password" not in output
    assert_no_traceback(output)


def test_a_refused_sender_exits_2_naming_the_sender_settings(tenant: Tenant) -> None:
    code, output = tenant.run("sync", INTACCT_SENDER_PASSWORD="wrong-sender-password")
    assert code == 2, output
    assert "INTACCT_SENDER_ID and INTACCT_SENDER_PASSWORD" in output
    assert "wrong-sender-password" not in output
    assert_no_traceback(output)


def test_a_sender_not_authorized_for_the_company_exits_2_naming_the_sender_settings(tenant: Tenant) -> None:
    # Intacct answers XL03000006 "Invalid Web Services Authorization" at the authentication level for a company
    # that has not authorized the sender (reference §2.3), as the emulator does for another company ID
    code, output = tenant.run("sync", INTACCT_COMPANY_ID="SOME-OTHER-CO")
    assert code == 2, output
    assert "not authorized" in output and "INTACCT_SENDER_ID" in output and "INTACCT_COMPANY_ID" in output
    assert_no_traceback(output)


def test_a_refused_assignar_client_exits_2_naming_the_settings(tenant: Tenant) -> None:
    code, output = tenant.run("sync", ASSIGNAR_CLIENT_SECRET="wrong-client-secret")
    assert code == 2, output
    assert "ASSIGNAR_CLIENT_ID" in output and "ASSIGNAR_CLIENT_SECRET" in output
    assert "wrong-client-secret" not in output
    assert_no_traceback(output)


@pytest.mark.parametrize(
    "options", [["--timesheet-id", "5", "--timesheet-id", "6"], ["--dry-run", "--timesheet-id", "5"]]
)
def test_named_timesheets_with_refused_assignar_credentials_exit_2_once(tenant: Tenant, options: list[str]) -> None:
    # Refused credentials are the command's problem, not each timesheet's
    code, output = tenant.run("push-timesheets", *options, ASSIGNAR_CLIENT_SECRET="wrong-client-secret")
    assert code == 2, output
    assert output.count("Assignar refused the client credentials") == 1
    assert "wrong-client-secret" not in output
    assert_no_traceback(output)


def test_debug_adds_the_traceback(tenant: Tenant) -> None:
    # --debug after the subcommand counts, like --config and --state
    code, output = tenant.run("sync", "--debug", INTACCT_USER_PASSWORD="not-the-password")
    assert code == 2
    assert "Traceback" in output and "IntacctAuthenticationError" in output
    assert "not-the-password" not in output


def test_an_unreachable_intacct_exits_1_naming_the_host_and_tries(tenant: Tenant) -> None:
    # Given an endpoint where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, output = tenant.run("sync", INTACCT_ENDPOINT_URL=f"http://127.0.0.1:{port}/ia/xml/xmlgw.phtml")
    assert code == 1, output
    assert "Intacct at 127.0.0.1 did not answer usably after 3 tries" in output
    assert_no_traceback(output)


class _FixedReply(EmulatorHandler):
    body = b""

    def do_POST(self) -> None:
        self.read_body()
        self.reply(200, self.body, "text/xml")


# The same answer whatever was asked: a recorded reply for other control IDs, an HTML error page, a cut-off body.
HOSTILE = {
    "other-control-ids": (
        b"<response><control><status>success</status></control><operation><authentication><status>success"
        b"</status></authentication><result><status>success</status><function>getAPISession</function>"
        b"<controlid>recorded-1</controlid><data><api><sessionid>s</sessionid><endpoint>http://127.0.0.1/"
        b"</endpoint></api></data></result></operation></response>",
        "results for control IDs",
    ),
    "html-page": (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "not an Intacct <response>"),
    "truncated": (b"<response><control><status>succ", "not well-formed"),
    "too-deep": (b"<response>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</response>", "nested deeper"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_gateway_answering_nonsense_is_a_clear_error(tenant: Tenant, kind: str) -> None:
    body, said = HOSTILE[kind]
    handler = type("Reply", (_FixedReply,), {"body": body})
    with LoopbackServer(handler) as server:
        code, output = tenant.run("sync", INTACCT_ENDPOINT_URL=f"{server.url}/ia/xml/xmlgw.phtml")
    assert code == 1, output
    assert said in output and "did not answer usably after 3 tries" in output
    assert_no_traceback(output)


@pytest.mark.parametrize(
    ("state", "said"),
    [("ftp://host/state.db", "is not a state store"), (".", "give --state")],
    ids=["unknown-scheme", "a-folder"],
)
def test_a_bad_state_location_exits_2(tenant: Tenant, state: str, said: str) -> None:
    result = runner.invoke(app, ["sync", "--config", str(tenant.config), "--state", state], env=tenant.env)
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert_no_traceback(result.output)


def test_a_config_file_that_is_not_utf8_exits_2_naming_it(tenant: Tenant) -> None:
    tenant.config.write_bytes('timezone = "Am\xe9rica/Denver"\n'.encode("latin-1"))
    code, output = tenant.run("sync")
    assert code == 2, output
    assert "tenant.toml" in output and "UTF-8" in output
    assert_no_traceback(output)


def test_emulate_on_a_port_already_taken_exits_2_naming_the_option() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["emulate", "--intacct-port", str(port), "--assignar-port", "0", "--size", "10"])
    assert result.exit_code == 2, result.output
    assert f"port {port} is already in use" in result.output and "--intacct-port" in result.output
    assert_no_traceback(result.output)
