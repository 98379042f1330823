"""Benchmark: `reconcile time` for a week of 1,000 workers.

Setup (not timed): a company synced into Assignar by the real inbound sync; each of `--workers` workers has an
approved timesheet Monday to Friday (two activity entries, an asset entry every other day), and each is in
Intacct as the push writes it: its own documents (`plan`), the first posted by the push itself (which also learns
where purchasing transactions keep the marker), the rest sent 100 functions a request to keep the setup short,
each recorded posted in the ledger and marked processed in Assignar.

Timed, with emulated latency (Intacct `--intacct-ms` a call, one request at a time per company; Assignar
`--assignar-ms` a call), each with a fresh Intacct session as a CLI run has:
(a) `--runs` reconciles of the week, all matched;
(b) after `--damage` timesheets deleted and as many entries' hours changed by hand in Intacct, a reconcile, a
    `--repair`, and the reconcile after it.
Prints wall time, Intacct HTTP requests and API transactions (with the `lookup`s among them) and Assignar calls.

    .venv/bin/python benchmarks/reconcile_week.py
    .venv/bin/python benchmarks/reconcile_week.py --workers 1000 --intacct-ms 250 --assignar-ms 80 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from intacct_assignar.assignar import AssignarClient
from intacct_assignar.assignar.models import Timesheet
from intacct_assignar.catalog import FieldCatalog, definition_scope
from intacct_assignar.config import TenantConfig, parse_config
from intacct_assignar.inbound.pull import PullService
from intacct_assignar.inbound.sync import InProcessQueue, run_sync
from intacct_assignar.inbound.upsert import UpsertService
from intacct_assignar.intacct import IntacctClient, MemorySessionCache, protocol
from intacct_assignar.intacct.values import to_text
from intacct_assignar.outbound.documents import controlid
from intacct_assignar.outbound.plan import plan
from intacct_assignar.outbound.push import PushService
from intacct_assignar.outbound.reconcile import IntacctPostedTime, PostNow, ReconcileReport, TimeReconciler
from intacct_assignar.outbound.sweep import SweepService
from intacct_assignar.settings import IntacctSettings
from intacct_assignar.state import SqliteStateStore
from intacct_assignar_dev.emulators.assignar import AssignarEmulator, EquipmentEntry, LaborEntry
from intacct_assignar_dev.emulators.intacct import IntacctEmulator, IntacctStore, generate_company

ZONE = ZoneInfo("America/Denver")
MONDAY = date(2026, 11, 16)
WEEK = (MONDAY - timedelta(days=1), MONDAY + timedelta(days=5))  # Sunday to Saturday, the tenant's week
BATCH = 100


class NoQueue:
    def publish(self, messages: object) -> None:
        raise AssertionError("the benchmark's repair posts in process")


def outgoing(value: Any) -> Any:
    """A document's fields as Intacct text, as the client sends them."""
    if isinstance(value, Mapping):
        return {key: outgoing(item) for key, item in value.items()}
    if isinstance(value, list):
        return [outgoing(item) for item in value]
    return to_text(value, ZONE)


def setup(
    store: IntacctStore,
    intacct_emulator: IntacctEmulator,
    assignar_emulator: AssignarEmulator,
    state: SqliteStateStore,
    workers: int,
) -> tuple[TenantConfig, list[int]]:
    owner = assignar_emulator.seed("users", {"user_type_id": 2, "first_name": "Olive", "last_name": "Owner"})
    config = parse_config({"timezone": str(ZONE), "workflows": {"work_orders": {"owner_user_id": owner["id"]}}})
    intacct = client(intacct_emulator)
    assignar = AssignarClient(assignar_emulator.settings(), requests_per_second=None)
    summary = run_sync(PullService(intacct, state, InProcessQueue(), config), UpsertService(assignar, state, config))
    assert summary.ok, summary.failures
    people = [w for w in assignar_emulator.records("users") if w.get("employee_id") and w.get("active")][:workers]
    if len(people) < workers:
        print(f"note: the company has {len(people)} active workers, not {workers}")
    orders = [o for o in assignar_emulator.records("orders") if o.get("active")]
    activities = [a["id"] for a in assignar_emulator.records("activities") if a.get("active")]
    assets = [a["id"] for a in assignar_emulator.records("assets") if a.get("active")]
    roles = [r["id"] for r in assignar_emulator.records("tasks") if r.get("active")]
    ids = []
    for day in range(5):
        for number, person in enumerate(people):
            order = orders[number % len(orders)]
            timesheet_id = assignar_emulator.create_timesheet(
                worker_id=person["id"],
                project_id=order["project_id"],
                work_order_id=order["id"],
                role_id=roles[number % len(roles)],
                work_date=MONDAY + timedelta(days=day),
                labor=[LaborEntry(activities[number % len(activities)], 240), LaborEntry(activities[0], 225)],
                equipment=[EquipmentEntry(assets[number % len(assets)], 180)] if (number + day) % 2 == 0 else [],
            )
            assignar_emulator.approve_timesheet(timesheet_id, notify=False)
            ids.append(timesheet_id)
    # The first through the push: it also proves where a purchasing transaction keeps the marker.
    push = PushService(assignar, intacct, state, config)
    assert push.post(ids[0]).outcome == "posted"
    for start in range(1, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        functions, owners = [], []
        for timesheet_id in batch:
            timesheet = Timesheet.model_validate(assignar_emulator.state.get_timesheet(timesheet_id))
            posting, unpostable = plan(timesheet, config.timesheets, intacct.settings.entity_id)
            assert posting is not None and posting.labor is not None, unpostable
            labor = posting.labor
            functions.append(
                protocol.create(
                    "TIMESHEET",
                    [outgoing(labor.fields)],
                    controlid=controlid(timesheet_id, "labor", labor.revision, 1),
                )
            )
            owners.append((timesheet_id, "timesheet", labor.revision, posting.content_hash))
            if posting.equipment is not None:
                equipment = posting.equipment
                functions.append(
                    protocol.legacy(
                        "create_potransaction",
                        outgoing(equipment.fields),
                        controlid=controlid(timesheet_id, "equipment", equipment.revision, 1),
                    )
                )
                owners.append((timesheet_id, "equipment", equipment.revision, posting.content_hash))
        keys: dict[int, dict[str, str]] = {}
        hashes: dict[int, str] = {}
        for result, (timesheet_id, document, revision, content) in zip(
            intacct.execute(functions, uniqueid=True), owners, strict=True
        ):
            result.raise_for_status()
            key = str(result.records[0]["RECORDNO"]) if document == "timesheet" else str(result.key)
            keys.setdefault(timesheet_id, {}).update(
                {document: key, f"{document}_rev": revision, f"{document}_gen": "1"}
            )
            hashes[timesheet_id] = content
        at = datetime.now(UTC)
        for timesheet_id, posted in keys.items():
            entry = state.claim_timesheet(timesheet_id, hashes[timesheet_id], 60, at)
            assert entry is not None
            state.record_posted(timesheet_id, hashes[timesheet_id], posted, at, attempt=entry.attempts)
            assignar_emulator.state.process_timesheet(timesheet_id)
    print(
        f"setup: {len(people)} workers, {len(ids)} approved timesheets; Intacct holds "
        f"{len(store.records('TIMESHEET'))} timesheets and {len(store.records('PODOCUMENT'))} equipment transactions"
    )
    return config, ids


def client(intacct_emulator: IntacctEmulator) -> IntacctClient:
    settings = IntacctSettings.model_validate(intacct_emulator.settings_env())
    return IntacctClient(settings, timezone=ZONE, sessions=MemorySessionCache())


def measured(
    label: str,
    intacct_emulator: IntacctEmulator,
    assignar_emulator: AssignarEmulator,
    state: SqliteStateStore,
    config: TenantConfig,
    *,
    repair: bool = False,
) -> tuple[dict[str, Any], ReconcileReport]:
    intacct = client(intacct_emulator)
    assignar = AssignarClient(assignar_emulator.settings(), requests_per_second=None)
    catalog = FieldCatalog(intacct, state, scope=definition_scope(intacct.settings))
    reconciler = TimeReconciler(
        assignar, IntacctPostedTime(intacct, catalog, config.timesheets), state, config.timesheets
    )
    started = time.perf_counter()
    report = reconciler.reconcile(*WEEK)
    if repair:
        push = PushService(assignar, intacct, state, config, catalog=catalog)
        reconciler.repair(report, PostNow(push, SweepService(assignar, state, NoQueue())))
    wall = time.perf_counter() - started
    figures = {
        "run": label,
        "wall_s": round(wall, 2),
        "matched": len(report.of("matched")),
        "missing": len(report.of("missing_in_intacct")),
        "differs": len(report.of("differs")),
        "extra": len(report.of("extra_in_intacct")),
        "repaired": sum(1 for result in report.repaired if result.resolved),
        "intacct_requests": intacct.counters.http_requests,
        "intacct_transactions": intacct.counters.api_transactions,
        "intacct_lookups": intacct.counters.by_function.get("lookup", 0),
        "intacct_by_function": dict(intacct.counters.by_function),
        "assignar_calls": assignar.calls.total,
    }
    print(json.dumps(figures))
    return figures, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1000)
    parser.add_argument("--intacct-ms", type=float, default=250)
    parser.add_argument("--assignar-ms", type=float, default=80)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--damage", type=int, default=10)
    args = parser.parse_args()
    store = IntacctStore(timezone=str(ZONE))
    # Some employees are inactive and some have no position: a company a little larger yields the workers asked.
    generate_company(store, employees=int(args.workers * 1.25), seed=23)
    print(f"load: {os.getloadavg()[0]:.1f} (1-minute average, {os.cpu_count()} cores)")
    with (
        tempfile.TemporaryDirectory() as scratch,
        IntacctEmulator(store) as intacct_emulator,
        AssignarEmulator(seed=8) as assignar_emulator,
        SqliteStateStore(Path(scratch) / "state.db") as state,
    ):
        began = time.perf_counter()
        config, _ = setup(store, intacct_emulator, assignar_emulator, state, args.workers)
        print(f"setup took {time.perf_counter() - began:.0f} s")
        intacct_emulator.latency_s = args.intacct_ms / 1000
        assignar_emulator.latency_s = args.assignar_ms / 1000
        for run in range(args.runs):
            measured(f"clean week #{run + 1}", intacct_emulator, assignar_emulator, state, config)
        # An accountant deletes some timesheets and changes some entries' hours by hand.
        sheets = sorted(store.records("TIMESHEET"), key=lambda sheet: sheet["RECORDNO"])
        for sheet in sheets[1 : 1 + args.damage]:
            store.delete("TIMESHEET", sheet["RECORDNO"])
        for sheet in sheets[-args.damage :]:
            entry = sheet["TIMESHEETENTRIES"][0]
            store.change_line("TIMESHEET", sheet["RECORDNO"], entry["RECORDNO"], {"QTY": "1.5"})
        measured("damaged week", intacct_emulator, assignar_emulator, state, config)
        measured("damaged week --repair", intacct_emulator, assignar_emulator, state, config, repair=True)
        measured("after the repair", intacct_emulator, assignar_emulator, state, config)
        print(f"load: {os.getloadavg()[0]:.1f} (1-minute average, at the end)")


if __name__ == "__main__":
    main()
