"""Ticket reservation: the Go SDK's example (``examples/ticketreservation``) in Python.

Three services:

``UserSession`` (virtual object, keyed by user id)
    ``add_ticket`` reserves a ticket through ``TicketService`` and schedules ``expire_ticket`` on
    itself 15 minutes later; ``checkout`` pays through ``Checkout`` and marks the tickets sold.
``TicketService`` (virtual object, keyed by ticket id)
    ``reserve``, ``unreserve``, ``mark_as_sold`` and the shared ``status``.
``Checkout`` (service)
    ``handle`` charges the user inside ``ctx.run`` under a deterministic ``ctx.uuid()`` payment id.

Run it end to end (restate-server included) with ``python -m examples.ticket_reservation``.
"""
