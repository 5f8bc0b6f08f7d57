"""Failed attempts on the wire, and forgotten awaits, through a whole attempt (request-response mode).

What restate-server does with these answers is tested in ``integration/test_failures.py``; here the
ErrorMessage's fields and the log line are checked for a given StartMessage (retry count, protocol).
"""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import restate_sdk as restate
from restate_sdk._engine import messages as m
from restate_sdk._engine.messages import MessageType as T

from ..engine.factory import MessageFactory
from .test_app import decode_frames, request

f = MessageFactory()
svc = restate.Service("Forgetful")


@svc.handler()
async def forgets(ctx: restate.Context) -> str:
    ctx.sleep(timedelta(seconds=1))  # FORGOTTEN
    return "done"


@svc.handler()
async def combines(ctx: restate.Context) -> str:
    await restate.gather(ctx.sleep(timedelta(seconds=1)), return_exceptions=True)
    return "done"


@svc.handler()
async def suspends(ctx: restate.Context) -> str:
    ctx.sleep(timedelta(seconds=1))
    await ctx.sleep(timedelta(seconds=2))  # never completed here: the attempt suspends
    return "done"


@svc.handler()
async def later(ctx: restate.Context) -> str:
    try:
        raise OSError("db down")
    except OSError as e:
        raise restate.RetryableError("busy", status_code=503, retry_after=timedelta(seconds=2)) from e


@svc.handler()
async def pause(ctx: restate.Context) -> str:
    raise restate.PauseError("fix the config, then resume")


@svc.handler()
async def crashes(ctx: restate.Context) -> str:
    raise ConnectionError("db down")


APP = restate.app([svc])


async def invoke(handler: str, *journal: bytes, version: int = 6, retry_count: int = 0) -> list[Any]:
    body = f.replay(*journal, input_value=b"", retry_count=retry_count)
    content_type = f"application/vnd.restate.invocation.v{version}"
    _, _, out = await request(
        f"/invoke/Forgetful/{handler}", {"content-type": content_type}, body, "POST", "1.1", APP
    )
    return decode_frames(out)


def output(out: list[Any]) -> Any:
    command = out[-2]
    assert isinstance(command, m.OutputCommandMessage) and command.value is not None, out
    return msgspec.json.decode(command.value)


def line_of(marker: str) -> int:
    with open(__file__) as file:
        return next(i for i, line in enumerate(file, 1) if f"# {marker}" in line and "line_of" not in line)


async def test_a_forgotten_await_warns_with_the_line_that_created_the_future() -> None:
    with pytest.warns(restate.UnawaitedFutureWarning) as record:
        out = await invoke("forgets")
    assert output(out) == "done"
    (w,) = record.list
    assert (w.filename, w.lineno) == (__file__, line_of("FORGOTTEN"))
    assert "ctx.sleep() created at" in str(w.message)


@pytest.mark.filterwarnings("error::restate_sdk.UnawaitedFutureWarning")
async def test_the_warning_made_an_error_fails_the_attempt() -> None:
    out = await invoke("forgets")
    error = out[-1]
    assert isinstance(error, m.ErrorMessage), out
    assert error.code == 500
    assert error.message.startswith("UnawaitedFutureWarning: ctx.sleep() created at")


@pytest.mark.filterwarnings("error::restate_sdk.UnawaitedFutureWarning")
async def test_a_future_passed_to_a_combinator_is_not_forgotten() -> None:
    out = await invoke("combines", f.sleep(1, 1), f.completion(T.SLEEP_COMPLETION, 1))
    assert output(out) == "done"


async def test_an_attempt_that_suspends_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", restate.UnawaitedFutureWarning)
        out = await invoke("suspends")
    assert isinstance(out[-1], m.SuspensionMessage), out


async def test_retryable_error_sends_its_code_and_delay_and_logs_the_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "restate_sdk")
    (error,) = await invoke("later", retry_count=2)
    assert isinstance(error, m.ErrorMessage)
    assert (error.code, error.message, error.next_retry_delay) == (503, "busy", 2000)
    assert "OSError: db down" in error.stacktrace
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"invocation {f.debug_id} (Forgetful.later) attempt 3 failed: busy; Restate retries it after 2s"
    )
    assert record.__dict__["restate_invocation_id"] == f.debug_id


async def test_any_other_exception_leaves_the_delay_to_the_server(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "restate_sdk")
    (error,) = await invoke("crashes")
    assert isinstance(error, m.ErrorMessage)
    assert (error.code, error.message, error.next_retry_delay) == (500, "ConnectionError: db down", None)
    (record,) = caplog.records
    assert (
        "attempt 1 failed: ConnectionError: db down; Restate retries it (server retry policy)"
        in record.getMessage()
    )
    assert record.exc_info is not None  # not a Restate error: logged with its traceback


@pytest.mark.parametrize(("version", "behavior"), [(6, m.ErrorBehavior.RETRY), (7, m.ErrorBehavior.PAUSE)])
async def test_pause_error_pauses_on_v7_and_is_retried_below(version: int, behavior: m.ErrorBehavior) -> None:
    out = await invoke("pause", version=version)
    error = out[-1]
    assert isinstance(error, m.ErrorMessage), out
    assert error.behavior == (behavior if version >= 7 else 0)
    assert error.message.startswith("fix the config, then resume")
    assert ("pausing needs service protocol V7" in error.message) == (version < 7)
