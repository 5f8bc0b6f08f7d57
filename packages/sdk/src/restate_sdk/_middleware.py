"""Middleware: code that runs around each invocation attempt and each new durable operation.

A middleware is any object with two methods, each returning a context manager (or None to stay out)::

    class Timing:
        def attempt(self, info: restate.AttemptInfo) -> AbstractContextManager[object] | None:
            return timed(f"{info.service}/{info.handler}")

        def operation(self, info: restate.OperationInfo) -> AbstractContextManager[object] | None:
            return timed(f"{info.kind} {info.name}") if info.kind == "run" else None

    app = restate.app([greeter], middleware=[Timing()])

``attempt`` wraps one attempt of one invocation: it is entered in the handler's task before the handler
starts, so what it puts in ``contextvars`` (an OpenTelemetry span, say) is current in the handler, in its
``ctx.run`` closures and in plain ``def`` handlers' threads. Before it exits, the SDK fills in
``info.outcome`` and ``info.error``; its ``__exit__`` sees no exception of its own (the SDK catches them).

``operation`` wraps a durable operation the first time it happens, never when it is replayed from the
journal, so an operation is seen once per invocation however many attempts replay it:

- ``run``: the closure's execution, in the run's task; ``__exit__`` gets the closure's exception. A run
  whose result is already journaled does not execute and is not seen.
- ``call`` and ``send``: issuing the command. ``info.headers`` holds the headers the callee will get;
  a middleware may add entries (on ``operation()`` or on ``__enter__``), which are journaled with the
  command and, on replay, taken back from the journal.
- ``sleep``: issuing the sleep command.
- ``awakeable``: entered and exited right after the awakeable is created (nothing is journaled for it;
  one that a later attempt recreates after its result arrived is not seen again).

Several middleware nest in list order: the first one's context is the outermost. With no middleware
configured, none of this code runs.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "AttemptInfo",
    "AttemptOutcome",
    "Middleware",
    "OperationInfo",
    "OperationKind",
    "open_attempt",
    "open_operation",
    "traced_run",
]

AttemptOutcome = Literal["success", "failure", "suspended", "retry"]
"""How an attempt ended: the handler returned (``success``) or raised a TerminalError (``failure``),
both ending the invocation; it ``suspended`` until a result arrives; or it failed and restate-server
will ``retry`` it (a retryable error in the handler or a run, a protocol error, a handler that stopped)."""

OperationKind = Literal["run", "call", "send", "sleep", "awakeable"]


@dataclass(slots=True, eq=False, kw_only=True)
class AttemptInfo:
    """One attempt of one invocation, as handed to ``Middleware.attempt``."""

    service: str
    handler: str
    service_kind: Literal["service", "object", "workflow"]
    invocation_id: str
    key: str
    """The virtual object's or workflow's key; empty for services."""
    retry_count: int
    """Attempts that failed since the journal last grew (StartMessage, best effort); 0 on a first try."""
    journal_length: int
    """Commands already in the journal (the input included): 1 on a fresh start, more on a resumption."""
    attempt_headers: Mapping[str, str]
    """Headers restate-server sent with this attempt (lower-case; ``traceparent`` when it traces)."""
    request_headers: Mapping[str, str]
    """Headers of the invocation request (from the caller or the ingress client), as journaled."""
    outcome: AttemptOutcome | None = None
    """Set by the SDK before the attempt's context exits; None if the attempt was abandoned."""
    error: BaseException | None = None
    """Set by the SDK: the exception that ended the attempt (for ``failure`` and ``retry``), if any."""


@dataclass(slots=True, eq=False, kw_only=True)
class OperationInfo:
    """One new durable operation, as handed to ``Middleware.operation``."""

    kind: OperationKind
    name: str
    """The run's or sleep's name (may be empty); ``Service/handler`` for calls and sends."""
    service: str = ""
    """Call or send: the target service."""
    handler: str = ""
    """Call or send: the target handler."""
    key: str = ""
    """Call or send: the target key (empty for services)."""
    headers: dict[str, str] | None = None
    """Call or send: the headers the callee gets; a middleware may add to them (not replace)."""
    delay_ms: int | None = None
    """Sleep: its duration; send: its delay, if any."""
    awakeable_id: str | None = None
    """Awakeable: its id."""


class Middleware(Protocol):
    """Hooks around invocation attempts and durable operations (see this module's docstring)."""

    def attempt(self, info: AttemptInfo, /) -> contextlib.AbstractContextManager[object] | None:
        """A context manager around one attempt, or None."""
        ...

    def operation(self, info: OperationInfo, /) -> contextlib.AbstractContextManager[object] | None:
        """A context manager around one new durable operation, or None."""
        ...


def open_attempt(middleware: Iterable[Middleware], info: AttemptInfo) -> contextlib.ExitStack:
    """Enter every middleware's attempt context (first = outermost); the caller closes the stack."""
    stack = contextlib.ExitStack()
    try:
        for mw in middleware:
            cm = mw.attempt(info)
            if cm is not None:
                stack.enter_context(cm)
    except BaseException:
        stack.close()
        raise
    return stack


@contextlib.contextmanager
def open_operation(middleware: Iterable[Middleware], info: OperationInfo) -> Any:
    """The middleware's operation contexts, nested; exceptions inside pass through each of them."""
    with contextlib.ExitStack() as stack:
        for mw in middleware:
            cm = mw.operation(info)
            if cm is not None:
                stack.enter_context(cm)
        yield info


def traced_run(middleware: Iterable[Middleware], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` wrapped so the middleware's operation contexts surround its execution (sync or async)."""

    async def run(*args: Any) -> Any:
        with open_operation(middleware, OperationInfo(kind="run", name=name)):
            value = fn(*args)
            if inspect.isawaitable(value):
                value = await value
            return value

    return run
