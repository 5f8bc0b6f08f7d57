"""Traces through a real restate-server (binary backend), also with a replay at every step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from restate_ingress import Client
from restate_testing import RestateEnvironment

from examples.tracing.app import Order, app, place, provider
from examples.tracing.spans import parent_id, span_id, trace

pytestmark = pytest.mark.integration

tracer = provider.get_tracer("tests")


@pytest.fixture(scope="module", params=["default", "always-replay"])
def client(request: pytest.FixtureRequest) -> Iterator[Client]:
    with RestateEnvironment(app, backend="binary", always_replay=request.param == "always-replay") as env:
        yield env.client


def place_order(client: Client) -> tuple[str, list[ReadableSpan]]:
    """Place an order under a root span; return the receipt and the trace's spans once complete."""
    order = Order(id=f"o-{uuid.uuid4().hex[:8]}", items=["book"], amount=7)
    with tracer.start_as_current_span("POST /checkout") as root:
        receipt = client.call(place, order)
    return receipt, trace(root.get_span_context().trace_id)


def only(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, f"{len(found)} spans named {name!r}: {[s.name for s in spans]}"
    return found[0]


def test_one_trace_from_the_caller_through_every_service(client: Client) -> None:
    receipt, spans = place_order(client)
    assert receipt.startswith("receipt-o-")
    root = only(spans, "POST /checkout")
    places = [s for s in spans if s.name == "Orders/place"]
    assert places and all(parent_id(s) == span_id(root) for s in places)
    call = only(spans, "call Payments/charge")
    assert parent_id(call) in {span_id(s) for s in places}
    charges = [s for s in spans if s.name == "Payments/charge"]
    assert all(parent_id(s) == span_id(call) for s in charges)
    assert charges[0].attributes is not None and charges[0].attributes["restate.attempt.outcome"] == "retry"
    assert (
        charges[-1].attributes is not None and charges[-1].attributes["restate.attempt.outcome"] == "success"
    )
    send = only(spans, "send Shipping/ship")
    ship = [s for s in spans if s.name == "Shipping/ship"]
    assert ship and all(parent_id(s) == span_id(send) for s in ship)


def test_each_step_gets_one_span_however_often_it_is_replayed(client: Client) -> None:
    _, spans = place_order(client)
    names = [s.name for s in spans]
    assert names.count("run reserve stock") == 1
    assert names.count("call Payments/charge") == 1
    assert names.count("send Shipping/ship") == 1
    assert names.count("run charge card") == 2  # it really ran twice: the first try failed
