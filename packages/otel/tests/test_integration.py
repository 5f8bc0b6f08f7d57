"""Traces through a real restate-server: ingress client -> invocation -> call / send -> invocation.

Three servers: the default one (it does not trace, so the trace travels in request headers), an
always-suspending one (every await ends the attempt and the next one replays the journal: each step
must still get exactly one span), and one with its own tracing configured (it sends a traceparent
with every attempt, which the attempt span must follow).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import restate_sdk as restate
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span
from restate_otel import TracingMiddleware
from restate_testing import RestateEnvironment

from .support import by_name, span_id

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()
PROVIDER = TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
TRACER = PROVIDER.get_tracer("tests")

shop = restate.Service("Shop")
ledger = restate.VirtualObject("Ledger")
audit = restate.Service("Audit")


@audit.handler()
async def note(ctx: restate.Context, what: str) -> None:
    await ctx.run("write audit", lambda: None)


@ledger.handler()
async def record(ctx: restate.ObjectContext, amount: int) -> int:
    total = await ctx.run("add tax", lambda: amount + amount // 10)
    ctx.set("total", total)
    return total


@shop.handler()
async def checkout(ctx: restate.Context, n: int) -> int:
    price = await ctx.run("price", lambda: n * 100)
    await ctx.sleep(timedelta(milliseconds=10))
    total = await ctx.object_call(record, key="acct-1", arg=price)
    ctx.service_send(note, f"sold {n}")
    return total


_tries: dict[str, int] = {}


@shop.handler()
async def wobbly(ctx: restate.Context) -> str:
    def step() -> str:
        tries = _tries[ctx.invocation_id()] = _tries.get(ctx.invocation_id(), 0) + 1
        if tries < 3:
            raise RuntimeError(f"try {tries}")
        return f"ok after {tries}"

    return await ctx.run("flaky step", step, initial_retry_interval=timedelta(milliseconds=10))


app = restate.app([shop, ledger, audit], middleware=[TracingMiddleware(tracer_provider=PROVIDER)])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "always-suspending": {"always_replay": True},
    # restate-server traces (to an OTLP endpoint nobody listens on) and sends traceparent on attempts
    "server-tracing": {"env": {"RESTATE_TRACING_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}},
}


@dataclass(frozen=True)
class Server:
    config: str
    env: RestateEnvironment


@pytest.fixture(scope="module", params=list(CONFIGS))
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    with RestateEnvironment(app, backend="binary", **CONFIGS[request.param]) as environment:
        yield Server(request.param, environment)


def _wait_for(
    predicate: Callable[[ReadableSpan], bool], count: int = 1, timeout: float = 30.0
) -> list[ReadableSpan]:
    """The finished spans matching ``predicate``, once there are ``count`` of them (or time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [s for s in EXPORTER.get_finished_spans() if predicate(s)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _in_trace(root: Span) -> Callable[[ReadableSpan], bool]:
    trace_id = root.get_span_context().trace_id
    return lambda s: s.context is not None and s.context.trace_id == trace_id


def test_one_trace_from_the_client_through_calls_and_sends(server: Server) -> None:
    config = server.config
    with TRACER.start_as_current_span("client") as root:
        assert server.env.client.service("Shop").call("checkout", 3) == 330
    (send,) = _wait_for(lambda s: _in_trace(root)(s) and s.name == "send Audit/note")
    if config == "server-tracing":
        # restate-server starts a new trace for a send's target; its attempt span links back to the send
        (note_attempt,) = _wait_for(
            lambda s: (
                s.name == "Audit/note" and any(link.context.span_id == span_id(send) for link in s.links)
            )
        )
        assert note_attempt.context is not None and note_attempt.context.trace_id != send.context.trace_id
        expected = ("run price", "sleep", "call Ledger/record", "send Audit/note", "run add tax")
    else:
        _wait_for(  # the send's target runs on its own: wait until its last attempt has ended
            lambda s: (
                _in_trace(root)(s)
                and s.name == "Audit/note"
                and (s.attributes or {}).get("restate.attempt.outcome") == "success"
            )
        )
        expected = (
            "run price",
            "sleep",
            "call Ledger/record",
            "send Audit/note",
            "run add tax",
            "run write audit",
        )
    spans = by_name(filter(_in_trace(root), EXPORTER.get_finished_spans()))
    ids = {span_id(s) for group in spans.values() for s in group}

    # every step appears once, however many attempts replayed it
    for name in ("client", *expected):
        assert len(spans.get(name, [])) == 1, (name, sorted(spans))
    attempts = spans["Shop/checkout"]
    if config == "always-suspending":
        # suspended at the run, the sleep and the call, then finished: (at least) four attempts
        outcomes = [a.attributes and a.attributes["restate.attempt.outcome"] for a in attempts]
        assert len(outcomes) >= 4 and outcomes[-1] == "success", outcomes
        assert set(outcomes[:-1]) == {"suspended"}, outcomes
    else:
        assert len(attempts) == 1

    (client,) = spans["client"]
    (call,) = spans["call Ledger/record"]
    callees = [("Shop/checkout", client), ("Ledger/record", call)]
    if config != "server-tracing":
        callees.append(("Audit/note", send))
    for name, caller in callees:
        for attempt in spans[name]:
            assert attempt.parent is not None
            if config == "server-tracing":
                # parented on restate-server's span for the attempt (exported elsewhere), in our trace
                assert attempt.parent.span_id not in ids
            else:
                assert attempt.parent.span_id == span_id(caller)
    (ledger_attempt, *_) = spans["Ledger/record"]
    assert ledger_attempt.attributes is not None
    assert ledger_attempt.attributes["restate.invocation.key"] == "acct-1"
    assert str(ledger_attempt.attributes["restate.invocation.id"]).startswith("inv_")

    # operation spans hang off the attempt that issued them
    attempt_ids = {span_id(a) for a in attempts}
    for name in ("run price", "sleep", "call Ledger/record", "send Audit/note"):
        (op,) = spans[name]
        assert op.parent is not None and op.parent.span_id in attempt_ids


def test_a_failing_run_is_retried_and_each_failure_is_on_its_own_span(server: Server) -> None:
    with TRACER.start_as_current_span("client") as root:
        assert server.env.client.service("Shop").call("wobbly") == "ok after 3"
    _wait_for(lambda s: _in_trace(root)(s) and s.name == "Shop/wobbly")
    spans = by_name(filter(_in_trace(root), EXPORTER.get_finished_spans()))
    runs = spans["run flaky step"]
    assert [r.status.status_code.name for r in runs] == ["ERROR", "ERROR", "UNSET"]
    assert runs[0].status.description == "RuntimeError: try 1"
    outcomes = [a.attributes and a.attributes["restate.attempt.outcome"] for a in spans["Shop/wobbly"]]
    assert outcomes[:2] == ["retry", "retry"] and outcomes[-1] == "success"
    retries = [a.attributes and a.attributes["restate.attempt.retry_count"] for a in spans["Shop/wobbly"]]
    assert retries[:3] == [0, 1, 2]
