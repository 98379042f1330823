"""The Assignar checks: the token, the host, and what the mappings and work orders name in the account."""

from __future__ import annotations

from ..assignar.client import AssignarClient
from ..assignar.errors import AssignarError, AuthenticationError, NotFoundError, RateLimitedError, ServerError
from ..assignar.errors import TransportError as AssignarTransportError
from ..assignar.models import UserType
from ..config import TenantConfig
from ..problems import explain
from .model import CheckResult, failed, guarded, passed


def assignar_checks(assignar: AssignarClient, config: TenantConfig) -> list[CheckResult]:
    """The first call gets the token and proves the host answers; when either fails, nothing else is asked."""
    host = assignar.requestor.api_url
    try:
        user_types = assignar.user_types.list()
    except AuthenticationError as exc:
        return [failed("Assignar token", explain(exc).message, None)]
    except (AssignarTransportError, ServerError, RateLimitedError) as exc:
        return (
            [
                passed("Assignar token", "granted"),
                failed("Assignar API host", explain(exc).message, "check ASSIGNAR_API_URL (your region's API URL)"),
            ]
            if _token_granted(exc)
            else [failed("Assignar token", explain(exc).message, "check ASSIGNAR_TOKEN_URL")]
        )
    except AssignarError as exc:
        return [failed("Assignar API host", explain(exc).message, None)]
    results = [
        passed("Assignar token", "the client credentials were granted a token"),
        passed("Assignar API host", f"{host} answers"),
    ]
    if config.enabled("workers"):
        results += guarded("Assignar user type", lambda: [_user_type(config, user_types)])
        results += guarded("Assignar employment type", lambda: [_employment_type(assignar, config)])
    owner = config.workflows.work_orders.owner_user_id
    if config.enabled("work_orders") and owner is not None:
        results += guarded("work order owner", lambda: [_owner(assignar, owner)])
    return results


def _token_granted(error: AssignarError) -> bool:
    # A failure at the token URL itself names it as its path; any other failure came after a token was granted.
    return not error.path.startswith(("http://", "https://"))


def _user_type(config: TenantConfig, user_types: list[UserType]) -> CheckResult:
    wanted = config.workflows.workers.user_type
    # As the upsert resolves it: Assignar's label ("Worker") or its code ("mobile"), either case.
    names = {label.lower() for t in user_types for label in (t.label, t.user_type) if label}
    if wanted.lower() in names:
        return passed("Assignar user type", f"user type {wanted!r} exists")
    offered = ", ".join(sorted({t.label or t.user_type or str(t.id) for t in user_types}))
    return failed(
        "Assignar user type",
        f"Assignar has no user type {wanted!r} (workflows.workers.user_type; it has {offered or 'none'})",
        "set workflows.workers.user_type to one of those, or add the user type in Assignar",
    )


def _employment_type(assignar: AssignarClient, config: TenantConfig) -> CheckResult:
    wanted = config.workflows.workers.employment_type
    names = [t.name for t in assignar.employment_types.list() if t.name]
    if wanted.lower() in {name.lower() for name in names}:
        return passed("Assignar employment type", f"employment type {wanted!r} exists")
    return failed(
        "Assignar employment type",
        f"Assignar has no employment type {wanted!r} (workflows.workers.employment_type; it has "
        f"{', '.join(sorted(names)) or 'none'})",
        "set workflows.workers.employment_type to one of those, or add the employment type in Assignar",
    )


def _owner(assignar: AssignarClient, owner: int) -> CheckResult:
    key = "workflows.work_orders.owner_user_id"
    try:
        user = assignar.workers.get(owner)
    except NotFoundError:
        return failed(
            "work order owner", f"Assignar has no user {owner} ({key})", f"set {key} to an Assignar user's id"
        )
    name = " ".join(part for part in (user.first_name, user.last_name) if part) or f"user {owner}"
    if user.active is False:
        return failed(
            "work order owner",
            f"{name} (user {owner}, {key}) is inactive in Assignar",
            f"make {name} active in Assignar, or set {key} to an active user's id",
        )
    return passed("work order owner", f"{name} (user {owner}) exists and is active")
