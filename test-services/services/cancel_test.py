"""CancelTestRunner and CancelTestBlockingService: a call tree that blocks until it is cancelled."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import restate_sdk as restate
from restate_sdk import ObjectContext

from .awakeable_holder import hold

__all__ = ["cancel_test_blocking_service", "cancel_test_runner"]

BlockingOperation = Literal["CALL", "SLEEP", "AWAKEABLE"]

cancel_test_runner = restate.VirtualObject("CancelTestRunner")
cancel_test_blocking_service = restate.VirtualObject("CancelTestBlockingService")

CANCELED = "canceled"


@cancel_test_runner.handler(name="startTest")
async def start_test(ctx: ObjectContext, op: BlockingOperation) -> None:
    try:
        await ctx.object_call(block, ctx.key(), op)
    except restate.TerminalError as e:
        if e.status_code != 409:
            raise
        ctx.set(CANCELED, True)


@cancel_test_runner.handler(name="verifyTest")
async def verify_test(ctx: ObjectContext) -> bool:
    return await ctx.get(CANCELED, type_hint=bool) or False


@cancel_test_blocking_service.handler(name="block")
async def block(ctx: ObjectContext, op: BlockingOperation) -> None:
    awakeable_id, awakeable = ctx.awakeable(type_hint=str)
    await ctx.object_call(hold, ctx.key(), awakeable_id)
    await awakeable
    if op == "CALL":
        await ctx.object_call(block, ctx.key(), op)  # queues behind itself: never returns
    elif op == "SLEEP":
        await ctx.sleep(timedelta(days=1024))
    elif op == "AWAKEABLE":
        _, forever = ctx.awakeable(type_hint=str)
        await forever


@cancel_test_blocking_service.handler(name="isUnlocked")
async def is_unlocked(ctx: ObjectContext) -> None:
    return None
