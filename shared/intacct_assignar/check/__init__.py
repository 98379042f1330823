"""`intacct-assignar check`: whether a tenant is ready, one line per check, before the first sync and before deploy."""

from .model import CheckReport, CheckResult
from .run import run_checks

__all__ = ["CheckReport", "CheckResult", "run_checks"]
