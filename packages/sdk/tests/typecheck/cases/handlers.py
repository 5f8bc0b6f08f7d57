"""Handlers the other cases call: every kind, async and plain def, with and without input."""

from __future__ import annotations

from dataclasses import dataclass

import restate_sdk as restate
from restate_sdk import (
    Context,
    ObjectContext,
    ObjectSharedContext,
    SyncContext,
    SyncObjectContext,
    WorkflowContext,
    WorkflowSharedContext,
)


@dataclass
class Person:
    name: str


greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: Context, person: Person) -> str:
    return person.name


@greeter.handler()
async def ping(ctx: Context) -> int:
    return 1


@greeter.handler()
def square(ctx: SyncContext, x: int) -> int:
    return x * x


@greeter.handler()
def tick(ctx: SyncContext) -> None:
    return None


@greeter.handler()
def annotated_as_context(ctx: Context, x: int) -> int:
    # a def handler annotated with the async Context still registers and is called with its input
    return x + 1


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    return delta


@counter.handler(kind="shared")
async def current(ctx: ObjectSharedContext) -> int:
    return 0


@counter.handler(name="add_sync")
def add_sync(ctx: SyncObjectContext, delta: int) -> int:
    value = (ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", value)
    return value


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: WorkflowContext, email: str) -> bool:
    return True


@signup.handler()
async def click(ctx: WorkflowSharedContext, secret: str) -> None:
    await ctx.promise("link", type_hint=str).resolve(secret)
