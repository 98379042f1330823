"""The CLI's commands from other packages (entry-point group `intacct_assignar.commands`): the development
package's `demo` and `emulate` join the product's commands when it is installed, and a plugin that does not load
leaves the product's commands as they are."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest
from intacct_assignar import cli
from typer.testing import CliRunner

PRODUCT_COMMANDS = {"sync", "push-timesheets"}


@pytest.fixture(autouse=True)
def product_commands_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from the product's own commands, and leaves `cli.app` and the logging the CLI sets up (the
    package logger's level and handler) as it found them."""
    own = [info for info in cli.app.registered_commands if cli._command_name(info) in PRODUCT_COMMANDS]
    monkeypatch.setattr(cli.app, "registered_commands", own)
    package = logging.getLogger("intacct_assignar")
    level, handlers = package.level, list(package.handlers)
    yield
    package.setLevel(level)
    package.handlers[:] = handlers


def command_names() -> list[str | None]:
    return [cli._command_name(info) for info in cli.app.registered_commands]


def test_the_development_commands_join_the_product_s_once() -> None:
    # Given the product's commands alone
    assert set(command_names()) == PRODUCT_COMMANDS
    # When the plugins are added, twice
    cli.app_with_plugins()
    app = cli.app_with_plugins()
    # Then demo and emulate are offered after the product's commands, each once, with their help
    assert command_names() == ["sync", "push-timesheets", "demo", "emulate"]
    result = CliRunner().invoke(app, ["emulate", "--help"])
    assert result.exit_code == 0, result.output
    assert "--intacct-port" in result.output and "intacct-assignar emulate --company lean" in result.output


def test_a_plugin_that_does_not_load_leaves_the_product_s_commands_working(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an install without the development package, a plugin that is not a command and one named like ours
    group = cli.COMMANDS_GROUP
    offered = [
        EntryPoint("demo", "intacct_assignar_dev_absent.commands:demo_command", group),
        EntryPoint("odd", "json:dumps", group),
        EntryPoint("sync", "intacct_assignar_dev.commands:demo_command", group),
    ]
    monkeypatch.setattr(cli, "entry_points", lambda group: offered)
    caplog.set_level(logging.DEBUG, logger="intacct_assignar.cli")
    # When the CLI is built
    app = cli.app_with_plugins()
    # Then only the product's commands are there, and sync is still the product's
    assert command_names() == ["sync", "push-timesheets"]
    assert cli.app.registered_commands[0].callback is cli.sync
    assert CliRunner().invoke(app, ["sync", "--help"]).exit_code == 0
    missing = CliRunner().invoke(app, ["demo"])
    assert missing.exit_code == 2 and "No such command" in missing.output
    # And the absent package is a debug line, the broken plugin a warning
    lines = {(record.levelno, record.getMessage().split(":")[0]) for record in caplog.records}
    assert lines == {(logging.DEBUG, "command demo left out"), (logging.WARNING, "command odd left out")}


def test_the_demo_without_its_extra_says_which_install_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an install without the `demo` extra: moto cannot be imported (and the demo's modules are not loaded yet)
    monkeypatch.setitem(sys.modules, "moto", None)
    for loaded in [
        name
        for name in sys.modules
        if name.startswith(("intacct_assignar_dev.system_demo", "intacct_assignar_dev.local_aws"))
    ]:
        monkeypatch.delitem(sys.modules, loaded)
    app = cli.app_with_plugins()
    # When the admin runs the demo
    result = CliRunner().invoke(app, ["demo"])
    # Then one sentence names what is missing and how to install it, with the usage exit status
    assert result.exit_code == 2, result.output
    assert "the demo needs moto" in result.output and "intacct-assignar[demo]" in result.output
    assert "Traceback" not in result.output
