"""What TracingMiddleware costs per invocation, measured in-process.

The endpoint is called as an ASGI app with a scripted receive/send and a prebuilt request body
(StartMessage + InputCommand, request-response style), so the numbers are the SDK's own work: no
network, no restate-server. Two handlers:

- ``greet``: returns at once (one attempt span);
- ``steps``: a send, a sleep and a run, then suspends waiting for the run's result to be stored
  (attempt span + three operation spans; the run's closure executes on its own task).

Configurations: no middleware; a middleware whose hooks return None (the SDK's hook machinery alone);
TracingMiddleware on the API's no-op tracer (nothing recorded); TracingMiddleware on an SDK
TracerProvider with a BatchSpanProcessor feeding an exporter that drops the spans (what production
pays, minus the export itself).

    uv run python bench/otel_overhead.py [--n 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, MutableMapping, Sequence
from datetime import timedelta
from typing import Any

import restate_sdk as restate
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from restate_otel import TracingMiddleware
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import encode_header

svc = restate.Service("Bench")


@svc.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


@svc.handler()
async def steps(ctx: restate.Context, name: str) -> str:
    ctx.service_send(greet, name)
    ctx.sleep(timedelta(seconds=1))
    return await ctx.run("work", lambda: name.upper())


class NoHooks:
    """A middleware that stays out of everything: the cost of asking."""

    def attempt(self, info: restate.AttemptInfo) -> None:
        return None

    def operation(self, info: restate.OperationInfo) -> None:
        return None


class DropExporter(SpanExporter):
    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


def _frame(msg: Any) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


def _body(traceparent: str) -> bytes:
    start = m.StartMessage(id=bytes(range(24)), debug_id="inv_1bench", known_entries=1, random_seed=1)
    inp = m.InputCommandMessage(headers=[m.Header("traceparent", traceparent)], value=b'"Ann"')
    return _frame(start) + _frame(inp)


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
BODY = _body(TRACEPARENT)
SCOPES = {
    handler: {
        "type": "http",
        "method": "POST",
        "path": f"/invoke/Bench/{handler}",
        "http_version": "1.1",
        # as from a restate-server that does not trace (its default): the caller's trace context
        # travels in the invocation's headers only
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v5")],
    }
    for handler in ("greet", "steps")
}


async def _one(app: restate.Endpoint, scope: dict[str, Any]) -> None:
    done = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        done = True
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(msg: MutableMapping[str, Any]) -> None:
        return None

    await app(scope, receive, send)


async def _round(app: restate.Endpoint, handler: str, n: int) -> float:
    """CPU µs per invocation over ``n`` sequential invocations (process time: the batch exporter's
    thread counts, time spent descheduled on a busy machine does not)."""
    scope = SCOPES[handler]
    t0 = time.process_time_ns()
    for _ in range(n):
        await _one(app, scope)
    return (time.process_time_ns() - t0) / n / 1000


def _configs() -> list[tuple[str, Callable[[], list[Any]]]]:
    def sdk_provider() -> list[Any]:
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(DropExporter(), max_queue_size=65536))
        return [TracingMiddleware(tracer_provider=provider)]

    return [
        ("no middleware", list),
        ("middleware, hooks return None", lambda: [NoHooks()]),
        (
            "TracingMiddleware, no-op tracer (API only)",
            lambda: [TracingMiddleware(tracer_provider=trace.NoOpTracerProvider())],
        ),
        ("TracingMiddleware, SDK provider + batch export", sdk_provider),
    ]


async def main(n: int, rounds: int) -> None:
    configs = [(label, restate.app([svc], middleware=make())) for label, make in _configs()]
    handlers = ("greet", "steps")
    results: dict[tuple[str, str], list[float]] = {(label, h): [] for label, _ in configs for h in handlers}
    for _, app in configs:  # warm-up
        for handler in handlers:
            await _round(app, handler, 200)
    for r in range(rounds):  # interleaved, in a rotating order, so drifting machine load hits all alike
        for i in range(len(configs)):
            label, app = configs[(i + r) % len(configs)]
            for handler in handlers:
                results[(label, handler)].append(await _round(app, handler, n))

    print(f"restate_otel overhead: in-process ASGI, N={n} sequential invocations per round, {rounds} rounds")
    print(f"CPU µs per invocation, median (min) over rounds; python {sys.version.split()[0]}")
    header = f"{'configuration':48} {'greet':>15} {'overhead':>9} {'steps':>15} {'overhead':>9}"
    print(header)
    print("-" * len(header))
    base = {h: statistics.median(results[(configs[0][0], h)]) for h in handlers}
    for label, _ in configs:
        row = [f"{label:48}"]
        for handler in handlers:
            values = results[(label, handler)]
            median = statistics.median(values)
            row.append(f"{median:7.1f} ({min(values):5.1f}) {median - base[handler]:+9.1f}")
        print(" ".join(row))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
