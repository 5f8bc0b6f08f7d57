"""gather, as_completed and wait_first through a whole attempt, in request-response mode.

The journal holds three calls and whichever of their results the test sends, in the order it sends
them; the response shows what the handler made of them, or the suspension with what it still awaits.
"""

from __future__ import annotations

from typing import Any

import msgspec
import restate_sdk as restate
from restate_sdk._engine import messages as m
from restate_sdk._engine.messages import MessageType as T

from ..engine.factory import MessageFactory
from .test_app import decode_frames, request

f = MessageFactory()
svc = restate.Service("Combinators")


@svc.handler()
async def run(ctx: restate.Context, mode: str) -> list[int]:
    calls = [ctx.generic_call("Child", "work", b"") for _ in range(3)]
    if mode == "gather":
        await restate.gather(*calls)
        return []
    if mode == "first":
        done = await restate.wait_first(*calls)
        return [calls.index(done)]  # type: ignore[arg-type]
    return [calls.index(x) async for x in restate.as_completed(*calls)]  # type: ignore[arg-type]


APP = restate.app([svc])


async def invoke(mode: str, *results: bytes) -> list[Any]:
    calls = [f.call("Child", "work", b"", 2 * i + 1, 2 * i + 2) for i in range(3)]
    body = f.replay(*calls, *results, input_value=msgspec.json.encode(mode))
    content_type = "application/vnd.restate.invocation.v6"
    status, _, out = await request(
        "/invoke/Combinators/run", {"content-type": content_type}, body, "POST", "1.1", APP
    )
    assert status == 200
    return decode_frames(out)


def result(call: int, *, failure: str | None = None) -> bytes:
    completion_id = 2 * call + 2
    if failure is not None:
        return f.completion(T.CALL_COMPLETION, completion_id, failure=m.Failure(code=400, message=failure))
    return f.completion(T.CALL_COMPLETION, completion_id, value=b"null")


def output(out: list[Any]) -> Any:
    command, end = out
    assert isinstance(command, m.OutputCommandMessage) and isinstance(end, m.EndMessage)
    return command.failure.message if command.failure is not None else msgspec.json.decode(command.value)


def suspended_on(out: list[Any]) -> list[int]:
    (suspension,) = out
    assert isinstance(suspension, m.SuspensionMessage)
    assert suspension.waiting_signals == [1]
    return suspension.waiting_completions


async def test_gather_raises_the_failure_that_arrived_first() -> None:
    out = await invoke("gather", result(0), result(2, failure="third"), result(1, failure="second"))
    assert output(out) == "third"


async def test_gather_suspends_on_what_it_still_awaits() -> None:
    assert suspended_on(await invoke("gather", result(1))) == [2, 6]


async def test_as_completed_yields_in_arrival_order() -> None:
    assert output(await invoke("each", result(2), result(0), result(1))) == [2, 0, 1]


async def test_as_completed_suspends_on_the_rest() -> None:
    assert suspended_on(await invoke("each", result(1))) == [2, 6]


async def test_wait_first_returns_what_arrived_first() -> None:
    assert output(await invoke("first", result(2), result(1))) == [2]
    assert suspended_on(await invoke("first")) == [2, 4, 6]
