"""The per-tenant configuration document in both its forms (TOML, the stack's one-line JSON): PRODUCT.md's example
parses, and every problem names its dotted key."""

from __future__ import annotations

import json
import tomllib
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from intacct_assignar.config import (
    STACK_PARAMETER_MAX_LENGTH,
    WORKFLOWS,
    ConfigError,
    TenantConfig,
    load_config,
    parse_config,
    parse_config_json,
    stack_parameter,
    workflow_name,
)
from pydantic import BaseModel

PRODUCT_EXAMPLE = """
timezone = "America/Denver"            # Intacct timestamps carry no zone
lookback_minutes = 120                 # re-read window for late Intacct writes

[workflows.workers]                    # every workflow: enabled = true by default
departments = ["FIELD"]                # empty or absent = all
earning_types = []
employee_types = []
position_roles = { FOREMAN = "LAB-FOREMAN" }   # EMPPOSITIONID -> labor ITEMID (else same id)

[workflows.roles]
gl_group = "Labor"

[workflows.assets]
gl_group = "Equipment"

[workflows.work_orders]
owner_user_id = 12                     # Assignar user who owns synced work orders

[timesheets]
week_start = "sunday"                  # must match Intacct's "week begins on"
state = "Submitted"                    # Draft | Submitted
labor_cost_type = "LAB"
time_type = ""
equipment_mode = "purchasing"          # purchasing | timesheet | off
equipment_cost_type = "EQP"
equipment_transaction = "Equipment Usage"
equipment_vendor = "V-INTERNAL"
"""


def write(tmp_path: Path, text: str, name: str = "tenant.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return caught.value.problems


def test_the_product_example_parses_with_every_value(tmp_path: Path) -> None:
    # Given the document PRODUCT.md shows
    path = write(tmp_path, PRODUCT_EXAMPLE)

    # When it is loaded
    config = load_config(path)

    # Then every key has the value written, and the rest their defaults
    assert config.zone == ZoneInfo("America/Denver")
    assert config.lookback == timedelta(minutes=120)
    workers = config.workflows.workers
    assert workers.departments == ("FIELD",)
    assert workers.earning_types == () and workers.employee_types == ()
    assert workers.position_roles == {"FOREMAN": "LAB-FOREMAN"}
    assert config.workflows.roles.gl_group == "Labor"
    assert config.workflows.assets.gl_group == "Equipment"
    assert config.workflows.work_orders.owner_user_id == 12
    sheets = config.timesheets
    assert (sheets.week_start, sheets.state, sheets.equipment_mode) == ("sunday", "Submitted", "purchasing")
    assert (sheets.labor_cost_type, sheets.time_type, sheets.equipment_cost_type) == ("LAB", "", "EQP")
    assert (sheets.equipment_transaction, sheets.equipment_vendor) == ("Equipment Usage", "V-INTERNAL")
    assert all(config.enabled(name) for name in WORKFLOWS)
    assert all(config.missing(name) == [] for name in WORKFLOWS)


def test_no_file_in_the_working_folder_means_all_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a working folder without intacct-assignar.toml
    monkeypatch.chdir(tmp_path)

    # When the configuration is loaded without a path
    config = load_config(None)

    # Then every default applies
    assert config == TenantConfig()
    assert config.timezone == "UTC" and config.lookback_minutes == 120
    assert config.workflows.roles.gl_group == "Labor" and config.workflows.assets.gl_group == "Equipment"
    assert config.workflows.workers.user_type == "worker"
    assert config.workflows.workers.employment_type == "Full Time"
    assert config.timesheets.week_start == "sunday" and config.timesheets.state == "Submitted"
    assert config.timesheets.department_id is None and config.timesheets.location_id is None


def test_the_file_in_the_working_folder_is_read_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given intacct-assignar.toml in the working folder
    write(tmp_path, "[workflows.clients]\nenabled = false\n", name="intacct-assignar.toml")
    monkeypatch.chdir(tmp_path)

    # When the configuration is loaded without a path
    config = load_config(None)

    # Then that file was used
    assert not config.enabled("clients")
    assert config.enabled("projects")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[workflows.workers]\ndepartmnts = ['FIELD']\n", "workflows.workers.departmnts: unknown key"),
        ("timezon = 'UTC'\n", "timezon: unknown key"),
        ("[workflow.clients]\nenabled = true\n", "workflow: unknown key"),
        ("[workflows.customers]\nenabled = true\n", "workflows.customers: unknown key"),
        ("[timesheets]\nstate = 'Approved'\n", "timesheets.state: must be Draft or Submitted"),
        ("[timesheets]\nequipment_mode = 'lines'\n", "timesheets.equipment_mode: must be purchasing, timesheet or off"),
        ("[timesheets]\nweek_start = 'Sunday'\n", "timesheets.week_start: must be monday, tuesday, wednesday,"),
        ("timezone = 'Mountain Time'\n", "timezone: unknown IANA time zone 'Mountain Time'"),
        ("lookback_minutes = -5\n", "lookback_minutes: must be greater than or equal to 0"),
        ("lookback_minutes = true\n", "lookback_minutes: expected a whole number, got true"),
        ("lookback_minutes = 1.5\n", "lookback_minutes: expected a whole number, got the number 1.5"),
        (
            "[workflows.work_orders]\nowner_user_id = '12'\n",
            'workflows.work_orders.owner_user_id: expected a whole number, got the string "12"',
        ),
        (
            "[workflows.work_orders]\nowner_user_id = 'twelve'\n",
            'workflows.work_orders.owner_user_id: expected a whole number, got the string "twelve"',
        ),
        ("[workflows.work_orders]\nowner_user_id = 0\n", "workflows.work_orders.owner_user_id: must be greater than 0"),
        ("[workflows.work_orders]\ndefault_start_date = 'soon'\n", "workflows.work_orders.default_start_date: must be"),
        (
            "[workflows.work_orders]\ndefault_start_date = 2026-06-01\ndefault_end_date = 2026-01-01\n",
            "workflows.work_orders.default_end_date: must not be before default_start_date (2026-06-01)",
        ),
        ("[workflows.workers]\ndepartments = ['FIELD', ' ']\n", "workflows.workers.departments: must not contain"),
        ("[workflows.workers]\nemployee_types = 'Full Time'\n", "workflows.workers.employee_types: must be a valid"),
        (
            "[workflows.workers]\nposition_roles = { FOREMAN = 3 }\n",
            "workflows.workers.position_roles.FOREMAN: must be",
        ),
        (
            "[workflows.workers]\ndepartments = ['FIELD', 7]\n",
            "workflows.workers.departments[1]: must be a valid string",
        ),
        ("[workflows.roles]\ngl_group = ''\n", "workflows.roles.gl_group: must have at least 1 character"),
        (
            "[workflows.assets]\nenabled = 'sometimes'\n",
            'workflows.assets.enabled: expected true or false, got the string "sometimes"',
        ),
        ("workflows = 3\n", "workflows: must be a valid dictionary"),
    ],
)
def test_every_bad_key_is_named_by_its_dotted_path(tmp_path: Path, text: str, expected: str) -> None:
    # Given a document with one bad key
    # When it is loaded
    found = problems(text, tmp_path)

    # Then the one problem names that key
    assert len(found) == 1
    assert found[0].startswith(expected), found


def test_all_problems_are_reported_at_once_in_one_message(tmp_path: Path) -> None:
    # Given a document with three unrelated mistakes
    text = "timezone = 'Nowhere/Else'\n[workflows.workers]\ndepartmnts = []\n[timesheets]\nstate = 'Approved'\n"
    path = write(tmp_path, text)

    # When it is loaded
    with pytest.raises(ConfigError) as caught:
        load_config(path)

    # Then one error lists all three, under the file's name
    message = str(caught.value)
    assert message.startswith(f"invalid configuration in {path}:")
    for key in (
        "timezone:",
        "workflows.workers.departmnts: unknown key",
        "timesheets.state: must be Draft or Submitted",
    ):
        assert key in message
    assert len(caught.value.problems) == 3


def test_a_file_that_is_not_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    # Given a broken TOML file
    path = write(tmp_path, "[workflows.workers\ndepartments = [\n")

    # When it is loaded
    found = problems(path.read_text(), tmp_path)

    # Then the problem says it is not TOML, with where
    assert found[0].startswith("not valid TOML:") and "line" in found[0]


def test_a_named_file_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    # Given a path to nothing
    path = tmp_path / "missing.toml"

    # When it is loaded
    with pytest.raises(ConfigError) as caught:
        load_config(path)

    # Then the error names the file
    assert caught.value.source == str(path)
    assert caught.value.problems == ["no such file"]


def test_a_missing_work_order_owner_is_reported_for_that_workflow_only() -> None:
    # Given a document without the work-order owner
    config = parse_config({"timezone": "America/Denver"})

    # When each workflow asks what it lacks
    missing = {name: config.missing(name) for name in WORKFLOWS}

    # Then only work orders lack a key, and it is named exactly
    assert missing.pop("work_orders") == ["workflows.work_orders.owner_user_id"]
    assert all(keys == [] for keys in missing.values())


def test_a_disabled_workflow_stays_in_the_document_with_its_settings() -> None:
    # Given work orders disabled with default dates set
    config = parse_config(
        {"workflows": {"work_orders": {"enabled": False, "default_start_date": date(2026, 1, 5)}}}, "stack"
    )

    # Then the flag and the setting are both kept
    assert not config.enabled("work_orders")
    assert config.workflows.work_orders.default_start_date == date(2026, 1, 5)


def test_the_configuration_cannot_be_changed_after_loading() -> None:
    # Given a loaded configuration
    config = TenantConfig()

    # When code tries to change it, Then it is refused (one document drives a whole run)
    with pytest.raises(ValueError, match="frozen"):
        config.lookback_minutes = 5  # type: ignore[misc]  # the point of the test


def test_workflow_names_are_checked_against_the_seven() -> None:
    assert workflow_name("work_orders") == "work_orders"
    with pytest.raises(KeyError, match="unknown workflow 'employees'"):
        workflow_name("employees")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[workflows.work_order]\nowner_user_id = 12\n",
            "workflows.work_order: unknown key; did you mean work_orders?",
        ),
        ("timezon = 'UTC'\n", "timezon: unknown key; did you mean timezone?"),
        (
            "[workflows.workers]\ndepartmnts = []\n",
            "workflows.workers.departmnts: unknown key; did you mean departments?",
        ),
        ("[workflows.roles]\ngl_grop = 'Labor'\n", "workflows.roles.gl_grop: unknown key; did you mean gl_group?"),
        ("[webhook]\nmax_age = 60\n", "webhook.max_age: unknown key; did you mean max_age_seconds?"),
        # Nothing close: no guess
        ("[workflows.customers]\nenabled = true\n", "workflows.customers: unknown key"),
        ("colour = 'red'\n", "colour: unknown key"),
        ("[workflows.work_orders]\nowner = 12\n", "workflows.work_orders.owner: unknown key"),
    ],
)
def test_an_unknown_key_is_named_with_the_nearest_valid_key_of_its_section(
    tmp_path: Path, text: str, expected: str
) -> None:
    # Given a document with a misspelt key (nested or not)
    # When it is loaded
    found = problems(text, tmp_path)

    # Then the problem names the key, and the valid key of the same section it is closest to when one is close
    assert found == [expected]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"workflows": {"clients": {"enabled": "yes"}}},
            'workflows.clients.enabled: expected true or false, got the string "yes"',
        ),
        (
            {"workflows": {"clients": {"enabled": "false"}}},
            'workflows.clients.enabled: expected true or false, got the string "false"',
        ),
        (
            {"workflows": {"workers": {"enabled": 0}}},
            "workflows.workers.enabled: expected true or false, got the number 0",
        ),
        (
            {"webhook": {"allow_missing_timestamp": "true"}},
            'webhook.allow_missing_timestamp: expected true or false, got the string "true"',
        ),
    ],
)
def test_a_string_or_number_where_a_boolean_belongs_is_refused(document: dict[str, object], expected: str) -> None:
    # Given a boolean written as a string or a number (read as true or false, it could mean the opposite)
    # When the document is validated, Then it is refused, saying what was found
    with pytest.raises(ConfigError) as caught:
        parse_config(document)
    assert caught.value.problems == [expected]


def test_every_boolean_and_whole_number_in_the_document_is_strict() -> None:
    # Given every section of the document, Then no bool or int key takes a string, number or bool in its place
    sections: list[type[BaseModel]] = [TenantConfig]
    loose = []
    while sections:
        section = sections.pop()
        for name, field in section.model_fields.items():
            inner = field.annotation
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                sections.append(inner)
            elif inner in (bool, int, bool | None, int | None) and not any(
                getattr(rule, "strict", False) for rule in field.metadata
            ):
                loose.append(f"{section.__name__}.{name}")
    assert loose == []


def test_the_json_form_in_a_file_is_the_same_document_as_the_toml_form(tmp_path: Path) -> None:
    # Given the PRODUCT.md example as TOML, and the same document as one line of JSON in tenant.json
    from_toml = load_config(write(tmp_path, PRODUCT_EXAMPLE))
    document = tomllib.loads(PRODUCT_EXAMPLE)
    path = write(tmp_path, json.dumps(document), name="tenant.json")

    # When the JSON file is loaded
    from_json = load_config(path)

    # Then it is the same configuration
    assert from_json == from_toml


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"timezone": "UTC",}', "not valid JSON: Expecting property name enclosed in double quotes: line 1 column 20"),
        ("timezone = 'UTC'\n", "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ('[{"timezone": "UTC"}]', "must be a JSON object ({...}), not a list"),
        ('"UTC"', 'must be a JSON object ({...}), not the string "UTC"'),
        ('{"timezone": "UTC", "timezone": "America/Denver"}', "timezone: given twice in one object"),
        (
            '{"workflows": {"work_order": {"owner_user_id": 12}}}',
            "workflows.work_order: unknown key; did you mean work_orders?",
        ),
        (
            '{"workflows": {"clients": {"enabled": "yes"}}}',
            'workflows.clients.enabled: expected true or false, got the string "yes"',
        ),
    ],
)
def test_a_bad_json_file_is_refused_naming_the_file_and_saying_json(tmp_path: Path, text: str, expected: str) -> None:
    # Given a .json tenant document with one mistake
    path = write(tmp_path, text, name="tenant.json")

    # When it is loaded
    with pytest.raises(ConfigError) as caught:
        load_config(path)

    # Then the error names the file, and the one problem says what is wrong in JSON's terms or names the key
    assert str(caught.value).startswith(f"invalid configuration in {path}:")
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(expected), caught.value.problems


def test_a_folder_named_like_a_json_file_is_refused_as_one(tmp_path: Path) -> None:
    (tmp_path / "tenant.json").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "tenant.json")
    assert caught.value.problems == ["is a folder, not a JSON file"]


def test_the_stacks_json_is_refused_in_the_same_words_as_the_file() -> None:
    # Given the same mistakes in the TOML form and in the stack parameter's JSON
    text = "timezone = 'Mars/Olympus'\n[workflows.work_order]\nowner_user_id = 12\n[workflows.roles]\nenabled = 'no'\n"

    # When each is validated
    with pytest.raises(ConfigError) as from_toml:
        parse_config(tomllib.loads(text), "tenant.toml")
    with pytest.raises(ConfigError) as from_stack:
        parse_config_json(json.dumps(tomllib.loads(text)), "TenantConfig")

    # Then the problems are word for word the same
    assert from_stack.value.problems == from_toml.value.problems
    assert len(from_stack.value.problems) == 3


def test_the_stack_parameter_is_one_line_that_reads_back_as_the_same_document(tmp_path: Path) -> None:
    # Given a document with every kind of value: text, numbers, lists, a table, dates, a boolean, non-ASCII
    text = (
        PRODUCT_EXAMPLE.replace("owner_user_id = 12", "owner_user_id = 12\ndefault_start_date = 2026-01-05").replace(
            'gl_group = "Equipment"', 'gl_group = "Équipement"'
        )
        + "\n[webhook]\nallow_missing_timestamp = true\n\n[workflows.activities]\nenabled = false\n"
    )
    config = load_config(write(tmp_path, text))

    # When it is turned into the stack's parameter
    line = stack_parameter(config)

    # Then it is one line of compact JSON with only the keys the file sets, and it reads back as the same document
    assert "\n" not in line and ", " not in line and line.startswith("{")
    assert "Équipement" in line and "doubt_window_seconds" not in line
    assert json.loads(line)["workflows"]["work_orders"] == {"owner_user_id": 12, "default_start_date": "2026-01-05"}
    assert parse_config_json(line, "TenantConfig") == config


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"workflows": {"roles": {"gl_group": "Owner's Labor"}}}, "workflows.roles.gl_group"),
        ({"workflows": {"workers": {"departments": ["FIELD", 'A"B']}}}, "workflows.workers.departments[1]"),
        ({"workflows": {"workers": {"position_roles": {"C\\D": "LAB"}}}}, "workflows.workers.position_roles.C\\D"),
    ],
)
def test_a_value_samconfig_cannot_pass_is_refused_naming_its_key(document: dict[str, object], key: str) -> None:
    # Given a valid document with a quote or backslash in a value (SAM and TOML would mangle the pasted line)
    config = parse_config(document)

    # When it is turned into the stack's parameter, Then it is refused naming that key
    with pytest.raises(ConfigError) as caught:
        stack_parameter(config, "tenant.toml")
    assert [problem.split(": ")[0] for problem in caught.value.problems] == [key]
    assert "samconfig.toml cannot pass in the single-quoted TenantConfig" in caught.value.problems[0]


def test_a_stack_parameter_longer_than_the_template_allows_is_refused() -> None:
    # Given a document whose one-line JSON is longer than the TenantConfig parameter may be
    roles = {f"POSITION-{n:04d}": f"LAB-{n:04d}" for n in range(150)}
    config = parse_config({"workflows": {"workers": {"position_roles": roles}}})

    # When it is turned into the stack's parameter, Then it is refused, saying how long it is and may be
    with pytest.raises(ConfigError) as caught:
        stack_parameter(config)
    (problem,) = caught.value.problems
    assert problem.startswith("the one-line JSON is ") and f"at most {STACK_PARAMETER_MAX_LENGTH}" in problem
