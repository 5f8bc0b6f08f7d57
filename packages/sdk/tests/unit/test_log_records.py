"""Log records carry the invocation id; a failed attempt logs one WARNING line that says what happens next."""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
import restate_sdk as restate
from restate_sdk._failures import classify
from restate_sdk._logging import current_invocation, install_record_factory, log_attempt_failure

FORMAT = "%(restate_invocation_id)s|%(levelname)s|%(message)s"


class FakeInvocation:
    def __init__(self, invocation_id: str, replaying: bool = False) -> None:
        self.id = invocation_id
        self.replaying = replaying

    def is_replaying(self) -> bool:
        return self.replaying

    def invocation_id(self) -> str:
        if not self.id:
            raise RuntimeError("no StartMessage yet")
        return self.id


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Everything logged under ``tests.records`` and ``restate_sdk``, formatted with FORMAT."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(FORMAT))
    loggers = [logging.getLogger("tests.records"), logging.getLogger("restate_sdk")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield out
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_a_record_outside_any_invocation_has_an_empty_id(lines: io.StringIO) -> None:
    logging.getLogger("tests.records").info("plain")
    assert lines.getvalue() == "|INFO|plain\n"


def test_a_record_inside_an_invocation_has_its_id(lines: io.StringIO) -> None:
    token = current_invocation.set(FakeInvocation("inv_1abc"))
    try:
        logging.getLogger("tests.records").warning("inside")
    finally:
        current_invocation.reset(token)
    assert lines.getvalue() == "inv_1abc|WARNING|inside\n"


def test_any_logger_gets_the_field_not_only_restate_ones() -> None:
    record = logging.getLogger("some.library").makeRecord("some.library", logging.INFO, "f", 1, "m", (), None)
    assert record.restate_invocation_id == ""  # type: ignore[attr-defined]
    record = logging.makeLogRecord({"msg": "x"})  # what a socket handler's receiver rebuilds
    assert record.restate_invocation_id == ""  # type: ignore[attr-defined]


def test_an_id_that_cannot_be_read_is_empty(lines: io.StringIO) -> None:
    token = current_invocation.set(FakeInvocation(""))
    try:
        logging.getLogger("tests.records").info("early")
    finally:
        current_invocation.reset(token)
    assert lines.getvalue() == "|INFO|early\n"


async def test_worker_threads_and_tasks_see_the_id(lines: io.StringIO) -> None:
    log = logging.getLogger("tests.records")
    token = current_invocation.set(FakeInvocation("inv_thread"))
    try:
        context = contextvars.copy_context()
        await asyncio.get_running_loop().run_in_executor(None, lambda: context.run(log.info, "in a thread"))
        await asyncio.create_task(asyncio.to_thread(log.info, "via to_thread"))
    finally:
        current_invocation.reset(token)
    assert lines.getvalue() == "inv_thread|INFO|in a thread\ninv_thread|INFO|via to_thread\n"


def test_installing_again_changes_nothing() -> None:
    factory = logging.getLogRecordFactory()
    install_record_factory()
    assert logging.getLogRecordFactory() is factory


def test_a_factory_installed_before_keeps_working() -> None:
    original = logging.getLogRecordFactory()

    def theirs(*args: object, **kwargs: object) -> logging.LogRecord:
        record = logging.LogRecord(*args, **kwargs)  # type: ignore[arg-type]
        record.theirs = "yes"
        return record

    logging.setLogRecordFactory(theirs)
    try:
        install_record_factory()
        token = current_invocation.set(FakeInvocation("inv_both"))
        try:
            record = logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "m", (), None)
        finally:
            current_invocation.reset(token)
        assert (record.theirs, record.restate_invocation_id) == ("yes", "inv_both")  # type: ignore[attr-defined]
    finally:
        logging.setLogRecordFactory(original)


def test_the_replay_filter_still_drops_replayed_lines(lines: io.StringIO) -> None:
    log = restate.getLogger("tests.records")
    token = current_invocation.set(FakeInvocation("inv_r", replaying=True))
    try:
        log.info("replayed")
    finally:
        current_invocation.reset(token)
    log.info("fresh")
    assert lines.getvalue() == "|INFO|fresh\n"


# ---- the failed-attempt line ---------------------------------------------------------------------


def attempt_line(exc: BaseException, lines: io.StringIO, **kwargs: object) -> str:
    verdict = classify(exc, handler="Greeter.greet")
    log_attempt_failure(verdict, invocation_id="inv_9", handler="Greeter.greet", attempt=3, exc=exc, **kwargs)  # type: ignore[arg-type]
    return lines.getvalue()


def test_a_retry_after_is_named(lines: io.StringIO) -> None:
    exc = restate.RetryableError("rate limited", status_code=429, retry_after=timedelta(seconds=2))
    assert attempt_line(exc, lines) == (
        "inv_9|WARNING|invocation inv_9 (Greeter.greet) attempt 3 failed: rate limited; Restate retries it after 2s\n"
    )


def test_an_unexpected_exception_is_logged_with_its_traceback(lines: io.StringIO) -> None:
    try:
        raise ConnectionError("db down")
    except ConnectionError as e:
        exc = e
    text = attempt_line(exc, lines)
    first, *rest = text.splitlines()
    assert first == (
        "inv_9|WARNING|invocation inv_9 (Greeter.greet) attempt 3 failed: ConnectionError: db down; "
        "Restate retries it (server retry policy)"
    )
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ConnectionError: db down"


def test_a_terminal_failure_says_so(lines: io.StringIO) -> None:
    exc = restate.TerminalError("card declined", status_code=402)
    assert attempt_line(exc, lines) == (
        "inv_9|WARNING|invocation inv_9 (Greeter.greet) attempt 3 failed: TerminalError: card declined; "
        "the invocation fails with status 402\n"
    )


def test_a_pause_says_so(lines: io.StringIO) -> None:
    assert attempt_line(restate.PauseError("fix the table"), lines).endswith(
        "attempt 3 failed: fix the table; the invocation is paused until it is resumed\n"
    )


def test_a_system_exit_says_the_endpoint_goes_on(lines: io.StringIO) -> None:
    text = attempt_line(SystemExit(2), lines)
    assert "attempt 3 failed: Greeter.greet raised SystemExit(2); this attempt fails" in text
    assert "the endpoint goes on" in text
    assert ".;" not in text  # the message's last sentence and the next step read as one line


def test_nothing_is_built_when_warnings_are_off(lines: io.StringIO) -> None:
    quiet = logging.getLogger("tests.records.quiet")
    quiet.setLevel(logging.ERROR)
    attempt_line(restate.RetryableError("x"), lines, logger=quiet)
    assert lines.getvalue() == ""


def test_the_line_points_at_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="restate_sdk")
    log_attempt_failure(
        classify(ValueError("v"), handler="A.b"), invocation_id="inv_c", handler="A.b", attempt=1
    )
    (record,) = caplog.records
    assert record.funcName == "test_the_line_points_at_the_caller"
    assert record.restate_invocation_id == "inv_c"  # type: ignore[attr-defined]
    assert record.exc_info is None  # no exception given: no traceback
