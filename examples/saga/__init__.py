"""Saga: book a trip (flight, car, hotel) and undo what was booked when a step fails for good.

``Trips.book`` registers a compensation before each step; when a step raises a ``TerminalError``
(the hotel is full), the compensations run in reverse order, each one durably, and the error is
passed on. Transient failures are different: Restate retries them and nothing is undone.
Run it with ``python -m examples.saga``.
"""
