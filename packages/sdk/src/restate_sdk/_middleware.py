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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Literal, Protocol, TypeVar

from ._threads import call_blocking_aware

__all__ = [
    "AttemptInfo",
    "AttemptOutcome",
    "Middleware",
    "OperationInfo",
    "OperationKind",
    "Scope",
    "open_attempt",
    "open_operation",
    "traced_run",
]

AttemptOutcome = Literal["success", "failure", "suspended", "retry"]
"""How an attempt ended: the handler returned (``success``) or raised a TerminalError (``failure``),
both ending the invocation; it ``suspended`` until a result arrives; or it failed and restate-server
will ``retry`` it (a retryable error in the handler or a run, a protocol error, a handler that stopped)."""

OperationKind = Literal["run", "call", "send", "sleep", "awakeable"]
"""The kinds of durable operation a middleware sees in ``OperationInfo.kind``."""

V = TypeVar("V")


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


class Scope(Generic[V]):
    """Every middleware's context for one attempt or operation, nested in list order.

    Entering asks each middleware for its context (``hook(info)``) and enters it before asking the next
    one, as nested ``with`` blocks would; exiting goes in reverse. An exception from inside reaches each
    context's ``__exit__`` and is never suppressed: a middleware cannot swallow a handler's or a run's
    error. ``__enter__`` returns ``value``.
    """

    __slots__ = ("_entered", "_hook", "_info", "_middleware", "_value")

    def __init__(
        self,
        middleware: Iterable[Middleware],
        hook: Callable[[Middleware, Any], contextlib.AbstractContextManager[object] | None],
        info: Any,
        value: V,
    ) -> None:
        self._middleware = middleware
        self._hook = hook
        self._info = info
        self._value = value
        self._entered: list[contextlib.AbstractContextManager[object]] = []

    def __enter__(self) -> V:
        try:
            for mw in self._middleware:
                cm = self._hook(mw, self._info)
                if cm is not None:
                    cm.__enter__()
                    self._entered.append(cm)
        except BaseException as e:
            self.__exit__(type(e), e, e.__traceback__)
            raise
        return self._value

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        failure: BaseException | None = None
        while self._entered:
            try:
                self._entered.pop().__exit__(exc_type, exc, tb)
            except BaseException as e:  # the others still get to exit; the first failure is raised
                failure = failure or e
        if failure is not None:
            raise failure

    def close(self) -> None:
        """Exit every context entered, with no exception."""
        self.__exit__(None, None, None)


def _attempt_hook(mw: Middleware, info: AttemptInfo) -> contextlib.AbstractContextManager[object] | None:
    return mw.attempt(info)


def _operation_hook(mw: Middleware, info: OperationInfo) -> contextlib.AbstractContextManager[object] | None:
    return mw.operation(info)


def open_attempt(middleware: Iterable[Middleware], info: AttemptInfo) -> Scope[AttemptInfo]:
    """Enter every middleware's attempt context (first = outermost); the caller ``close()``s it."""
    scope = Scope(middleware, _attempt_hook, info, info)
    scope.__enter__()
    return scope


def open_operation(middleware: Iterable[Middleware], info: OperationInfo, value: V) -> Scope[V]:
    """The middleware's operation contexts for ``info``, to enter with ``with``; that gives ``value``."""
    return Scope(middleware, _operation_hook, info, value)


def traced_run(middleware: Iterable[Middleware], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` wrapped so the middleware's operation contexts surround its execution (sync or async)."""

    async def run(*args: Any) -> Any:
        info = OperationInfo(kind="run", name=name)
        with open_operation(middleware, info, info):
            return await call_blocking_aware(fn, args)

    return run
