"""Checkout: charges a user for their tickets, exactly once."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import restate_sdk as restate

__all__ = ["PRICE_PER_TICKET", "PaymentRequest", "PaymentResponse", "charge", "checkout", "handle"]

log = restate.getLogger(__name__)  # quiet while an invocation replays

PRICE_PER_TICKET = 30  # a uniform shop: every ticket costs 30 USD
FAILURE_RATE = 0.5
"""How often the pretend payment provider fails (the Go example's coin flip)."""


@dataclass
class PaymentRequest:
    user_id: str
    tickets: list[str]


@dataclass
class PaymentResponse:
    id: str
    price: int


def charge(payment_id: str, price: int) -> bool:
    """Stand-in for a payment provider's API, flaky like a real one.

    A failure raises an ordinary exception, so Restate retries the attempt; ``payment_id`` lets the
    provider recognise a retry of the same payment.
    """
    if random.random() < FAILURE_RATE:
        log.warning("payment %s of %d USD failed", payment_id, price)
        raise ConnectionError("payment provider unavailable")
    log.info("payment %s of %d USD succeeded", payment_id, price)
    return True


checkout = restate.Service("Checkout")


@checkout.handler()
async def handle(ctx: restate.Context, request: PaymentRequest) -> PaymentResponse:
    """Charge ``request.user_id`` for ``request.tickets``."""
    # ctx.uuid() is deterministic: a retried attempt replays the same id, so the provider sees one payment.
    payment_id = str(ctx.uuid())
    price = len(request.tickets) * PRICE_PER_TICKET
    # ctx.run journals the result: once it succeeded, retries and replays do not charge again.
    # A failed attempt is retried, 100 ms later at first, then backing off up to one second.
    await ctx.run(
        "payment",
        charge,
        payment_id,
        price,
        initial_retry_interval=timedelta(milliseconds=100),
        max_retry_interval=timedelta(seconds=1),
    )
    return PaymentResponse(id=payment_id, price=price)
