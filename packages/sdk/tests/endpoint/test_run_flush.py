"""A step's RunCommand goes out with the run's result: one write per step, unless the run takes long.

Also how an ``async def`` step function runs: in a Task of its own (eager on Python 3.12+: its
first step inside ``ctx.run``), in a context of its own, its failures classified like a handler's.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import MutableMapping
from typing import Any

import restate_sdk as restate
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import encode_header

svc = restate.Service("Flushes")


def quick() -> str:
    return "x"


def slow() -> str:
    time.sleep(0.3)
    return "x"


@svc.handler()
async def fast_step(ctx: restate.Context) -> str:
    return await ctx.run("quick", quick)


@svc.handler()
async def slow_step(ctx: restate.Context) -> str:
    return await ctx.run("slow", slow)


@svc.handler()
async def send_then_step(ctx: restate.Context) -> str:
    ctx.generic_send("Other", "take", "x")  # not a run: its command must go out at once
    return await ctx.run("slow", slow)


marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")
cancelled: list[str] = []


async def quick_async() -> str:
    marker.set("set in the run")  # must not reach the handler: the run has a context of its own
    return "x"


async def waiting_async() -> str:
    await asyncio.sleep(0.01)
    marker.set("set in the run")
    return "x"


async def terminal_async() -> str:
    raise restate.TerminalError("no such thing", status_code=404)


async def flaky_async() -> str:
    raise ValueError("boom")


async def endless_async() -> str:
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        cancelled.append("endless")
        raise
    return "never"


@svc.handler()
async def busy_while_step(ctx: restate.Context) -> str:
    step = ctx.run("quick", quick)
    await asyncio.sleep(0.5)  # not a durable wait: the step's result must not wait for it
    return await step


@svc.handler()
async def gave_up_then_busy(ctx: restate.Context) -> str:
    step = ctx.run("slow", slow)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(step, 0.05)  # a wait given up: it must not count as one still waiting
    await asyncio.sleep(0.6)  # busy elsewhere when the step returns: its result must go out anyway
    return await step


async def times_out_async() -> str:
    # asyncio.timeout (like anyio's cancel scopes, which httpx uses) binds to the current task when
    # entered: that must be the run's own task, not the handler's
    try:
        async with asyncio.timeout(0.05):
            await asyncio.sleep(1)
    except TimeoutError:
        return "timed out"
    return "slept"


@svc.handler()
async def timeout_step(ctx: restate.Context) -> str:
    return await ctx.run("quick", times_out_async)


@svc.handler()
async def async_step(ctx: restate.Context) -> str:
    return await ctx.run("quick", quick_async) + "/" + marker.get()


@svc.handler()
async def waiting_async_step(ctx: restate.Context) -> str:
    return await ctx.run("quick", waiting_async) + "/" + marker.get()


@svc.handler()
async def terminal_async_step(ctx: restate.Context) -> str:
    try:
        return await ctx.run("quick", terminal_async)
    except restate.TerminalError as e:
        return f"caught {e.status_code} {e.message}"


@svc.handler()
async def flaky_async_step(ctx: restate.Context) -> str:
    return await ctx.run("flaky", flaky_async)


@svc.handler()
async def endless_and_flaky(ctx: restate.Context) -> str:
    endless = ctx.run("endless", endless_async)
    flaky = ctx.run("flaky", flaky_async)
    await restate.gather(endless, flaky)
    return "never"


APP = restate.app([svc])


def frame(msg: Any, type_id: int | None = None) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE if type_id is None else type_id, len(payload)) + payload


RUN = frame(m.RunCommandMessage(result_completion_id=1, name="quick"))
PROPOSAL = frame(m.ProposeRunCompletionMessage(result_completion_id=1, value=b'"x"'))


def frames(body: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    while body:
        length = int.from_bytes(body[4:8], "big")
        out.append((int.from_bytes(body[:2], "big"), body[8 : 8 + length]))
        body = body[8 + length :]
    return out


async def invoke(handler: str) -> list[tuple[float, bytes]]:
    """The response body writes (time, bytes) of one BIDI invocation; the run's result is answered."""
    start = frame(m.StartMessage(id=b"\x01" * 24, known_entries=1)) + frame(m.InputCommandMessage())
    chunks: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    chunks.put_nowait({"type": "http.request", "body": start, "more_body": True})
    writes: list[tuple[float, bytes]] = []

    async def receive() -> MutableMapping[str, Any]:
        return await chunks.get()

    async def send(msg: MutableMapping[str, Any]) -> None:
        body: bytes = msg.get("body", b"")
        if body:
            writes.append((time.monotonic(), body))
        for type_id, payload in frames(body):
            if type_id == m.MessageType.PROPOSE_RUN_COMPLETION:  # answered as restate-server does
                proposal = m.decode_message(m.ProposeRunCompletionMessage, payload)
                done = m.NotificationMessage(completion_id=proposal.result_completion_id, value=b'"x"')
                chunks.put_nowait({"type": "http.request", "body": frame(done, m.MessageType.RUN_COMPLETION)})
                chunks.put_nowait({"type": "http.request", "body": b"", "more_body": False})
            elif type_id == m.MessageType.ERROR:  # the attempt is over: so is the request
                chunks.put_nowait({"type": "http.request", "body": b"", "more_body": False})

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/invoke/Flushes/{handler}",
        "http_version": "2",
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v5")],
    }
    await asyncio.wait_for(APP(scope, receive, send), 10)
    return writes


async def test_a_quick_step_is_one_write() -> None:
    writes = await invoke("fast_step")
    assert writes[0][1] == RUN + PROPOSAL


async def test_a_slow_steps_command_goes_out_before_its_result() -> None:
    began = time.monotonic()
    writes = await invoke("slow_step")
    assert writes[0][1] == frame(m.RunCommandMessage(result_completion_id=1, name="slow"))
    assert writes[0][0] - began < 0.25  # held back briefly, not for the whole run
    assert [t for t, _ in frames(writes[1][1])] == [m.MessageType.PROPOSE_RUN_COMPLETION]


async def test_a_steps_result_goes_out_while_the_handler_is_busy_elsewhere() -> None:
    began = time.monotonic()
    writes = await invoke("busy_while_step")
    assert writes[0][1] == RUN + PROPOSAL
    assert writes[0][0] - began < 0.4


async def test_a_steps_result_goes_out_after_the_handler_gave_up_waiting_for_it() -> None:
    began = time.monotonic()
    writes = await invoke("gave_up_then_busy")
    proposals = [t for t, body in writes if m.MessageType.PROPOSE_RUN_COMPLETION in dict(frames(body))]
    assert len(proposals) == 1
    assert proposals[0] - began < 0.5  # with the run (0.3 s), not after the handler's sleep (0.65 s)


async def test_other_commands_go_out_at_once() -> None:
    writes = await invoke("send_then_step")
    first = frames(writes[0][1])
    assert [t for t, _ in first] == [m.MessageType.ONE_WAY_CALL_COMMAND, m.MessageType.RUN_COMMAND]
    assert writes[-1][1].endswith(frame(m.EndMessage()))


def messages(writes: list[tuple[float, bytes]]) -> list[Any]:
    return [
        m.decode_message(m.MESSAGES[type_id], payload)
        for _, body in writes
        for type_id, payload in frames(body)
    ]


def output(writes: list[tuple[float, bytes]]) -> bytes | None:
    outputs = [x for x in messages(writes) if isinstance(x, m.OutputCommandMessage)]
    assert len(outputs) == 1, messages(writes)
    return outputs[0].value


async def test_an_async_step_that_finishes_at_once_is_one_write_and_keeps_its_context() -> None:
    writes = await invoke("async_step")
    assert writes[0][1] == RUN + PROPOSAL
    assert output(writes) == b'"x/unset"'


async def test_an_async_step_that_waits_goes_on_in_a_task_of_its_own() -> None:
    writes = await invoke("waiting_async_step")
    assert writes[0][1] == RUN + PROPOSAL  # its RunCommand held back for the result, as for any step
    assert output(writes) == b'"x/unset"'


async def test_a_timeout_inside_an_async_step_cancels_the_step_not_the_handler() -> None:
    writes = await invoke("timeout_step")
    proposals = [x for x in messages(writes) if isinstance(x, m.ProposeRunCompletionMessage)]
    assert [p.value for p in proposals] == [b'"timed out"']


async def test_a_terminal_error_in_the_first_step_is_the_runs_result() -> None:
    writes = await invoke("terminal_async_step")
    proposals = [x for x in messages(writes) if isinstance(x, m.ProposeRunCompletionMessage)]
    assert len(proposals) == 1 and proposals[0].failure is not None
    assert (proposals[0].failure.code, proposals[0].failure.message) == (404, "no such thing")


async def test_another_error_in_the_first_step_is_retried_by_the_server() -> None:
    writes = await invoke("flaky_async_step")
    errors = [x for x in messages(writes) if isinstance(x, m.ErrorMessage)]
    assert len(errors) == 1, messages(writes)
    assert "boom" in errors[0].message
    assert errors[0].related_command_type == m.MessageType.RUN_COMMAND
    assert errors[0].related_command_name == "flaky"
    assert not any(isinstance(x, m.ProposeRunCompletionMessage) for x in messages(writes))


async def test_a_waiting_step_is_cancelled_when_another_run_ends_the_attempt() -> None:
    cancelled.clear()
    began = time.monotonic()
    writes = await invoke("endless_and_flaky")
    assert time.monotonic() - began < 5
    assert any(isinstance(x, m.ErrorMessage) and "boom" in x.message for x in messages(writes))
    for _ in range(100):  # the cancellation reaches the step at its task's next turn
        if cancelled:
            break
        await asyncio.sleep(0.01)
    assert cancelled == ["endless"]
