"""Orders, Payments and Shipping, traced; spans go to an in-memory exporter (swap in OTLP for real use)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import restate_sdk as restate
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from restate_otel import TracingMiddleware

__all__ = ["Order", "app", "charge", "exporter", "place", "provider", "ship"]

# In production: provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=...))).
exporter = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({"service.name": "restate-examples-tracing"}))
provider.add_span_processor(SimpleSpanProcessor(exporter))


@dataclass
class Order:
    id: str
    items: list[str]
    amount: int


# ---- pretend outside systems -----------------------------------------------------------------------

_lock = threading.Lock()
_card_attempts: dict[str, int] = {}


def reserve_stock(order_id: str, items: list[str]) -> int:
    return len(items)


def charge_card(order_id: str, amount: int) -> str:
    """Fails the first time for every order (a timeout at the bank), then succeeds."""
    with _lock:
        attempt = _card_attempts[order_id] = _card_attempts.get(order_id, 0) + 1
    if attempt == 1:
        raise TimeoutError("the bank did not answer in time")
    return f"receipt-{order_id}-{amount}"


# ---- the services ------------------------------------------------------------------------------------

orders = restate.Service("Orders")
payments = restate.Service("Payments")
shipping = restate.Service("Shipping")


@payments.handler()
async def charge(ctx: restate.Context, order: Order) -> str:
    return await ctx.run(
        "charge card", charge_card, order.id, order.amount, initial_retry_interval=timedelta(milliseconds=50)
    )


@shipping.handler()
async def ship(ctx: restate.Context, order_id: str) -> None:
    await ctx.sleep(timedelta(milliseconds=20), name="wait for pickup")


@orders.handler()
async def place(ctx: restate.Context, order: Order) -> str:
    await ctx.run("reserve stock", reserve_stock, order.id, order.items)
    receipt = await ctx.service_call(charge, order)
    ctx.service_send(ship, order.id)
    return receipt


app = restate.app([orders, payments, shipping], middleware=[TracingMiddleware(tracer_provider=provider)])
