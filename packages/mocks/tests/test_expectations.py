"""Strict mode and verify(): the messages name what happened and what was expected."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from restate_mocks import ANY, MockContext, UnexpectedOperationError, UnmetExpectationError

from .handlers import Charge, Receipt, add, charge, greet, pay


async def test_strict_mode_refuses_an_unexpected_call_naming_it_and_the_expected_ones() -> None:
    ctx = MockContext(strict=True)
    ctx.expect_call(charge, Charge("u1", 9)).returns(Receipt("r", 9))
    with pytest.raises(UnexpectedOperationError) as err:
        await pay(ctx, Charge("u1", 5))
    assert str(err.value) == (
        "unexpected call Payments/charge arg=Charge(user='u1', amount=5) (strict MockContext)\n"
        "expected call operations:\n"
        "  - call Payments/charge arg=Charge(user='u1', amount=9): expected 1 time, happened 0 times"
    )


async def test_strict_mode_without_any_expectation_of_that_kind_says_how_to_add_one() -> None:
    ctx = MockContext(strict=True)
    with pytest.raises(UnexpectedOperationError) as err:
        ctx.sleep(timedelta(seconds=1))
    assert str(err.value) == (
        "unexpected sleep 0:00:01 (strict MockContext)\n"
        "no sleep was expected; expect it with ctx.expect_sleep(delta)"
    )


async def test_strict_mode_leaves_state_to_the_in_memory_store() -> None:
    ctx = MockContext(key="a", state={"count": 1}, strict=True)
    assert await add(ctx, 1) == 2
    ctx.verify()


async def test_a_swallowed_unexpected_operation_still_fails_verify() -> None:
    ctx = MockContext(strict=True)
    with contextlib.suppress(Exception):
        ctx.run("sneaky", lambda: None)
    with pytest.raises(UnexpectedOperationError, match="unexpected run 'sneaky'"):
        ctx.verify()


async def test_verify_names_unmet_expectations_and_what_the_handler_did() -> None:
    ctx = MockContext(key="a")
    ctx.expect_call(greet, "Ann").returns("hi")
    ctx.expect_send(add, 1, key="u", delay=timedelta(minutes=15)).times(2)
    ctx.expect_run("never")
    ctx.object_send(add, "u", 1, delay=timedelta(minutes=15))
    ctx.set("count", 1)
    with pytest.raises(UnmetExpectationError) as err:
        ctx.verify()
    assert str(err.value) == (
        "3 expectations not met:\n"
        "  - call Greeter/greet arg='Ann': expected 1 time, happened 0 times\n"
        "  - send Counter/add arg=1, key='u', delay=0:15:00: expected 2 times, happened 1 time\n"
        "  - run 'never': expected 1 time, happened 0 times\n"
        "what the handler did:\n"
        "  - send Counter/add arg=1, key='u', delay=0:15:00\n"
        "  - set 'count' = 1"
    )


def test_verify_on_an_untouched_mock_says_the_handler_did_nothing() -> None:
    ctx = MockContext()
    ctx.expect_cancel("inv_1")
    with pytest.raises(UnmetExpectationError, match="the handler did nothing through the context"):
        ctx.verify()


def test_a_mock_used_as_a_context_manager_verifies_on_exit() -> None:
    with pytest.raises(UnmetExpectationError, match="cancel 'inv_1'"), MockContext() as ctx:
        ctx.expect_cancel("inv_1")
    with MockContext() as ctx:
        ctx.expect_cancel("inv_1")
        ctx.cancel_invocation("inv_1")


def test_each_kind_of_operation_can_be_expected_strictly() -> None:
    ctx = MockContext(strict=True, invocation_id="inv_me")
    ctx.expect_resolve_awakeable("a1", 1)
    ctx.expect_reject_awakeable("a2", "no", code=400)
    ctx.expect_resolve_signal("inv_x", "s", 2)
    ctx.expect_reject_signal("inv_x", "t", "halt")
    ctx.expect_cancel(ANY)
    ctx.expect_attach("inv_y").returns(None)
    ctx.expect_awakeable()
    ctx.expect_signal("s2")
    ctx.expect_sleep(timedelta(seconds=1), name="n")
    ctx.resolve_awakeable("a1", 1)
    ctx.reject_awakeable("a2", "no", code=400)
    ctx.resolve_signal("inv_x", "s", 2)
    ctx.reject_signal("inv_x", "t", "halt")
    ctx.cancel_invocation("inv_z")
    ctx.attach_invocation("inv_y")
    ctx.awakeable()
    ctx.signal("s2")
    ctx.sleep(timedelta(seconds=1), name="n")
    ctx.verify()
    assert all(e.met for e in ctx.expectations)
    with pytest.raises(UnexpectedOperationError, match=r"unexpected resolve_awakeable 'a1' value=2"):
        ctx.resolve_awakeable("a1", 2)


def test_expectation_repr_and_times_validation() -> None:
    ctx = MockContext()
    expectation = ctx.expect_run("x").times(2)
    assert repr(expectation) == "<Expectation run 'x': expected 2 times, happened 0 times>"
    assert ctx.expect_run().any_times().status() == "expected any number of times, happened 0 times"
    with pytest.raises(ValueError):
        expectation.times(-1)
