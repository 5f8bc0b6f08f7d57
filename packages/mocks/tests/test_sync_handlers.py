"""Plain def handlers take ctx.sync(): the SDK's blocking context, over the same mock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from restate_mocks import HandlerBlockedError, MockContext
from restate_sdk import TerminalError

from .handlers import Receipt, add, add_sync, charge


def test_a_def_handler_runs_unchanged_on_the_blocking_view() -> None:
    ctx = MockContext(key="a", state={"count": 1})
    assert add_sync(ctx.sync(), 2) == 3
    assert ctx.state == {"count": 3}
    assert ctx.journal == [
        "get 'count'",
        "run 'sum'",
        "sleep 0:00:01",
        "set 'count' = 3",
        "send Counter/add arg=2, key='audit'",
    ]
    assert ctx.sync() is ctx.sync()


async def test_the_blocking_view_works_inside_an_async_test_too() -> None:
    ctx = MockContext(key="a", strict=True)
    ctx.expect_run("sum")
    ctx.expect_sleep(timedelta(seconds=1))
    ctx.expect_send(add, 5, key="audit")
    assert add_sync(ctx.sync(), 5) == 5
    ctx.verify()


def test_blocking_calls_return_values_and_raise_failures() -> None:
    ctx = MockContext(key="k", now=50.0)
    sync = ctx.sync()
    ctx.expect_call(charge).returns(Receipt("r", 1))
    ctx.expect_call(add).raises(TerminalError("no"))
    assert sync.service_call(charge, {"user": "u", "amount": 1}) == Receipt("r", 1)
    with pytest.raises(TerminalError, match="no"):
        sync.object_call(add, "k", 1)

    async def twice(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    assert sync.run("async fn", twice, 4) == 8
    assert sync.time() == 50.0
    assert sync.service_send(charge, {"user": "u", "amount": 1}).invocation_id() == "inv_mock_3"
    _awakeable_id, future = sync.awakeable()
    ctx.awakeables[0].resolve("done")
    assert future.result() == "done"
    promise = sync.promise("p")
    promise.resolve(3)
    assert promise.value() == 3
    assert promise.peek() == 3
    assert sync.state_keys() == []
    sync.set("x", 1)
    assert sync.get("x", int) == 1
    sync.clear("x")
    sync.clear_all()
    assert (sync.key(), sync.invocation_id()) == ("k", "inv_mock")


def test_a_def_handler_that_waits_on_nothing_fails_at_once() -> None:
    ctx = MockContext()
    with pytest.raises(HandlerBlockedError, match=r"waits for signal 'go'"):
        ctx.sync().signal("go")
