"""NonDeterministic: handlers that take a different path on replay, which the SDK must detect."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import restate_sdk as restate
from restate_sdk import ObjectContext

from .counter import add, get, reset

__all__ = ["non_deterministic"]

# An inactivity timeout of zero makes restate-server suspend these handlers at every await, whatever its
# own configuration: the mismatch only shows when the handler is replayed.
non_deterministic = restate.VirtualObject("NonDeterministic", inactivity_timeout=timedelta(0))

_invocation_counts: defaultdict[tuple[str, str], int] = defaultdict(int)
COUNTER_KEY = "abc"
STATE_VALUE = "my-state"


def _do_left_action(handler: str, ctx: ObjectContext) -> bool:
    """True on the first execution of this handler for this key, false on its replay."""
    _invocation_counts[(handler, ctx.key())] += 1
    return _invocation_counts[(handler, ctx.key())] % 2 == 1


async def _sleep_then_increment(ctx: ObjectContext) -> None:
    await ctx.sleep(timedelta(milliseconds=100))  # forces a suspension, hence a replay
    ctx.object_send(add, ctx.key(), 1)


@non_deterministic.handler(name="eitherSleepOrCall")
async def either_sleep_or_call(ctx: ObjectContext) -> None:
    if _do_left_action("eitherSleepOrCall", ctx):
        await ctx.sleep(timedelta(milliseconds=100))
    else:
        await ctx.object_call(get, COUNTER_KEY)
    await _sleep_then_increment(ctx)


@non_deterministic.handler(name="callDifferentMethod")
async def call_different_method(ctx: ObjectContext) -> None:
    if _do_left_action("callDifferentMethod", ctx):
        await ctx.object_call(get, COUNTER_KEY)
    else:
        await ctx.object_call(reset, COUNTER_KEY)
    await _sleep_then_increment(ctx)


@non_deterministic.handler(name="backgroundInvokeWithDifferentTargets")
async def background_invoke_with_different_targets(ctx: ObjectContext) -> None:
    if _do_left_action("backgroundInvokeWithDifferentTargets", ctx):
        ctx.object_send(get, COUNTER_KEY)
    else:
        ctx.object_send(reset, COUNTER_KEY)
    await _sleep_then_increment(ctx)


@non_deterministic.handler(name="setDifferentKey")
async def set_different_key(ctx: ObjectContext) -> None:
    if _do_left_action("setDifferentKey", ctx):
        ctx.set("a", STATE_VALUE)
    else:
        ctx.set("b", STATE_VALUE)
    await _sleep_then_increment(ctx)
