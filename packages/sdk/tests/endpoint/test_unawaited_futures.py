"""A durable future that a handler forgets to await warns, through a whole attempt (request-response mode)."""

from __future__ import annotations

import warnings
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import restate_sdk as restate
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import FrameBuffer
from restate_sdk._engine.messages import MessageType as T

from ..engine.factory import MessageFactory

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


APP = restate.app([svc])


async def invoke(handler: str, *journal: bytes) -> list[Any]:
    body = f.replay(*journal, input_value=b"")
    sent: list[MutableMapping[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/invoke/Forgetful/{handler}",
        "http_version": "1.1",
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v6")],
    }
    await APP(scope, receive, send)
    frames = FrameBuffer(1 << 20)
    frames.feed(b"".join(x.get("body", b"") for x in sent[1:]))
    out: list[Any] = []
    while (frame := frames.next_frame()) is not None:
        out.append(m.decode_message(m.MESSAGES[frame.type], frame.payload))
    return out


def output(out: list[Any]) -> Any:
    command = out[-2]
    assert isinstance(command, m.OutputCommandMessage), out
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
