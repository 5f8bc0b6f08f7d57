"""ObjectInterpreterL0/L1/L2 and ServiceInterpreterHelper: the e2e-verification-runner's interpreter.

No sdk-tests test uses them. ``interpret`` runs a program of commands told apart by ``"kind"`` (1-19);
a future a command creates (calls, awakeables) is awaited right after it and checked against the
value it must produce. ``CALL_NEXT_LAYER_OBJECT`` runs a nested program one layer down.
"""

from __future__ import annotations

import random
from datetime import timedelta
from enum import IntEnum
from typing import Any, TypedDict

import restate_sdk as restate
from restate_sdk import Context, ObjectContext, ObjectSharedContext, RestateFuture, Service, VirtualObject

__all__ = ["object_interpreters", "service_interpreter_helper"]


class Kind(IntEnum):
    SET_STATE = 1
    GET_STATE = 2
    CLEAR_STATE = 3
    INCREMENT_STATE_COUNTER = 4
    INCREMENT_STATE_COUNTER_INDIRECTLY = 5
    SLEEP = 6
    CALL_SERVICE = 7
    CALL_SLOW_SERVICE = 8
    INCREMENT_VIA_DELAYED_CALL = 9
    SIDE_EFFECT = 10
    THROWING_SIDE_EFFECT = 11
    SLOW_SIDE_EFFECT = 12
    RECOVER_TERMINAL_CALL = 13
    RECOVER_TERMINAL_MAYBE_UN_AWAITED = 14
    AWAIT_PROMISE = 15
    RESOLVE_AWAKEABLE = 16
    REJECT_AWAKEABLE = 17
    INCREMENT_STATE_COUNTER_VIA_AWAKEABLE = 18
    CALL_NEXT_LAYER_OBJECT = 19


Command = dict[str, Any]


class Program(TypedDict):
    commands: list[Command]


HELPER = "ServiceInterpreterHelper"
COUNTER = "counter"
REJECTED = "rejected"


def _layer_name(layer: int) -> str:
    return f"ObjectInterpreterL{layer}"


def _increment_program() -> Program:
    return {"commands": [{"kind": Kind.INCREMENT_STATE_COUNTER}]}


# ---- ServiceInterpreterHelper ------------------------------------------------------------------

service_interpreter_helper = restate.Service(HELPER)


class InterpreterId(TypedDict):
    layer: int
    key: str


class EchoLater(TypedDict):
    sleep: int
    parameter: str


class AwakeableDance(TypedDict):
    interpreter: InterpreterId
    txPromiseId: str


@service_interpreter_helper.handler(name="ping")
async def ping(ctx: Context) -> None:
    return None


@service_interpreter_helper.handler(name="echo")
async def echo(ctx: Context, parameter: str) -> str:
    return parameter


@service_interpreter_helper.handler(name="echoLater")
async def echo_later(ctx: Context, req: EchoLater) -> str:
    await ctx.sleep(timedelta(milliseconds=req["sleep"]))
    return req["parameter"]


@service_interpreter_helper.handler(name="terminalFailure")
async def terminal_failure(ctx: Context) -> str:
    raise restate.TerminalError("bye")


@service_interpreter_helper.handler(name="incrementIndirectly")
async def increment_indirectly(ctx: Context, target: InterpreterId) -> None:
    ctx.generic_send(_layer_name(target["layer"]), "interpret", _increment_program(), target["key"])


@service_interpreter_helper.handler(name="resolveAwakeable")
async def resolve_awakeable(ctx: Context, awakeable_id: str) -> None:
    ctx.resolve_awakeable(awakeable_id, "ok")


@service_interpreter_helper.handler(name="rejectAwakeable")
async def reject_awakeable(ctx: Context, awakeable_id: str) -> None:
    ctx.reject_awakeable(awakeable_id, "error")


@service_interpreter_helper.handler(name="incrementViaAwakeableDance")
async def increment_via_awakeable_dance(ctx: Context, req: AwakeableDance) -> None:
    awakeable_id, awakeable = ctx.awakeable(type_hint=str)
    ctx.resolve_awakeable(req["txPromiseId"], awakeable_id)
    await awakeable
    target = req["interpreter"]
    ctx.generic_send(_layer_name(target["layer"]), "interpret", _increment_program(), target["key"])


# ---- ObjectInterpreterL0/L1/L2 -------------------------------------------------------------------


class _Interpreter:
    """One run of a program at ``layer``: the futures created so far, by command index."""

    def __init__(self, layer: int, ctx: ObjectContext) -> None:
        self.layer = layer
        self.ctx = ctx
        self.pending: dict[int, tuple[Any, RestateFuture[Any]]] = {}

    async def await_future(self, index: int) -> None:
        if index not in self.pending:
            return
        expected, future = self.pending.pop(index)
        try:
            result = await future
        except restate.TerminalError:
            result = REJECTED
        if result != expected:
            raise restate.TerminalError(f"Expected {expected!r} but got {result!r}")

    def _me(self) -> InterpreterId:
        return {"layer": self.layer, "key": self.ctx.key()}

    async def run(self, i: int, cmd: Command) -> None:
        ctx = self.ctx
        match Kind(cmd["kind"]):
            case Kind.SET_STATE:
                ctx.set(f"key-{cmd['key']}", f"value-{cmd['key']}")
            case Kind.GET_STATE:
                await ctx.get(f"key-{cmd['key']}", type_hint=str)
            case Kind.CLEAR_STATE:
                ctx.clear(f"key-{cmd['key']}")
            case Kind.INCREMENT_STATE_COUNTER:
                ctx.set(COUNTER, (await ctx.get(COUNTER, type_hint=int) or 0) + 1)
            case Kind.INCREMENT_STATE_COUNTER_INDIRECTLY:
                ctx.generic_send(HELPER, "incrementIndirectly", self._me())
            case Kind.SLEEP:
                await ctx.sleep(timedelta(milliseconds=cmd["duration"]))
            case Kind.CALL_SERVICE:
                expected = f"hello-{i}"
                self.pending[i] = (expected, ctx.generic_call(HELPER, "echo", expected))
            case Kind.CALL_SLOW_SERVICE:
                expected = f"hello-{i}"
                req: EchoLater = {"parameter": expected, "sleep": cmd["sleep"]}
                self.pending[i] = (expected, ctx.generic_call(HELPER, "echoLater", req))
            case Kind.INCREMENT_VIA_DELAYED_CALL:
                delay = timedelta(milliseconds=cmd["duration"])
                ctx.generic_send(HELPER, "incrementIndirectly", self._me(), delay=delay)
            case Kind.SIDE_EFFECT:
                expected = f"hello-{i}"
                result = await ctx.run("sideEffect", lambda: expected, type_hint=str)
                if result != expected:
                    raise restate.TerminalError(f"Expected {expected!r} but got {result!r}")
            case Kind.THROWING_SIDE_EFFECT:

                def maybe_throw() -> None:
                    if random.random() < 0.5:
                        raise ValueError("Random error")

                await ctx.run("throwingSideEffect", maybe_throw)
            case Kind.SLOW_SIDE_EFFECT | Kind.RECOVER_TERMINAL_MAYBE_UN_AWAITED:
                pass
            case Kind.RECOVER_TERMINAL_CALL:
                try:
                    await ctx.generic_call(HELPER, "terminalFailure")
                except restate.TerminalError:
                    pass
                else:
                    raise restate.TerminalError("Expected terminal error")
            case Kind.AWAIT_PROMISE:
                await self.await_future(cmd["index"])
            case Kind.RESOLVE_AWAKEABLE:
                awakeable_id, awakeable = ctx.awakeable(type_hint=str)
                self.pending[i] = ("ok", awakeable)
                ctx.generic_send(HELPER, "resolveAwakeable", awakeable_id)
            case Kind.REJECT_AWAKEABLE:
                awakeable_id, awakeable = ctx.awakeable(type_hint=str)
                self.pending[i] = (REJECTED, awakeable)
                ctx.generic_send(HELPER, "rejectAwakeable", awakeable_id)
            case Kind.INCREMENT_STATE_COUNTER_VIA_AWAKEABLE:
                tx_id, tx = ctx.awakeable(type_hint=str)
                dance: AwakeableDance = {"interpreter": self._me(), "txPromiseId": tx_id}
                ctx.generic_send(HELPER, "incrementViaAwakeableDance", dance)
                ctx.resolve_awakeable(await tx, "ok")
            case Kind.CALL_NEXT_LAYER_OBJECT:
                call = ctx.generic_call(
                    _layer_name(self.layer + 1), "interpret", cmd["program"], str(cmd["key"])
                )
                self.pending[i] = (None, call)


def _make_layer(layer: int) -> VirtualObject:
    obj = restate.VirtualObject(_layer_name(layer))

    @obj.handler(name="interpret")
    async def interpret(ctx: ObjectContext, program: Program) -> None:
        interpreter = _Interpreter(layer, ctx)
        for i, cmd in enumerate(program["commands"]):
            await interpreter.run(i, cmd)
            await interpreter.await_future(i)

    @obj.handler(name="counter", kind="shared")
    async def counter(ctx: ObjectSharedContext) -> int:
        return await ctx.get(COUNTER, type_hint=int) or 0

    return obj


object_interpreters: list[Service | VirtualObject] = [_make_layer(layer) for layer in range(3)]
