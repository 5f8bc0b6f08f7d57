"""The saga through a real restate-server (binary backend), also with a replay at every step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from restate_ingress import Client, IngressError
from restate_testing import RestateEnvironment

from examples.saga.app import FULL, Itinerary, TripRequest, app, book, cars, flights, hotels, journal

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["default", "always-replay"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    with RestateEnvironment(app, backend="binary", always_replay=request.param == "always-replay") as env:
        yield env.client


def trip(**parts: str) -> TripRequest:
    defaults = {"flight": "LH 1234", "car": "VW Golf", "hotel": "Hotel Astoria"}
    return TripRequest(trip_id=f"trip-{uuid.uuid4().hex[:8]}", **{**defaults, **parts})


def steps(trip_id: str) -> list[str]:
    return [f"{provider}.{action}" for provider, action, t in journal if t == trip_id]


def test_a_trip_is_booked_step_by_step(client: Client) -> None:
    request = trip()
    itinerary = client.call(book, request)
    tid = request.trip_id
    assert itinerary == Itinerary(
        f"flights-{tid}: LH 1234", f"cars-{tid}: VW Golf", f"hotels-{tid}: Hotel Astoria"
    )
    assert steps(tid) == ["flights.reserve", "cars.reserve", "hotels.reserve"]
    assert [p.bookings[tid] for p in (flights, cars, hotels)] == ["reserved"] * 3


def test_a_full_hotel_undoes_the_car_and_the_flight_in_reverse_order(client: Client) -> None:
    request = trip(hotel=f"Grand Budapest {FULL}")
    with pytest.raises(IngressError) as failed:
        client.call(book, request)
    assert failed.value.code == 409
    assert "fully booked" in failed.value.message
    assert steps(request.trip_id) == [
        "flights.reserve",
        "cars.reserve",
        "hotels.reserve",
        "hotels.cancel",
        "cars.cancel",
        "flights.cancel",
    ]
    assert flights.bookings[request.trip_id] == cars.bookings[request.trip_id] == "cancelled"


def test_a_full_flight_books_nothing(client: Client) -> None:
    request = trip(flight=f"LH 9999 {FULL}")
    with pytest.raises(IngressError):
        client.call(book, request)
    assert steps(request.trip_id) == ["flights.reserve", "flights.cancel"]


def test_a_transient_failure_is_retried_not_compensated(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures: list[str] = []
    reserve = cars.reserve

    def flaky_reserve(trip_id: str, item: str) -> str:
        if not failures:
            failures.append(trip_id)
            raise ConnectionError("car rental API timed out")
        return reserve(trip_id, item)

    monkeypatch.setattr(cars, "reserve", flaky_reserve)
    request = trip()
    client.call(book, request)
    assert failures == [request.trip_id]
    assert steps(request.trip_id) == ["flights.reserve", "cars.reserve", "hotels.reserve"]
