"""``python -m examples.saga``: one trip that books, one whose hotel is full and is rolled back."""

from __future__ import annotations

import sys

from restate_ingress import Client, IngressError

from examples._runner import check, main

from .app import FULL, Itinerary, TripRequest, app, book, cars, flights, hotels, journal


def scenario(client: Client) -> None:
    itinerary = client.call(book, TripRequest("trip-1", "LH 1234", "VW Golf", "Hotel Astoria"))
    check(
        'Trips book("trip-1")',
        itinerary,
        Itinerary("flights-trip-1: LH 1234", "cars-trip-1: VW Golf", "hotels-trip-1: Hotel Astoria"),
    )
    try:
        client.call(book, TripRequest("trip-2", "LH 1234", "VW Golf", f"Grand Budapest {FULL}"))
        raise AssertionError("a trip with a full hotel was booked")
    except IngressError as error:
        check(
            'Trips book("trip-2") fails',
            (error.code, error.message),
            (409, f"hotels: Grand Budapest {FULL} is fully booked"),
        )
    steps = [f"{provider}.{action}" for provider, action, trip in journal if trip == "trip-2"]
    check(
        "trip-2 steps",
        steps,
        [
            "flights.reserve",
            "cars.reserve",
            "hotels.reserve",
            "hotels.cancel",
            "cars.cancel",
            "flights.cancel",
        ],
    )
    check(
        "trip-2 bookings",
        [p.bookings.get("trip-2") for p in (flights, cars, hotels)],
        ["cancelled", "cancelled", None],
    )


if __name__ == "__main__":
    sys.exit(main(app, scenario, name="saga"))
