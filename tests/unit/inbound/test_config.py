"""The per-tenant configuration document: PRODUCT.md's example parses, and every problem names its dotted key."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from intacct_assignar.config import (
    WORKFLOWS,
    ConfigError,
    TenantConfig,
    load_config,
    parse_config,
    workflow_name,
)

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
        ("lookback_minutes = true\n", "lookback_minutes: must be a valid integer"),
        ("[workflows.work_orders]\nowner_user_id = '12'\n", "workflows.work_orders.owner_user_id: must be a valid"),
        ("[workflows.work_orders]\nowner_user_id = 'twelve'\n", "workflows.work_orders.owner_user_id: must be a valid"),
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
        ("[workflows.assets]\nenabled = 'sometimes'\n", "workflows.assets.enabled: must be a valid boolean"),
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
