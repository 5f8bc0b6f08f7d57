"""TestUtilsService: echo helpers, side-effect counting, cancellation and signals of other invocations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import restate_sdk as restate
from restate_sdk import Context

__all__ = ["test_utils"]

test_utils = restate.Service("TestUtilsService")


@test_utils.handler(name="echo")
async def echo(ctx: Context, value: str) -> str:
    return value


@test_utils.handler(name="uppercaseEcho")
async def uppercase_echo(ctx: Context, value: str) -> str:
    return value.upper()


@test_utils.handler(name="echoHeaders")
async def echo_headers(ctx: Context) -> dict[str, str]:
    return dict(ctx.request().headers)


@test_utils.handler(name="rawEcho", accept="*/*")
async def raw_echo(ctx: Context, data: bytes) -> bytes:
    return data


@test_utils.handler(name="countExecutedSideEffects")
async def count_executed_side_effects(ctx: Context, increments: int) -> int:
    executed = 0

    def count() -> None:
        nonlocal executed
        executed += 1

    for _ in range(increments):
        await ctx.run("count", count)
    return executed


@test_utils.handler(name="cancelInvocation")
async def cancel_invocation(ctx: Context, invocation_id: str) -> None:
    ctx.cancel_invocation(invocation_id)


@dataclass
class ResolveSignalRequest:
    invocationId: str
    signalName: str
    value: str


@dataclass
class RejectSignalRequest:
    invocationId: str
    signalName: str
    reason: str


@test_utils.handler(name="resolveSignal")
async def resolve_signal(ctx: Context, req: ResolveSignalRequest) -> None:
    ctx.resolve_signal(req.invocationId, req.signalName, req.value)


@test_utils.handler(name="rejectSignal")
async def reject_signal(ctx: Context, req: RejectSignalRequest) -> None:
    ctx.reject_signal(req.invocationId, req.signalName, req.reason)


@test_utils.handler(name="sleepConcurrently")
async def sleep_concurrently(ctx: Context, millis: list[int]) -> None:
    await restate.gather(*(ctx.sleep(timedelta(milliseconds=ms)) for ms in millis))
