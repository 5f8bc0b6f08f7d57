"""UserSession: one virtual object per user, holding the basket of reserved tickets."""

from __future__ import annotations

from datetime import timedelta

import restate_sdk as restate

from . import checkout as checkout_service
from .ticket_service import mark_as_sold, reserve, unreserve

__all__ = ["PAYMENT_PATIENCE", "RESERVATION_HOLD", "add_ticket", "checkout", "expire_ticket", "user_session"]

log = restate.getLogger(__name__)  # quiet while an invocation replays

RESERVATION_HOLD = timedelta(minutes=15)
"""How long a ticket stays in a basket before ``expire_ticket`` releases it."""
PAYMENT_PATIENCE = timedelta(minutes=1)
"""After this long, checkout logs that the payment is slow (and keeps waiting for it)."""

user_session = restate.VirtualObject("UserSession")


@user_session.handler()
async def add_ticket(ctx: restate.ObjectContext, ticket_id: str) -> bool:
    """Reserve ``ticket_id`` and put it in the basket; False if it is not available."""
    user_id = ctx.key()
    if not await ctx.object_call(reserve, ticket_id):
        return False
    tickets = await ctx.get("tickets", type_hint=list[str]) or []
    tickets.append(ticket_id)
    ctx.set("tickets", tickets)
    # A durable timer: this send fires after RESERVATION_HOLD even if everything restarts meanwhile.
    ctx.object_send(expire_ticket, user_id, ticket_id, delay=RESERVATION_HOLD)
    return True


@user_session.handler()
async def expire_ticket(ctx: restate.ObjectContext, ticket_id: str) -> None:
    """Release ``ticket_id`` if it is still in the basket (not checked out meanwhile)."""
    tickets = await ctx.get("tickets", type_hint=list[str]) or []
    if ticket_id not in tickets:
        return
    tickets.remove(ticket_id)
    ctx.set("tickets", tickets)
    ctx.object_send(unreserve, ticket_id)


@user_session.handler()
async def checkout(ctx: restate.ObjectContext) -> bool:
    """Pay for the basket and mark its tickets sold; False if the basket is empty."""
    user_id = ctx.key()
    tickets = await ctx.get("tickets", type_hint=list[str]) or []
    log.info("tickets in basket of %s: %s", user_id, tickets)
    if not tickets:
        return False

    timeout = ctx.sleep(PAYMENT_PATIENCE)
    payment = ctx.service_call(checkout_service.handle, checkout_service.PaymentRequest(user_id, tickets))
    # Race the payment against the timer.
    if await restate.wait_first(timeout, payment) is timeout:
        # We could fail with a TerminalError here, but then we would also have to refund the payment.
        log.warning("slow payment for %s", user_id)
    response = await payment  # either way, wait for the outcome
    log.info("payment %s: %d USD", response.id, response.price)

    for ticket_id in tickets:
        ctx.object_send(mark_as_sold, ticket_id)
    ctx.clear("tickets")
    return True
