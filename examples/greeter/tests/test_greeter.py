"""The greeter through a real restate-server (binary backend)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from restate_ingress import Client
from restate_testing import RestateEnvironment

from examples.greeter.app import app, greet, greetings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with RestateEnvironment(app, backend="binary") as env:
        yield env.client


def test_greet_numbers_the_greetings_per_name(client: Client) -> None:
    name = f"Ann-{uuid.uuid4().hex[:6]}"
    assert client.call(greet, name) == f"Hello {name}!"
    assert client.call(greet, name) == f"Hello again {name}! (greeting #2)"
    assert client.object("Counter", name).call(greetings) == 2


def test_concurrent_greetings_are_counted_once_each(client: Client) -> None:
    name = f"Bob-{uuid.uuid4().hex[:6]}"
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = [f.result() for f in [pool.submit(client.call, greet, name) for _ in range(10)]]
    numbers = sorted(1 if r == f"Hello {name}!" else int(r.rsplit("#", 1)[1].rstrip(")")) for r in replies)
    assert numbers == list(range(1, 11))  # each greeting got its own number
    assert client.object("Counter", name).call(greetings) == 10


def test_greet_by_name_over_plain_http(client: Client) -> None:
    assert client.service("Greeter").call("greet", "Cleo-by-name") == "Hello Cleo-by-name!"
