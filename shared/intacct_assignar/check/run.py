"""Every check in order: offline, then Intacct, then Assignar; the clients are built here and closed after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..assignar.client import AssignarClient
from ..config import TenantConfig
from ..intacct.client import IntacctClient, MemorySessionCache
from ..settings import AssignarSettings, IntacctSettings
from .assignar import assignar_checks
from .intacct import intacct_checks
from .model import CheckReport, guarded
from .offline import offline_checks

IntacctFactory = Callable[[IntacctSettings, TenantConfig], IntacctClient]
AssignarFactory = Callable[[AssignarSettings], AssignarClient]


def _intacct(settings: IntacctSettings, config: TenantConfig) -> IntacctClient:
    # A session of its own: a check proves the credentials, never a session some earlier call left cached.
    return IntacctClient(settings, timezone=config.zone, sessions=MemorySessionCache())


def _assignar(settings: AssignarSettings) -> AssignarClient:
    return AssignarClient(settings, requests_per_second=settings.requests_per_second or None)


def run_checks(
    path: Path | None,
    *,
    offline: bool = False,
    intacct_client: IntacctFactory = _intacct,
    assignar_client: AssignarFactory = _assignar,
) -> CheckReport:
    found = offline_checks(path)
    report = CheckReport(found.results)
    if offline or found.config is None:
        # Without a valid document there is nothing to look for in Intacct or Assignar.
        return report
    config = found.config
    if found.intacct is not None:
        with intacct_client(found.intacct, config) as intacct:
            report.results += guarded("Intacct", lambda: intacct_checks(intacct, config))
            report.intacct_transactions = intacct.counters.api_transactions
            report.intacct_requests = intacct.counters.http_requests
    if found.assignar is not None:
        with assignar_client(found.assignar) as assignar:
            report.results += guarded("Assignar", lambda: assignar_checks(assignar, config))
            report.assignar_calls = assignar.calls.total
    return report
