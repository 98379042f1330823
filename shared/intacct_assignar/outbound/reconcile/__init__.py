"""`reconcile time`: the hours Assignar approved against what Intacct holds from this integration, per worker and
week, and the repair of what is missing through the push (the two-week true-up, done in a minute).

`model.py` compares (pure), `approved.py` reads Assignar, `posted.py` reads Intacct, `repair.py` sends the
missing back through the push, `service.py` runs it all; `ports.py` names what each side is asked.
"""

from .model import (
    ApprovedTime,
    HoursDifference,
    PostedRead,
    PostedTime,
    ReconcileReport,
    RepairResult,
    TimesheetCheck,
    TimesheetProblem,
    WorkerWeek,
    compare,
)
from .ports import AssignarForReconcile, PostedTimeReader, Requeue
from .posted import CannotReconcileError, IntacctPostedTime
from .repair import PostNow, QueueForPush, reopen, repair
from .service import MAX_RANGE_DAYS, RangeError, TimeReconciler, check_range

__all__ = [
    "MAX_RANGE_DAYS",
    "ApprovedTime",
    "AssignarForReconcile",
    "CannotReconcileError",
    "HoursDifference",
    "IntacctPostedTime",
    "PostNow",
    "PostedRead",
    "PostedTime",
    "PostedTimeReader",
    "QueueForPush",
    "RangeError",
    "ReconcileReport",
    "RepairResult",
    "Requeue",
    "TimeReconciler",
    "TimesheetCheck",
    "TimesheetProblem",
    "WorkerWeek",
    "check_range",
    "compare",
    "reopen",
    "repair",
]
