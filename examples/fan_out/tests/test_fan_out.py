"""Fan-out / fan-in through a real restate-server (binary backend), also replaying at every step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Iterator
from typing import Any

import pytest
from restate_ingress import Client
from restate_sdk import ServiceHandler
from restate_testing import RestateEnvironment

from examples.fan_out.app import app, count, count_here, in_flight

WordCount = ServiceHandler[[Any, list[str]], Awaitable[dict[str, int]]]

pytestmark = pytest.mark.integration

NAMES = ["ann", "bob", "cleo", "dan", "eve", "fay", "gus", "hal", "ida", "jo", "kim", "lu"]
DOCUMENTS = [f"{name} says hello to {'everyone' if i % 2 else 'nobody'}" for i, name in enumerate(NAMES)]


@pytest.fixture(scope="module", params=["default", "always-replay"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    with RestateEnvironment(app, backend="binary", always_replay=request.param == "always-replay") as env:
        yield env.client


@pytest.mark.parametrize("handler", [count, count_here], ids=["calls", "runs"])
def test_counts_match_a_sequential_count(client: Client, handler: WordCount) -> None:
    expected = Counter(word for text in DOCUMENTS for word in text.split())
    assert client.call(handler, DOCUMENTS) == dict(expected)


@pytest.mark.parametrize("handler", [count, count_here], ids=["calls", "runs"])
def test_documents_are_counted_in_parallel(client: Client, handler: WordCount) -> None:
    in_flight.peak = 0
    client.call(handler, DOCUMENTS)
    assert in_flight.peak > 1


@pytest.mark.parametrize("handler", [count, count_here], ids=["calls", "runs"])
def test_no_documents_no_words(client: Client, handler: WordCount) -> None:
    no_documents: list[str] = []
    assert client.call(handler, no_documents) == {}
