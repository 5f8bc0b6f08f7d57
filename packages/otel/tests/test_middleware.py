"""TracingMiddleware on an endpoint driven in-process, one attempt at a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest
import restate_sdk as restate
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from restate_otel import TracingMiddleware
from restate_sdk._engine import messages as m

from .support import by_name, frame, invoke, notification, request_body, span_id, traceparent

T = m.MessageType
CLIENT_TRACE, CLIENT_SPAN = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331
SERVER_TRACE, SERVER_SPAN = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7

shop = restate.Service("Shop")
cart = restate.VirtualObject("Cart")


@cart.handler()
async def add(ctx: restate.ObjectContext, item: str) -> int:
    return 1


@shop.handler()
async def buy(ctx: restate.Context, n: int) -> int:
    return await ctx.run("reserve", lambda: n + 1)


@shop.handler()
async def fail(ctx: restate.Context, how: str) -> None:
    if how == "terminal":
        raise restate.TerminalError("out of stock", status_code=409)
    raise RuntimeError("flaky")


@shop.handler()
async def flaky_run(ctx: restate.Context) -> None:
    def boom() -> None:
        raise RuntimeError("payment service down")

    await ctx.run("charge", boom)


@shop.handler()
async def order(ctx: restate.Context, item: str) -> int:
    count = await ctx.object_call(add, key="cart-1", arg=item)
    return count


@shop.handler()
async def everything(ctx: restate.Context) -> None:
    ctx.service_send(buy, 1, delay=timedelta(seconds=5))
    _, _ = ctx.awakeable()
    await ctx.sleep(timedelta(seconds=2), name="cooldown")


@shop.handler()
def blocking(ctx: Any, n: int) -> int:
    return ctx.run("reserve", lambda: n * 2)  # type: ignore[no-any-return]


def _app(provider: TracerProvider, **options: Any) -> restate.Endpoint:
    return restate.app([shop, cart], middleware=[TracingMiddleware(tracer_provider=provider, **options)])


def _json(value: Any) -> bytes:
    return msgspec.json.encode(value)


async def test_attempt_span_follows_the_trace_context_restate_server_sends(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    body = request_body(_json(1), headers={"traceparent": traceparent(CLIENT_TRACE, CLIENT_SPAN)})
    await invoke(_app(provider), "Shop", "buy", body, {"traceparent": traceparent(SERVER_TRACE, SERVER_SPAN)})
    spans = by_name(exporter.get_finished_spans())
    (attempt,) = spans["Shop/buy"]
    assert attempt.parent is not None and attempt.parent.is_remote
    assert (attempt.context.trace_id, attempt.parent.span_id) == (SERVER_TRACE, SERVER_SPAN)
    assert attempt.kind is SpanKind.SERVER
    # the request's context is another trace: linked, not lost
    (link,) = attempt.links
    assert (link.context.trace_id, link.context.span_id) == (CLIENT_TRACE, CLIENT_SPAN)


async def test_no_link_when_both_contexts_are_in_one_trace(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    body = request_body(_json(1), headers={"traceparent": traceparent(SERVER_TRACE, CLIENT_SPAN)})
    await invoke(_app(provider), "Shop", "buy", body, {"traceparent": traceparent(SERVER_TRACE, SERVER_SPAN)})
    (attempt,) = by_name(exporter.get_finished_spans())["Shop/buy"]
    assert attempt.parent is not None and attempt.parent.span_id == SERVER_SPAN
    assert not attempt.links


async def test_attempt_span_falls_back_to_the_request_headers(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    body = request_body(_json(1), headers={"Traceparent": traceparent(CLIENT_TRACE, CLIENT_SPAN)})
    await invoke(_app(provider), "Shop", "buy", body, {"x-restate-invocation-id": "inv_1testinvocation"})
    (attempt,) = by_name(exporter.get_finished_spans())["Shop/buy"]
    assert attempt.parent is not None
    assert (attempt.context.trace_id, attempt.parent.span_id) == (CLIENT_TRACE, CLIENT_SPAN)


async def test_attempt_span_without_any_trace_context_starts_a_trace(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    await invoke(_app(provider), "Shop", "buy", request_body(_json(1)))
    (attempt,) = by_name(exporter.get_finished_spans())["Shop/buy"]
    assert attempt.parent is None


async def test_attempt_attributes(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    out = await invoke(_app(provider), "Cart", "add", request_body(_json("hat"), key="cart-1", retry_count=3))
    assert isinstance(out[-1], m.EndMessage)
    (attempt,) = exporter.get_finished_spans()
    assert attempt.name == "Cart/add"
    assert dict(attempt.attributes or {}) == {
        "rpc.system": "restate",
        "rpc.service": "Cart",
        "rpc.method": "add",
        "restate.invocation.id": "inv_1testinvocation",
        "restate.invocation.target": "Cart/cart-1/add",
        "restate.invocation.key": "cart-1",
        "restate.attempt.retry_count": 3,
        "restate.attempt.journal_length": 1,
        "restate.attempt.outcome": "success",
    }
    assert attempt.status.status_code is StatusCode.UNSET


async def test_run_span_is_a_child_of_the_attempt(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    out = await invoke(_app(provider), "Shop", "buy", request_body(_json(1)))
    # request-response: the run's result is proposed, then the attempt suspends until it is stored
    assert [type(x).__name__ for x in out] == [
        "RunCommandMessage",
        "ProposeRunCompletionMessage",
        "SuspensionMessage",
    ]
    spans = by_name(exporter.get_finished_spans())
    (run,), (attempt,) = spans["run reserve"], spans["Shop/buy"]
    assert run.parent is not None and run.parent.span_id == span_id(attempt)
    assert run.attributes == {"restate.run.name": "reserve"}
    assert attempt.attributes is not None and attempt.attributes["restate.attempt.outcome"] == "suspended"
    assert attempt.status.status_code is StatusCode.UNSET


async def test_a_replayed_run_gets_no_span(provider: TracerProvider, exporter: InMemorySpanExporter) -> None:
    journal = [
        notification(T.RUN_COMPLETION, completion_id=1, value=_json(2)),
    ]
    body = request_body(
        _json(1), frame(m.RunCommandMessage(result_completion_id=1, name="reserve")), *journal
    )
    out = await invoke(_app(provider), "Shop", "buy", body)
    assert isinstance(out[0], m.OutputCommandMessage) and out[0].value == b"2"
    spans = by_name(exporter.get_finished_spans())
    assert "run reserve" not in spans
    (attempt,) = spans["Shop/buy"]
    assert attempt.attributes is not None and attempt.attributes["restate.attempt.journal_length"] == 2


async def test_a_failing_run_is_an_error_on_both_spans(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    out = await invoke(_app(provider), "Shop", "flaky_run", request_body(b""))
    assert isinstance(out[-1], m.ErrorMessage)
    spans = by_name(exporter.get_finished_spans())
    (run,), (attempt,) = spans["run charge"], spans["Shop/flaky_run"]
    for span in (run, attempt):
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "RuntimeError: payment service down"
        (event,) = span.events
        assert event.name == "exception"
    assert attempt.attributes is not None and attempt.attributes["restate.attempt.outcome"] == "retry"


@pytest.mark.parametrize(
    ("how", "outcome", "description"),
    [("terminal", "failure", "TerminalError: out of stock"), ("retry", "retry", "RuntimeError: flaky")],
)
async def test_handler_errors_set_the_attempt_status(
    provider: TracerProvider, exporter: InMemorySpanExporter, how: str, outcome: str, description: str
) -> None:
    await invoke(_app(provider), "Shop", "fail", request_body(_json(how)))
    (attempt,) = exporter.get_finished_spans()
    assert attempt.status.status_code is StatusCode.ERROR
    assert attempt.status.description == description
    assert attempt.attributes is not None
    assert attempt.attributes["restate.attempt.outcome"] == outcome
    if how == "terminal":
        assert attempt.attributes["restate.error.code"] == 409


async def test_calls_carry_the_call_span_and_replay_without_a_second_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    app = _app(provider)
    server_context = {"traceparent": traceparent(SERVER_TRACE, SERVER_SPAN)}
    first = await invoke(app, "Shop", "order", request_body(_json("hat")), server_context)
    call = first[0]
    assert isinstance(call, m.CallCommandMessage) and isinstance(first[-1], m.SuspensionMessage)
    spans = by_name(exporter.get_finished_spans())
    (call_span,), (attempt,) = spans["call Cart/add"], spans["Shop/order"]
    assert call_span.kind is SpanKind.CLIENT
    assert call_span.parent is not None and call_span.parent.span_id == span_id(attempt)
    assert dict(call_span.attributes or {}) == {
        "rpc.system": "restate",
        "rpc.service": "Cart",
        "rpc.method": "add",
        "restate.target": "Cart/cart-1/add",
        "restate.target.key": "cart-1",
    }
    headers = {h.key: h.value for h in call.headers}
    assert headers["traceparent"] == traceparent(SERVER_TRACE, span_id(call_span))

    # the next attempt replays the journaled call, headers included: it must match, and no new span
    exporter.clear()
    body = request_body(
        _json("hat"),
        frame(call),
        notification(T.CALL_INVOCATION_ID_COMPLETION, completion_id=1, invocation_id="inv_1callee"),
        notification(T.CALL_COMPLETION, completion_id=2, value=_json(1)),
    )
    second = await invoke(app, "Shop", "order", body, server_context)
    assert isinstance(second[0], m.OutputCommandMessage) and second[0].value == b"1"
    assert [s.name for s in exporter.get_finished_spans()] == ["Shop/order"]


async def test_a_call_journaled_without_trace_headers_still_replays(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    recorded = m.CallCommandMessage(
        service_name="Cart",
        handler_name="add",
        parameter=_json("hat"),
        key="cart-1",
        invocation_id_notification_idx=1,
        result_completion_id=2,
    )
    body = request_body(
        _json("hat"), frame(recorded), notification(T.CALL_COMPLETION, completion_id=2, value=_json(1))
    )
    out = await invoke(_app(provider), "Shop", "order", body)
    assert isinstance(out[0], m.OutputCommandMessage), out


async def test_propagation_can_be_turned_off(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    out = await invoke(_app(provider, propagate=False), "Shop", "order", request_body(_json("hat")))
    assert isinstance(out[0], m.CallCommandMessage) and out[0].headers == []
    assert "call Cart/add" in by_name(exporter.get_finished_spans())


async def test_send_sleep_and_awakeable_spans(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    out = await invoke(_app(provider), "Shop", "everything", request_body(b""))
    send = out[0]
    assert isinstance(send, m.OneWayCallCommandMessage)
    spans = by_name(exporter.get_finished_spans())
    (send_span,), (awakeable,), (sleep,) = spans["send Shop/buy"], spans["awakeable"], spans["sleep cooldown"]
    assert send_span.kind is SpanKind.PRODUCER
    assert send_span.attributes is not None and send_span.attributes["restate.send.delay_ms"] == 5000
    assert {h.key for h in send.headers} == {"traceparent"}
    assert awakeable.attributes is not None
    assert str(awakeable.attributes["restate.awakeable.id"]).startswith("sign_1")
    assert dict(sleep.attributes or {}) == {
        "restate.sleep.duration_ms": 2000,
        "restate.sleep.name": "cooldown",
    }
    (attempt,) = spans["Shop/everything"]
    assert all(
        s.parent is not None and s.parent.span_id == span_id(attempt) for s in (send_span, awakeable, sleep)
    )


async def test_plain_def_handlers_get_the_attempt_span_as_parent(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    await invoke(_app(provider), "Shop", "blocking", request_body(_json(2)))
    spans = by_name(exporter.get_finished_spans())
    (run,), (attempt,) = spans["run reserve"], spans["Shop/blocking"]
    assert run.parent is not None and run.parent.span_id == span_id(attempt)


async def test_hooks_run_and_their_errors_stay_on_the_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    seen: list[str] = []

    def attempt_hook(span: Any, info: restate.AttemptInfo) -> None:
        seen.append(info.invocation_id)
        raise ValueError("hook bug")

    def operation_hook(span: Any, info: restate.OperationInfo) -> None:
        span.set_attribute("app.kind", info.kind)

    app = _app(provider, attempt_hook=attempt_hook, operation_hook=operation_hook)
    out = await invoke(app, "Shop", "buy", request_body(_json(1)))
    assert isinstance(out[-1], m.SuspensionMessage)  # the invocation went on as usual
    assert seen == ["inv_1testinvocation"]
    spans = by_name(exporter.get_finished_spans())
    (attempt,), (run,) = spans["Shop/buy"], spans["run reserve"]
    (event,) = attempt.events
    assert event.attributes is not None and event.attributes["exception.type"] == "ValueError"
    assert attempt.status.status_code is StatusCode.UNSET
    assert run.attributes is not None and run.attributes["app.kind"] == "run"
