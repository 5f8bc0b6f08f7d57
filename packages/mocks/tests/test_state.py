"""State, identity, randomness and time on MockContext; the object handlers run unchanged."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from restate_mocks import MockContext
from restate_sdk import SdkUsageError

from .handlers import add, current, greet, reset


async def test_the_api_example_adds_to_the_initial_state() -> None:
    ctx = MockContext(key="a", state={"count": 1})
    assert await add(ctx, 2) == 3
    assert ctx.state["count"] == 3


async def test_a_shared_handler_reads_state_and_a_service_runs_without_any() -> None:
    assert await current(MockContext(key="a", state={"count": 7})) == 7
    assert await current(MockContext(key="a")) == 0
    assert await greet(MockContext(), "Ann") == "Hello Ann!"


async def test_state_keys_and_clear_all() -> None:
    ctx = MockContext(key="a", state={"b": 1, "a": 2})
    assert await reset(ctx) == ["a", "b"]
    assert ctx.state == {}
    assert ctx.journal == ["state_keys", "clear_all"]


@dataclass
class Ticket:
    id: str
    price: int


async def test_get_decodes_through_the_type_hint_like_the_wire_does() -> None:
    ctx = MockContext(key="a", state={"tickets": [{"id": "t1", "price": 5}], "raw": b'{"id":"t2","price":1}'})
    assert await ctx.get("tickets", type_hint=list[Ticket]) == [Ticket("t1", 5)]
    assert await ctx.get("raw", type_hint=Ticket) == Ticket("t2", 1)
    assert await ctx.get("missing", type_hint=int) is None
    # without a type hint the value comes back as plain JSON, as in production
    ctx.set("ticket", Ticket("t3", 2))
    assert await ctx.get("ticket") == {"id": "t3", "price": 2}
    assert ctx.state["ticket"] == Ticket("t3", 2)


async def test_a_wrong_type_in_state_fails_as_it_would_in_production() -> None:
    ctx = MockContext(key="a", state={"count": "three"})
    with pytest.raises(Exception, match="Expected `int`"):
        await add(ctx, 1)


async def test_set_copies_the_value_and_refuses_what_cannot_be_encoded() -> None:
    ctx = MockContext(key="a")
    tickets = ["t1"]
    ctx.set("tickets", tickets)
    tickets.append("t2")
    assert ctx.state["tickets"] == ["t1"]
    with pytest.raises(TypeError):
        ctx.set("bad", object())
    ctx.clear("tickets")
    assert ctx.state == {}


async def test_given_the_handler_the_mock_refuses_what_its_kind_cannot_do() -> None:
    shared = MockContext(key="a", handler=current)
    with pytest.raises(SdkUsageError, match="shared handler"):
        shared.set("count", 1)
    service = MockContext(handler=greet)
    with pytest.raises(SdkUsageError, match="is a service"):
        await service.get("x")
    with pytest.raises(SdkUsageError, match="only available in virtual objects"):
        service.key()
    with pytest.raises(SdkUsageError, match="only available in workflows"):
        service.promise("p")


def test_key_request_and_invocation_id() -> None:
    ctx = MockContext(
        key="k", invocation_id="inv_1", headers={"h": "v"}, attempt_headers={"a": "b"}, body=b"x"
    )
    assert ctx.key() == "k"
    assert ctx.invocation_id() == "inv_1"
    request = ctx.request()
    assert (request.id, dict(request.headers), dict(request.attempt_headers), request.body) == (
        "inv_1",
        {"h": "v"},
        {"a": "b"},
        b"x",
    )
    with pytest.raises(SdkUsageError, match="MockContext has no key"):
        MockContext().key()


def test_random_and_uuid_are_deterministic_per_seed() -> None:
    a, b, c = MockContext(seed=7), MockContext(seed=7), MockContext(seed=8)
    assert [a.random().random() for _ in range(3)] == [b.random().random() for _ in range(3)]
    assert a.uuid() == b.uuid() != c.uuid()
    assert MockContext(seed=1).uuid().version == 4
    assert isinstance(MockContext().uuid(), uuid.UUID)


async def test_time_reads_the_mock_clock_which_awaited_sleeps_advance() -> None:
    from datetime import timedelta

    ctx = MockContext(now=1000.0)
    assert await ctx.time() == 1000.0
    sleep = ctx.sleep(timedelta(seconds=30))
    assert await ctx.time() == 1000.0  # not awaited yet
    await sleep
    assert await ctx.time() == 1030.0
    assert ctx.runs == []  # time() is not a recorded run in the mock
