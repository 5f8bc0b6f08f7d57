"""Trace context from the caller into ingress requests: restate_ingress on its own, instrument_ingress."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from restate_ingress import AsyncClient, Client
from restate_otel import instrument_ingress, trace_headers

TRACER = TracerProvider().get_tracer("test")


def _recording() -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json="ok", headers={"content-type": "application/json"})

    return seen, httpx.MockTransport(handle)


def _traceparent(span: object) -> str:
    ctx = span.get_span_context()  # type: ignore[attr-defined]
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-01"


def test_the_ingress_client_sends_the_current_trace_context() -> None:
    seen, transport = _recording()
    with Client("http://restate", transport=transport) as client:
        client.service("Greeter").call("greet", "Ann")  # no span: nothing to send
        with TRACER.start_as_current_span("caller") as span:
            client.service("Greeter").call("greet", "Ann")
    assert "traceparent" not in seen[0].headers
    # the W3C level-2 "random" flag (0x02) is dropped: restate-server 1.7 would reject the header
    assert seen[1].headers["traceparent"] == _traceparent(span)


def test_explicit_headers_win_over_the_current_trace_context() -> None:
    seen, transport = _recording()
    mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with Client("http://restate", transport=transport) as client, TRACER.start_as_current_span("caller"):
        client.service("Greeter").call("greet", "Ann", headers={"traceparent": mine})
    assert seen[0].headers["traceparent"] == mine


async def test_the_async_ingress_client_sends_the_current_trace_context() -> None:
    seen, transport = _recording()
    async with AsyncClient("http://restate", transport=transport) as client:
        with TRACER.start_as_current_span("caller") as span:
            await client.service("Greeter").call("greet", "Ann")
    assert seen[0].headers["traceparent"] == _traceparent(span)


@pytest.mark.parametrize("is_async", [False, True])
async def test_instrument_ingress_hooks_plain_httpx_clients(is_async: bool) -> None:
    seen, transport = _recording()
    with TRACER.start_as_current_span("caller") as span:
        if is_async:
            async with httpx.AsyncClient(transport=transport) as http:
                instrument_ingress(instrument_ingress(http))  # twice: one hook
                assert len(http.event_hooks["request"]) == 1
                await http.post("http://restate/Greeter/greet", json="Ann")
        else:
            with httpx.Client(transport=transport) as http:
                instrument_ingress(http)
                http.post("http://restate/Greeter/greet", json="Ann", headers={"tracestate": "a=b"})
                assert seen[0].headers["tracestate"] == "a=b"
    assert seen[0].headers["traceparent"] == _traceparent(span)


def test_instrument_ingress_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="cannot instrument"):
        instrument_ingress(object())


def test_trace_headers_is_empty_without_a_span() -> None:
    assert trace_headers() == {}
    with TRACER.start_as_current_span("caller") as span:
        assert trace_headers()["traceparent"] == _traceparent(span)
