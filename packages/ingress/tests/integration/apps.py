"""Services the ingress integration tests call through a real restate-server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import restate_sdk as restate
from restate_sdk import Context, ObjectContext, ObjectSharedContext, WorkflowContext, WorkflowSharedContext

AWAKEABLES: dict[str, str] = {}
"""Awakeable ids the ``Waiter`` handlers created, by the name the test chose (the app runs in-process)."""


@dataclass
class Person:
    name: str
    age: int


greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name}!"


@greeter.handler()
async def describe(ctx: Context, person: Person) -> Person:
    return Person(person.name.upper(), person.age + 1)


@greeter.handler()
async def hello(ctx: Context) -> str:
    return "hello, nobody"


@greeter.handler()
def shout(ctx: Context, name: str) -> str:
    """A plain ``def`` handler."""
    return name.upper()


@greeter.handler()
async def echo_bytes(ctx: Context, data: bytes) -> bytes:
    return data[::-1]


@greeter.handler()
async def echo_header(ctx: Context, name: str) -> str | None:
    return ctx.request().headers.get(name)


@greeter.handler()
async def fail(ctx: Context, message: str) -> str:
    raise restate.TerminalError(message, status_code=422, metadata={"reason": "declined", "card": "visa"})


@greeter.handler()
async def fail_default(ctx: Context, message: str) -> str:
    raise restate.TerminalError(message)


@greeter.handler()
async def slow(ctx: Context, seconds: float) -> str:
    await ctx.sleep(timedelta(seconds=seconds))
    return f"slept {seconds}"


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int)) or 0
    ctx.set("count", value + delta)
    return value + delta


@counter.handler(kind="shared")
async def current(ctx: ObjectSharedContext) -> int:
    return (await ctx.get("count", type_hint=int)) or 0


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: WorkflowContext, email: str) -> str:
    secret = await ctx.promise("link", type_hint=str).value()
    return f"{email} confirmed with {secret}"


@signup.handler()
async def click(ctx: WorkflowSharedContext, secret: str) -> None:
    await ctx.promise("link", type_hint=str).resolve(secret)


waiter = restate.Service("Waiter")


def _publish(name: str, awakeable_id: str) -> None:
    AWAKEABLES[name] = awakeable_id


@waiter.handler()
async def wait_for(ctx: Context, name: str) -> str:
    awakeable_id, result = ctx.awakeable(type_hint=str)
    await ctx.run("publish", _publish, name, awakeable_id)
    return await result


app = restate.app([greeter, counter, signup, waiter])
