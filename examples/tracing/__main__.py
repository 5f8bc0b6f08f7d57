"""``python -m examples.tracing``: place an order inside a span of our own and print the trace."""

from __future__ import annotations

import sys

from restate_ingress import Client

from examples._runner import check, main

from .app import Order, app, place, provider
from .spans import render, trace


def scenario(client: Client) -> None:
    tracer = provider.get_tracer("examples.tracing")
    with tracer.start_as_current_span("POST /checkout") as root:
        receipt = client.call(place, Order(id="o-1", items=["book", "pen"], amount=42))
    check("Orders place(o-1)", receipt, "receipt-o-1-42")
    spans = trace(root.get_span_context().trace_id)
    print("  the trace:", flush=True)
    for line in render(spans):
        print(f"    {line}", flush=True)
    names = [s.name for s in spans]
    check("attempts of Payments/charge (the first one failed)", names.count("Payments/charge"), 2)
    check("spans of 'reserve stock' (one, however often it is replayed)", names.count("run reserve stock"), 1)


if __name__ == "__main__":
    sys.exit(main(app, scenario, name="tracing"))
