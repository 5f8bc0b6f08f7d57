"""The Trips service and the pretend booking providers it talks to."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import restate_sdk as restate

__all__ = [
    "FULL",
    "Itinerary",
    "Provider",
    "TripRequest",
    "app",
    "book",
    "cars",
    "flights",
    "hotels",
    "journal",
    "trips",
]

FULL = "(full)"
"""Any flight, car or hotel whose name ends with this is fully booked."""


@dataclass
class TripRequest:
    trip_id: str
    flight: str
    car: str
    hotel: str


@dataclass
class Itinerary:
    flight: str
    car: str
    hotel: str


journal: list[tuple[str, str, str]] = []
"""Every provider call, in order: (provider, action, trip id)."""
_lock = threading.Lock()


class Provider:
    """Stand-in for a booking API. Its calls are idempotent per trip id, as saga steps must be:
    a retried ``reserve`` or ``cancel`` finds the work already done."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.bookings: dict[str, str] = {}  # trip id -> "reserved" | "cancelled"

    def reserve(self, trip_id: str, item: str) -> str:
        with _lock:
            journal.append((self.name, "reserve", trip_id))
            if item.endswith(FULL):
                raise restate.TerminalError(f"{self.name}: {item} is fully booked", status_code=409)
            self.bookings[trip_id] = "reserved"
            return f"{self.name}-{trip_id}: {item}"

    def cancel(self, trip_id: str) -> None:
        with _lock:
            journal.append((self.name, "cancel", trip_id))
            if trip_id in self.bookings:
                self.bookings[trip_id] = "cancelled"


flights, cars, hotels = Provider("flights"), Provider("cars"), Provider("hotels")

trips = restate.Service("Trips")


@trips.handler()
async def book(ctx: restate.Context, trip: TripRequest) -> Itinerary:
    """Book every part of ``trip``, or none of them."""
    compensations: list[Callable[[], Awaitable[None]]] = []
    try:
        # Register the undo before the step: a step can fail after the provider did the work.
        compensations.append(lambda: ctx.run("cancel flight", flights.cancel, trip.trip_id))
        flight = await ctx.run("reserve flight", flights.reserve, trip.trip_id, trip.flight)

        compensations.append(lambda: ctx.run("cancel car", cars.cancel, trip.trip_id))
        car = await ctx.run("reserve car", cars.reserve, trip.trip_id, trip.car)

        compensations.append(lambda: ctx.run("cancel hotel", hotels.cancel, trip.trip_id))
        hotel = await ctx.run("reserve hotel", hotels.reserve, trip.trip_id, trip.hotel)
    except restate.TerminalError:
        # Undo in reverse order; each undo is a journaled step, so a crash here resumes the undoing.
        for undo in reversed(compensations):
            await undo()
        raise
    return Itinerary(flight=flight, car=car, hotel=hotel)


app = restate.app([trips])
