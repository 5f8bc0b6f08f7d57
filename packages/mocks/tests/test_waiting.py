"""Sleeps, awakeables, signals, attach and cancel; waiting, blocking, and the combinators."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import restate_sdk as restate
from restate_mocks import CompletionRecord, HandlerBlockedError, MissingStubError, MockContext, SleepRecord
from restate_sdk import TerminalError

from .handlers import Charge, Receipt, charge, pay


async def test_sleeps_fire_at_once_and_are_recorded() -> None:
    ctx = MockContext()
    await ctx.sleep(timedelta(seconds=5), name="nap")
    assert ctx.sleeps == [SleepRecord(timedelta(seconds=5), "nap")]


async def test_a_pending_timer_lets_the_call_win_the_race_and_vice_versa() -> None:
    ctx = MockContext()
    ctx.expect_sleep(timedelta(seconds=30)).pending()
    ctx.expect_call(charge).returns(Receipt("r1", 5))
    assert await pay(ctx, Charge("u", 5)) == "r1"

    ctx = MockContext()
    ctx.expect_call(charge).pending()
    with pytest.raises(TerminalError, match="timed out") as err:
        await pay(ctx, Charge("u", 5))
    assert err.value.status_code == 408
    assert ctx.sends == []


async def test_a_sleep_can_fail_as_a_cancellation_would() -> None:
    ctx = MockContext()
    ctx.expect_sleep().raises(TerminalError("cancelled", status_code=409))
    with pytest.raises(TerminalError, match="cancelled"):
        await ctx.sleep(timedelta(hours=1))


async def test_gather_and_as_completed_over_runs_and_calls() -> None:
    ctx = MockContext()
    ctx.expect_call(charge).returns(Receipt("r", 1)).any_times()

    async def slow() -> int:
        await asyncio.sleep(0.01)
        return 1

    slow_run = ctx.run("slow", slow)
    call = ctx.service_call(charge, Charge("u", 1))
    fast_run = ctx.run("fast", lambda: 2)
    assert await restate.gather(slow_run, call, fast_run) == [1, Receipt("r", 1), 2]

    slow_run = ctx.run("slow", slow)
    fast_run = ctx.run("fast", lambda: 2)
    order = [await f async for f in restate.as_completed(slow_run, fast_run)]
    assert order == [2, 1]
    assert await restate.wait_first(ctx.run("slow", slow), ctx.run("fast", lambda: 3)) is not None


async def test_gather_raises_the_first_failure() -> None:
    ctx = MockContext()
    ctx.expect_call(charge).raises(TerminalError("declined"))
    with pytest.raises(TerminalError, match="declined"):
        await restate.gather(ctx.run("a", lambda: 1), ctx.service_call(charge, Charge("u", 1)))


async def test_an_awakeable_resolved_by_the_expectation() -> None:
    ctx = MockContext()
    ctx.expect_awakeable().with_id("sign_1").returns({"ok": True})
    awakeable_id, future = ctx.awakeable()
    assert awakeable_id == "sign_1"
    assert await future == {"ok": True}


async def test_an_awakeable_completed_by_the_test_while_the_handler_waits() -> None:
    ctx = MockContext()

    async def approve() -> str:
        awakeable_id, future = ctx.awakeable(type_hint=str)
        ctx.service_send(charge, Charge(awakeable_id, 1))  # hand the id to someone else
        return await future

    task = asyncio.create_task(approve())
    await asyncio.sleep(0)
    assert ctx.awakeables[0].id == "sign_mock_1" == ctx.sends[0].arg.user
    ctx.awakeables[0].resolve("yes")
    assert await task == "yes"

    task = asyncio.create_task(approve())
    await asyncio.sleep(0)
    ctx.awakeables[1].reject("no", code=403)
    with pytest.raises(TerminalError, match="no"):
        await task


async def test_waiting_on_what_nothing_completes_fails_with_a_clear_message() -> None:
    ctx = MockContext(block_timeout=0.05)
    _awakeable_id, future = ctx.awakeable()
    with pytest.raises(HandlerBlockedError, match=r"waits for awakeable 'sign_mock_1'.*nothing completes it"):
        await future
    assert ctx.failures  # verify() would report it too
    with pytest.raises(HandlerBlockedError):
        ctx.verify()


async def test_resolving_and_rejecting_awakeables_is_recorded_and_completes_own_ones() -> None:
    ctx = MockContext()
    ctx.resolve_awakeable("sign_other", {"v": 1})
    ctx.reject_awakeable("sign_other2", "bad", code=400)
    own_id, own = ctx.awakeable(type_hint=int)
    ctx.resolve_awakeable(own_id, 7)
    assert await own == 7
    assert ctx.awakeable_completions[:2] == [
        CompletionRecord("sign_other", None, {"v": 1}),
        CompletionRecord("sign_other2", None, None, ctx.awakeable_completions[1].failure),
    ]
    failure = ctx.awakeable_completions[1].failure
    assert failure is not None and (failure.message, failure.status_code) == ("bad", 400)


async def test_signals_stubbed_sent_to_self_or_delivered_by_the_test() -> None:
    ctx = MockContext(invocation_id="inv_me")
    ctx.expect_signal("approve").returns(True)
    assert await ctx.signal("approve", type_hint=bool) is True

    ctx.resolve_signal("inv_me", "early", 3)  # arrives before the handler asks: kept
    assert await ctx.signal("early", type_hint=int) == 3

    ctx.reject_signal("inv_other", "stop", "halt")
    assert ctx.signal_completions[-1].id == "inv_other"
    assert ctx.signal_completions[-1].name == "stop"

    async def wait_for_late() -> str:
        return await ctx.signal("late", type_hint=str)

    task = asyncio.create_task(wait_for_late())
    await asyncio.sleep(0)
    ctx.signals[-1].resolve("now")
    assert await task == "now"


async def test_attach_and_cancel() -> None:
    ctx = MockContext()
    ctx.expect_attach("inv_1").returns("done")
    assert await ctx.attach_invocation("inv_1", type_hint=str) == "done"
    with pytest.raises(MissingStubError, match=r"attach 'inv_2' has no result"):
        await ctx.attach_invocation("inv_2")
    ctx.failures.clear()
    ctx.cancel_invocation("inv_3")
    assert ctx.attached_invocations == ["inv_1", "inv_2"]
    assert ctx.cancelled_invocations == ["inv_3"]


def test_one_mock_can_wait_under_several_event_loops() -> None:
    ctx = MockContext()

    async def slow() -> int:
        await asyncio.sleep(0)
        return 1

    async def handler() -> int:
        awakeable_id, future = ctx.awakeable(type_hint=int)
        ctx.resolve_awakeable(awakeable_id, 1)
        return await ctx.run("slow", slow) + await future

    assert asyncio.run(handler()) == 2
    assert asyncio.run(handler()) == 2


async def test_with_timeout_races_a_durable_timer() -> None:
    ctx = MockContext()
    ctx.expect_call(charge).pending()  # the timer fires at once: it wins
    with pytest.raises(restate.TimeoutError) as err:
        await restate.with_timeout(ctx.service_call(charge, Charge("u", 1)), timedelta(seconds=10))
    assert err.value.status_code == 408 and isinstance(err.value, TerminalError)
    assert ctx.sleeps == [SleepRecord(timedelta(seconds=10), "")]

    ctx = MockContext()
    ctx.expect_call(charge).returns(Receipt("r", 1))
    ctx.expect_sleep(timedelta(seconds=10)).pending()
    assert await restate.with_timeout(
        ctx.service_call(charge, Charge("u", 1)), timedelta(seconds=10)
    ) == Receipt("r", 1)


async def test_gather_returning_exceptions_waits_for_all_and_keeps_failures_in_place() -> None:
    ctx = MockContext()
    ctx.expect_call(charge).raises(TerminalError("declined", status_code=402))

    async def later() -> int:
        await asyncio.sleep(0.01)
        return 1

    results = await restate.gather(
        ctx.service_call(charge, Charge("u", 1)), ctx.run("later", later), return_exceptions=True
    )
    assert isinstance(results[0], TerminalError) and results[0].status_code == 402
    assert results[1] == 1
