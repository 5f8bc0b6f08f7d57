"""Counter, ListObject and MapObject: virtual objects over plain state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import restate_sdk as restate
from restate_sdk import ObjectContext, ObjectSharedContext

__all__ = ["counter", "list_object", "map_object"]

counter = restate.VirtualObject("Counter")

COUNTER_KEY = "counter"


class CounterUpdate(TypedDict):
    oldValue: int
    newValue: int


@counter.handler(name="add")
async def add(ctx: ObjectContext, value: int) -> CounterUpdate:
    old = await ctx.get(COUNTER_KEY, type_hint=int) or 0
    new = old + value
    ctx.set(COUNTER_KEY, new)
    return {"oldValue": old, "newValue": new}


@counter.handler(name="addThenFail")
async def add_then_fail(ctx: ObjectContext, value: int) -> None:
    old = await ctx.get(COUNTER_KEY, type_hint=int) or 0
    ctx.set(COUNTER_KEY, old + value)
    raise restate.TerminalError(ctx.key())


@counter.handler(name="get", kind="shared")
async def get(ctx: ObjectSharedContext) -> int:
    return await ctx.get(COUNTER_KEY, type_hint=int) or 0


@counter.handler(name="reset")
async def reset(ctx: ObjectContext) -> None:
    ctx.clear(COUNTER_KEY)


list_object = restate.VirtualObject("ListObject")

LIST_KEY = "list"


@list_object.handler(name="append")
async def append(ctx: ObjectContext, value: str) -> None:
    items = await ctx.get(LIST_KEY, type_hint=list[str]) or []
    ctx.set(LIST_KEY, [*items, value])


@list_object.handler(name="get")
async def get_list(ctx: ObjectContext) -> list[str]:
    return await ctx.get(LIST_KEY, type_hint=list[str]) or []


@list_object.handler(name="clear")
async def clear_list(ctx: ObjectContext) -> list[str]:
    items = await ctx.get(LIST_KEY, type_hint=list[str]) or []
    ctx.clear(LIST_KEY)
    return items


map_object = restate.VirtualObject("MapObject")


@dataclass
class Entry:
    key: str
    value: str


@map_object.handler(name="set")
async def set_entry(ctx: ObjectContext, entry: Entry) -> None:
    ctx.set(entry.key, entry.value)


@map_object.handler(name="get")
async def get_entry(ctx: ObjectContext, key: str) -> str:
    return await ctx.get(key, type_hint=str) or ""


@map_object.handler(name="clearAll")
async def clear_all(ctx: ObjectContext) -> list[Entry]:
    entries = [Entry(key, await ctx.get(key, type_hint=str) or "") for key in await ctx.state_keys()]
    ctx.clear_all()
    return entries
