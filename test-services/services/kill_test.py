"""KillTestRunner and KillTestSingleton: a call tree that deadlocks until it is killed."""

from __future__ import annotations

import restate_sdk as restate
from restate_sdk import ObjectContext

from .awakeable_holder import hold

__all__ = ["kill_test_runner", "kill_test_singleton"]

kill_test_runner = restate.VirtualObject("KillTestRunner")
kill_test_singleton = restate.VirtualObject("KillTestSingleton")


@kill_test_runner.handler(name="startCallTree")
async def start_call_tree(ctx: ObjectContext) -> None:
    await ctx.object_call(recursive_call, ctx.key())


@kill_test_singleton.handler(name="recursiveCall")
async def recursive_call(ctx: ObjectContext) -> None:
    awakeable_id, awakeable = ctx.awakeable(type_hint=str)
    ctx.object_send(hold, ctx.key(), awakeable_id)
    await awakeable
    await ctx.object_call(recursive_call, ctx.key())  # queues behind itself: never returns


@kill_test_singleton.handler(name="isUnlocked")
async def is_unlocked(ctx: ObjectContext) -> None:
    return None
