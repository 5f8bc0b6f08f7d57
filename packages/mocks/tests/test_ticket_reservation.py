"""More unit tests of examples/ticket_reservation on MockContext: the paths that the example's own
tests (examples/ticket_reservation/tests/test_handlers.py, one per test of the Go SDK's main_test.go)
leave out: refusals, a slow and a declined payment, a stubbed and a failing payment run.

The example lives in the workspace's ``examples`` package, imported from the repository root as
``python -m examples.ticket_reservation`` does.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest
from restate_mocks import ANY, MockContext

_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)  # ``examples`` is a namespace package at the repository root

from examples.ticket_reservation import checkout as checkout_service  # noqa: E402
from examples.ticket_reservation.checkout import PaymentRequest, PaymentResponse, handle  # noqa: E402
from examples.ticket_reservation.ticket_service import (  # noqa: E402
    TicketStatus,
    mark_as_sold,
    reserve,
    status,
    unreserve,
)
from examples.ticket_reservation.user_session import (  # noqa: E402
    PAYMENT_PATIENCE,
    add_ticket,
    checkout,
    expire_ticket,
)

# ---- UserSession ----------------------------------------------------------------------------------


async def test_add_ticket_of_an_unavailable_ticket_changes_nothing(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="azmy", strict=True)
    ctx.expect_call(reserve, key="t1").returns(False)
    assert await add_ticket(ctx, "t1") is False
    assert ctx.state == {}
    assert ctx.sends == []


async def test_expire_ticket_after_checkout_does_nothing(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="azmy", strict=True)
    await expire_ticket(ctx, "t1")
    assert ctx.journal == ["get 'tickets'"]


async def test_checkout_of_an_empty_basket_fails(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="azmy", strict=True)
    assert await checkout(ctx) is False


async def test_a_slow_payment_is_logged_and_still_awaited(
    mock_context: type[MockContext], caplog: pytest.LogCaptureFixture
) -> None:
    ctx = mock_context(key="azmy", state={"tickets": ["t1"]})
    ctx.expect_sleep(PAYMENT_PATIENCE)  # fires at once: the timer wins
    ctx.expect_call(handle).pending()
    with caplog.at_level(logging.WARNING):
        task = asyncio.create_task(checkout(ctx))
        await asyncio.sleep(0)
        assert not task.done()
        assert "slow payment for azmy" in caplog.text
        ctx.calls[0].resolve(PaymentResponse("p1", 30))  # the payment completes later
        assert await task is True
    assert [s.key for s in ctx.sends] == ["t1"]


async def test_a_failed_payment_fails_checkout_and_keeps_the_basket(mock_context: type[MockContext]) -> None:
    from restate_sdk import TerminalError

    ctx = mock_context(key="azmy", state={"tickets": ["t1"]})
    ctx.expect_call(handle).raises(TerminalError("card declined", status_code=402))
    with pytest.raises(TerminalError, match="card declined"):
        await checkout(ctx)
    assert ctx.state == {"tickets": ["t1"]}
    assert ctx.sends == []


# ---- TicketService --------------------------------------------------------------------------------


async def test_a_ticket_refuses_what_its_status_does_not_allow(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="t1", strict=True)
    assert await status(ctx) == TicketStatus.AVAILABLE
    await mark_as_sold(ctx)  # an available ticket cannot be sold
    assert ctx.state == {}
    assert await reserve(ctx) is True
    assert await reserve(ctx) is False  # already reserved
    await mark_as_sold(ctx)
    await unreserve(ctx)  # a sold ticket stays sold
    assert ctx.state == {"status": TicketStatus.SOLD}


# ---- Checkout -------------------------------------------------------------------------------------


async def test_handle_charges_once_under_a_deterministic_payment_id(mock_context: type[MockContext]) -> None:
    ctx = mock_context(seed=42, strict=True)
    ctx.expect_run("payment", ANY, 60).returns(True)
    response = await handle(ctx, PaymentRequest("azmy", ["t1", "t2"]))
    assert response == PaymentResponse(str(MockContext(seed=42).uuid()), 60)
    assert ctx.runs[0].args == (response.id, 60)
    assert ctx.runs[0].attempts == 0  # stubbed: the provider was not called


async def test_a_provider_failure_fails_the_attempt_for_restate_to_retry(
    mock_context: type[MockContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkout_service, "FAILURE_RATE", 1.0)
    ctx = mock_context()
    with pytest.raises(ConnectionError):
        await handle(ctx, PaymentRequest("azmy", ["t1"]))
