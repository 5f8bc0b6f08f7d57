"""``python -m examples.ticket_reservation``: the Go SDK README's scenario, end to end.

User ``azmy`` puts two tickets in their basket, fails to add one of them a second time (it is
already reserved), and checks out; both tickets end up sold. ``... serve`` only serves the app.
"""

from __future__ import annotations

import sys

from restate_ingress import Client

from examples._runner import check, eventually, main

from .app import app
from .ticket_service import TicketStatus, status
from .user_session import add_ticket, checkout


def scenario(client: Client) -> None:
    session = client.object("UserSession", "azmy")
    check('UserSession/azmy add_ticket("ticket-1")', session.call(add_ticket, "ticket-1"), True)
    check('UserSession/azmy add_ticket("ticket-2")', session.call(add_ticket, "ticket-2"), True)
    check('UserSession/azmy add_ticket("ticket-1") again', session.call(add_ticket, "ticket-1"), False)
    check("UserSession/azmy checkout()", session.call(checkout), True)
    for ticket in ("ticket-1", "ticket-2"):
        # mark_as_sold is a one-way send from checkout: it lands a moment later.
        current = eventually(lambda t=ticket: client.call(status, key=t), lambda s: s == TicketStatus.SOLD)
        check(f"TicketService/{ticket} status()", current, TicketStatus.SOLD)


if __name__ == "__main__":
    sys.exit(main(app, scenario, name="ticket_reservation"))
