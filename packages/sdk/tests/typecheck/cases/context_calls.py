"""Calls through the Context: typed by the target handler; wrong kind, key or input rejected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, assert_type

from handlers import Person, add, annotated_as_context, click, current, greet, ping, run, square, tick
from restate_sdk import CallFuture, Context, ObjectContext, RestateFuture, SendHandle


async def calls(ctx: Context) -> None:
    assert_type(ctx.service_call(greet, Person("ann")), CallFuture[str])
    assert_type(await ctx.service_call(greet, Person("ann")), str)
    assert_type(await ctx.service_call(ping), int)
    assert_type(await ctx.service_call(square, 100), int)  # a plain def handler
    assert_type(await ctx.service_call(tick), None)
    assert_type(await ctx.service_call(annotated_as_context, 1), int)
    assert_type(await ctx.object_call(add, "ann", 1), int)
    assert_type(await ctx.object_call(current, "ann"), int)
    assert_type(await ctx.workflow_call(run, "wf-1", "a@b.c"), bool)
    assert_type(await ctx.workflow_call(click, "wf-1", "secret"), None)
    assert_type(await ctx.generic_call("Greeter", "greet", {"name": "ann"}), Any)
    ctx.service_call(greet, Person("ann"), idempotency_key="k", headers={"a": "b"})
    ctx.service_call(greet, Person("ann"), scope="acme", limit_key="gold/u1")
    ctx.object_send(add, "ann", 1, scope="acme", limit_key="l1", delay=timedelta(seconds=1))
    ctx.generic_send("Greeter", "greet", "ann", scope="acme")
    ctx.service_call(greet, Person("ann"), scope=1)  # pyright: ignore[reportArgumentType, reportCallIssue]

    # a missing input, a wrong input, an input for a handler that takes none
    ctx.object_call(add, "ann")  # pyright: ignore[reportArgumentType, reportCallIssue]
    ctx.service_call(greet)  # pyright: ignore[reportArgumentType, reportCallIssue]
    ctx.service_call(greet, "ann")  # pyright: ignore[reportCallIssue, reportArgumentType]
    ctx.service_call(ping, 1)  # pyright: ignore[reportCallIssue, reportArgumentType]
    # the wrong kind of target
    ctx.service_call(add, 1)  # pyright: ignore[reportCallIssue, reportArgumentType]
    ctx.object_call(greet, "k", Person("ann"))  # pyright: ignore[reportCallIssue, reportArgumentType]
    ctx.object_call(run, "k", "a@b.c")  # pyright: ignore[reportCallIssue, reportArgumentType]
    ctx.workflow_call(add, "k", 1)  # pyright: ignore[reportCallIssue, reportArgumentType]
    # an object call without a key
    ctx.object_call(add, 1)  # pyright: ignore[reportCallIssue, reportArgumentType]
    # not a handler at all
    ctx.service_call(lambda c, x: x, 1)  # pyright: ignore[reportArgumentType, reportCallIssue]
    # an option that does not exist
    ctx.service_call(greet, Person("ann"), idempotency="k")  # pyright: ignore[reportCallIssue]


async def sends(ctx: ObjectContext) -> None:
    assert_type(ctx.service_send(greet, Person("ann")), SendHandle)
    assert_type(ctx.object_send(add, "ann", 1, delay=timedelta(seconds=1)), SendHandle)
    assert_type(ctx.service_send(square, 3), SendHandle)
    assert_type(await ctx.service_send(ping).invocation_id(), str)
    ctx.service_send(add, 1)  # pyright: ignore[reportArgumentType]
    ctx.object_send(add, "ann")  # pyright: ignore[reportArgumentType]
    ctx.object_send(add, "ann", "one")  # pyright: ignore[reportArgumentType]
    ctx.service_call(greet, Person("ann"), delay=timedelta(seconds=1))  # pyright: ignore[reportCallIssue]


async def other_operations(ctx: ObjectContext) -> None:
    def charge(amount: int) -> Person:
        return Person(str(amount))

    assert_type(ctx.run("charge", charge, 3), RestateFuture[Person])
    assert_type(await ctx.sleep(timedelta(seconds=1)), None)
    assert_type(await ctx.get("count", type_hint=int), int | None)
    assert_type(ctx.awakeable(type_hint=str), tuple[str, RestateFuture[str]])
    assert_type(await ctx.signal("go", type_hint=bool), bool)
    assert_type(await ctx.attach_invocation("inv_1", type_hint=int), int)
    assert_type(await ctx.time(), float)
    assert_type(ctx.key(), str)


async def kinds(ctx: Context) -> None:
    ctx.key()  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    ctx.set("a", 1)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


async def handlers_stay_callable(ctx: ObjectContext) -> None:
    assert_type(await add(ctx, 1), int)
    add(ctx)  # pyright: ignore[reportCallIssue]
