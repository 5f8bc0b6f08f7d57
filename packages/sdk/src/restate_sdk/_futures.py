"""Durable futures and the combinators over them.

A ``RestateFuture`` stands for the result of one journaled operation (a call, a run, a sleep, an
awakeable...). Awaiting it blocks until the result is in the journal; combinators wait on several
at once, as one await tree (``_engine.awaiting``), so that a suspension lists all of them.

Futures know only the small ``Waiting`` protocol of whatever produced them: the invocation attempt,
or ``restate_mocks.MockContext``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Sequence
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar, cast

from ._engine.awaiting import Awaited, AwaitNode, Combinator
from ._engine.handles import Handle
from ._errors import TimeoutError
from ._unawaited import AwaitScope, TracksAwait

__all__ = ["RestateFuture", "Waiting", "as_completed", "gather", "wait_first", "with_timeout"]

T = TypeVar("T")

_UNSET: Any = object()


class Waiting(Protocol):
    """Where futures wait: one invocation attempt (or a mock of one)."""

    def is_completed(self, handle: Handle) -> bool:
        """Whether the handler may see ``handle``'s result now."""
        ...

    def take_result(self, handle: Handle) -> Any:
        """The raw result of a completed ``handle``: bytes, str, list, None, or an exception to raise."""
        ...

    async def wait(self, awaited: Awaited) -> None:
        """Return once ``awaited`` is resolved (by its combinators); may raise to end the handler."""
        ...

    def completions(self, items: Sequence[tuple[Handle, T]]) -> AsyncIterator[T]:
        """Yield each item once its handle completes: those already complete first, in the given order."""
        ...


class RestateFuture(TracksAwait, Generic[T]):
    """The result of a durable operation; ``await`` it (more than once is fine).

    Created with ``what`` (e.g. ``"ctx.sleep()"``) by a waiting side that has an ``await_scope``,
    it warns with ``UnawaitedFutureWarning`` if collected without being awaited or combined.
    """

    __slots__ = ("_handle", "_map", "_value", "_waiting")

    def __init__(
        self,
        waiting: Waiting | None,
        handle: Handle | None,
        mapper: Callable[[Any], T],
        what: str | None = None,
    ) -> None:
        self._waiting = waiting
        self._handle = handle
        self._map = mapper
        self._value: Any = _UNSET
        scope: AwaitScope | None = getattr(waiting, "await_scope", None) if what else None
        if scope is not None and what is not None:
            self._track_unawaited(scope, what)
        else:
            self._unawaited = None

    @classmethod
    def ready(cls, value: T) -> RestateFuture[T]:
        """A future that is already complete with ``value``."""
        fut: RestateFuture[T] = cls(None, None, lambda v: v)
        fut._value = value
        return fut

    def done(self) -> bool:
        """True once the result is there (awaiting it will not wait)."""
        if self._value is not _UNSET or self._handle is None or self._waiting is None:
            return True
        return self._waiting.is_completed(self._handle)

    def _result(self) -> T:
        """The value (or raise its failure); only once ``done()``."""
        self._unawaited = None
        if self._value is _UNSET:
            assert self._waiting is not None and self._handle is not None
            self._value = self._waiting.take_result(self._handle)
        value = self._value
        if isinstance(value, BaseException):
            raise value
        return self._map(value)

    async def _wait(self) -> T:
        if not self.done():
            assert self._waiting is not None and self._handle is not None
            await self._waiting.wait(self._handle)
        return self._result()

    def __await__(self) -> Generator[Any, None, T]:
        self._unawaited = None
        return self._wait().__await__()


class CallFuture(RestateFuture[T]):
    """A call's result; ``await fut.invocation_id()`` gives the callee's invocation id."""

    __slots__ = ("_id_handle",)

    def __init__(
        self,
        waiting: Waiting,
        handle: Handle,
        id_handle: Handle,
        mapper: Callable[[Any], T],
        what: str | None = None,
    ) -> None:
        super().__init__(waiting, handle, mapper, what)
        self._id_handle = id_handle

    async def invocation_id(self) -> str:
        """The callee's invocation id (``inv_...``)."""
        self._unawaited = None  # asking for the id uses the call: not a forgotten await
        return await RestateFuture[str](self._waiting, self._id_handle, str)


class SendHandle:
    """A one-way send; ``await handle.invocation_id()`` gives the callee's invocation id."""

    __slots__ = ("_future",)

    def __init__(self, waiting: Waiting, id_handle: Handle) -> None:
        self._future = RestateFuture[str](waiting, id_handle, str)

    async def invocation_id(self) -> str:
        """The callee's invocation id (``inv_...``)."""
        return await self._future


def _combined(futures: Sequence[RestateFuture[Any]]) -> None:
    """A combinator took ``futures``: none of them is a forgotten await any more."""
    for f in futures:
        f._unawaited = None


def _pending(futures: tuple[RestateFuture[Any], ...]) -> tuple[Waiting, tuple[Handle, ...]]:
    """The waiting side and the handles of the futures not done yet (at least one)."""
    waiting: Waiting | None = None
    handles: list[Handle] = []
    for f in futures:
        if not f.done():
            waiting = f._waiting
            assert f._handle is not None
            handles.append(f._handle)
    assert waiting is not None
    return waiting, tuple(handles)


async def wait_first(*futures: RestateFuture[Any]) -> RestateFuture[Any]:
    """Wait until one of ``futures`` completes and return that future (await it for its value).

    Example::

        done = await restate.wait_first(call, ctx.sleep(timedelta(seconds=5)))
        if done is call: ...
    """
    if not futures:
        raise ValueError("wait_first() needs at least one future")
    _combined(futures)
    for f in futures:
        if f.done():
            return f
    waiting, handles = _pending(futures)
    await waiting.wait(AwaitNode(Combinator.FIRST_COMPLETED, handles))
    return next(f for f in futures if f.done())


async def gather(*futures: RestateFuture[Any], return_exceptions: bool = False) -> list[Any]:
    """Wait for all ``futures`` and return their values in order; the first failure raises.

    With ``return_exceptions=True`` it waits until every future completed, failed ones included,
    and returns each failure (a ``TerminalError``) in place of its value (TypeScript's allSettled).

    Example::

        a, b = await restate.gather(ctx.service_call(f, 1), ctx.service_call(f, 2))
        results = await restate.gather(*calls, return_exceptions=True)
        failed = [r for r in results if isinstance(r, restate.TerminalError)]
    """
    _combined(futures)
    if return_exceptions:
        if not all(f.done() for f in futures):
            waiting, handles = _pending(futures)
            await waiting.wait(AwaitNode(Combinator.ALL_COMPLETED, handles))
        return [_settled(f) for f in futures]
    pending = False
    for f in futures:
        if f.done():
            f._result()  # raise the first failure as soon as it is known
        else:
            pending = True
    if pending:
        waiting, handles = _pending(futures)
        await waiting.wait(AwaitNode(Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED, handles))
        for f in futures:  # resolved: all succeeded, or one failed (the only one shown, in order)
            if f.done():
                f._result()
    return [f._result() for f in futures]


def _settled(f: RestateFuture[Any]) -> Any:
    try:
        return f._result()
    except Exception as e:  # a failure, or a result the mapper could not decode
        return e


async def with_timeout(future: RestateFuture[T], timeout: timedelta) -> T:
    """``await future``, unless a durable timer of ``timeout`` fires first: then ``restate.TimeoutError``.

    The timer is journaled (a sleep), so a replay decides the race the same way. The future is not
    cancelled: a call keeps running, and awaiting the future later still gives its result.
    ``restate.TimeoutError`` is a ``TerminalError`` (status 408): left uncaught, it ends the invocation.

    Example::

        try:
            receipt = await restate.with_timeout(ctx.service_call(charge, order), timedelta(seconds=30))
        except restate.TimeoutError:
            ...
    """
    future._unawaited = None
    waiting = future._waiting
    if waiting is None or future._handle is None:  # RestateFuture.ready(): nothing to race
        return future._result()
    # Always start the timer, even if the future is done already: the same commands on every replay.
    timer = cast(_Timers, waiting).timer(timeout)
    timer._unawaited = None
    if not future.done():
        await wait_first(future, timer)
    if future.done():
        return future._result()
    raise TimeoutError(f"timed out after {timeout.total_seconds():g}s")


class _Timers(Protocol):
    """A waiting side that ``with_timeout`` can start a durable timer on."""

    def timer(self, delta: timedelta) -> RestateFuture[None]: ...


def as_completed(*futures: RestateFuture[Any]) -> AsyncIterator[RestateFuture[Any]]:
    """Yield the futures in the order they complete.

    Example::

        async for f in restate.as_completed(*calls):
            print(await f)
    """
    _combined(futures)
    items: list[tuple[Handle, RestateFuture[Any]]] = []
    waiting = futures[0]._waiting if futures else None
    for f in futures:
        if f._handle is None or f._waiting is not waiting:
            return _as_completed(futures)
        items.append((f._handle, f))
    if waiting is None:
        return _as_completed(futures)
    return waiting.completions(items)  # one async iterator, straight from the waiting side


async def _as_completed(futures: tuple[RestateFuture[Any], ...]) -> AsyncIterator[RestateFuture[Any]]:
    """``as_completed`` for futures that are not all durable ones of one invocation (``ready()``)."""
    later: list[tuple[Handle, RestateFuture[Any]]] = []
    for f in futures:
        if f.done():
            yield f
        else:
            assert f._handle is not None
            later.append((f._handle, f))
    if later:
        waiting = later[0][1]._waiting
        assert waiting is not None
        async for f in waiting.completions(later):
            yield f
