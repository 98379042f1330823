"""The checks that need only the tenant document and the environment: `check --offline` stops after these."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from ..config import STACK_PARAMETER_MAX_LENGTH, WORKFLOWS, ConfigError, TenantConfig, load_config, stack_parameter
from ..problems import settings_keys
from ..settings import AssignarSettings, IntacctSettings
from .model import CheckResult, failed, passed

Settings = TypeVar("Settings", IntacctSettings, AssignarSettings)

SET_SETTINGS = "set them in the environment, a .env file or the stack's secret"


@dataclass
class Offline:
    """What the offline checks found, and what the online ones need from them (None when it is not usable)."""

    results: list[CheckResult] = field(default_factory=list)
    config: TenantConfig | None = None
    intacct: IntacctSettings | None = None
    assignar: AssignarSettings | None = None


def offline_checks(path: Path | None) -> Offline:
    found = Offline()
    found.config = _document(path, found.results)
    if found.config is not None:
        found.results += workflow_checks(found.config)
        found.results += stack_check(found.config, str(path) if path else "configuration")
    found.intacct = _settings("Intacct settings", IntacctSettings, found.results)
    found.assignar = _settings("Assignar settings", AssignarSettings, found.results)
    if found.config is not None and found.assignar is not None:
        found.results.append(webhook_check(found.config, found.assignar))
    return found


def _document(path: Path | None, results: list[CheckResult]) -> TenantConfig | None:
    try:
        config = load_config(path)
    except ConfigError as exc:
        # One line per problem: the document's own validation names each key (and the nearest valid one).
        results += [failed("tenant document", problem, f"correct it in {exc.source}") for problem in exc.problems]
        return None
    results.append(passed("tenant document", f"{path} is valid" if path else "no document given: the defaults apply"))
    return config


def workflow_checks(config: TenantConfig) -> list[CheckResult]:
    """Each enabled workflow's required settings, in the words `sync` uses when it cannot run one."""
    enabled = [name for name in WORKFLOWS if config.enabled(name)]
    results = [
        failed(f"workflow {name}", f"{name} is enabled but cannot run", reason)
        for name in enabled
        if (reason := config.cannot_run(name)) is not None
    ]
    if not results:
        results.append(passed("workflows", f"enabled: {', '.join(enabled) or 'none'}; each has its settings"))
    return results


def stack_check(config: TenantConfig, source: str) -> list[CheckResult]:
    """The document's other form: the one line of JSON the stack's TenantConfig parameter holds (what
    `intacct-assignar config to-json` prints), refused for a value samconfig.toml cannot pass or a line too long."""
    check = "stack parameter"
    try:
        line = stack_parameter(config, source)
    except ConfigError as exc:
        fix = (
            f"correct it in {exc.source}, so that `intacct-assignar config to-json` prints the line for samconfig.toml"
        )
        return [failed(check, problem, fix) for problem in exc.problems]
    return [
        passed(
            check,
            f"passes as the stack's TenantConfig: {len(line)} of at most {STACK_PARAMETER_MAX_LENGTH} characters "
            "(`intacct-assignar config to-json` prints it)",
        )
    ]


def _settings(check: str, model: type[Settings], results: list[CheckResult]) -> Settings | None:
    try:
        settings = model()
    except ValidationError as exc:
        # Names only: pydantic's own message would print the values, passwords included.
        results.append(failed(check, f"missing or invalid: {', '.join(settings_keys(exc))}", SET_SETTINGS))
        return None
    results.append(passed(check, "every required setting is present"))
    return settings


def webhook_check(config: TenantConfig, settings: AssignarSettings) -> CheckResult:
    """The receiver authenticates Assignar's deliveries with the shared secret: without it, it refuses them all."""
    uses_receiver = "webhook" in config.model_fields_set
    if settings.webhook_secret is not None and settings.webhook_secret.get_secret_value():
        return passed("webhook secret", "ASSIGNAR_WEBHOOK_SECRET is set")
    if not uses_receiver:
        return passed("webhook secret", "not needed: the tenant document has no [webhook] section")
    return failed(
        "webhook secret",
        "the tenant document configures the webhook receiver, but ASSIGNAR_WEBHOOK_SECRET is not set",
        "set ASSIGNAR_WEBHOOK_SECRET to the secret configured for the webhook in Assignar",
    )
