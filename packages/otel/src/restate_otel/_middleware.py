"""``TracingMiddleware``: OpenTelemetry spans for invocation attempts and their durable operations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from types import TracebackType
from typing import Final, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue
from restate_sdk import AttemptInfo, OperationInfo, TerminalError

from ._propagation import SET_DEFAULT, textmap
from ._version import __version__

__all__ = ["AttemptHook", "OperationHook", "TracingMiddleware"]

_log = logging.getLogger("restate_otel")

AttemptHook = Callable[[Span, AttemptInfo], None]
"""Called with an attempt's span right after it starts, e.g. to add attributes from the request headers."""

OperationHook = Callable[[Span, OperationInfo], None]
"""Called with an operation's span right after it starts."""

_Info = TypeVar("_Info", AttemptInfo, OperationInfo)

_SPAN_KINDS: Final[Mapping[str, SpanKind]] = {
    "run": SpanKind.INTERNAL,
    "call": SpanKind.CLIENT,
    "send": SpanKind.PRODUCER,
    "sleep": SpanKind.INTERNAL,
    "awakeable": SpanKind.INTERNAL,
}


class TracingMiddleware:
    """OpenTelemetry tracing for a Restate endpoint: ``restate.app(..., middleware=[TracingMiddleware()])``.

    Spans:

    - one per invocation attempt, named ``Service/handler`` (kind SERVER). Its parent is the trace
      context restate-server sends with the attempt (``traceparent``/``tracestate``, present when the
      server's own tracing is configured), else the one in the invocation's request headers (what the
      caller sent: an ingress client, or the calling handler through this middleware). Attributes:
      ``rpc.system`` (``restate``), ``rpc.service``, ``rpc.method``, ``restate.invocation.id``,
      ``restate.invocation.target``, ``restate.invocation.key`` (objects and workflows),
      ``restate.attempt.retry_count`` (failed attempts since the journal last grew, from restate-server),
      ``restate.attempt.journal_length`` and, at the end, ``restate.attempt.outcome`` (``success``,
      ``failure``, ``suspended`` or ``retry``). A terminal failure or a retried attempt sets status ERROR
      and records the exception. When the server's context and the request's are different traces
      (restate-server starts a new trace for the target of a one-way send), the span links the caller.
    - children for ``ctx.run`` (``run <name>``, covering the closure; its exception is recorded), calls
      (``call Service/handler``, CLIENT), sends (``send Service/handler``, PRODUCER), sleeps
      (``sleep``) and awakeables (``awakeable``). Operations replayed from the journal get no span, so
      each appears once per invocation however many attempts replay it.

    With ``propagate`` (the default), calls and sends carry the call's trace context as request headers,
    so the callee's attempts join the same trace even when restate-server does not trace. These headers
    are journaled with the call: keep the middleware (and ``propagate``) while invocations that made
    such calls are still in flight, or their replays will not match the journal.

    Args:
        tracer_provider: where spans go; the global provider when omitted.
        propagator: reads and writes trace context headers; the global one (W3C trace context and
            baggage by default) when omitted.
        propagate: inject the trace context into calls' and sends' headers.
        attempt_hook: called with each attempt span once started; its errors are logged and recorded
            on the span, never raised into the invocation.
        operation_hook: the same for operation spans.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        propagator: TextMapPropagator | None = None,
        propagate: bool = True,
        attempt_hook: AttemptHook | None = None,
        operation_hook: OperationHook | None = None,
    ) -> None:
        self._tracer = trace.get_tracer("restate_otel", __version__, tracer_provider)
        self._propagator = propagator
        self._propagate = propagate
        self._attempt_hook = attempt_hook
        self._operation_hook = operation_hook

    def __repr__(self) -> str:
        return f"{type(self).__name__}(propagate={self._propagate})"

    # -- the restate_sdk.Middleware protocol -------------------------------------------------------

    def attempt(self, info: AttemptInfo, /) -> _AttemptSpan:
        """A span around one invocation attempt."""
        return _AttemptSpan(self, info)

    def operation(self, info: OperationInfo, /) -> _OperationSpan:
        """A span around one new durable operation."""
        return _OperationSpan(self, info)

    # -- helpers -------------------------------------------------------------------------------------

    def _parent(self, info: AttemptInfo) -> tuple[Context | None, list[Link] | None]:
        """The attempt's trace context if restate-server sent one, else the request's, else None.

        When both are there but in different traces (restate-server starts a new trace for a one-way
        send's callee), the attempt span also gets a link to the caller's span from the request.
        """
        reader = textmap(self._propagator)
        fields = reader.fields
        attempt = _extract(reader, fields, info.attempt_headers)
        if attempt is not None and _same_w3c_trace(info.attempt_headers, info.request_headers):
            return attempt[0], None  # the common case when restate-server traces: nothing to link
        request = _extract(reader, fields, info.request_headers, lower=True)
        if attempt is None:
            return (request[0] if request is not None else None), None
        if request is not None and request[1].trace_id != attempt[1].trace_id:
            return attempt[0], [Link(request[1], {"restate.link": "caller"})]
        return attempt[0], None

    def _run_hook(self, hook: Callable[[Span, _Info], None], span: Span, info: _Info) -> None:
        try:
            hook(span, info)
        except Exception as e:  # a hook must never break the invocation
            _log.warning(
                "restate_otel: %s failed: %s: %s", getattr(hook, "__name__", hook), type(e).__name__, e
            )
            span.record_exception(e, attributes={"restate_otel.hook": True})


class _AttemptSpan:
    """Context manager for one attempt's span: started and made current on enter, ended on exit."""

    __slots__ = ("_info", "_mw", "_span", "_token")

    def __init__(self, mw: TracingMiddleware, info: AttemptInfo) -> None:
        self._mw = mw
        self._info = info

    def __enter__(self) -> Span:
        mw, info = self._mw, self._info
        target = (
            f"{info.service}/{info.key}/{info.handler}"
            if info.service_kind != "service"
            else f"{info.service}/{info.handler}"
        )
        attributes: dict[str, AttributeValue] = {
            "rpc.system": "restate",
            "rpc.service": info.service,
            "rpc.method": info.handler,
            "restate.invocation.id": info.invocation_id,
            "restate.invocation.target": target,
            "restate.attempt.retry_count": info.retry_count,
            "restate.attempt.journal_length": info.journal_length,
        }
        if info.service_kind != "service":
            attributes["restate.invocation.key"] = info.key
        parent, links = mw._parent(info)
        span = mw._tracer.start_span(
            f"{info.service}/{info.handler}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
            links=links,
        )
        self._span = span
        self._token = otel_context.attach(trace.set_span_in_context(span, parent))
        if mw._attempt_hook is not None:
            mw._run_hook(mw._attempt_hook, span, info)
        return span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        span, info = self._span, self._info
        try:
            outcome = info.outcome
            if outcome is not None:
                span.set_attribute("restate.attempt.outcome", outcome)
            error = info.error if info.error is not None else exc
            if outcome in ("failure", "retry"):
                if error is not None:
                    _record_error(span, error)
                else:
                    span.set_status(Status(StatusCode.ERROR, f"attempt ended with {outcome}"))
        finally:
            otel_context.detach(self._token)
            span.end()


class _OperationSpan:
    """Context manager for one operation's span, a child of the current (attempt) span."""

    __slots__ = ("_info", "_mw", "_span", "_token")

    def __init__(self, mw: TracingMiddleware, info: OperationInfo) -> None:
        self._mw = mw
        self._info = info

    def __enter__(self) -> Span:
        mw, info = self._mw, self._info
        kind = info.kind
        attributes: dict[str, AttributeValue] = {}
        if kind == "call" or kind == "send":
            attributes["rpc.system"] = "restate"
            attributes["rpc.service"] = info.service
            attributes["rpc.method"] = info.handler
            attributes["restate.target"] = (
                f"{info.service}/{info.key}/{info.handler}" if info.key else f"{info.service}/{info.handler}"
            )
            if info.key:
                attributes["restate.target.key"] = info.key
            if info.delay_ms is not None:
                attributes["restate.send.delay_ms"] = info.delay_ms
            name = f"{kind} {info.name}"
        elif kind == "run":
            attributes["restate.run.name"] = info.name
            name = f"run {info.name}" if info.name else "run"
        elif kind == "sleep":
            if info.delay_ms is not None:
                attributes["restate.sleep.duration_ms"] = info.delay_ms
            if info.name:
                attributes["restate.sleep.name"] = info.name
            name = f"sleep {info.name}" if info.name else "sleep"
        else:
            if info.awakeable_id is not None:
                attributes["restate.awakeable.id"] = info.awakeable_id
            name = kind
        span = mw._tracer.start_span(
            name, kind=_SPAN_KINDS.get(kind, SpanKind.INTERNAL), attributes=attributes
        )
        self._span = span
        current = trace.set_span_in_context(span)
        self._token = otel_context.attach(current)
        if info.headers is not None and mw._propagate:
            textmap(mw._propagator).inject(info.headers, context=current, setter=SET_DEFAULT)
        if mw._operation_hook is not None:
            mw._run_hook(mw._operation_hook, span, info)
        return span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        span = self._span
        try:
            if isinstance(exc, Exception):
                _record_error(span, exc)
            elif exc is not None:  # cancelled: the attempt ended while the run was executing
                span.set_attribute("restate.cancelled", True)
        finally:
            otel_context.detach(self._token)
            span.end()


_ROOT = Context()


def _extract(
    reader: TextMapPropagator, fields: AbstractSet[str], headers: Mapping[str, str], *, lower: bool = False
) -> tuple[Context, SpanContext] | None:
    """The remote span context in ``headers``, if they hold a valid one."""
    if lower:
        headers = {k.lower(): v for k, v in headers.items()}
    if not any(field in headers for field in fields):
        return None
    extracted = reader.extract(headers, context=_ROOT)
    span_context = trace.get_current_span(extracted).get_span_context()
    return (extracted, span_context) if span_context.is_valid else None


def _same_w3c_trace(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    """Whether both carry a ``traceparent`` of the same trace (a shortcut past a second extraction)."""
    pa, pb = a.get("traceparent"), b.get("traceparent")
    return pa is not None and pb is not None and len(pa) == len(pb) == 55 and pa[3:35] == pb[3:35]


def _record_error(span: Span, error: BaseException) -> None:
    span.record_exception(error)
    if isinstance(error, TerminalError):
        span.set_attribute("restate.error.terminal", True)
        span.set_attribute("restate.error.code", error.status_code)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
