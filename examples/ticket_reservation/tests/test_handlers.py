"""Unit tests of the handlers on restate_mocks.MockContext, one per test of the Go example's main_test.go.

No server: state is a dict, and every call, send and timer must match an expectation (``strict``);
the ``mock_context`` fixture verifies at teardown that each expectation was met.
"""

from __future__ import annotations

import pytest
from restate_mocks import MockContext

from examples.ticket_reservation import checkout as checkout_module
from examples.ticket_reservation.checkout import PaymentRequest, PaymentResponse, handle
from examples.ticket_reservation.ticket_service import TicketStatus, mark_as_sold, reserve, status, unreserve
from examples.ticket_reservation.user_session import (
    PAYMENT_PATIENCE,
    RESERVATION_HOLD,
    add_ticket,
    checkout,
    expire_ticket,
)


async def test_payment(mock_context: type[MockContext], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkout_module, "FAILURE_RATE", 0.0)  # the provider answers at once
    ctx = mock_context(seed=7, strict=True)
    ctx.expect_run("payment")  # the real charge() runs
    response = await handle(ctx, PaymentRequest(user_id="userID", tickets=["abc"]))
    assert response == PaymentResponse(id=str(MockContext(seed=7).uuid()), price=30)


async def test_reserve(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="foo", state={"status": TicketStatus.AVAILABLE}, strict=True)
    assert await reserve(ctx) is True
    assert ctx.state["status"] == TicketStatus.RESERVED


async def test_unreserve(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="foo", state={"status": TicketStatus.AVAILABLE}, strict=True)
    await unreserve(ctx)
    assert "status" not in ctx.state


async def test_mark_as_sold(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="foo", state={"status": TicketStatus.RESERVED}, strict=True)
    await mark_as_sold(ctx)
    assert ctx.state["status"] == TicketStatus.SOLD


async def test_status(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="foo", state={"status": TicketStatus.RESERVED}, handler=status, strict=True)
    assert await status(ctx) == TicketStatus.RESERVED


async def test_add_ticket(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="userID", state={"tickets": ["ticket1"]}, strict=True)
    ctx.expect_call(reserve, key="ticket2").returns(True)
    ctx.expect_send(expire_ticket, "ticket2", key="userID", delay=RESERVATION_HOLD)
    assert await add_ticket(ctx, "ticket2") is True
    assert ctx.state["tickets"] == ["ticket1", "ticket2"]


async def test_expire_ticket(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="userID", state={"tickets": ["ticket1", "ticket2"]}, strict=True)
    ctx.expect_send(unreserve, key="ticket2")
    await expire_ticket(ctx, "ticket2")
    assert ctx.state["tickets"] == ["ticket1"]


async def test_checkout(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="userID", state={"tickets": ["ticket1"]}, strict=True)
    ctx.expect_sleep(PAYMENT_PATIENCE).pending()  # the payment wins the race against the timer
    ctx.expect_call(handle, PaymentRequest(user_id="userID", tickets=["ticket1"])).returns(
        PaymentResponse(id="paymentID", price=30)
    )
    ctx.expect_send(mark_as_sold, key="ticket1")
    assert await checkout(ctx) is True
    assert "tickets" not in ctx.state
