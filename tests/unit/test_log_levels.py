"""The floor under the libraries' logging: with the application at DEBUG, our debug lines come out and no
library's do (botocore's DEBUG carries Secrets Manager response bodies), however the library got to DEBUG."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import boto3
import pytest
from intacct_assignar import cli, observability
from intacct_assignar.runtime import Runtime

SECRET = "fake-secret-do-not-log-7f3a"  # stands for a password in a GetSecretValue body
BODY = f'{{"SecretString": "{{\\"INTACCT_USER_PASSWORD\\": \\"{SECRET}\\"}}"}}'
LIBRARIES = ("botocore.parsers", "botocore.endpoint", "urllib3.connectionpool", "httpx", "httpcore.http11")


@pytest.fixture(autouse=True)
def logging_state() -> Iterator[None]:
    """Every logger's level and handlers, and every handler's filters, as they were before the test."""
    manager = logging.Logger.manager
    loggers = [logging.getLogger(), *(item for item in manager.loggerDict.values() if isinstance(item, logging.Logger))]
    saved = [(each, each.level, list(each.handlers)) for each in loggers]
    filters = {handler: list(handler.filters) for each in loggers for handler in each.handlers}
    yield
    for each, level, handlers in saved:
        each.setLevel(level)
        each.handlers[:] = handlers
    for handler, kept in filters.items():
        handler.filters[:] = kept
    known = {id(each) for each in loggers}
    for item in list(manager.loggerDict.values()):
        if isinstance(item, logging.Logger) and id(item) not in known:  # made by the test
            item.setLevel(logging.NOTSET)
            item.handlers.clear()


def lambda_root_at_debug() -> io.StringIO:
    """What Lambda's runtime sets up before it imports a handler: a handler on the root logger, here with the
    function's level (advanced logging controls, or LOG_LEVEL=DEBUG applied to root) at DEBUG."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    return out


def without_the_floor() -> None:
    """The process as it was before the pin: every library logger inherits the root's level, no filters."""
    for name, item in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(item, logging.Logger) and not observability.is_own(name):
            item.setLevel(logging.NOTSET)
    for handler in logging.getLogger().handlers:
        handler.filters[:] = [f for f in handler.filters if not isinstance(f, observability.LibraryFloor)]


def log_the_libraries_and_ours() -> None:
    for name in LIBRARIES:
        logging.getLogger(name).debug("Response body:\n%r", BODY)
        logging.getLogger(name).info("request to %s", f"https://example.invalid/?token={SECRET}")
    logging.getLogger("intacct_assignar.runtime").debug("our debug line")


def test_without_the_floor_a_library_debug_line_carries_the_secret() -> None:
    # Given the application at DEBUG and no floor (the negative control: the test below can fail)
    without_the_floor()
    out = lambda_root_at_debug()
    # When botocore and the HTTP libraries log at DEBUG
    log_the_libraries_and_ours()
    # Then the secret is in the output
    assert SECRET in out.getvalue()
    assert "DEBUG botocore.parsers" in out.getvalue()


def test_with_the_floor_no_library_line_below_warning_reaches_a_handler_and_ours_do() -> None:
    # Given the same setup, pinned
    without_the_floor()
    out = lambda_root_at_debug()
    observability.pin_library_loggers()
    # When the libraries log at DEBUG and INFO, and at WARNING
    log_the_libraries_and_ours()
    logging.getLogger("botocore.credentials").warning("a warning still gets through")
    # Then none of the library lines below WARNING is written; ours and the library's warning are
    written = out.getvalue()
    assert SECRET not in written
    assert "DEBUG intacct_assignar.runtime our debug line" in written
    assert "WARNING botocore.credentials a warning still gets through" in written
    for name in ("botocore", "boto3", "urllib3", "httpx", "httpcore", "s3transfer", "moto", "werkzeug"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name
    assert logging.getLogger("intacct_assignar.runtime").getEffectiveLevel() == logging.DEBUG


def test_a_library_that_lowers_its_own_level_or_a_logger_made_later_still_cannot_leak() -> None:
    # Given the floor in place under an application at DEBUG
    out = lambda_root_at_debug()
    observability.pin_library_loggers()
    # When botocore lowers its own level, and a library nobody listed makes its logger afterwards
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    logging.getLogger("botocore.parsers").setLevel(logging.DEBUG)
    logging.getLogger("a_library_imported_later.client").debug("Response body: %s", BODY)
    logging.getLogger("botocore.parsers").debug("Response body: %s", BODY)
    logging.debug("the root logger's own line: %s", SECRET)  # a library logging through the root logger
    # Then the handler's filter still holds them back
    assert SECRET not in out.getvalue()


def test_the_service_logger_and_our_modules_follow_the_application_level() -> None:
    floor = observability.LibraryFloor()
    for name in ("intacct-assignar", "intacct-assignar.app", "intacct_assignar", "intacct_assignar.inbound.pull"):
        assert floor.filter(logging.makeLogRecord({"name": name, "levelno": logging.DEBUG})), name
    for name in ("botocore", "intacct_assignar_plugin", "intacct-assignar-other", "root"):
        assert not floor.filter(logging.makeLogRecord({"name": name, "levelno": logging.INFO})), name
        assert floor.filter(logging.makeLogRecord({"name": name, "levelno": logging.WARNING})), name


def test_boto3_set_stream_logger_is_held_back_when_a_function_runtime_is_built(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the floor, then someone's boto3.set_stream_logger("botocore", DEBUG): its own handler on stderr
    observability.pin_library_loggers()
    boto3.set_stream_logger("botocore", logging.DEBUG)
    logging.getLogger("botocore.parsers").debug("Response body: %s", BODY)
    assert SECRET in capsys.readouterr().err  # control: this handler was added after the pin
    # When a function's runtime is built (a new container, before any secret is read)
    monkeypatch.setenv("TENANT_ID", "t")
    monkeypatch.setenv("STATE_TABLE", "state")
    Runtime.reset()
    try:
        Runtime.current()
    finally:
        Runtime.reset()
    logging.getLogger("botocore.parsers").debug("Response body: %s", BODY)
    logging.getLogger("botocore.parsers").warning("warnings still come out")
    # Then its handler no longer writes the library's debug lines
    err = capsys.readouterr().err
    assert SECRET not in err
    assert "warnings still come out" in err


def test_the_cli_debug_shows_our_debug_lines_and_not_the_libraries(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a root handler at DEBUG (a sitecustomize, a basicConfig) and no floor yet
    without_the_floor()
    out = lambda_root_at_debug()
    # When the CLI sets up its logging for --debug, and both kinds of line are logged
    cli._configure_logging(True)
    log_the_libraries_and_ours()
    # Then our debug line is on the CLI's stderr (and the root's), no library line anywhere
    err = capsys.readouterr().err
    assert "debug: our debug line" in err
    assert "our debug line" in out.getvalue()
    assert SECRET not in err and SECRET not in out.getvalue()
