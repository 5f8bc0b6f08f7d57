"""The Greeter service and the Counter object it calls."""

from __future__ import annotations

import restate_sdk as restate

__all__ = ["app", "count", "counter", "greet", "greeter", "greetings"]

greeter = restate.Service("Greeter")
counter = restate.VirtualObject("Counter")


@counter.handler()
async def count(ctx: restate.ObjectContext) -> int:
    """Add one to this key's counter and return the new value (exclusive: one at a time per key)."""
    value = (await ctx.get("count", type_hint=int) or 0) + 1
    ctx.set("count", value)
    return value


@counter.handler(kind="shared")
async def greetings(ctx: restate.ObjectSharedContext) -> int:
    """The counter's value, read without queueing behind exclusive handlers."""
    return await ctx.get("count", type_hint=int) or 0


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    """Greet ``name``, numbering the greetings per name."""
    n = await ctx.object_call(count, key=name)
    return f"Hello {name}!" if n == 1 else f"Hello again {name}! (greeting #{n})"


app = restate.app([greeter, counter])
