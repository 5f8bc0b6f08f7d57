"""A plain function given to ctx.run runs on a worker thread: it must not stall other invocations."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import MutableMapping
from typing import Any

import restate_sdk as restate
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import encode_header

svc = restate.Service("Blocking")
threads: list[str] = []
spans: list[tuple[float, float]] = []


def slow() -> str:
    threads.append(threading.current_thread().name)
    began = time.monotonic()
    time.sleep(0.3)
    spans.append((began, time.monotonic()))
    return "done"


@svc.handler()
async def block(ctx: restate.Context) -> str:
    return await ctx.run("slow", slow)


APP = restate.app([svc])


def frame(msg: Any) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


async def invoke(seed: int) -> bytes:
    start = frame(m.StartMessage(id=bytes([seed]) * 24, known_entries=1)) + frame(m.InputCommandMessage())
    chunks = [{"type": "http.request", "body": start, "more_body": False}]
    out: list[bytes] = []

    async def receive() -> MutableMapping[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        out.append(msg.get("body", b""))

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invoke/Blocking/block",
        "http_version": "2",
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v6")],
    }
    await APP(scope, receive, send)
    return b"".join(out)


async def test_four_blocking_runs_overlap_instead_of_queueing_on_the_loop() -> None:
    threads.clear()
    spans.clear()
    bodies = await asyncio.gather(*(invoke(i) for i in range(1, 5)))
    proposal = m.ProposeRunCompletionMessage(result_completion_id=1, value=b'"done"')
    assert all(frame(proposal) in body for body in bodies)
    assert all(name.startswith("restate-run") for name in threads), threads
    # all four were sleeping at the same moment: each began before any of them ended
    assert max(b for b, _ in spans) < min(e for _, e in spans), spans
