"""Calls and sends: recorded, stubbed by expectations, typed by the target handler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from restate_mocks import ANY, CallRecord, MissingStubError, MockContext
from restate_sdk import SdkUsageError, TerminalError

from .handlers import Charge, Receipt, add, audit, charge, click, greet, pay, run


async def test_a_stubbed_call_returns_its_value_and_is_recorded() -> None:
    ctx = MockContext()
    ctx.expect_call(charge, Charge("u1", 5)).returns(Receipt("r1", 5))
    assert await pay(ctx, Charge("u1", 5)) == "r1"
    assert ctx.calls == [CallRecord("Payments", "charge", Charge("u1", 5), invocation_id="inv_mock_1")]
    assert ctx.calls[0].target == "Payments/charge"
    assert ctx.sends == [
        CallRecord("Counter", "add", 5, key="u1", delay=timedelta(minutes=5), invocation_id="inv_mock_2")
    ]
    ctx.verify()


async def test_stubbed_values_cross_the_target_handler_output_serde() -> None:
    ctx = MockContext()
    ctx.expect_call(charge).returns({"id": "r2", "amount": 3})  # JSON-shaped, decoded as a Receipt
    assert await ctx.service_call(charge, Charge("u", 3)) == Receipt("r2", 3)
    ctx.expect_call(charge).returns("not a receipt")
    with pytest.raises(Exception, match="Expected `object`"):
        await ctx.service_call(charge, Charge("u", 3))


async def test_a_stubbed_failure_is_raised_at_the_await() -> None:
    ctx = MockContext()
    ctx.expect_call(charge).raises(TerminalError("declined", status_code=402))
    with pytest.raises(TerminalError) as err:
        await pay(ctx, Charge("u1", 5))
    assert err.value.status_code == 402
    assert ctx.sends == []


async def test_an_unstubbed_call_fails_only_when_its_result_is_awaited() -> None:
    ctx = MockContext()
    call = ctx.service_call(charge, Charge("u", 1))  # not awaited: fine
    assert await ctx.service_call(audit, "note") is None  # a handler returning None needs no stub
    with pytest.raises(MissingStubError, match=r"call Payments/charge .* has no result.*expect_call"):
        await call
    assert len(ctx.failures) == 1  # verify() reports it even if the handler swallowed it


async def test_invocation_ids_default_to_numbered_children_or_come_from_the_stub() -> None:
    ctx = MockContext(invocation_id="inv_parent")
    ctx.expect_call(greet).returns("hi").with_invocation_id("inv_callee")
    ctx.expect_send(greet).with_invocation_id("inv_sent")
    call = ctx.service_call(greet, "Ann")
    assert await call.invocation_id() == "inv_callee"
    assert await ctx.service_send(greet, "Bob").invocation_id() == "inv_sent"
    assert await ctx.service_send(greet, "Cy").invocation_id() == "inv_parent_1"


async def test_object_workflow_and_generic_calls_carry_keys_and_options() -> None:
    ctx = MockContext()
    ctx.expect_call(add, 1, key="k").returns(10)
    ctx.expect_call("Remote/thing").returns({"a": 1})
    assert await ctx.object_call(add, "k", 1, idempotency_key="i1", headers={"h": "v"}) == 10
    assert await ctx.workflow_call(click, "wf", "secret") is None
    assert await ctx.generic_call("Remote", "thing", {"q": 1}) == {"a": 1}
    ctx.generic_send("Remote", "fire", b"raw", key="x", delay=timedelta(seconds=1))
    ctx.workflow_send(run, "wf-2", "ann@example.com")
    assert [(c.target, c.key, c.arg) for c in ctx.calls] == [
        ("Counter/add", "k", 1),
        ("Signup/click", "wf", "secret"),
        ("Remote/thing", "", {"q": 1}),
    ]
    assert (ctx.calls[0].idempotency_key, ctx.calls[0].headers) == ("i1", {"h": "v"})
    assert [(s.target, s.key, s.arg, s.delay) for s in ctx.sends] == [
        ("Remote/fire", "x", b"raw", timedelta(seconds=1)),
        ("Signup/run", "wf-2", "ann@example.com", None),
    ]


async def test_calls_check_the_target_kind_and_the_argument_like_the_sdk() -> None:
    ctx = MockContext()
    with pytest.raises(SdkUsageError, match=r"use ctx\.object_call"):
        ctx.service_call(add, 1)
    with pytest.raises(TypeError, match="unsupported"):
        ctx.object_call(add, "k", object())
    with pytest.raises(ValueError, match="'Service/handler'"):
        ctx.expect_call("no-slash")


async def test_expectations_match_on_every_field_they_name() -> None:
    ctx = MockContext()
    only_k2 = ctx.expect_call(add, ANY, key="k2").returns(2)
    ctx.expect_call(add, ANY, key="k1").returns(1)
    assert await ctx.object_call(add, "k1", 0) == 1
    assert await ctx.object_call(add, "k2", 0) == 2
    assert only_k2.count == 1
    ctx.verify()


async def test_times_and_any_times() -> None:
    ctx = MockContext()
    ctx.expect_send(add, ANY, key="u").times(2)
    ctx.expect_call(greet).returns("hi").any_times()
    for _ in range(3):
        assert await ctx.service_call(greet, "x") == "hi"
    ctx.object_send(add, "u", 1)
    ctx.object_send(add, "u", 2)
    ctx.verify()
