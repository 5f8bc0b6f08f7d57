"""Durable futures and the combinators over them.

A ``RestateFuture`` stands for the result of one journaled operation (a call, a run, a sleep, an
awakeable...). Awaiting it blocks until the result is in the journal; combinators wait on several
at once so that a suspension lists all of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._engine.engine import Handle

if TYPE_CHECKING:
    from ._context_impl import InvocationContext

__all__ = ["RestateFuture", "as_completed", "gather", "wait_first"]

T = TypeVar("T")

_UNSET: Any = object()


class RestateFuture(Generic[T]):
    """The result of a durable operation; ``await`` it (more than once is fine)."""

    __slots__ = ("_ctx", "_handle", "_map", "_value")

    def __init__(
        self, ctx: InvocationContext | None, handle: Handle | None, mapper: Callable[[Any], T]
    ) -> None:
        self._ctx = ctx
        self._handle = handle
        self._map = mapper
        self._value: Any = _UNSET

    @classmethod
    def ready(cls, value: T) -> RestateFuture[T]:
        fut: RestateFuture[T] = cls(None, None, lambda v: v)
        fut._value = value
        return fut

    def done(self) -> bool:
        if self._value is not _UNSET or self._handle is None or self._ctx is None:
            return True
        return self._ctx.is_completed(self._handle)

    def _result(self) -> T:
        """The value (or raise its failure); only once ``done()``."""
        if self._value is _UNSET:
            assert self._ctx is not None and self._handle is not None
            self._value = self._ctx.take_result(self._handle)
        value = self._value
        if isinstance(value, BaseException):
            raise value
        return self._map(value)

    async def _wait(self) -> T:
        if not self.done():
            assert self._ctx is not None and self._handle is not None
            await self._ctx.wait_any([self._handle])
        return self._result()

    def __await__(self) -> Generator[Any, None, T]:
        return self._wait().__await__()


class CallFuture(RestateFuture[T]):
    """A call's result; ``await fut.invocation_id()`` gives the callee's invocation id."""

    __slots__ = ("_id_handle",)

    def __init__(
        self, ctx: InvocationContext, handle: Handle, id_handle: Handle, mapper: Callable[[Any], T]
    ) -> None:
        super().__init__(ctx, handle, mapper)
        self._id_handle = id_handle

    async def invocation_id(self) -> str:
        return await RestateFuture[str](self._ctx, self._id_handle, str)


class SendHandle:
    """A one-way send; ``await handle.invocation_id()`` gives the callee's invocation id."""

    __slots__ = ("_future",)

    def __init__(self, ctx: InvocationContext, id_handle: Handle) -> None:
        self._future = RestateFuture[str](ctx, id_handle, str)

    async def invocation_id(self) -> str:
        return await self._future


def _pending(futures: tuple[RestateFuture[Any], ...]) -> tuple[InvocationContext | None, list[Handle]]:
    ctx = None
    handles: list[Handle] = []
    for f in futures:
        if not f.done():
            ctx = f._ctx
            assert f._handle is not None
            handles.append(f._handle)
    return ctx, handles


async def wait_first(*futures: RestateFuture[Any]) -> RestateFuture[Any]:
    """Wait until one of ``futures`` completes and return that future (await it for its value).

    Example::

        done = await restate.wait_first(call, ctx.sleep(timedelta(seconds=5)))
        if done is call: ...
    """
    if not futures:
        raise ValueError("wait_first() needs at least one future")
    while True:
        for f in futures:
            if f.done():
                return f
        ctx, handles = _pending(futures)
        assert ctx is not None
        await ctx.wait_any(handles)


async def gather(*futures: RestateFuture[Any]) -> list[Any]:
    """Wait for all ``futures`` and return their values in order; the first failure raises.

    Example::

        a, b = await restate.gather(ctx.service_call(f, 1), ctx.service_call(f, 2))
    """
    remaining = list(futures)
    while True:
        for f in remaining:
            if f.done():
                f._result()  # raise the first failure as soon as it is known
        remaining = [f for f in remaining if not f.done()]
        if not remaining:
            return [f._result() for f in futures]
        ctx, handles = _pending(tuple(remaining))
        assert ctx is not None
        await ctx.wait_any(handles)


async def as_completed(*futures: RestateFuture[Any]) -> AsyncIterator[RestateFuture[Any]]:
    """Yield the futures in the order they complete.

    Example::

        async for f in restate.as_completed(*calls):
            print(await f)
    """
    remaining = list(futures)
    while remaining:
        done = [f for f in remaining if f.done()]
        if not done:
            ctx, handles = _pending(tuple(remaining))
            assert ctx is not None
            await ctx.wait_any(handles)
            continue
        for f in done:
            remaining.remove(f)
            yield f
