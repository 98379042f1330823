"""The one logger and the one metrics publisher the functions share (Powertools: structured JSON logs with the
Lambda context; CloudWatch embedded-metric-format lines), and the floor under every library's logging: whatever
level the application runs at, no library logs below WARNING.

Why the floor: at DEBUG botocore writes each response body, and a Secrets Manager GetSecretValue body is every
Intacct and Assignar credential; urllib3, httpx and the rest log URLs and headers. Only our own loggers
(`OWN_LOGGERS`) follow the application's level.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

SERVICE = "intacct-assignar"
METRICS_NAMESPACE_VARIABLE = "POWERTOOLS_METRICS_NAMESPACE"
# Our package's module loggers, and the Powertools service logger the handlers log through (and its children).
OWN_LOGGERS = ("intacct_assignar", SERVICE)
LIBRARY_FLOOR = logging.WARNING
# Pinned even before they are imported, so their first records already meet the floor.
LIBRARIES = (
    "botocore",
    "boto3",
    "s3transfer",
    "urllib3",
    "requests",
    "httpx",
    "httpcore",
    "h11",
    "h2",
    "hpack",
    "aws_lambda_powertools",
    "aws_xray_sdk",
    "moto",
    "werkzeug",
    "samtranslator",
    "asyncio",
)

logger: Logger  # made on first use, see `__getattr__`
metrics: Metrics  # likewise
_creating = threading.Lock()


def __getattr__(name: str) -> Any:
    # The service logger and the metrics publisher are made when a handler module first imports them, not when this
    # module is imported: they read their settings (POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE) then, from
    # the function's own environment, and the CLI, which only wants the floor, sets up neither. The CLI publishes
    # no metrics: EMF lines are for Lambda's log stream, and would be noise on a terminal or in its JSON output.
    if name not in ("logger", "metrics"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _creating:
        if name not in globals():
            globals()[name] = _make_logger() if name == "logger" else _make_metrics()
    return globals()[name]


def _make_logger() -> Logger:
    from aws_lambda_powertools import Logger

    made = Logger(service=SERVICE)
    pin_library_loggers()  # its new handler gets the filter too
    return made


def _make_metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    # An invocation with nothing to count (a webhook receiver, a run that found nothing) is normal, not worth the
    # warning Powertools prints then (its documentation's own filter).
    warnings.filterwarnings("ignore", "No application metrics to publish*")
    # The template sets the namespace for every function; without it (a function wired by hand, a test) the
    # metrics still go under the service's name rather than failing the invocation when they are flushed.
    return Metrics(namespace=os.environ.get(METRICS_NAMESPACE_VARIABLE) or SERVICE)


def is_own(name: str) -> bool:
    """Whether records of the logger `name` follow the application's level (ours) or the floor (everyone else)."""
    return any(name == own or name.startswith(f"{own}.") for own in OWN_LOGGERS)


class LibraryFloor(logging.Filter):
    """On a handler: passes our records at any level and everyone else's from WARNING up.

    The levels `pin_library_loggers` sets stop a library's records early; this stops the ones they miss: a
    logger made later that inherits a DEBUG root, or a library that lowers its own level.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= LIBRARY_FLOOR or is_own(record.name)


def pin_library_loggers() -> None:
    """Hold every library logger at WARNING or above, whatever level the application (or Lambda) set.

    Safe to call again, and called at each entry point: when a handler module is imported, when a function's
    runtime is built (so whatever was configured in between, e.g. `boto3.set_stream_logger`, is caught before
    any secret is read) and when the CLI sets up its logging. Our own loggers are left as they are.
    """
    manager = logging.Logger.manager
    everyone = list(manager.loggerDict.items())  # a copy: other threads may be making loggers meanwhile
    existing = [(name, item) for name, item in everyone if not is_own(name)]
    # Each library's top logger, known or found: their children (NOTSET) inherit the floor from it.
    for name in {*LIBRARIES, *(name.partition(".")[0] for name, _ in existing)} - {""}:
        top = logging.getLogger(name)
        if not is_own(name) and top.level < LIBRARY_FLOOR:
            top.setLevel(LIBRARY_FLOOR)
    for _, item in existing:
        if isinstance(item, logging.Logger) and logging.NOTSET < item.level < LIBRARY_FLOOR:
            item.setLevel(LIBRARY_FLOOR)
    # Lambda's runtime handler on the root logger, Powertools' and the CLI's handlers, any a library added itself.
    loggers = [logging.getLogger(), *(item for _, item in everyone if isinstance(item, logging.Logger))]
    for handler in {handler for each in loggers for handler in each.handlers}:
        if not any(isinstance(existing_filter, LibraryFloor) for existing_filter in handler.filters):
            handler.addFilter(LibraryFloor())


pin_library_loggers()
