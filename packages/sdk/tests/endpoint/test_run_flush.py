"""A step's RunCommand goes out with the run's result: one write per step, unless the run takes long."""

from __future__ import annotations

import asyncio
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


async def test_other_commands_go_out_at_once() -> None:
    writes = await invoke("send_then_step")
    first = frames(writes[0][1])
    assert [t for t, _ in first] == [m.MessageType.ONE_WAY_CALL_COMMAND, m.MessageType.RUN_COMMAND]
    assert writes[-1][1].endswith(frame(m.EndMessage()))
