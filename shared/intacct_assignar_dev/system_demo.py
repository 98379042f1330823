"""The whole serverless system on this machine: both emulators, the stack of `template.yaml` on moto, the real
Lambda handlers, no credentials.

1. Every scheduled pull runs once and the upsert queue drains into Assignar: a construction company arrives.
2. Timesheets are approved in Assignar; each signed webhook reaches the receiver over HTTP, and the push queue
   drains into Intacct: timesheets and equipment usage, exactly once, each marked processed in Assignar.
3. A field supervisor is hired in Intacct: its Smart Event reaches the stack's /intacct-events route over HTTP, the
   targeted puller reads that one record and the upsert consumer writes it, with the latency from change to Assignar.
4. A few records change in Intacct; the incremental pulls run again, and only those changes travel (the hired
   supervisor is read again and found unchanged: the scheduled pull is the safety net, with nothing left to do).
5. The admin's view: `status` of the stack (every workflow's last run, nothing parked) and `reconcile time` of the
   work week (Intacct holds exactly the hours Assignar approved), read as the commands read them.

Each step is checked; the report says per workflow what was fetched, created, updated, left unchanged,
deactivated and failed, the time posted, the API calls per system and the wall time, and lists any problem.
Needs the `demo` extra (moto, aws-sam-translator), which `make demo` installs.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from intacct_assignar.assignar import AssignarClient
from intacct_assignar.aws.stack import find_stack
from intacct_assignar.catalog import FieldCatalog, definition_scope
from intacct_assignar.config import WORKFLOWS, TenantConfig, parse_config_json
from intacct_assignar.inbound.sync import WorkflowSummary
from intacct_assignar.intacct import IntacctClient
from intacct_assignar.outbound.reconcile import IntacctPostedTime, ReconcileReport, TimeReconciler
from intacct_assignar.parked import ParkedWork
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.smart_events import ROUTE_PATH, TOKEN_SETTING, setups
from intacct_assignar.state import DynamoStateStore
from intacct_assignar.status import StatusReport, build_status
from pydantic import SecretStr

from .emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from .emulators.assignar.emulator import WebhookConfig
from .emulators.http_api import LocalHttpApi
from .emulators.intacct import IntacctEmulator, IntacctStore, SmartEventCallouts, generate_company
from .local_aws import LocalStack, Schedule

Progress = Callable[[str], None]


def work_day() -> date:
    """The day the demo's timesheets are worked: yesterday."""
    return date.today() - timedelta(days=1)


ZONE = "America/Denver"
WEBHOOK_PATH = "/webhooks/assignar"
# Assignar's name for each workflow's records.
RESOURCE = {
    "clients": "clients",
    "projects": "projects",
    "work_orders": "orders",
    "activities": "activities",
    "roles": "tasks",
    "assets": "assets",
    "workers": "users",
}
SOURCE_OF = {
    "clients": "CUSTOMER",
    "projects": "PROJECT",
    "work_orders": "TASK",
    "activities": "STANDARDTASK",
    "roles": "ITEM",
    "assets": "ITEM",
    "workers": "EMPLOYEE",
}


@dataclass
class Phase:
    name: str
    workflows: dict[str, WorkflowSummary]
    intacct_transactions: int
    assignar_calls: int
    seconds: float


@dataclass
class TimeReport:
    approved: int = 0
    # Approved with no webhook: the approval watcher found it on its next look.
    by_watcher: int = 0
    timesheets_posted: int = 0
    equipment_transactions: int = 0
    processed_in_assignar: int = 0
    parked: int = 0
    intacct_transactions: int = 0
    assignar_calls: int = 0
    seconds: float = 0.0


@dataclass
class SmartEventReport:
    """One change in Intacct carried by its Smart Event: the receiver's answer and the time to Assignar."""

    object_name: str = ""
    record: str = ""
    answered: int = 0  # the HTTP status the route answered Intacct's notice with
    arrived: bool = False  # the record is in Assignar, as Intacct has it now
    latency_s: float = 0.0  # from the change in Intacct to the record written in Assignar
    intacct_transactions: int = 0
    assignar_calls: int = 0


@dataclass
class SystemDemoReport:
    company: dict[str, int]
    phases: list[Phase]
    time: TimeReport
    wall_time_s: float
    problems: list[str] = field(default_factory=list)
    smart_event: SmartEventReport | None = None
    # What `intacct-assignar status --stack` and `reconcile time --stack` would show at the end.
    status: StatusReport | None = None
    reconcile: ReconcileReport | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        data = asdict(replace(self, status=None, reconcile=None))
        data["ok"] = self.ok
        data["status"] = self.status.as_dict() if self.status else None
        data["reconcile"] = self.reconcile.as_dict() if self.reconcile else None
        return data


@contextmanager
def _local_aws_environment() -> Iterator[None]:
    """Fake AWS credentials for moto, quiet function logs (the demo prints its own progress), and no metrics: the
    functions run in the CLI's process, where EMF lines would land in the demo's own output."""
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_system_demo(
    *, employees: int = 200, seed: int = 7, progress: Progress | None = None, step: Progress | None = None
) -> SystemDemoReport:
    """`progress` hears each step once it is done (the demo's log lines); `step` each step as it starts (the
    spinner's words, so a slow step is named while it runs)."""
    from aws_lambda_powertools.utilities import parameters
    from intacct_assignar.runtime import Runtime
    from moto import mock_aws

    say = progress or (lambda _message: None)
    doing = step or (lambda _message: None)
    started = time.perf_counter()
    doing(f"Seeding an Intacct company of {employees} employees")
    store = IntacctStore(timezone=ZONE)
    company = generate_company(store, employees=employees, seed=seed)
    say(f"Seeded an Intacct company of {employees} employees")
    webhook_secret = "demo-webhook-secret"  # noqa: S105  # the emulated tenant's, known to both emulated sides
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
    Runtime.reset()
    with (
        _local_aws_environment(),
        mock_aws(),
        IntacctEmulator(store) as intacct,
        AssignarEmulator(seed=seed) as assignar,
    ):
        doing("Standing up the stack of template.yaml on moto")
        owner = assignar.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
        tenant = {"timezone": ZONE, "workflows": {"work_orders": {"owner_user_id": owner["id"]}}}
        tenant_config = parse_config_json(json.dumps(tenant), "the demo's tenant")
        stack = LocalStack.create(
            {
                # No Smart Event token: the stack generates its own, in a secret only the receiver may read.
                "IntacctSecretArn": intacct.settings_env(),
                "AssignarSecretArn": assignar.settings_env(ASSIGNAR_WEBHOOK_SECRET=webhook_secret),
            },
            parameters={"TenantId": "demo", "TenantConfig": json.dumps(tenant)},
            environment={"POWERTOOLS_LOG_LEVEL": "ERROR"},
        )
        say(
            f"Stood up the stack on moto: {len(stack.queues)} queues, {len(stack.tables)} tables, "
            f"{len(stack.functions)} functions, {len(stack.schedules)} schedules"
        )
        demo = _Demo(stack, store, intacct, assignar, say, doing)
        report = SystemDemoReport(company=company, phases=[], time=TimeReport(), wall_time_s=0.0)
        report.phases.append(demo.pull_phase("initial sync"))
        with LocalHttpApi(stack.handler_for_route(f"POST {WEBHOOK_PATH}"), path=WEBHOOK_PATH) as api:
            assignar.webhook = WebhookConfig(url=api.endpoint, secret=SecretStr(webhook_secret))
            report.time = demo.approvals(max(5, employees // 20))
        events_token = str(stack.secret_settings("IntacctEventsTokenSecret")[TOKEN_SETTING])
        report.smart_event = demo.smart_event(tenant_config, events_token)
        changed = demo.change_intacct()
        report.phases.append(demo.pull_phase("after changes in Intacct"))
        doing("The admin's view: status of the stack")
        report.status = demo.status(tenant_config)
        doing("The admin's view: reconciling the work week's time")
        report.reconcile = demo.reconcile(tenant_config)
        say("Read the stack's status and reconciled the work week's time")
        report.problems = demo.problems + _check(report, changed)
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
    Runtime.reset()
    report.wall_time_s = time.perf_counter() - started
    return report


class _Demo:
    def __init__(
        self,
        stack: LocalStack,
        store: IntacctStore,
        intacct: IntacctEmulator,
        assignar: AssignarEmulator,
        say: Progress,
        doing: Progress,
    ) -> None:
        self.stack = stack
        self.store = store
        self.intacct = intacct
        self.assignar = assignar
        self.say = say
        self.doing = doing
        self.problems: list[str] = []
        self._parked_seen = 0

    def _snapshot(self) -> dict[str, dict[int, tuple[Any, bool]]]:
        return {
            workflow: {
                int(r["id"]): (r.get("modified_time"), bool(r.get("active", True)))
                for r in self.assignar.records(resource)
                if str(r.get("integration_id") or "").startswith("intacct:")
            }
            for workflow, resource in RESOURCE.items()
        }

    def pull_phase(self, name: str) -> Phase:
        started = time.perf_counter()
        transactions, calls = self.intacct.stats.api_transactions, len(self.assignar.request_log)
        before, parked_before = self._snapshot(), self._parked_by_workflow()
        counts: dict[str, WorkflowSummary] = {workflow: WorkflowSummary() for workflow in WORKFLOWS}
        sent: dict[str, int] = dict.fromkeys(WORKFLOWS, 0)  # messages the pulls queued: records, deactivations
        fetched: dict[str, int] = {}
        pulls = [s for s in self.stack.schedules if s.function == "SyncPullerFunction" and not s.payload["full"]]
        for schedule in pulls:
            self.doing(f"{name}: pulling {schedule.payload['entity']} from Intacct")
            summary = self._invoke(schedule)
            fetched[summary["source"]] = summary["fetched"]
            for workflow, number in (*summary["published"].items(), *summary["deactivations"].items()):
                sent[workflow] += number
            self.say(f"{name}: pulled {summary['entity']} ({summary['fetched']} read from Intacct)")
        [upserts] = [e for e in self.stack.event_sources if e.queue == "UpsertQueue"]
        self.doing(f"{name}: the upsert consumer is applying the queued records to Assignar")
        delivered = self.stack.pump(upserts)
        self.say(f"{name}: upsert consumer applied {delivered} messages to Assignar")
        # Counted from the outside: what Assignar holds now against what it held before the phase.
        after = self._snapshot()
        for workflow in WORKFLOWS:
            row = counts[workflow]
            row.fetched = fetched.get(SOURCE_OF[workflow], 0)
            old, new = before[workflow], after[workflow]
            row.created = sum(1 for i in new if i not in old)
            row.deactivated = sum(1 for i, (_, active) in new.items() if i in old and old[i][1] and not active)
            row.updated = sum(
                1 for i, (stamp, active) in new.items() if i in old and stamp != old[i][0] and (active or not old[i][1])
            )
        parked = self._parked_by_workflow()
        for workflow, row in counts.items():
            row.failed = parked.get(workflow, 0) - parked_before.get(workflow, 0)
            row.unchanged = max(0, sent[workflow] - row.created - row.updated - row.deactivated - row.failed)
        return Phase(
            name,
            counts,
            self.intacct.stats.api_transactions - transactions,
            len(self.assignar.request_log) - calls,
            time.perf_counter() - started,
        )

    def _parked_by_workflow(self) -> Counter[str]:
        """Records parked on the dead-letter queue so far, by workflow (the queue keeps them for people)."""
        return Counter(json.loads(body).get("workflow") for body, _ in self.stack.messages("UpsertDeadLetterQueue"))

    def _invoke(self, schedule: Schedule) -> dict[str, Any]:
        summary: dict[str, Any] = self.stack.invoke_schedule(schedule)
        if summary.get("problems"):
            self.problems.extend(f"pull {summary['entity']}: {p}" for p in summary["problems"])
        return summary

    def approvals(self, count: int) -> TimeReport:
        started = time.perf_counter()
        transactions, calls = self.intacct.stats.api_transactions, len(self.assignar.request_log)
        sheets_before, pos_before = len(self.store.records("TIMESHEET")), len(self.store.records("PODOCUMENT"))
        workers = [w for w in self.assignar.records("users") if w.get("employee_id") and w.get("active")]
        orders = [o for o in self.assignar.records("orders") if o.get("active")]
        roles = [r["id"] for r in self.assignar.records("tasks") if r.get("active")]
        activities = [a["id"] for a in self.assignar.records("activities") if a.get("active")]
        assets = [a["id"] for a in self.assignar.records("assets") if a.get("active")]
        day = work_day()
        # The watcher's first look is a full pass (nothing approved yet); the one after the approvals looks only at
        # what changed since, as it does every minute once deployed.
        [watcher] = [s for s in self.stack.schedules if s.function == "TimesheetSweepFunction"]
        self.stack.invoke_schedule(watcher)
        self.doing(f"Entering and approving {count} timesheets in Assignar (each approval sends a webhook)")
        ids: list[int] = []
        for number in range(count):
            order = orders[number % len(orders)]
            ids.append(
                self.assignar.create_timesheet(
                    worker_id=workers[number % len(workers)]["id"],
                    project_id=order["project_id"],
                    work_order_id=order["id"],
                    role_id=roles[number % len(roles)] if roles else None,
                    work_date=day,
                    labor=[
                        LaborEntry(activities[number % len(activities)], 240),
                        LaborEntry(activities[(number + 1) % len(activities)], 210),
                    ],
                    equipment=[EquipmentEntry(assets[number % len(assets)], 180)] if assets and number % 3 else [],
                )
            )
        refused = 0
        # The last one is approved with no webhook, as for a tenant without a sender: the watcher must find it.
        *by_webhook, quiet = ids
        for timesheet_id in by_webhook:
            delivery = self.assignar.approve_timesheet(timesheet_id)
            if delivery is None or delivery.status_code != 202:
                refused += 1
        if refused:
            self.problems.append(f"{refused} approval webhooks were not accepted")
        self.say(f"Approved {len(by_webhook)} timesheets in Assignar; their webhooks were accepted")
        [pushes] = [e for e in self.stack.event_sources if e.queue == "PushQueue"]
        self.doing("The push consumer is posting the approved timesheets to Intacct")
        self.stack.pump(pushes)
        self.assignar.approve_timesheet(quiet, notify=False)
        self.doing("The approval watcher looks for approvals no webhook announced")
        looked = self.stack.invoke_schedule(watcher)
        self.stack.pump(pushes)
        self.say(
            f"Approved 1 more with no webhook: the approval watcher's {looked['pass']} look queued {looked['queued']}"
        )
        report = TimeReport(
            approved=count,
            by_watcher=looked["queued"],
            timesheets_posted=len(self.store.records("TIMESHEET")) - sheets_before,
            equipment_transactions=len(self.store.records("PODOCUMENT")) - pos_before,
            processed_in_assignar=sum(1 for i in ids if self.assignar.state.get_timesheet(i).get("processed_at")),
            parked=len(self.stack.messages("PushDeadLetterQueue")),
            intacct_transactions=self.intacct.stats.api_transactions - transactions,
            assignar_calls=len(self.assignar.request_log) - calls,
            seconds=time.perf_counter() - started,
        )
        self.say(
            f"Push consumer posted {report.timesheets_posted} timesheets and {report.equipment_transactions} "
            "equipment transactions to Intacct"
        )
        return report

    def smart_event(self, tenant: TenantConfig, token: str) -> SmartEventReport:
        """A supervisor hired in Intacct, carried to Assignar by the Smart Event `smart-events print` describes."""
        self.doing("A field supervisor is hired in Intacct; its Smart Event reaches the stack")
        transactions, calls = self.intacct.stats.api_transactions, len(self.assignar.request_log)
        [notices] = [e for e in self.stack.event_sources if e.queue == "EventQueue"]
        [upserts] = [e for e in self.stack.event_sources if e.queue == "UpsertQueue"]
        route = self.stack.handler_for_route(f"POST {ROUTE_PATH}")
        with (
            LocalHttpApi(route, path=ROUTE_PATH, function_name="smart-event-receiver") as api,
            SmartEventCallouts(self.store, setups(tenant, api.endpoint, token)) as callouts,
        ):
            started = time.perf_counter()
            hired = self._hire()
            self.stack.pump(notices)
            self.stack.pump(upserts)
            latency = time.perf_counter() - started
        employee_id = str(hired["EMPLOYEEID"])
        arrived = any(w.get("employee_id") == employee_id and w.get("active") for w in self.assignar.records("users"))
        report = SmartEventReport(
            "EMPLOYEE",
            employee_id,
            answered=callouts.deliveries[-1].status if callouts.deliveries else 0,
            arrived=arrived,
            latency_s=latency,
            intacct_transactions=self.intacct.stats.api_transactions - transactions,
            assignar_calls=len(self.assignar.request_log) - calls,
        )
        self.say(
            f"Hired {employee_id} in Intacct: its Smart Event was answered {report.answered}, and the worker was in "
            f"Assignar {latency:.2f} s after the change"
        )
        return report

    def _hire(self) -> dict[str, Any]:
        """A new field supervisor, as HR enters one: like an active field worker, with a name and ID of their own."""
        like = next(e for e in self.store.records("EMPLOYEE") if e.get("STATUS") == "active" and not e.get("ENDDATE"))
        keep = ("DEPARTMENTID", "LOCATIONID", "EMPLOYEETYPE", "EARNINGTYPENAME", "EMPPOSITIONID")
        return dict(
            self.store.create(
                "EMPLOYEE",
                {
                    **{name: like[name] for name in keep if like.get(name) is not None},
                    "EMPLOYEEID": "E-DEMO-HIRE",
                    "TITLE": "Field Supervisor",
                    "CONTACT.CONTACTNAME": "Rivera, Dana (E-DEMO-HIRE)",
                    "CONTACT.PRINTAS": "Dana Rivera",
                    "CONTACT.FIRSTNAME": "Dana",
                    "CONTACT.LASTNAME": "Rivera",
                    "CONTACT.EMAIL1": "dana.rivera@example.com",
                    "STARTDATE": date.today(),
                    "STATUS": "active",
                },
            )
        )

    def status(self, tenant: TenantConfig) -> StatusReport:
        """What `intacct-assignar status --stack NAME` reads: the stack's table and its two dead-letter queues."""
        stack = find_stack(self.stack.name)
        store = DynamoStateStore(self.stack.tables["StateTable"])
        return build_status(store, tenant, parked=ParkedWork(store, stack.dead_letter_queues()).list())

    def reconcile(self, tenant: TenantConfig) -> ReconcileReport:
        """What `intacct-assignar reconcile time --from ... --to ... --stack NAME` finds for the work week."""
        intacct = IntacctClient(IntacctSettings.model_validate(self.intacct.settings_env()), timezone=tenant.zone)
        store = DynamoStateStore(self.stack.tables["StateTable"])
        with AssignarClient(self.assignar.settings(), requests_per_second=None) as assignar:
            catalog = FieldCatalog(intacct, store, scope=definition_scope(intacct.settings))
            posted = IntacctPostedTime(intacct, catalog, tenant.timesheets)
            day = work_day()
            return TimeReconciler(assignar, posted, store, tenant.timesheets).reconcile(day - timedelta(days=6), day)

    def change_intacct(self) -> dict[str, int]:
        """A few edits as the accountants make them: what the next pulls must carry, per workflow."""
        customer = self.store.records("CUSTOMER")[0]
        self.store.update("CUSTOMER", customer["RECORDNO"], {"NAME": f"{customer['NAME']} (renamed)"})
        self.store.create("CUSTOMER", {"CUSTOMERID": "C-DEMO-NEW", "NAME": "Front Range Water District"})
        worker = next(e for e in self.store.records("EMPLOYEE") if e.get("STATUS") == "active")
        self.store.update("EMPLOYEE", worker["RECORDNO"], {"CONTACT.CELLPHONE": "(303) 555-0199"})
        self.say("Changed Intacct: renamed a customer, added one, changed a worker's mobile number")
        return {"clients": 2, "workers": 1}


def _check(report: SystemDemoReport, changed: dict[str, int]) -> list[str]:
    problems: list[str] = []
    initial, later = report.phases[0], report.phases[1]
    for workflow, row in initial.workflows.items():
        if row.failed:
            problems.append(f"initial sync: {row.failed} {workflow} records failed")
        if row.fetched and not row.created:
            problems.append(f"initial sync: no {workflow} reached Assignar")
    time_report = report.time
    if time_report.timesheets_posted != time_report.approved:
        problems.append(
            f"{time_report.approved} timesheets approved but {time_report.timesheets_posted} posted to Intacct"
        )
    if time_report.processed_in_assignar != time_report.approved:
        problems.append(f"{time_report.processed_in_assignar} of {time_report.approved} timesheets marked processed")
    if time_report.parked:
        problems.append(f"{time_report.parked} timesheets were parked")
    if time_report.by_watcher != 1:  # only the one approved without a webhook: the others were posted already
        problems.append(f"the approval watcher queued {time_report.by_watcher} timesheets approved without a webhook")
    event = report.smart_event
    if event is not None and (event.answered != 202 or not event.arrived):
        problems.append(f"the Smart Event for {event.record} was answered {event.answered}, arrived: {event.arrived}")
    if report.status is not None and not report.status.ok:
        problems.extend(f"status: {problem}" for problem in report.status.problems)
    if report.reconcile is not None and not report.reconcile.clean:
        off = {
            status: len(report.reconcile.of(status)) for status in ("missing_in_intacct", "extra_in_intacct", "differs")
        }
        problems.append(f"reconcile time found Intacct off: {off}")
    for workflow, row in later.workflows.items():
        expected = changed.get(workflow, 0)
        written = row.created + row.updated + row.deactivated
        if written != expected:
            problems.append(f"after changes: {written} {workflow} written to Assignar, expected {expected}")
    return problems
