"""What a check found: one result per check (passed, or what is wrong and the fix), and what the run cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..problems import explain

READY = 0
NOT_READY = 1


@dataclass(frozen=True)
class CheckResult:
    """One line of `check`: `detail` says what was found; `fix`, on a failure, what to do in one sentence."""

    check: str
    ok: bool
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail, "fix": self.fix}

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        text = f"{mark} {self.check}: {self.detail}"
        return f"{text} — {self.fix}" if self.fix else text


def passed(check: str, detail: str) -> CheckResult:
    return CheckResult(check, True, detail)


def failed(check: str, detail: str, fix: str | None) -> CheckResult:
    return CheckResult(check, False, detail, fix)


def guarded(check: str, run: Callable[[], list[CheckResult]]) -> list[CheckResult]:
    """The results of one check; an error nobody foresaw costs this check (a ✗ saying what happened), not the run."""
    try:
        return run()
    except Exception as exc:  # any failure of one check is that check's result
        return [failed(check, explain(exc).message, None)]


@dataclass
class CheckReport:
    """Every check's result, and what the run cost: Intacct API transactions (as Intacct bills them) and calls."""

    results: list[CheckResult] = field(default_factory=list)
    intacct_transactions: int = 0
    intacct_requests: int = 0
    assignar_calls: int = 0

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def exit_code(self) -> int:
        return READY if self.ok else NOT_READY

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if not result.ok]

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checks": [result.as_dict() for result in self.results],
            "intacct_transactions": self.intacct_transactions,
            "assignar_calls": self.assignar_calls,
        }

    def lines(self) -> list[str]:
        """What `check` prints: one line per check, then the verdict and the cost."""
        cost = (
            f"Intacct: {self.intacct_transactions} API transactions in {self.intacct_requests} requests; "
            f"Assignar: {self.assignar_calls} calls"
        )
        if self.ok:
            verdict = f"Ready: all {len(self.results)} checks passed ({cost})."
        else:
            verdict = f"Not ready: {len(self.failures)} of {len(self.results)} checks failed ({cost})."
        return [result.line() for result in self.results] + [verdict]
