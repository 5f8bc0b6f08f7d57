"""AwakeableHolder: keeps one awakeable id per key, resolves it on demand."""

from __future__ import annotations

import restate_sdk as restate
from restate_sdk import ObjectContext

__all__ = ["awakeable_holder", "hold"]

awakeable_holder = restate.VirtualObject("AwakeableHolder")

ID_KEY = "id"


@awakeable_holder.handler(name="hold")
async def hold(ctx: ObjectContext, awakeable_id: str) -> None:
    ctx.set(ID_KEY, awakeable_id)


@awakeable_holder.handler(name="hasAwakeable")
async def has_awakeable(ctx: ObjectContext) -> bool:
    return await ctx.get(ID_KEY, type_hint=str) is not None


@awakeable_holder.handler(name="unlock")
async def unlock(ctx: ObjectContext, payload: str) -> None:
    awakeable_id = await ctx.get(ID_KEY, type_hint=str)
    if awakeable_id is None:
        raise restate.TerminalError("No awakeable registered")
    ctx.resolve_awakeable(awakeable_id, payload)
    ctx.clear(ID_KEY)
