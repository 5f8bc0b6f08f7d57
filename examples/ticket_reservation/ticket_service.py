"""TicketService: one virtual object per ticket, holding its status."""

from __future__ import annotations

import enum

import restate_sdk as restate

__all__ = ["TicketStatus", "mark_as_sold", "reserve", "status", "ticket_service", "unreserve"]

log = restate.getLogger(__name__)  # quiet while an invocation replays


class TicketStatus(enum.StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    SOLD = "sold"


ticket_service = restate.VirtualObject("TicketService")


async def _status(ctx: restate.ObjectSharedContext) -> TicketStatus:
    return await ctx.get("status", type_hint=TicketStatus) or TicketStatus.AVAILABLE


@ticket_service.handler()
async def reserve(ctx: restate.ObjectContext) -> bool:
    """Reserve the ticket if it is available; False if someone holds or bought it."""
    if await _status(ctx) == TicketStatus.AVAILABLE:
        ctx.set("status", TicketStatus.RESERVED)
        return True
    return False


@ticket_service.handler()
async def unreserve(ctx: restate.ObjectContext) -> None:
    """Release a reservation (a sold ticket stays sold)."""
    log.info("un-reserving ticket %s", ctx.key())
    if await _status(ctx) != TicketStatus.SOLD:
        ctx.clear("status")


@ticket_service.handler()
async def mark_as_sold(ctx: restate.ObjectContext) -> None:
    """A reserved ticket becomes sold."""
    log.info("marking ticket %s as sold", ctx.key())
    if await _status(ctx) == TicketStatus.RESERVED:
        ctx.set("status", TicketStatus.SOLD)


@ticket_service.handler(kind="shared")
async def status(ctx: restate.ObjectSharedContext) -> TicketStatus:
    """The ticket's status; shared, so it runs alongside the exclusive handlers."""
    return await _status(ctx)
