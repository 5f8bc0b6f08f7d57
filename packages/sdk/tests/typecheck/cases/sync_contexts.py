"""Plain def handlers annotate the Sync contexts: the same methods, returning values."""

from __future__ import annotations

from datetime import timedelta
from typing import assert_type

import restate_sdk as restate
from handlers import Person, add, greet, ping, run, square
from restate_mocks import MockContext
from restate_sdk import (
    SyncContext,
    SyncDurablePromise,
    SyncFuture,
    SyncObjectContext,
    SyncObjectSharedContext,
    SyncSendHandle,
    SyncWorkflowContext,
    SyncWorkflowSharedContext,
)

calc = restate.VirtualObject("Calc")


@calc.handler()
def times(ctx: SyncObjectContext, factor: int) -> int:
    value = ctx.run("load", lambda: 7, type_hint=int)
    assert_type(value, int)
    total = factor * value  # an int, not a future
    ctx.set("total", total)
    assert_type(ctx.get("total", type_hint=int), int | None)
    assert_type(ctx.state_keys(), list[str])
    assert_type(ctx.service_call(greet, Person("ann")), str)
    assert_type(ctx.service_call(square, 100), int)
    assert_type(ctx.service_call(ping), int)
    assert_type(ctx.object_call(add, "k", 1), int)
    assert_type(ctx.workflow_call(run, "wf", "a@b.c"), bool)
    assert_type(ctx.object_send(add, "k", 1, delay=timedelta(seconds=1)), SyncSendHandle)
    assert_type(ctx.service_send(ping).invocation_id(), str)
    assert_type(ctx.sleep(timedelta(seconds=1)), None)
    assert_type(ctx.awakeable(type_hint=str), tuple[str, SyncFuture[str]])
    assert_type(ctx.awakeable(type_hint=str)[1].result(), str)
    assert_type(ctx.signal("go", type_hint=bool), bool)
    assert_type(ctx.attach_invocation("inv_1", type_hint=int), int)
    assert_type(ctx.time(), float)
    ctx.object_call(add, "k")  # pyright: ignore[reportArgumentType, reportCallIssue]
    ctx.service_call(add, 1)  # pyright: ignore[reportCallIssue, reportArgumentType]
    ctx.run("load", lambda: 7, max_attempt=3)  # pyright: ignore[reportCallIssue]
    return total


@calc.handler(kind="shared")
def peek(ctx: SyncObjectSharedContext) -> int:
    ctx.set("total", 1)  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    return ctx.get("total", type_hint=int) or 0


flow = restate.Workflow("SyncFlow")


@flow.main()
def main(ctx: SyncWorkflowContext, email: str) -> str:
    promise = ctx.promise("link", type_hint=str)
    assert_type(promise, SyncDurablePromise[str])
    assert_type(promise.value(), str)
    assert_type(promise.peek(), str | None)
    return email


@flow.handler()
def confirm(ctx: SyncWorkflowSharedContext, secret: str) -> None:
    ctx.promise("link", type_hint=str).resolve(secret)
    ctx.clear("x")  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


def services_have_no_state(ctx: SyncContext) -> None:
    ctx.get("x")  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]


async def unit_tests() -> None:
    mock = MockContext(key="a")
    assert_type(times(mock.sync(), 2), int)  # the mock's blocking view is every Sync context
    assert_type(main(mock.sync(), "a@b.c"), str)
    confirm(mock.sync(), "s")
    assert_type(await run(mock, "a@b.c"), bool)  # MockContext is every async Context
    assert_type(await add(mock, 1), int)
    times(mock, 2)  # pyright: ignore[reportArgumentType]
