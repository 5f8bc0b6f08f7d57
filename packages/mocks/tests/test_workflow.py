"""Workflows: the main handler and its shared handlers on one MockContext, promises in memory."""

from __future__ import annotations

import asyncio

import pytest
from restate_mocks import MockContext
from restate_sdk import TerminalError

from .handlers import click, run, status


async def test_the_main_handler_with_the_promise_already_resolved() -> None:
    secret = str(MockContext(seed=3).uuid())  # the same seed gives the workflow the same uuid
    ctx = MockContext(key="wf-1", seed=3, promises={"link": secret})
    assert await run(ctx, "ann@example.com") == "verified"
    assert ctx.state == {"status": "verified"}
    assert [r.name for r in ctx.runs] == ["send mail"]
    assert ctx.runs[0].args == ("ann@example.com", secret)


async def test_main_and_shared_handlers_run_together_on_one_mock() -> None:
    ctx = MockContext(key="wf-1", seed=3)
    main = asyncio.create_task(run(ctx, "ann@example.com"))
    await asyncio.sleep(0)
    assert await status(ctx) == "waiting"
    await click(ctx, "wrong secret")
    assert await main == "rejected"
    assert ctx.promises == {"link": "wrong secret"}
    assert await status(ctx) == "rejected"


async def test_a_promise_resolves_once_and_can_be_peeked_and_rejected() -> None:
    ctx = MockContext(key="wf")
    assert await ctx.promise("p").peek() is None
    await ctx.promise("p", type_hint=int).resolve(1)
    assert await ctx.promise("p", type_hint=int).peek() == 1
    with pytest.raises(TerminalError) as err:
        await ctx.promise("p").resolve(2)
    assert err.value.status_code == 409
    await ctx.promise("q").reject("gone", code=410)
    with pytest.raises(TerminalError, match="gone"):
        await ctx.promise("q").value()
    with pytest.raises(TerminalError, match="gone"):
        await ctx.promise("q").peek()


async def test_promises_given_as_rejected() -> None:
    ctx = MockContext(key="wf", promises={"link": TerminalError("expired", status_code=410)})
    with pytest.raises(TerminalError, match="expired"):
        await run(ctx, "ann@example.com")
