"""ctx.run: executes the function (sync or async), or gives a stub; retries as the SDK's policy says."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from restate_mocks import MockContext, RunRecord
from restate_sdk import TerminalError


async def test_run_executes_a_sync_function_with_its_arguments() -> None:
    ctx = MockContext()
    seen: list[tuple[int, int]] = []

    def add(a: int, b: int) -> int:
        seen.append((a, b))
        return a + b

    assert await ctx.run("add", add, 1, 2) == 3
    assert seen == [(1, 2)]
    assert ctx.runs == [RunRecord("add", (1, 2), attempts=1)]


async def test_run_executes_an_async_function() -> None:
    ctx = MockContext()

    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    future = ctx.run("fetch", fetch, 21)
    assert not future.done()
    assert await future == 42
    assert ctx.runs[0].attempts == 1


@dataclass
class Order:
    id: str


def _order() -> Order:  # a string annotation here (PEP 563), resolved as the SDK resolves it
    return Order("o1")


async def test_the_result_crosses_the_run_serde() -> None:
    ctx = MockContext()
    assert await ctx.run("typed", _order) == Order("o1")
    # no annotation: the journal holds JSON, so a dataclass comes back as a dict (as in production)
    assert await ctx.run("untyped", lambda: Order("o2")) == {"id": "o2"}
    assert await ctx.run("hinted", lambda: {"id": "o3"}, type_hint=Order) == Order("o3")


async def test_a_terminal_error_fails_the_future() -> None:
    ctx = MockContext()

    def boom() -> None:
        raise TerminalError("nope", status_code=422)

    with pytest.raises(TerminalError) as err:
        await ctx.run("boom", boom)
    assert err.value.status_code == 422


async def test_other_errors_retry_up_to_max_attempts_then_turn_terminal() -> None:
    ctx = MockContext()
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("down")
        return "up"

    assert await ctx.run("flaky", flaky, max_attempts=5) == "up"
    assert ctx.runs[0].attempts == 3

    def broken() -> None:
        raise ConnectionError("down")

    with pytest.raises(TerminalError, match=r"run 'broken' failed after 2 attempts: down"):
        await ctx.run("broken", broken, max_attempts=2)
    assert ctx.runs[1].attempts == 2


async def test_without_a_retry_policy_the_error_itself_ends_the_attempt() -> None:
    ctx = MockContext()

    async def broken() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        await ctx.run("broken", broken)


async def test_an_expectation_stubs_the_result_and_the_function_does_not_run() -> None:
    ctx = MockContext()
    ctx.expect_run("charge").returns("receipt-1")
    ctx.expect_run("refund").raises(TerminalError("refused"))
    ran: list[str] = []
    assert await ctx.run("charge", lambda: ran.append("charge")) == "receipt-1"
    with pytest.raises(TerminalError, match="refused"):
        await ctx.run("refund", lambda: ran.append("refund"))
    assert ran == []
    assert [r.attempts for r in ctx.runs] == [0, 0]
    ctx.verify()


async def test_an_expectation_without_a_stub_lets_the_function_run() -> None:
    ctx = MockContext(strict=True)
    ctx.expect_run("step", 1)

    def step(x: int) -> int:
        return x + 1

    assert await ctx.run("step", step, 1) == 2
    ctx.verify()


async def test_a_pending_run_waits_until_the_test_completes_it() -> None:
    ctx = MockContext()
    ctx.expect_run("slow").pending()

    async def handler() -> int:
        return await ctx.run("slow", lambda: 0, type_hint=int)

    task = asyncio.create_task(handler())
    await asyncio.sleep(0)
    assert not task.done()
    ctx.runs[0].resolve(5)
    assert await task == 5
