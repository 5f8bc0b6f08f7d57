"""Service protocol V7 against a real restate-server 1.7 (reference/protocol-v7.md).

The app advertises protocols 5..7. A default server runs it on V6; with
RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7=true the server picks V7 (§2.2). A recorder around the
app keeps every attempt's content type and both byte streams, so the tests check the wire, not
only the results.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import restate_sdk as restate
from restate_sdk import Context
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import FrameBuffer
from restate_testing import RestateEnvironment

pytestmark = pytest.mark.integration

V7_FLAG = {"RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7": "true", "RESTATE_EXPERIMENTAL_ENABLE_VQUEUES": "true"}

smoke = restate.Service("V7Smoke")


@smoke.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name}!"


@smoke.handler()
async def double(ctx: Context, n: int) -> int:
    async def twice() -> int:
        return 2 * n

    return await ctx.run("double", twice)


@smoke.handler()
async def nap(ctx: Context, millis: int) -> str:
    await ctx.sleep(timedelta(milliseconds=millis))
    return "rested"


@smoke.handler()
async def race(ctx: Context, millis: int) -> str:
    """wait_first over a call and a sleep: the call wins unless the sleep is very short."""
    call = ctx.service_call(greet, "racer")
    timer = ctx.sleep(timedelta(milliseconds=millis))
    first = await restate.wait_first(call, timer)
    return await call if first is call else "timer"


@smoke.handler()
async def both(ctx: Context, millis: int) -> list[str]:
    """gather over a call and a sleep: both must complete."""
    call = ctx.service_call(greet, "gatherer")
    timer = ctx.sleep(timedelta(milliseconds=millis))
    greeting, _ = await restate.gather(call, timer)
    return [greeting, "rested"]


@smoke.handler()
async def woken(ctx: Context) -> str:
    """Awaits an awakeable that another invocation resolves."""
    awakeable_id, promise = ctx.awakeable(str)
    ctx.service_send(wake, awakeable_id)
    return await promise


@smoke.handler()
async def wake(ctx: Context, awakeable_id: str) -> None:
    ctx.resolve_awakeable(awakeable_id, "woken")


@smoke.handler()
async def whoami(ctx: Context) -> list[str | None]:
    r = ctx.request()
    return [r.scope, r.limit_key]


@smoke.handler()
async def scoped(ctx: Context) -> list[list[str | None]]:
    """Calls whoami in a scope, with and without a limit key."""
    return [
        await ctx.service_call(whoami, scope="tenant-1", limit_key="gold/u1"),
        await ctx.service_call(whoami, scope="tenant-2"),
        await ctx.service_call(whoami),
    ]


@dataclass
class Attempt:
    path: str
    content_type: str
    request: bytearray = field(default_factory=bytearray)
    response: bytearray = field(default_factory=bytearray)

    def frames(self, direction: str) -> list[tuple[int, bool, Any]]:
        """(type, ack bit, decoded message) for every frame sent in ``direction`` ("request"/"response")."""
        buf = FrameBuffer()
        buf.feed(bytes(self.request if direction == "request" else self.response))
        out: list[tuple[int, bool, Any]] = []
        while (frame := buf.next_frame()) is not None:
            out.append((frame.type, frame.ack, m.decode_message(m.MESSAGES[frame.type], frame.payload)))
        return out


class Recorder:
    """ASGI middleware: records each /invoke attempt's content type and its request and response bodies."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or "/invoke/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        attempt = Attempt(scope["path"], headers.get(b"content-type", b"").decode())
        with self._lock:
            self.attempts.append(attempt)

        async def recv() -> MutableMapping[str, Any]:
            msg = await receive()
            if msg["type"] == "http.request":
                attempt.request += msg.get("body", b"")
            return msg

        async def snd(msg: MutableMapping[str, Any]) -> None:
            if msg["type"] == "http.response.body":
                attempt.response += msg.get("body", b"")
            await send(msg)

        await self.app(scope, recv, snd)

    def of(self, handler: str, invocation_id: str) -> list[Attempt]:
        """The attempts of one invocation (its StartMessage names it)."""
        with self._lock:
            attempts = [a for a in self.attempts if a.path.endswith(f"/V7Smoke/{handler}")]
        return [a for a in attempts if a.frames("request")[0][2].debug_id == invocation_id]


CONFIGS: dict[str, tuple[dict[str, Any], int]] = {
    "default": ({}, 6),
    "v7": ({"env": V7_FLAG}, 7),
    "v7-always-suspending": ({"env": V7_FLAG, "always_replay": True}, 7),
}


@dataclass
class Server:
    env: RestateEnvironment
    recorder: Recorder
    version: int
    suspending: bool


@pytest.fixture(scope="module", params=list(CONFIGS))
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    options, version = CONFIGS[request.param]
    recorder = Recorder(restate.app([smoke]))
    with RestateEnvironment(recorder, backend="binary", **options) as env:
        yield Server(env, recorder, version, bool(options.get("always_replay")))


def invoke(server: Server, handler: str, body: object) -> tuple[Any, str]:
    """Call ``handler`` through the ingress; returns its result and the invocation id."""
    with httpx.Client(base_url=server.env.ingress_url, timeout=60) as client:
        r = client.post(f"/V7Smoke/{handler}", json=body, headers={"idempotency-key": uuid.uuid4().hex})
        assert r.status_code == 200, r.text
        return r.json(), r.headers["x-restate-id"]


def content_types(attempts: list[Attempt]) -> set[str]:
    return {a.content_type for a in attempts}


def test_the_deployment_advertises_protocols_5_to_7(server: Server) -> None:
    (deployment,) = [
        d
        for d in server.env.admin.list_deployments()
        if d.get("uri", "").rstrip("/") == server.env.deployment_uri.rstrip("/")
    ]
    assert (deployment["min_protocol_version"], deployment["max_protocol_version"]) == (5, 7)


def test_greeter(server: Server) -> None:
    result, invocation_id = invoke(server, "greet", "Ann")
    assert result == "Hello Ann!"
    attempts = server.recorder.of("greet", invocation_id)
    assert content_types(attempts) == {f"application/vnd.restate.invocation.v{server.version}"}


def test_run(server: Server) -> None:
    result, invocation_id = invoke(server, "double", 21)
    assert result == 42
    attempts = server.recorder.of("double", invocation_id)
    assert content_types(attempts) == {f"application/vnd.restate.invocation.v{server.version}"}
    proposals = [
        (ack, msg)
        for a in attempts
        for t, ack, msg in a.frames("response")
        if t == m.MessageType.PROPOSE_RUN_COMPLETION
    ]
    assert proposals == [
        (server.version >= 7, m.ProposeRunCompletionMessage(result_completion_id=1, value=b"42"))
    ]
    sent_back = [(t, msg) for a in attempts for t, _, msg in a.frames("request") if t in (0x0007, 0x8011)]
    if server.suspending:
        # the request body closes at once: nothing comes back in this attempt, the next one replays
        # the journaled RunCompletion (v7 §7.2)
        assert (
            m.MessageType.RUN_COMPLETION,
            m.NotificationMessage(completion_id=1, value=b"42"),
        ) in sent_back
        assert all(t != m.MessageType.PROPOSE_RUN_COMPLETION_ACK for t, _ in sent_back)
    elif server.version >= 7:
        assert sent_back == [(m.MessageType.PROPOSE_RUN_COMPLETION_ACK, m.ProposeRunCompletionAckMessage(1))]
    else:
        assert sent_back == [
            (m.MessageType.RUN_COMPLETION, m.NotificationMessage(completion_id=1, value=b"42"))
        ]


def suspensions(attempts: list[Attempt]) -> list[m.SuspensionMessage]:
    return [msg for a in attempts for t, _, msg in a.frames("response") if t == m.MessageType.SUSPENSION]


def test_sleep(server: Server) -> None:
    result, invocation_id = invoke(server, "nap", 200)
    assert result == "rested"
    attempts = server.recorder.of("nap", invocation_id)
    assert content_types(attempts) == {f"application/vnd.restate.invocation.v{server.version}"}
    hints = [msg for a in attempts for t, _, msg in a.frames("response") if t == m.MessageType.AWAITING_ON]
    if not server.suspending:
        # blocked with the request stream open: V7 sends the AwaitingOn hint once (v7 §6)
        expected = m.Future(waiting_completions=[1], waiting_signals=[1], combinator_type=1)
        assert hints == ([m.AwaitingOnMessage(awaiting_on=expected)] if server.version >= 7 else [])
        return
    assert len(attempts) >= 2
    (suspension, *_) = suspensions(attempts)
    if server.version >= 7:  # the sleep (completion 1) or a cancellation resumes (v7 §4.3)
        assert suspension == m.SuspensionMessage(
            awaiting_on=m.Future(waiting_completions=[1], waiting_signals=[1], combinator_type=1)
        )
    else:
        assert suspension == m.SuspensionMessage(waiting_completions=[1], waiting_signals=[1])


def test_wait_first_of_a_call_and_a_sleep(server: Server) -> None:
    result, invocation_id = invoke(server, "race", 60_000)
    assert result == "Hello racer!"
    if not server.suspending:
        return
    attempts = server.recorder.of("race", invocation_id)
    assert content_types(attempts) == {f"application/vnd.restate.invocation.v{server.version}"}
    # completions: 1 the callee's invocation id, 2 the call's result, 3 the sleep
    awaited = [s.awaiting_on for s in suspensions(attempts)]
    race_tree = m.Future(
        waiting_signals=[1],
        nested_futures=[m.Future(waiting_completions=[2, 3], combinator_type=1)],
        combinator_type=1,
    )
    assert race_tree in awaited, awaited


def test_gather_of_a_call_and_a_sleep(server: Server) -> None:
    result, invocation_id = invoke(server, "both", 100)
    assert result == ["Hello gatherer!", "rested"]
    if not server.suspending:
        return
    attempts = server.recorder.of("both", invocation_id)
    # completions: 1 the callee's invocation id, 2 the call's result, 3 the sleep
    awaited = [s.awaiting_on for s in suspensions(attempts)]
    gather_tree = m.Future(
        waiting_signals=[1],
        nested_futures=[m.Future(waiting_completions=[2, 3], combinator_type=4)],  # gather
        combinator_type=1,
    )
    assert awaited[0] == gather_tree, awaited


def test_an_awakeable(server: Server) -> None:
    result, invocation_id = invoke(server, "woken", None)
    assert result == "woken"
    if not server.suspending:
        return
    attempts = server.recorder.of("woken", invocation_id)
    assert content_types(attempts) == {f"application/vnd.restate.invocation.v{server.version}"}
    (suspension, *_) = suspensions(attempts)
    if server.version >= 7:  # the awakeable is signal 17; the cancel signal 1 resumes too
        assert suspension == m.SuspensionMessage(
            awaiting_on=m.Future(waiting_signals=[17, 1], combinator_type=1)
        )
    else:
        assert suspension == m.SuspensionMessage(waiting_signals=[1, 17])


def test_scope_and_limit_key_reach_the_callee(server: Server) -> None:
    if server.version < 7:
        pytest.skip("scopes need protocol v7 (this configuration runs v6)")
    result, invocation_id = invoke(server, "scoped", None)
    assert result == [["tenant-1", "gold/u1"], ["tenant-2", None], [None, None]]
    calls = [
        (msg.scope, msg.limit_key)
        for a in server.recorder.of("scoped", invocation_id)
        for t, _, msg in a.frames("response")
        if t == m.MessageType.CALL_COMMAND
    ]
    assert calls[:3] == [("tenant-1", "gold/u1"), ("tenant-2", None), (None, None)]
