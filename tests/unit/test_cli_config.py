"""`intacct-assignar config to-json FILE`: the tenant document, validated, as the one line of JSON the stack's
TenantConfig parameter holds; exit 2 with every problem when it is not valid."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from intacct_assignar.cli import app
from intacct_assignar.config import load_config, parse_config_json
from typer.testing import CliRunner

runner = CliRunner()

DOCUMENT = """
timezone = "America/Denver"

[workflows.workers]
departments = ["FIELD", "SHOP"]
position_roles = { FOREMAN = "LAB-FOREMAN" }

[workflows.work_orders]
owner_user_id = 12
default_start_date = 2026-01-05

[workflows.activities]
enabled = false

[timesheets]
equipment_mode = "timesheet"
"""


@pytest.fixture(autouse=True)
def in_a_folder_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No stray intacct-assignar.toml from the repository; the package logger left as the CLI found it (each run
    sets its level and handler)."""
    monkeypatch.chdir(tmp_path)
    package = logging.getLogger("intacct_assignar")
    level, handlers = package.level, list(package.handlers)
    yield
    package.setLevel(level)
    package.handlers[:] = handlers


def test_it_prints_one_line_of_json_that_reads_back_as_the_toml_document(tmp_path: Path) -> None:
    # Given a tenant document in TOML
    path = tmp_path / "tenant.toml"
    path.write_text(DOCUMENT, encoding="utf-8")

    # When it is turned into the stack's parameter
    result = runner.invoke(app, ["config", "to-json", str(path)])

    # Then one line of JSON is printed, nothing else, and read as the stack reads it, it is the same document
    assert result.exit_code == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert result.stdout == line + "\n" and result.stderr == ""
    assert parse_config_json(line, "TenantConfig") == load_config(path)

    # And the printed line, saved as tenant.json, is taken by --config and prints itself again
    saved = tmp_path / "tenant.json"
    saved.write_text(line, encoding="utf-8")
    again = runner.invoke(app, ["config", "to-json", str(saved)])
    assert again.exit_code == 0 and again.stdout == result.stdout


def test_an_invalid_document_exits_2_with_every_problem_and_prints_no_json(tmp_path: Path) -> None:
    # Given a document with a misspelt section and a string where a boolean belongs
    path = tmp_path / "tenant.toml"
    path.write_text('[workflows.work_order]\nowner_user_id = 12\n\n[workflows.clients]\nenabled = "yes"\n')

    # When it is turned into the stack's parameter
    result = runner.invoke(app, ["config", "to-json", str(path)])

    # Then nothing goes to standard output, and both problems are named, with the key meant
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: invalid configuration in {path}:\n"
        '  workflows.clients.enabled: expected true or false, got the string "yes"\n'
        "  workflows.work_order: unknown key; did you mean work_orders?\n"
    )


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("tenant.json", '{"timezone": "UTC",}', "not valid JSON: Expecting property name enclosed in double quotes"),
        ("tenant.json", '["timezone"]', "must be a JSON object ({...}), not a list"),
        (
            "tenant.toml",
            '[workflows.roles]\ngl_group = "Owner\'s Labor"\n',
            'workflows.roles.gl_group: "Owner\'s Labor"',
        ),
        ("missing.toml", None, "no such file"),
    ],
)
def test_what_cannot_become_the_stack_parameter_exits_2_naming_the_file(
    tmp_path: Path, name: str, content: str | None, problem: str
) -> None:
    # Given a file that is not valid JSON, not an object, holds a value samconfig.toml cannot pass, or is missing
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")

    # When it is turned into the stack's parameter
    result = runner.invoke(app, ["config", "to-json", str(path)])

    # Then it exits 2 naming the file and the problem, and prints no JSON
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: invalid configuration in {path}:\n  {problem}"), result.stderr
