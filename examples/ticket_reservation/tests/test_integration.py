"""The ticket reservation app through a real restate-server (binary backend), in two configurations."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from restate_ingress import Client
from restate_testing import RestateEnvironment

from examples._runner import eventually
from examples.ticket_reservation import checkout as checkout_module
from examples.ticket_reservation import user_session
from examples.ticket_reservation.app import app
from examples.ticket_reservation.checkout import PRICE_PER_TICKET
from examples.ticket_reservation.ticket_service import TicketStatus, status
from examples.ticket_reservation.user_session import add_ticket, checkout, expire_ticket

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["default", "always-replay"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    # always-replay suspends at every await, so each step is replayed: nondeterminism would show.
    with RestateEnvironment(app, backend="binary", always_replay=request.param == "always-replay") as env:
        yield env.client


@pytest.fixture(autouse=True)
def reliable_payments(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pretend provider fails half of the time; tests that are not about retries skip the wait.
    monkeypatch.setattr(checkout_module, "FAILURE_RATE", 0.0)


def assert_status_becomes(client: Client, ticket: str, expected: TicketStatus) -> None:
    """Poll the ticket's status until it is ``expected`` (one-way sends land a moment after the call)."""
    current = eventually(lambda: client.call(status, key=ticket), lambda s: s == expected)
    assert current == expected, f"{ticket} is {current}, not {expected}"


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_go_readme_scenario(client: Client) -> None:
    user, t1, t2 = fresh("user"), fresh("ticket"), fresh("ticket")
    session = client.object("UserSession", user)
    assert session.call(add_ticket, t1) is True
    assert session.call(add_ticket, t2) is True
    assert session.call(add_ticket, t1) is False  # already reserved
    assert session.call(checkout) is True
    for ticket in (t1, t2):
        assert_status_becomes(client, ticket, TicketStatus.SOLD)


def test_a_ticket_is_reserved_for_one_user_only(client: Client) -> None:
    ticket = fresh("ticket")
    assert client.call(add_ticket, ticket, key=fresh("ann")) is True
    assert client.call(add_ticket, ticket, key=fresh("bob")) is False
    assert client.call(status, key=ticket) == TicketStatus.RESERVED


def test_checkout_of_an_empty_basket_is_refused(client: Client) -> None:
    assert client.call(checkout, key=fresh("user")) is False


def test_expire_ticket_releases_it(client: Client) -> None:
    user, ticket = fresh("user"), fresh("ticket")
    assert client.call(add_ticket, ticket, key=user) is True
    client.call(expire_ticket, ticket, key=user)
    assert_status_becomes(client, ticket, TicketStatus.AVAILABLE)
    assert client.call(checkout, key=user) is False  # the basket is empty again


def test_reservation_expires_by_itself(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app runs in this process: a shorter hold applies to the delayed send add_ticket makes.
    monkeypatch.setattr(user_session, "RESERVATION_HOLD", timedelta(seconds=1))
    user, ticket = fresh("user"), fresh("ticket")
    assert client.call(add_ticket, ticket, key=user) is True
    assert client.call(status, key=ticket) == TicketStatus.RESERVED
    assert_status_becomes(client, ticket, TicketStatus.AVAILABLE)
    assert client.call(checkout, key=user) is False


def test_expiry_after_checkout_keeps_the_ticket_sold(client: Client) -> None:
    user, ticket = fresh("user"), fresh("ticket")
    client.call(add_ticket, ticket, key=user)
    assert client.call(checkout, key=user) is True
    assert_status_becomes(client, ticket, TicketStatus.SOLD)
    client.call(expire_ticket, ticket, key=user)  # the 15-minute timer firing late: a no-op
    assert client.call(status, key=ticket) == TicketStatus.SOLD


def test_a_failed_payment_is_retried_with_the_same_payment_id(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[tuple[str, int]] = []

    def flaky_charge(payment_id: str, price: int) -> bool:
        attempts.append((payment_id, price))
        if len(attempts) < 3:
            raise ConnectionError("payment provider unavailable")
        return True

    monkeypatch.setattr(checkout_module, "charge", flaky_charge)
    user = fresh("user")
    client.call(add_ticket, fresh("ticket"), key=user)
    client.call(add_ticket, fresh("ticket"), key=user)
    assert client.call(checkout, key=user) is True
    assert len(attempts) == 3
    assert len(set(attempts)) == 1  # every attempt charged the same payment id
    assert attempts[0][1] == 2 * PRICE_PER_TICKET
