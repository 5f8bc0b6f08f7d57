"""MockContext takes the handler's kind from its definition, as production does."""

from __future__ import annotations

import pytest
import restate_sdk as restate
from restate_mocks import MockContext
from restate_sdk import (
    Context,
    ObjectContext,
    ObjectSharedContext,
    SdkUsageError,
    SyncObjectSharedContext,
    WorkflowContext,
)

counter = restate.VirtualObject("KindCounter")


@counter.handler(kind="shared")
async def sneaky(ctx: ObjectSharedContext) -> None:
    ctx.set("count", 1)  # pyright: ignore[reportAttributeAccessIssue]


@counter.handler(kind="shared", name="sneaky_sync")
def sneaky_sync(ctx: SyncObjectSharedContext) -> None:
    ctx.set("count", 1)  # pyright: ignore[reportAttributeAccessIssue]


@counter.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int) or 0) + delta
    ctx.set("count", value)
    return value


greeter = restate.Service("KindGreeter")


@greeter.handler()
async def remember(ctx: Context, name: str) -> None:
    ctx.set("name", name)  # pyright: ignore[reportAttributeAccessIssue]


@greeter.handler()
async def keyed(ctx: Context) -> str:
    return ctx.key()  # pyright: ignore[reportAttributeAccessIssue]


flow = restate.Workflow("KindFlow")


@flow.main()
async def run(ctx: WorkflowContext) -> str:
    return await ctx.promise("p", type_hint=str).value()


async def test_a_shared_handler_that_writes_state_fails_without_being_told_its_kind() -> None:
    ctx = MockContext(key="a")
    with pytest.raises(SdkUsageError, match="shared handler"):
        await sneaky(ctx)
    assert ctx.state == {}


def test_a_shared_def_handler_that_writes_state_fails_too() -> None:
    ctx = MockContext(key="a")
    with pytest.raises(SdkUsageError, match="shared handler"):
        sneaky_sync(ctx.sync())


async def test_an_exclusive_handler_writes_state() -> None:
    ctx = MockContext(key="a")
    assert await add(ctx, 2) == 2
    assert ctx.state == {"count": 2}


async def test_a_service_has_no_state_and_no_key() -> None:
    with pytest.raises(SdkUsageError, match="is a service"):
        await remember(MockContext(key="a"), "ann")
    with pytest.raises(SdkUsageError, match="only available in virtual objects"):
        await keyed(MockContext(key="a"))


async def test_a_workflow_handler_reads_its_promises() -> None:
    ctx = MockContext(key="w", promises={"p": "done"})
    assert await run(ctx) == "done"


async def test_an_undecorated_function_keeps_every_capability() -> None:
    async def helper(ctx: ObjectContext) -> None:
        ctx.set("x", 1)

    ctx = MockContext(key="a")
    await helper(ctx)
    assert ctx.state == {"x": 1}
