"""Scheduled puller: reads what changed in one Intacct entity and sends it to the upsert queue.

Input (from the EventBridge Scheduler schedule): {"entity": "workers" | "EMPLOYEE" | "deletions", "full": false}.
A pull that would outlast this invocation stops at a checkpoint and starts a follow-up invocation of itself; the
invocation that finishes (or fails) it records the run in the run history.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from intacct_assignar.observability import logger, metrics
from intacct_assignar.problems import explain
from intacct_assignar.run_entries import RunMeter, entries_from_failed_pull, entries_from_pull
from intacct_assignar.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field


class PullFailedError(Exception):
    """The pull could not finish; its message is the one sentence logged (Lambda's retries and alarm follow)."""


class PullRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entity: str = Field(min_length=1)
    full: bool = False


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PullRequest.model_validate(event)
    runtime: Runtime | None = None
    meter = RunMeter()
    try:
        runtime = Runtime.current()
        meter.watch(intacct=runtime.intacct.counters)
        report = runtime.pull_service.run(
            request.entity, full=request.full, time_left_s=lambda: context.get_remaining_time_in_millis() / 1000
        )
    except Exception as exc:
        # One ERROR line with Intacct's errorno and what to do; a traceback only for what nobody foresaw.
        problem = explain(exc)
        logger.error(
            problem.message,
            extra={"entity": request.entity, "errorno": problem.errorno},
            exc_info=None if problem.expected else exc,
        )
        failed = entries_from_failed_pull(
            request.entity, problem.message, started_at=meter.started_at, ended_at=meter.now(), cost=meter.cost()
        )
        if runtime is not None:  # None: the function's own settings are what failed, and name no state table
            for entry in failed:
                runtime.run_log.record(entry)
        raise PullFailedError(problem.message) from None
    for workflow, reason in report.cannot_run.items():
        # Enabled but missing a setting: one ERROR line in `check`'s words; the other workflows were pulled.
        logger.error(reason, extra={"entity": request.entity, "workflow": workflow})
    # A pull paused at a checkpoint has no entries yet: the invocation that finishes it records the whole pull.
    # Its cost is this invocation's; the earlier ones' are in their own "pull continues" log lines.
    for entry in entries_from_pull(report, ended_at=meter.now(), cost=meter.cost()):
        runtime.run_log.record(entry)
    if not report.complete:
        # Continue from the checkpoint in a fresh invocation; the watermark moves only when the pull ends.
        runtime.invoker.start(context.invoked_function_arn, request.model_dump_json())
    summary = {"entity": request.entity, **report.as_dict()}
    logger.info("pull finished" if report.complete else "pull continues", extra=summary)
    return summary
