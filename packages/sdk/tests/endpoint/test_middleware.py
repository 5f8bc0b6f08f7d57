"""Middleware hooks around attempts and operations, seen through a recording middleware."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, MutableMapping
from datetime import timedelta
from typing import Any

import msgspec
import pytest
import restate_sdk as restate
from restate_sdk._context_impl import InvocationContext
from restate_sdk._endpoint.attempt import Attempt
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import FrameBuffer, encode_header

T = m.MessageType
svc = restate.Service("Steps")


@svc.handler()
async def steps(ctx: restate.Context, n: int) -> int:
    a = await ctx.run("one", lambda: n + 1)
    await ctx.sleep(timedelta(seconds=1), name="nap")
    b = await ctx.generic_call("Other", "echo", a, headers={"x-user": "u"})
    ctx.generic_send("Other", "echo", b, delay=timedelta(seconds=3))
    ctx.awakeable()
    return b  # type: ignore[no-any-return]


@svc.handler()
async def broken_run(ctx: restate.Context) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    await ctx.run("boom", boom)


@svc.handler()
async def terminal(ctx: restate.Context) -> None:
    raise restate.TerminalError("no", status_code=418)


class Recorder:
    """Logs every hook; adds ``x-mw`` to calls and sends."""

    def __init__(self, name: str, log: list[Any]) -> None:
        self.name = name
        self.log = log

    @contextlib.contextmanager
    def _scope(self, label: str, info: Any) -> Iterator[None]:
        self.log.append((self.name, "enter", label))
        try:
            yield
        except BaseException as e:
            self.log.append((self.name, "raised", label, type(e).__name__))
            raise
        finally:
            extra = (info.outcome, type(info.error).__name__) if isinstance(info, restate.AttemptInfo) else ()
            self.log.append((self.name, "exit", label, *extra))

    def attempt(self, info: restate.AttemptInfo) -> contextlib.AbstractContextManager[None]:
        self.log.append(
            (self.name, "info", info.service, info.handler, info.retry_count, info.journal_length)
        )
        return self._scope("attempt", info)

    def operation(self, info: restate.OperationInfo) -> contextlib.AbstractContextManager[None]:
        if info.headers is not None:
            info.headers[f"x-{self.name}"] = "1"
        return self._scope(f"{info.kind} {info.name}".strip(), info)


class Silent:
    def attempt(self, info: restate.AttemptInfo) -> None:
        return None

    def operation(self, info: restate.OperationInfo) -> None:
        return None


def frame(msg: Any, type_id: int | None = None) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE if type_id is None else type_id, len(payload)) + payload


def body(value: Any, *journal: bytes, retry_count: int = 0) -> bytes:
    start = m.StartMessage(
        id=bytes(24),
        debug_id="inv_1x",
        known_entries=1 + len(journal),
        retry_count_since_last_stored_entry=retry_count,
    )
    return frame(start) + frame(m.InputCommandMessage(value=msgspec.json.encode(value))) + b"".join(journal)


async def invoke(app: restate.Endpoint, handler: str, data: bytes) -> list[Any]:
    sent: list[MutableMapping[str, Any]] = []
    chunks: list[MutableMapping[str, Any]] = [{"type": "http.request", "body": data, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/invoke/Steps/{handler}",
        "http_version": "1.1",
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v5")],
    }
    await app(scope, receive, send)
    buf = FrameBuffer()
    buf.feed(b"".join(x.get("body", b"") for x in sent[1:]))
    out: list[Any] = []
    while (f := buf.next_frame()) is not None:
        out.append(m.decode_message(m.MESSAGES[f.type], f.payload))
    return out


async def test_hooks_nest_in_list_order_and_see_the_outcome() -> None:
    log: list[Any] = []
    app = restate.app([svc], middleware=[Recorder("a", log), Silent(), Recorder("b", log)])
    out = await invoke(app, "steps", body(1, retry_count=2))
    assert [type(x).__name__ for x in out] == [
        "RunCommandMessage",
        "ProposeRunCompletionMessage",
        "SuspensionMessage",
    ]
    assert log == [
        ("a", "info", "Steps", "steps", 2, 1),
        ("a", "enter", "attempt"),
        ("b", "info", "Steps", "steps", 2, 1),
        ("b", "enter", "attempt"),
        ("a", "enter", "run one"),
        ("b", "enter", "run one"),
        ("b", "exit", "run one"),
        ("a", "exit", "run one"),
        ("b", "exit", "attempt", "suspended", "NoneType"),
        ("a", "exit", "attempt", "suspended", "NoneType"),
    ]


# steps() drops its awakeable on purpose
@pytest.mark.filterwarnings("ignore::restate_sdk.UnawaitedFutureWarning")
async def test_replayed_operations_are_not_seen_and_added_headers_are_journaled() -> None:
    log: list[Any] = []
    app = restate.app([svc], middleware=[Recorder("a", log)])
    journal = [
        frame(m.RunCommandMessage(result_completion_id=1, name="one")),
        frame(m.NotificationMessage(completion_id=1, value=b"2"), int(T.RUN_COMPLETION)),
        frame(m.SleepCommandMessage(wake_up_time=1, result_completion_id=2, name="nap")),
        frame(m.NotificationMessage(completion_id=2, void=True), int(T.SLEEP_COMPLETION)),
    ]
    out = await invoke(app, "steps", body(1, *journal))
    call = out[0]
    assert isinstance(call, m.CallCommandMessage)
    assert [(h.key, h.value) for h in call.headers] == [("x-user", "u"), ("x-a", "1")]
    assert [entry[1:] for entry in log if entry[1] != "info"] == [
        ("enter", "attempt"),
        ("enter", "call Other/echo"),
        ("exit", "call Other/echo"),
        ("exit", "attempt", "suspended", "NoneType"),
    ]

    # The call replays with the header the middleware added back then; send and awakeable are new.
    log.clear()
    journal += [
        frame(call),
        frame(m.NotificationMessage(completion_id=4, value=b"5"), int(T.CALL_COMPLETION)),
    ]
    out = await invoke(app, "steps", body(1, *journal))
    send = out[0]
    assert isinstance(send, m.OneWayCallCommandMessage)
    assert [(h.key, h.value) for h in send.headers] == [("x-a", "1")]
    assert isinstance(out[1], m.OutputCommandMessage) and out[1].value == b"5"
    assert [entry[1:] for entry in log if entry[1] != "info"] == [
        ("enter", "attempt"),
        ("enter", "send Other/echo"),
        ("exit", "send Other/echo"),
        ("enter", "awakeable"),
        ("exit", "awakeable"),
        ("exit", "attempt", "success", "NoneType"),
    ]


@pytest.mark.parametrize(
    ("handler", "outcome", "error"),
    [("broken_run", "retry", "RuntimeError"), ("terminal", "failure", "TerminalError")],
)
async def test_the_attempt_sees_why_it_ended(handler: str, outcome: str, error: str) -> None:
    log: list[Any] = []
    app = restate.app([svc], middleware=[Recorder("a", log)])
    await invoke(app, handler, body(None))
    assert log[-1] == ("a", "exit", "attempt", outcome, error)
    if handler == "broken_run":  # the run's context got the closure's exception
        assert ("a", "raised", "run boom", "RuntimeError") in log


async def test_nothing_runs_without_middleware(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("middleware code ran")

    monkeypatch.setattr(InvocationContext, "_operation", forbidden)
    monkeypatch.setattr("restate_sdk._context_impl.traced_run", forbidden)
    monkeypatch.setattr(Attempt, "_run_with_middleware", forbidden)
    app = restate.app([svc])
    out = await invoke(app, "steps", body(1))
    assert [type(x).__name__ for x in out][:2] == ["RunCommandMessage", "ProposeRunCompletionMessage"]
    journal = [
        frame(m.RunCommandMessage(result_completion_id=1, name="one")),
        frame(m.NotificationMessage(completion_id=1, value=b"2"), int(T.RUN_COMPLETION)),
    ]
    out = await invoke(app, "steps", body(1, *journal))
    assert isinstance(out[0], m.SleepCommandMessage)
