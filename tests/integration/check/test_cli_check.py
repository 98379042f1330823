"""`intacct-assignar check` against both emulators: a healthy company passes every check; each check, broken on
purpose in the emulators or the tenant document, is named with its fix and the run exits 1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from intacct_assignar.cli import app
from intacct_assignar_dev.emulators.intacct import LEAN, STANDARD

from tests.integration.tenant import Tenant, emulated_tenant, runner

pytestmark = pytest.mark.integration


@pytest.fixture
def tenant(tmp_path: Path) -> Iterator[Tenant]:
    with emulated_tenant(tmp_path, employees=12) as tenant:
        yield tenant


def check(tenant: Tenant, *args: str, **env: str) -> tuple[int, str]:
    """`intacct-assignar check ARGS --config …` with these settings over the tenant's."""
    result = runner.invoke(app, ["check", *args, "--config", str(tenant.config)], env=tenant.env | env)
    return result.exit_code, result.output


def configure(tenant: Tenant, toml: str) -> None:
    """Add sections to the tenant document (it names the work-order owner already)."""
    tenant.config.write_text(tenant.config.read_text() + "\n" + toml + "\n")


def failing(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("✗")]


def test_a_healthy_company_passes_every_check(tenant: Tenant) -> None:
    # Given a seeded company, an Assignar account with the owner, and the tenant document
    # When the admin checks
    code, output = check(tenant)

    # Then every line is a pass, the cost is said, and the exit status says ready
    assert code == 0, output
    assert failing(output) == []
    for name in (
        "Intacct sign-in",
        "EMPLOYEE fields",
        "roles GL group",
        "cost type",
        "equipment vendor",
        "equipment transaction definition",
        "Assignar token",
        "work order owner",
    ):
        assert f"✓ {name}" in output
    assert "Ready: all" in output
    # The reads are batched: a sign-in, a request of lookups and a request of queries.
    cost = re.search(r"Intacct: (\d+) API transactions in 3 requests; Assignar: (\d+) calls", output)
    assert cost is not None and int(cost[1]) <= 20 and int(cost[2]) == tenant.assignar.calls()


def test_json_report_lists_each_check_and_the_cost(tenant: Tenant) -> None:
    code, output = check(tenant, "--json")

    report = json.loads(output)
    assert code == 0 and report["ok"] is True
    assert all(set(item) == {"check", "ok", "detail", "fix"} and item["ok"] for item in report["checks"])
    # The client's own count, as Intacct bills: the sign-in, a lookup per object, a query per name.
    assert 0 < report["intacct_transactions"] <= 20
    assert tenant.gateway.stats.http_requests == 3
    assert report["assignar_calls"] == tenant.assignar.calls() > 0


def test_offline_calls_nothing(tenant: Tenant) -> None:
    code, output = check(tenant, "--offline", "--json")

    report = json.loads(output)
    assert code == 0
    assert [item["check"] for item in report["checks"]] == [
        "tenant document",
        "workflows",
        "stack parameter",
        "Intacct settings",
        "Assignar settings",
        "webhook secret",
    ]
    assert report["intacct_transactions"] == report["assignar_calls"] == 0
    assert tenant.gateway.stats.http_requests == 0 and tenant.assignar.calls() == 0


def test_a_refused_password_is_one_line_and_stops_the_intacct_checks(tenant: Tenant) -> None:
    code, output = check(tenant, INTACCT_USER_PASSWORD="not-the-password")

    assert code == 1
    (line,) = failing(output)
    assert line.startswith("✗ Intacct sign-in:") and "INTACCT_USER_PASSWORD" in line
    assert "not-the-password" not in output and "Traceback" not in output
    assert "GL group" not in output and "fields" not in output
    assert "✓ Assignar token" in output  # the Assignar checks still run


def test_an_invalid_document_names_each_key_and_checks_nothing_online(tenant: Tenant) -> None:
    configure(tenant, '[workflows.roles]\ngl_grup = "Labor"\n[timesheets]\nlease_seconds = 5')

    code, output = check(tenant)

    assert code == 1
    lines = failing(output)
    assert any("workflows.roles.gl_grup" in line for line in lines)
    assert any("timesheets.lease_seconds" in line for line in lines)
    assert all("correct it in" in line for line in lines)
    assert tenant.gateway.stats.http_requests == 0


def test_missing_settings_are_named_never_their_values(tenant: Tenant) -> None:
    code, output = check(tenant, "--offline", INTACCT_SENDER_ID="", ASSIGNAR_CLIENT_SECRET="", ASSIGNAR_CLIENT_ID="")

    assert code == 1
    (intacct, assignar) = failing(output)
    assert "INTACCT_SENDER_ID" in intacct and "set them in the environment" in intacct
    assert "ASSIGNAR_CLIENT_ID" in assignar
    assert tenant.env["INTACCT_USER_PASSWORD"] not in output


def test_work_orders_without_an_owner_cannot_run(tenant: Tenant) -> None:
    tenant.config.write_text('timezone = "America/Denver"\n')

    code, output = check(tenant, "--offline")

    assert code == 1
    (line,) = failing(output)
    assert line == (
        "✗ workflow work_orders: work_orders is enabled but cannot run — set workflows.work_orders.owner_user_id "
        "in the configuration"
    )


def test_missing_gl_group(tenant: Tenant) -> None:
    configure(tenant, '[workflows.roles]\ngl_group = "Labour"')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "roles GL group: no item is in GL group 'Labour'" in line and "workflows.roles.gl_group" in line


def test_unknown_department_in_the_filter(tenant: Tenant) -> None:
    department = tenant.intacct.rows("DEPARTMENT")[0]["DEPARTMENTID"]
    configure(tenant, f'[workflows.workers]\ndepartments = ["{department}", "NOPE"]')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "DEPARTMENT has no department 'NOPE' (workflows.workers.departments)" in line
    assert "create department NOPE in Intacct, or correct workflows.workers.departments" in line


def test_unknown_earning_type_in_the_filter(tenant: Tenant) -> None:
    configure(tenant, '[workflows.workers]\nearning_types = ["Hourly Typo"]')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "EMPLOYEE has no earning type 'Hourly Typo'" in line


def test_unknown_position_in_the_filter(tenant: Tenant) -> None:
    configure(tenant, '[workflows.workers.position_roles]\n"Chief Typo" = "LAB-GEN"')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "EMPLOYEE has no position 'Chief Typo' (workflows.workers.position_roles)" in line
    assert "create position Chief Typo in Intacct, or correct workflows.workers.position_roles" in line


def test_missing_equipment_transaction_definition(tenant: Tenant) -> None:
    # Given a company whose purchasing has no "Equipment Usage" definition (the document's default)
    tenant.intacct.po_transaction_definitions.discard("Equipment Usage")

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert (
        "equipment transaction definition: Intacct refused purchasing transaction definition 'Equipment Usage'" in line
    )
    assert "Invalid transaction definition 'Equipment Usage'" in line
    assert "or name an existing one in timesheets.equipment_transaction" in line
    # Still one request of lookups and one of queries
    assert "in 3 requests" in output


def test_another_transaction_definition_is_found(tenant: Tenant) -> None:
    configure(tenant, '[timesheets]\nequipment_transaction = "Purchase Order"')

    code, output = check(tenant)

    assert code == 0, output
    assert "✓ equipment transaction definition: purchasing transaction definition 'Purchase Order' found" in output


def test_missing_vendor(tenant: Tenant) -> None:
    configure(tenant, '[timesheets]\nequipment_vendor = "V-NOPE"')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "VENDOR has no equipment vendor 'V-NOPE' (timesheets.equipment_vendor)" in line


def test_inactive_vendor(tenant: Tenant) -> None:
    vendor = next(row for row in tenant.intacct.rows("VENDOR") if row["VENDORID"] == "V-INTERNAL")
    tenant.intacct.update("VENDOR", vendor["RECORDNO"], {"STATUS": "inactive"})

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "equipment vendor 'V-INTERNAL' is inactive in Intacct" in line and "make equipment vendor" in line


def test_missing_cost_type(tenant: Tenant) -> None:
    configure(tenant, '[timesheets]\nlabor_cost_type = "LABR"')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "COSTTYPE has no cost type 'LABR' (timesheets.labor_cost_type)" in line
    assert 'set timesheets.labor_cost_type = "" to post time without one' in line


def test_equipment_off_does_not_need_the_vendor_or_its_cost_type(tenant: Tenant) -> None:
    configure(tenant, '[timesheets]\nequipment_mode = "off"\nequipment_vendor = "V-NOPE"\nequipment_cost_type = "X"')

    code, output = check(tenant)

    assert code == 0, output
    assert "equipment vendor" not in output
    assert "equipment transaction definition" not in output


def test_a_required_field_the_company_does_not_offer(tmp_path: Path) -> None:
    hidden = replace(STANDARD, name="no-departments", hidden={"EMPLOYEE": frozenset({"DEPARTMENTID"})})
    with emulated_tenant(tmp_path, profile=hidden, employees=12) as tenant:
        configure(tenant, '[workflows.workers]\ndepartments = ["100"]')

        code, output = check(tenant)

    assert code == 1
    line = next(line for line in failing(output) if line.startswith("✗ EMPLOYEE fields"))
    assert "EMPLOYEE.DEPARTMENTID (the department filter)" in line
    assert "remove workflows.workers.departments from the tenant document" in line


def test_an_object_the_user_may_not_read(tmp_path: Path) -> None:
    profile = replace(LEAN, unreadable=frozenset({"EMPLOYEE"}))
    with emulated_tenant(tmp_path, profile=profile, employees=12) as tenant:
        code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert line.startswith("✗ EMPLOYEE read permission") and "permission to list EMPLOYEE" in line


def test_missing_owner_user(tenant: Tenant) -> None:
    tenant.config.write_text('timezone = "America/Denver"\n[workflows.work_orders]\nowner_user_id = 987654\n')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "✗ work order owner: Assignar has no user 987654 (workflows.work_orders.owner_user_id)" in line


def test_inactive_owner_user(tenant: Tenant) -> None:
    (owner,) = tenant.assignar.records("users")
    tenant.assignar.state.update("users", owner["id"], {"active": False})

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "Olive Owner" in line and "is inactive in Assignar" in line


def test_missing_user_type(tenant: Tenant) -> None:
    configure(tenant, '[workflows.workers]\nuser_type = "Foreman"')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "Assignar has no user type 'Foreman'" in line and "Worker" in line


def test_missing_employment_type(tenant: Tenant) -> None:
    configure(tenant, '[workflows.workers]\nemployment_type = "Seasonal"')

    code, output = check(tenant)

    assert code == 1
    (line,) = failing(output)
    assert "Assignar has no employment type 'Seasonal'" in line and "Full Time" in line


def test_refused_assignar_credentials(tenant: Tenant) -> None:
    code, output = check(tenant, ASSIGNAR_CLIENT_SECRET="wrong")

    assert code == 1
    (line,) = failing(output)
    assert line.startswith("✗ Assignar token") and "wrong" not in line.split(":", 1)[1]
    assert "✓ Intacct sign-in" in output


def test_assignar_host_that_does_not_answer(tenant: Tenant) -> None:
    code, output = check(tenant, ASSIGNAR_API_URL="http://127.0.0.1:9/v2")

    assert code == 1
    lines = failing(output)
    assert any(line.startswith("✗ Assignar API host") for line in lines), output


def test_webhook_secret_unset(tenant: Tenant) -> None:
    configure(tenant, "[webhook]\nmax_age_seconds = 300")

    code, output = check(tenant, "--offline", ASSIGNAR_WEBHOOK_SECRET="")

    assert code == 1
    (line,) = failing(output)
    assert "✗ webhook secret" in line and "set ASSIGNAR_WEBHOOK_SECRET" in line


def test_bad_usage_exits_2(tenant: Tenant) -> None:
    code, _ = check(tenant, "--no-such-option")

    assert code == 2
