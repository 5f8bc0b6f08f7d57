"""VirtualObjectCommandInterpreter: runs a list of commands over awakeables, timers, runs and signals.

Commands are JSON objects told apart by their ``"type"`` field (see the conformance contract).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypedDict

import restate_sdk as restate
from restate_sdk import ObjectContext, ObjectSharedContext, RestateFuture

__all__ = ["virtual_object_command_interpreter"]

virtual_object_command_interpreter = restate.VirtualObject("VirtualObjectCommandInterpreter")

RESULTS = "results"
Command = dict[str, Any]


class InterpretRequest(TypedDict):
    commands: list[Command]


@dataclass
class ResolveAwakeable:
    awakeableKey: str
    value: str


@dataclass
class RejectAwakeable:
    awakeableKey: str
    reason: str


def _awakeable_state(key: str) -> str:
    return f"awk-{key}"


@dataclass
class _Awaitable:
    """A durable future and how its value becomes the command's string result."""

    future: RestateFuture[Any]
    to_result: Callable[[Any], str] = str

    async def result(self) -> str:
        return self.to_result(await self.future)


def _awaitable(ctx: ObjectContext, cmd: Command) -> _Awaitable:
    match cmd["type"]:
        case "createAwakeable":
            awakeable_id, future = ctx.awakeable(type_hint=str)
            ctx.set(_awakeable_state(cmd["awakeableKey"]), awakeable_id)
            return _Awaitable(future)
        case "sleep":
            return _Awaitable(ctx.sleep(timedelta(milliseconds=cmd["timeoutMillis"])), lambda _: "sleep")
        case "runThrowTerminalException":
            reason: str = cmd["reason"]

            def throw() -> str:
                raise restate.TerminalError(reason)

            return _Awaitable(ctx.run("run should fail command", throw, type_hint=str))
        case "runReturns":
            value: Any = cmd["value"]

            async def returns() -> Any:
                await asyncio.sleep(0)
                return value

            return _Awaitable(ctx.run("run returns", returns))
        case "createSignal":
            return _Awaitable(ctx.signal(cmd["signalName"], type_hint=str))
        case other:
            raise restate.TerminalError(f"unknown awaitable command {other!r}")


async def _await_any(awaitables: list[_Awaitable]) -> str:
    done = await restate.wait_first(*(a.future for a in awaitables))
    return next(a for a in awaitables if a.future is done).to_result(await done)


async def _await_any_successful(awaitables: list[_Awaitable]) -> str:
    by_future = {id(a.future): a for a in awaitables}
    last_error: restate.TerminalError | None = None
    async for done in restate.as_completed(*(a.future for a in awaitables)):
        try:
            return await by_future[id(done)].result()
        except restate.TerminalError as e:
            last_error = e
    assert last_error is not None
    raise last_error


async def _await_all_completed(awaitables: list[_Awaitable]) -> str:
    outcomes: list[str] = []
    for a in awaitables:
        try:
            outcomes.append(f"ok:{await a.result()}")
        except restate.TerminalError as e:
            outcomes.append(f"err:{e.message}")
    return "|".join(outcomes)


async def _await_all_succeeded(awaitables: list[_Awaitable]) -> str:
    values = await restate.gather(*(a.future for a in awaitables))
    return "|".join(a.to_result(v) for a, v in zip(awaitables, values, strict=True))


async def _interpret(ctx: ObjectContext, cmd: Command) -> str:
    match cmd["type"]:
        case "awaitOne":
            return await _awaitable(ctx, cmd["command"]).result()
        case "awaitAny" | "awaitFirstCompleted":
            return await _await_any([_awaitable(ctx, c) for c in cmd["commands"]])
        case "awaitAnySuccessful" | "awaitFirstSucceededOrAllFailed":
            return await _await_any_successful([_awaitable(ctx, c) for c in cmd["commands"]])
        case "awaitAllSucceededOrFirstFailed":
            return await _await_all_succeeded([_awaitable(ctx, c) for c in cmd["commands"]])
        case "awaitAllCompleted":
            return await _await_all_completed([_awaitable(ctx, c) for c in cmd["commands"]])
        case "awaitAwakeableOrTimeout":
            awakeable_id, awakeable = ctx.awakeable(type_hint=str)
            ctx.set(_awakeable_state(cmd["awakeableKey"]), awakeable_id)
            timeout = ctx.sleep(timedelta(milliseconds=cmd["timeoutMillis"]))
            if await restate.wait_first(awakeable, timeout) is timeout:
                raise restate.TerminalError("await-timeout")
            return await awakeable
        case "resolveAwakeable":
            await resolve_awakeable(ctx, ResolveAwakeable(cmd["awakeableKey"], cmd["value"]))
            return ""
        case "rejectAwakeable":
            await reject_awakeable(ctx, RejectAwakeable(cmd["awakeableKey"], cmd["reason"]))
            return ""
        case "getEnvVariable":
            name: str = cmd["envName"]
            return await ctx.run("get env", lambda: os.environ.get(name, ""), type_hint=str)
        case other:
            raise restate.TerminalError(f"unknown command {other!r}")


@virtual_object_command_interpreter.handler(name="interpretCommands")
async def interpret_commands(ctx: ObjectContext, req: InterpretRequest) -> str:
    result = ""
    for cmd in req["commands"]:
        result = await _interpret(ctx, cmd)
        results = await ctx.get(RESULTS, type_hint=list[str]) or []
        ctx.set(RESULTS, [*results, result])
    return result


@virtual_object_command_interpreter.handler(name="resolveAwakeable", kind="shared")
async def resolve_awakeable(ctx: ObjectSharedContext, req: ResolveAwakeable) -> None:
    awakeable_id = await ctx.get(_awakeable_state(req.awakeableKey), type_hint=str)
    if not awakeable_id:
        raise restate.TerminalError("No awakeable is registered")
    ctx.resolve_awakeable(awakeable_id, req.value)


@virtual_object_command_interpreter.handler(name="rejectAwakeable", kind="shared")
async def reject_awakeable(ctx: ObjectSharedContext, req: RejectAwakeable) -> None:
    awakeable_id = await ctx.get(_awakeable_state(req.awakeableKey), type_hint=str)
    if not awakeable_id:
        raise restate.TerminalError("No awakeable is registered")
    ctx.reject_awakeable(awakeable_id, req.reason)


@virtual_object_command_interpreter.handler(name="hasAwakeable", kind="shared")
async def has_awakeable(ctx: ObjectSharedContext, key: str) -> bool:
    return bool(await ctx.get(_awakeable_state(key), type_hint=str))


@virtual_object_command_interpreter.handler(name="getResults", kind="shared")
async def get_results(ctx: ObjectSharedContext) -> list[str]:
    return await ctx.get(RESULTS, type_hint=list[str]) or []
