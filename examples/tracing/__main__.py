"""``python -m examples.tracing``: place an order inside a span of our own and print the trace."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from restate_ingress import Client

from examples._runner import check, eventually, main

from .app import Order, app, exporter, place, provider


def trace_of(root_trace_id: int) -> list[ReadableSpan]:
    """The spans of one trace, once Shipping's attempt is among them (the send lands after the call)."""

    def spans() -> list[ReadableSpan]:
        return [s for s in exporter.get_finished_spans() if s.context.trace_id == root_trace_id]

    return eventually(spans, lambda found: any(s.name == "Shipping/ship" for s in found))


def render(spans: Sequence[ReadableSpan]) -> list[str]:
    """One line per span, indented under its parent, in start order."""
    ids = {s.context.span_id for s in spans}
    children: dict[int | None, list[ReadableSpan]] = {}
    for s in sorted(spans, key=lambda s: s.start_time or 0):
        parent = s.parent.span_id if s.parent is not None and s.parent.span_id in ids else None
        children.setdefault(parent, []).append(s)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for s in children.get(parent, []):
            outcome = s.attributes.get("restate.attempt.outcome") if s.attributes else None
            lines.append("    " + "  " * depth + s.name + (f"  [{outcome}]" if outcome else ""))
            walk(s.context.span_id, depth + 1)

    walk(None, 0)
    return lines


def scenario(client: Client) -> None:
    tracer = provider.get_tracer("examples.tracing")
    with tracer.start_as_current_span("POST /checkout") as root:
        receipt = client.call(place, Order(id="o-1", items=["book", "pen"], amount=42))
    check("Orders place(o-1)", receipt, "receipt-o-1-42")
    spans = trace_of(root.get_span_context().trace_id)
    print("  the trace:", flush=True)
    for line in render(spans):
        print(line, flush=True)
    names = [s.name for s in spans]
    check("attempts of Payments/charge (the first one failed)", names.count("Payments/charge"), 2)
    check("spans of 'reserve stock' (one, however often it is replayed)", names.count("run reserve stock"), 1)


if __name__ == "__main__":
    sys.exit(main(app, scenario, name="tracing"))
