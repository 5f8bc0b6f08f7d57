"""Scopes and limit keys on calls and sends, and ``ctx.request()``'s V7 fields, through the ASGI app."""

from __future__ import annotations

import json
from typing import Any

import pytest
import restate_sdk as restate
from restate_mocks import MockContext
from restate_sdk._engine import messages as m

from ..engine.factory import MessageFactory
from .test_app import decode_frames, frame, request

svc = restate.Service("Scoped")


@svc.handler()
async def target(ctx: restate.Context) -> None:
    return None


@svc.handler()
async def fan_out(ctx: restate.Context, options: dict[str, Any]) -> list[str | None]:
    ctx.service_send(target, **options)
    ctx.generic_send("Scoped", "target", **options)
    await ctx.service_call(target, **options)
    r = ctx.request()
    return [r.scope, r.limit_key, r.idempotency_key]


@svc.handler()
def blocking(ctx: restate.Context) -> None:  # a plain def handler: the blocking context
    ctx.service_send(target, scope="s", limit_key="l1/l2")


APP = restate.app([svc])


async def invoke(version: int, options: dict[str, Any], **start_fields: Any) -> list[Any]:
    body = (
        frame(
            m.StartMessage(id=b"\x01" * 24, debug_id="inv_1", known_entries=1, random_seed=7, **start_fields)
        )
        + frame(m.InputCommandMessage(value=json.dumps(options).encode()))
        # the call's result (completions 1 and 2 are the sends' invocation ids, 3 the call's)
        + MessageFactory().completion(m.MessageType.CALL_COMPLETION, 4, value=b"null")
    )
    ct = f"application/vnd.restate.invocation.v{version}"
    status, _, out = await request("/invoke/Scoped/fan_out", {"content-type": ct}, body, "POST", app=APP)
    assert status == 200
    return decode_frames(out)


async def test_scope_and_limit_key_go_on_every_call_and_send_on_v7() -> None:
    out = await invoke(7, {"scope": "tenant-1", "limit_key": "a/b"})
    sends = [msg for msg in out if isinstance(msg, m.OneWayCallCommandMessage)]
    calls = [msg for msg in out if isinstance(msg, m.CallCommandMessage)]
    assert len(sends) == 2 and len(calls) == 1
    assert {(c.scope, c.limit_key) for c in [*sends, *calls]} == {("tenant-1", "a/b")}


async def test_the_blocking_context_takes_them_too() -> None:
    body = frame(m.StartMessage(id=b"\x01" * 24, debug_id="inv_1", known_entries=1, random_seed=7)) + frame(
        m.InputCommandMessage(value=b"")
    )
    ct = "application/vnd.restate.invocation.v7"
    status, _, out = await request("/invoke/Scoped/blocking", {"content-type": ct}, body, "POST", app=APP)
    assert status == 200
    (send,) = [msg for msg in decode_frames(out) if isinstance(msg, m.OneWayCallCommandMessage)]
    assert (send.scope, send.limit_key) == ("s", "l1/l2")


async def test_the_request_shows_the_v7_start_fields() -> None:
    out = await invoke(7, {}, scope="checkout", limit_key="tenant1", idempotency_key="k1")
    (output,) = [msg for msg in out if isinstance(msg, m.OutputCommandMessage)]
    assert output.value == b'["checkout","tenant1","k1"]'
    calls = [msg for msg in out if isinstance(msg, m.CallCommandMessage)]
    assert calls[0].scope is None and calls[0].limit_key is None  # nothing is propagated implicitly


async def test_below_v7_the_request_fields_are_none() -> None:
    out = await invoke(6, {}, scope="checkout", limit_key="tenant1", idempotency_key="k1")
    (output,) = [msg for msg in out if isinstance(msg, m.OutputCommandMessage)]
    assert output.value == b"[null,null,null]"


@pytest.mark.parametrize(
    ("version", "options", "error"),
    [
        (6, {"scope": "s"}, "need service protocol v7, and this invocation runs on v6"),
        (7, {"scope": ""}, "invalid scope '': use 1 to 36 characters"),
        (7, {"scope": "a b"}, "invalid scope 'a b'"),
        (7, {"scope": "x" * 37}, "invalid scope"),
        (7, {"limit_key": "t"}, "limit_key 't' needs a scope: pass scope= as well"),
        (7, {"scope": "s", "limit_key": "a/"}, "invalid limit_key 'a/': use 'level1' or 'level1/level2'"),
        (7, {"scope": "s", "limit_key": "a/b/c"}, "invalid limit_key"),
    ],
)
async def test_bad_scopes_end_the_invocation_with_an_error_that_names_the_fix(
    version: int, options: dict[str, Any], error: str
) -> None:
    out = await invoke(version, options)
    assert not any(isinstance(msg, m.OneWayCallCommandMessage) for msg in out)  # nothing sent
    # an SdkUsageError fails the same way on every attempt: it ends the invocation
    (output,) = [msg for msg in out if isinstance(msg, m.OutputCommandMessage)]
    assert output.failure is not None and error in output.failure.message


async def test_the_mock_context_records_scopes_and_checks_them() -> None:
    ctx = MockContext()
    ctx.expect_call(target, scope="s1", limit_key="l1").returns(None)
    await ctx.service_call(target, scope="s1", limit_key="l1")
    ctx.generic_send("Scoped", "target", scope="s2")
    assert (ctx.calls[0].scope, ctx.calls[0].limit_key) == ("s1", "l1")
    assert (ctx.sends[0].scope, ctx.sends[0].limit_key) == ("s2", None)
    with pytest.raises(restate.SdkUsageError, match="needs a scope"):
        ctx.service_send(target, limit_key="l1")
