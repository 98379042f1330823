"""`sync` against companies that differ, over HTTP: a lean one without the optional fields, a rich one with
custom fields, a Web Services user without permission on one object, a field that goes away after it was
cached, and an object whose reads keep failing. Each difference costs one workflow at most, and says so."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from intacct_assignar.assignar import AssignarClient
from intacct_assignar.catalog import definition_scope
from intacct_assignar.config import WORKFLOWS, load_config
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.sync import InProcessQueue, run_sync
from intacct_assignar.inbound.upsert import UpsertService
from intacct_assignar.intacct import IntacctClient, MemorySessionCache, RetryPolicy
from intacct_assignar.intacct.filters import in_
from intacct_assignar.intacct.xmlcodec import parse_xml
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.sources import CUSTOMERS, STANDARD_TASKS, FieldNeed, IntacctSource
from intacct_assignar.state import CachedDefinition, SqliteStateStore
from intacct_assignar_dev.emulators.intacct import (
    LEAN,
    RICH,
    STANDARD,
    CompanyProfile,
    IntacctEmulator,
    IntacctStore,
)

from ..tenant import ZONE, Tenant, emulated_tenant


def sync(tenant: Tenant, *args: str) -> tuple[int, dict[str, Any]]:
    """`sync --json`: the summary is all there is on stdout."""
    result = tenant.cli("sync", "--json", *args)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def sync_text(tenant: Tenant, *args: str) -> tuple[int, str]:
    code, output = tenant.run("sync", *args)
    assert "Traceback" not in output, output
    return code, output


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env or intacct-assignar.toml from the repository


def test_a_lean_company_syncs_every_workflow_and_names_each_missing_field_once(tmp_path: Path) -> None:
    # Given a company whose EMPLOYEE lacks CONTACT.CELLPHONE and addresses, and whose PROJECT names no ship-to
    with emulated_tenant(tmp_path, profile=LEAN) as lean:
        # When it is synced
        code, summary = sync(lean)

        # Then every workflow ran to the end and wrote its records
        assert code == 0, summary
        assert {name: w["outcome"] for name, w in summary["workflows"].items()} == dict.fromkeys(WORKFLOWS, "ok")
        assert all(w["created"] > 0 for w in summary["workflows"].values())
        # And each field the company lacks is listed once, with what it is for
        missing = summary["missing_fields"]
        assert len(missing) == len(set(missing))
        assert "EMPLOYEE.CONTACT.CELLPHONE (the worker's mobile)" in missing
        assert "PROJECT.SHIPTO.CONTACTNAME (the job-site address, from the project's ship-to contact)" in missing
        assert "TASK.PBEGINDATE, PENDDATE (the work order's planned dates)" in missing
        # And nothing was asked of Intacct that it does not offer (a refusal would have failed a workflow)
        assert lean.gateway.stats.functions["lookup"] > 0

        # And the people's summary says the same, once
        code, text = sync_text(lean, "--full")
        assert code == 0, text
        assert text.count("EMPLOYEE.CONTACT.CELLPHONE") == 1


def test_a_lean_companys_projects_keep_the_address_typed_into_assignar(tmp_path: Path) -> None:
    # Given a lean company synced once, and an address typed into an Assignar project by hand
    with emulated_tenant(tmp_path, profile=LEAN) as lean:
        assert sync(lean)[0] == 0
        project = next(p for p in lean.assignar.records("projects") if p.get("active") in (True, 1))
        by_hand = AssignarClient(lean.assignar.settings(), requests_per_second=None)
        by_hand.projects.update(project["id"], {"address": "14 Site Rd, Denver"})

        # When a full sync compares every record with Assignar
        code, summary = sync(lean, "--full")

        # Then the address Intacct cannot tell about was left as it is
        assert code == 0, summary
        assert next(p for p in lean.assignar.records("projects") if p["id"] == project["id"])["address"] == (
            "14 Site Rd, Denver"
        )


def test_a_rich_company_with_custom_fields_syncs_and_projects_get_the_ship_to_contacts_address(
    tmp_path: Path,
) -> None:
    # Given a company with custom fields on PROJECT, EMPLOYEE and ITEM
    with emulated_tenant(tmp_path, profile=RICH) as rich:
        # When it is synced
        code, summary = sync(rich)

        # Then everything went through, nothing was missing, and each project's address is its ship-to contact's
        assert code == 0, summary
        assert summary["missing_fields"] == []
        contacts = {c["CONTACTNAME"]: c for c in rich.intacct.records("CONTACT")}
        synced = {p["external_id"]: p for p in rich.assignar.records("projects")}
        checked = 0
        for project in rich.intacct.records("PROJECT"):
            if project["STATUS"] != "active" or not project.get("SHIPTO.CONTACTNAME"):
                continue
            contact = contacts[project["SHIPTO.CONTACTNAME"]]
            assignar = synced[project["PROJECTID"]]
            assert assignar["suburb"] == contact["MAILADDRESS.CITY"]
            assert assignar["postcode"] == contact["MAILADDRESS.ZIP"]
            assert assignar["address"].startswith(contact["MAILADDRESS.ADDRESS1"])
            checked += 1
        assert checked > 0


def test_a_user_without_permission_on_one_object_fails_that_workflow_only(tmp_path: Path) -> None:
    # Given a Web Services user who may not list employees
    with emulated_tenant(
        tmp_path, profile=dataclasses.replace(STANDARD, unreadable=frozenset({"EMPLOYEE"}))
    ) as limited:
        # When it is synced
        code, summary = sync(limited)

        # Then workers failed with Intacct's errorno and words, every other workflow wrote its records, exit 1
        assert code == 1
        workers = summary["workflows"].pop("workers")
        assert workers["outcome"] == "failed"
        assert workers["error"]["errorno"] == "Permission Denied"
        assert (
            "You do not have permission for API operation query on objects of type EMPLOYEE"
            in (workers["error"]["message"])
        )
        assert all(w["outcome"] == "ok" and w["created"] > 0 for w in summary["workflows"].values())
        assert limited.assignar.records("clients") and limited.assignar.records("tasks")

        # And for people: one line for the workflow, no traceback
        code, text = sync_text(limited)
        assert code == 1
        assert "workers failed: Intacct refused query: Permission Denied" in text


def test_a_required_field_the_company_does_not_offer_fails_the_workflow_naming_it(tmp_path: Path) -> None:
    # Given a company whose EMPLOYEE offers no first names (Assignar requires one)
    profile = CompanyProfile("no-first-names", hidden={"EMPLOYEE": frozenset({"CONTACT.FIRSTNAME"})})
    with emulated_tenant(tmp_path, profile=profile) as odd:
        # When synced
        code, summary = sync(odd)

        # Then workers did not run (nothing read from EMPLOYEE), saying which field and what to do; the rest ran
        assert code == 1
        error = summary["workflows"]["workers"]["error"]
        assert "EMPLOYEE.CONTACT.FIRSTNAME (the worker's name)" in error["message"]
        assert "give the Web Services user permission" in error["message"]
        assert summary["workflows"]["clients"]["outcome"] == "ok"


def test_a_field_that_went_away_after_it_was_cached_is_asked_about_again_at_once(tmp_path: Path) -> None:
    # Given a lean company, and a state store whose cached EMPLOYEE definition (from before the company changed)
    # still lists the mobile
    with emulated_tenant(tmp_path, profile=LEAN) as lean:
        with IntacctClient(IntacctSettings.model_validate(lean.env), timezone=ZONE) as client:
            with IntacctEmulator(IntacctStore(timezone=ZONE, profile=STANDARD)) as before:
                standard = IntacctClient(IntacctSettings.model_validate(before.settings_env()), timezone=ZONE)
                stale = standard.lookup("EMPLOYEE")
            key = f"EMPLOYEE|{definition_scope(client.settings)}"
        with SqliteStateStore(lean.state) as state:
            state.put_definition(CachedDefinition(key, stale.to_json(), datetime.now(UTC)))
        assert "CONTACT.CELLPHONE" in stale.fields

        # When it is synced
        code, summary = sync(lean)

        # Then Intacct refused the list once, EMPLOYEE was looked up again, and workers went through without it
        assert code == 0, summary
        assert summary["workflows"]["workers"]["created"] > 0
        assert "EMPLOYEE.CONTACT.CELLPHONE (the worker's mobile)" in summary["missing_fields"]
        with SqliteStateStore(lean.state) as state:
            cached = state.get_definition(key)
        assert cached is not None and "CONTACT.CELLPHONE" not in cached.body


def test_once_cached_a_run_asks_no_lookup(tmp_path: Path) -> None:
    # Given a company synced once (its definitions are now in the state file)
    with emulated_tenant(tmp_path, profile=STANDARD) as standard:
        code, first = sync(standard)
        assert code == 0 and first["api_calls"]["intacct_lookups"] >= 7

        # When the next run comes (a new process: only the state file remembers)
        code, again = sync(standard)

        # Then it reads no definition again
        assert code == 0
        assert again["api_calls"]["intacct_lookups"] == 0


class _FailingQueriesOf(httpx.BaseTransport):
    """Passes everything to the emulator except queries of one object, which always get HTTP 503."""

    def __init__(self, object_name: str) -> None:
        self.object_name = object_name
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        document = parse_xml(request.read())
        content = document["request"]["operation"]["content"]
        functions = content["function"] if isinstance(content["function"], list) else [content["function"]]
        if any((f.get("query") or {}).get("object") == self.object_name for f in functions):
            return httpx.Response(503, text="Service Unavailable")
        return self.inner.handle_request(request)


def test_an_object_whose_reads_keep_failing_costs_its_workflow_not_the_run(tmp_path: Path) -> None:
    # Given a gateway that fails every query of STANDARDTASK, whatever the number of tries
    with emulated_tenant(tmp_path, profile=STANDARD) as standard, SqliteStateStore(standard.state) as state:
        config = load_config(standard.config)
        intacct = IntacctClient(
            IntacctSettings.model_validate(standard.env),
            timezone=ZONE,
            http=httpx.Client(transport=_FailingQueriesOf("STANDARDTASK")),
            sessions=MemorySessionCache(),
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.01),
        )
        assignar = AssignarClient(standard.assignar.settings(), requests_per_second=None)
        pull = PullService(intacct, state, InProcessQueue(), config)

        # When everything is synced
        summary = run_sync(pull, UpsertService(assignar, state, config))

        # Then activities failed, saying where and how often it tried; every other workflow wrote its records
        activities = summary.workflows.pop("activities")
        assert activities.outcome == "failed" and activities.error is not None
        assert "did not answer usably after 3 tries" in activities.error.message
        assert all(w.outcome == "ok" and w.created > 0 for w in summary.workflows.values())
        # And the failed source keeps its watermark, so the next run reads it from where it was
        assert state.get_watermark(pull.progress_key(STANDARD_TASKS)) is None
        assert state.get_watermark(pull.progress_key(CUSTOMERS)) is not None


def test_a_field_lookup_lists_but_query_refuses_is_left_out_and_the_read_goes_on(tmp_path: Path) -> None:
    # Given a company whose PROJECT lookup lists the ship-to relationship to CONTACT (so SHIPTO.MAILADDRESS.CITY
    # looks selectable), and a gateway that refuses to select through it, as the one in the review did
    with emulated_tenant(tmp_path, profile=STANDARD) as standard, SqliteStateStore(standard.state) as state:
        intacct = IntacctClient(IntacctSettings.model_validate(standard.env), timezone=ZONE)
        pull = PullService(intacct, state, InProcessQueue(), load_config(standard.config))
        wanted = IntacctSource(
            "PROJECT",
            (
                FieldNeed("RECORDNO", "key", required=True),
                FieldNeed("PROJECTID", "key", required=True),
                FieldNeed("SHIPTO.MAILADDRESS.CITY", "the job-site city"),
            ),
            (),
        )
        assert pull.catalog.offers("PROJECT", "SHIPTO.MAILADDRESS.CITY")

        # When it is read
        result, selection = pull._query(wanted, in_("PROJECTID", ["P-NONE", "P-OTHER"]))

        # Then PROJECT was looked up again at once, and as it still lists what query refused, the read went on
        # without the field, which is listed as missing
        assert result.ok
        assert selection.fields == ("RECORDNO", "PROJECTID")
        assert selection.describe_missing() == ["PROJECT.SHIPTO.MAILADDRESS.CITY (the job-site city)"]
        assert standard.gateway.stats.functions["query"] == 2  # refused, then read without it
        assert intacct.counters.by_function["lookup"] == 4  # PROJECT and CONTACT, then both again


class _FailingWritesOf(httpx.BaseTransport):
    """Passes everything to the Assignar emulator except updates of the first record of one resource it sees,
    which always get HTTP 503 (one record failing, not Assignar down)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.failing: str | None = None
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and f"/{self.path}/" in request.url.path:
            self.failing = self.failing or request.url.path
            if request.url.path == self.failing:
                return httpx.Response(503, text="Service Unavailable")
        return self.inner.handle_request(request)


def run(
    co: Tenant,
    state: SqliteStateStore,
    *,
    hours: float = 0,
    intacct: httpx.BaseTransport | None = None,
    assignar: httpx.BaseTransport | None = None,
) -> tuple[PullService, Any]:
    """One `sync` as the CLI runs it (a new process each time: only the state file remembers), `hours` later."""
    quick = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    client = IntacctClient(
        IntacctSettings.model_validate(co.env),
        timezone=ZONE,
        sessions=MemorySessionCache(),
        retry=quick,
        http=httpx.Client(transport=intacct) if intacct is not None else None,
    )
    writer = AssignarClient(co.assignar.settings(), requests_per_second=None, transport=assignar, retry=quick)
    config = load_config(co.config)
    now = datetime.now(UTC) + timedelta(hours=hours)
    pull = PullService(client, state, InProcessQueue(), config, clock=lambda: now)
    return pull, run_sync(pull, UpsertService(writer, state, config, clock=lambda: now))


def orders_of(co: Tenant, project_id: str) -> list[Any]:
    project = next(p for p in co.assignar.records("projects") if p["external_id"] == project_id)
    return [o["active"] for o in co.assignar.records("orders") if o.get("project_id") == project["id"]]


@pytest.mark.parametrize("failing", ["TASK", "assignar orders"])
def test_a_project_change_whose_work_orders_could_not_follow_is_read_again(tmp_path: Path, failing: str) -> None:
    # Given a synced company, then a project made inactive in Intacct (its work orders must follow)
    with emulated_tenant(tmp_path, profile=STANDARD) as co, SqliteStateStore(co.state) as state:
        assert run(co, state)[1].ok
        project = next(p for p in co.intacct.records("PROJECT") if p["STATUS"] == "active" and orders_of_task(co, p))
        co.intacct.update("PROJECT", project["RECORDNO"], {"STATUS": "inactive"})

        # When the next run cannot read the project's tasks (Intacct not answering), or cannot write the orders
        # (Assignar not answering)
        if failing == "TASK":
            _, summary = run(co, state, hours=5, intacct=_FailingQueriesOf("TASK"))
        else:
            _, summary = run(co, state, hours=5, assignar=_FailingWritesOf("orders"))
        assert not summary.ok
        assert summary.workflows["work_orders"].outcome == "failed"

        # Then the project change was not taken as done: a run long after (the edit now far outside the
        # lookback window of a watermark that had moved) still reads it, and the orders follow their project
        _, summary = run(co, state, hours=30)
        assert summary.ok, summary.failures
        assert orders_of(co, project["PROJECTID"]) and not any(orders_of(co, project["PROJECTID"]))


def orders_of_task(co: Tenant, project: dict[str, Any]) -> bool:
    return any(t["PROJECTID"] == project["PROJECTID"] and t["STATUS"] == "active" for t in co.intacct.records("TASK"))


def test_a_field_the_company_starts_offering_reaches_every_record(tmp_path: Path) -> None:
    # Given a company synced while it did not offer the workers' mobiles
    with emulated_tenant(tmp_path, profile=STANDARD) as co, SqliteStateStore(co.state) as state:
        co.intacct.objects = LEAN.objects()
        _, summary = run(co, state)
        assert "EMPLOYEE.CONTACT.CELLPHONE (the worker's mobile)" in summary.missing_fields

        # When the admin gives the Web Services user the permission, and the definitions are next read
        co.intacct.objects = STANDARD.objects()
        _, summary = run(co, state, hours=25)

        # Then every worker's mobile reaches Assignar, not only those of workers edited since
        assert summary.ok and summary.missing_fields == []
        users = {u.get("employee_id"): u for u in co.assignar.records("users")}
        mobiles = {
            e["EMPLOYEEID"]: e["CONTACT.CELLPHONE"] for e in co.intacct.records("EMPLOYEE") if e["STATUS"] == "active"
        }
        with_mobile = [employee_id for employee_id, mobile in mobiles.items() if mobile and employee_id in users]
        assert with_mobile
        assert all(users[employee_id]["contact"] == mobiles[employee_id] for employee_id in with_mobile)
