"""Cancellation reaches the calls a handler is waiting on, also before their invocation ids arrive.

The attempts run in request-response mode (the whole journal in the request body), so what the SDK
decides is visible in the response: a SendSignal(cancel) to the child, or a suspension waiting for
the child's invocation id, which the SDK needs before it can cancel it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import restate_sdk as restate
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import CANCEL_SIGNAL_ID
from restate_sdk._engine.framing import FrameBuffer
from restate_sdk._engine.messages import MessageType as T

from ..engine.factory import MessageFactory

f = MessageFactory()
parent = restate.Service("Parent")


@parent.handler()
async def call_child(ctx: restate.Context) -> None:
    await ctx.generic_call("Child", "work", b"")


APP = restate.app([parent])
CONTENT_TYPE = "application/vnd.restate.invocation.v6"


async def invoke(body: bytes) -> list[Any]:
    sent: list[MutableMapping[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invoke/Parent/call_child",
        "http_version": "1.1",
        "headers": [(b"content-type", CONTENT_TYPE.encode())],
    }
    await APP(scope, receive, send)
    assert sent[0]["status"] == 200
    frames = FrameBuffer(1 << 20)
    frames.feed(b"".join(x.get("body", b"") for x in sent[1:]))
    out = []
    while (frame := frames.next_frame()) is not None:
        out.append(m.decode_message(m.MESSAGES[frame.type], frame.payload))
    return out


CALL = f.call("Child", "work", b"", 1, 2)
CANCEL = f.signal(CANCEL_SIGNAL_ID)
CHILD_ID = f.completion(T.CALL_INVOCATION_ID_COMPLETION, 1, invocation_id="inv_child")


async def test_cancel_signals_the_child_call() -> None:
    out = await invoke(f.replay(CALL, CHILD_ID, CANCEL))
    signal, output, end = out
    assert isinstance(signal, m.SendSignalCommandMessage)
    assert (signal.target_invocation_id, signal.idx) == ("inv_child", CANCEL_SIGNAL_ID)
    assert isinstance(output, m.OutputCommandMessage) and output.failure is not None
    assert output.failure.code == 409
    assert isinstance(end, m.EndMessage)


async def test_cancel_waits_for_the_child_invocation_id() -> None:
    # The cancel signal came before the child's invocation id: the SDK must not end the invocation
    # (leaving the child running) but wait for the id, then cancel the child.
    (suspension,) = await invoke(f.replay(CALL, CANCEL))
    assert isinstance(suspension, m.SuspensionMessage)
    assert 1 in suspension.waiting_completions

    out = await invoke(f.replay(CALL, CANCEL, CHILD_ID))
    assert isinstance(out[0], m.SendSignalCommandMessage)
    assert out[0].target_invocation_id == "inv_child"
    assert isinstance(out[1], m.OutputCommandMessage) and out[1].failure is not None
    assert out[1].failure.code == 409


async def test_a_finished_child_is_not_cancelled() -> None:
    result = f.completion(T.CALL_COMPLETION, 2, value=b"null")
    (output, _end) = await invoke(f.replay(CALL, CHILD_ID, result, CANCEL))
    assert isinstance(output, m.OutputCommandMessage) and output.failure is None
