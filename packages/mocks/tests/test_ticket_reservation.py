"""Unit tests of examples/ticket_reservation on MockContext (the Go SDK's main_test.go, and more).

The example lives in the workspace's ``examples`` package, imported from the repository root as
``python -m examples.ticket_reservation`` does; these tests skip if it is not in the checkout.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)  # ``examples`` is a namespace package at the repository root
pytest.importorskip("examples.ticket_reservation.app", exc_type=ModuleNotFoundError)

from restate_mocks import ANY, MockContext  # noqa: E402

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
    RESERVATION_HOLD,
    add_ticket,
    checkout,
    expire_ticket,
)

# ---- UserSession ----------------------------------------------------------------------------------


async def test_add_ticket_reserves_it_and_schedules_its_expiry(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="azmy", state={"tickets": ["t0"]}, strict=True)
    ctx.expect_call(reserve, key="t1").returns(True)
    ctx.expect_send(expire_ticket, "t1", key="azmy", delay=RESERVATION_HOLD)
    assert await add_ticket(ctx, "t1") is True
    assert ctx.state == {"tickets": ["t0", "t1"]}


async def test_add_ticket_of_an_unavailable_ticket_changes_nothing(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="azmy", strict=True)
    ctx.expect_call(reserve, key="t1").returns(False)
    assert await add_ticket(ctx, "t1") is False
    assert ctx.state == {}
    assert ctx.sends == []


async def test_expire_ticket_releases_a_ticket_still_in_the_basket(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="azmy", state={"tickets": ["t1", "t2"]}, strict=True)
    ctx.expect_send(unreserve, key="t1")
    await expire_ticket(ctx, "t1")
    assert ctx.state == {"tickets": ["t2"]}


async def test_expire_ticket_after_checkout_does_nothing(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="azmy", strict=True)
    await expire_ticket(ctx, "t1")
    assert ctx.journal == ["get 'tickets'"]


async def test_checkout_of_an_empty_basket_fails(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="azmy", strict=True)
    assert await checkout(ctx) is False


async def test_checkout_pays_then_marks_every_ticket_sold(mock_context: type[MockContext]) -> None:
    # The flow of the Go SDK's main_test.go: the payment wins the race against the timer.
    ctx = mock_context(key="azmy", state={"tickets": ["t1", "t2"]}, strict=True)
    ctx.expect_sleep(PAYMENT_PATIENCE).pending()
    ctx.expect_call(handle, PaymentRequest("azmy", ["t1", "t2"])).returns(PaymentResponse("p1", 60))
    ctx.expect_send(mark_as_sold, key="t1")
    ctx.expect_send(mark_as_sold, key="t2")
    assert await checkout(ctx) is True
    assert ctx.state == {}


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


async def test_a_ticket_goes_available_reserved_sold(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="t1")
    assert await status(ctx) == TicketStatus.AVAILABLE
    assert await reserve(ctx) is True
    assert ctx.state == {"status": TicketStatus.RESERVED}
    assert await reserve(ctx) is False
    await mark_as_sold(ctx)
    assert await status(ctx) == TicketStatus.SOLD
    await unreserve(ctx)  # a sold ticket stays sold
    assert ctx.state == {"status": TicketStatus.SOLD}


async def test_unreserve_releases_a_reserved_ticket(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="t1", state={"status": "reserved"})
    await mark_as_sold(MockContext(key="t2"))  # an available ticket cannot be sold
    await unreserve(ctx)
    assert ctx.state == {}


async def test_status_is_a_shared_handler_that_only_reads(mock_context: type[MockContext]) -> None:
    ctx = mock_context(key="t1", state={"status": "sold"}, handler=status)
    assert await status(ctx) == TicketStatus.SOLD
    assert ctx.journal == ["get 'status'"]


# ---- Checkout -------------------------------------------------------------------------------------


async def test_handle_charges_once_under_a_deterministic_payment_id(mock_context: type[MockContext]) -> None:
    ctx = mock_context(seed=42, strict=True)
    ctx.expect_run("payment", ANY, 60).returns(True)
    response = await handle(ctx, PaymentRequest("azmy", ["t1", "t2"]))
    assert response == PaymentResponse(str(MockContext(seed=42).uuid()), 60)
    assert ctx.runs[0].args == (response.id, 60)
    assert ctx.runs[0].attempts == 0  # stubbed: the provider was not called


async def test_handle_runs_the_real_charge(
    mock_context: type[MockContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkout_service, "FAILURE_RATE", 0.0)
    ctx = mock_context()
    response = await handle(ctx, PaymentRequest("azmy", ["t1"]))
    assert response.price == 30
    assert ctx.runs[0].attempts == 1


async def test_a_provider_failure_fails_the_attempt_for_restate_to_retry(
    mock_context: type[MockContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkout_service, "FAILURE_RATE", 1.0)
    ctx = mock_context()
    with pytest.raises(ConnectionError):
        await handle(ctx, PaymentRequest("azmy", ["t1"]))
