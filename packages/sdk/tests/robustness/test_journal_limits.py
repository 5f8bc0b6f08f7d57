"""Per-attempt limits in process: the journal's total size and the time it may take to arrive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest
import restate_sdk as restate
from restate_sdk import SdkUsageError
from restate_sdk._endpoint import invoke
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import DEFAULT_MAX_JOURNAL_SIZE
from restate_sdk._engine.framing import FrameBuffer, encode_header

MiB = 1024 * 1024
svc = restate.Service("Journal")


@svc.handler()
async def echo(ctx: restate.Context, value: str) -> str:
    return value


@svc.handler()
async def run_twice(ctx: restate.Context) -> str:
    a = await ctx.run("a", lambda: "x")
    b = await ctx.run("b", lambda: "y")
    return a + b


def _frame(msg: Any) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


def _start(known_entries: int) -> bytes:
    return _frame(m.StartMessage(id=b"\x03" * 24, debug_id="inv_1lim", known_entries=known_entries))


def _run_entry(i: int, size: int) -> bytes:
    return _frame(m.RunCommandMessage(result_completion_id=i + 1, name="r" + "x" * size))


async def _attempt(
    app: restate.Endpoint, handler: str, chunks: AsyncIterator[bytes], *, stall: bool = False
) -> tuple[list[Any], int]:
    """One attempt; ``chunks`` is the request body. With ``stall`` the body never ends (a client
    that stopped sending); else it ends after the last chunk. Returns the messages and chunks read."""
    sent: list[MutableMapping[str, Any]] = []
    read = 0

    async def receive() -> MutableMapping[str, Any]:
        nonlocal read
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            if stall:
                await asyncio.Event().wait()
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/invoke/Journal/{handler}",
        "http_version": "2",
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v6")],
    }
    await asyncio.wait_for(app(scope, receive, send), 30)
    assert sent[0]["status"] == 200, sent
    buf = FrameBuffer()
    buf.feed(b"".join(x.get("body", b"") for x in sent[1:]))
    out: list[Any] = []
    while (f := buf.next_frame()) is not None:
        out.append(m.decode_message(m.MESSAGES[f.type], f.payload))
    assert not sent[-1].get("more_body", False)
    return out, read


async def _body(*parts: bytes) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


async def test_150_entries_of_1_mib_are_refused_after_the_limit_not_buffered() -> None:
    app = restate.app([svc])
    entry = _run_entry(0, MiB)

    async def journal() -> AsyncIterator[bytes]:
        yield _start(151) + _frame(m.InputCommandMessage(value=b'"hi"'))
        for _ in range(150):
            yield entry

    out, read = await _attempt(app, "echo", journal())
    assert [type(x) for x in out] == [m.ErrorMessage]
    assert out[0].code == 413
    assert f"over this endpoint's limit of {DEFAULT_MAX_JOURNAL_SIZE} bytes" in out[0].message
    assert "max_journal_size=" in out[0].message
    assert read == 151  # the rest was read and dropped, not kept: the response ends after the request


async def test_a_journal_of_exactly_the_limit_is_served_and_one_byte_more_is_not() -> None:
    body = _start(1) + _frame(m.InputCommandMessage(value=b'"' + b"p" * 300 + b'"'))
    results: list[type[Any]] = []
    for size in (len(body), len(body) - 1):
        app = restate.app([svc], max_journal_size=size)
        out, _ = await _attempt(app, "run_twice", _body(body[:10], body[10:]), stall=False)
        results.append(type(out[-1]))
    # the journal replays two runs without results: the handler suspends waiting for them
    assert results == [m.SuspensionMessage, m.ErrorMessage]


async def test_a_message_still_arriving_counts_before_it_is_whole() -> None:
    app = restate.app([svc], max_journal_size=1000)
    big = _run_entry(0, 5000)
    out, read = await _attempt(
        app, "echo", _body(_start(3) + _frame(m.InputCommandMessage()), big[:1100], big[1100:])
    )
    assert out[0].code == 413 and read == 3


async def test_a_half_sent_journal_is_refused_after_the_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invoke, "_DRAIN_TIMEOUT", 0.1)
    app = restate.app([svc], journal_read_timeout=0.3)
    started = time.monotonic()
    out, _ = await _attempt(app, "echo", _body(_start(2) + _frame(m.InputCommandMessage())), stall=True)
    elapsed = time.monotonic() - started
    assert [type(x) for x in out] == [m.ErrorMessage]
    assert out[0].code == 408
    assert out[0].message == "the journal did not arrive within 0.3s (journal_read_timeout= on restate.app)"
    assert 0.3 <= elapsed < 5


async def test_the_read_timeout_ends_with_the_journal() -> None:
    """A bidirectional attempt may wait longer than the timeout for a notification once it runs."""
    app = restate.app([svc], journal_read_timeout=0.2)
    journal = (
        _start(2)
        + _frame(m.InputCommandMessage())
        + _frame(m.RunCommandMessage(result_completion_id=1, name="a"))
    )

    async def body() -> AsyncIterator[bytes]:
        yield journal
        await asyncio.sleep(0.5)
        for cid, value in ((1, b'"x"'), (2, b'"y"')):
            n = m.NotificationMessage(completion_id=cid, value=value)
            payload = m.encode_message(n)
            yield encode_header(m.MessageType.RUN_COMPLETION, len(payload)) + payload
            await asyncio.sleep(0.3)

    out, _ = await _attempt(app, "run_twice", body())
    assert isinstance(out[-1], m.EndMessage), out
    assert any(isinstance(x, m.OutputCommandMessage) and x.value == b'"xy"' for x in out)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_journal_size": 0}, "max_journal_size must be a positive number of bytes, not 0"),
        ({"max_journal_size": 1.5}, "max_journal_size must be a positive number of bytes, not 1.5"),
        ({"journal_read_timeout": 0}, "journal_read_timeout must be a positive, finite number of seconds"),
        ({"journal_read_timeout": float("inf")}, "not inf"),
        ({"journal_read_timeout": "60"}, "not '60'"),
    ],
)
def test_bad_limits_fail_when_the_app_is_built(options: dict[str, Any], message: str) -> None:
    with pytest.raises(SdkUsageError) as info:
        restate.app([svc], **options)
    assert message in str(info.value)
