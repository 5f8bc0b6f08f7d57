"""Plain ``def`` handlers: the same Context methods, blocking, on a worker thread.

Every call hops to the event loop that owns the invocation (the engine is single-threaded) and
waits there; the worker thread only blocks itself, never the loop. Methods that return a future
in the async API return its value here; ``awakeable`` returns ``(id, future)`` whose
``result()`` blocks, and sends return a handle whose ``invocation_id()`` blocks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import random as _random
import uuid as _uuid
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, Unpack, cast

from ._codecs import Serde
from ._context import Request, SendOptions
from ._context_impl import InvocationContext
from ._definitions import ObjectHandler, ServiceHandler, WorkflowHandler
from ._futures import RestateFuture, SendHandle
from ._sync_api import SyncWorkflowContext

__all__ = ["BlockingContext", "SyncFuture", "SyncSendHandle", "as_sync_context"]

T = TypeVar("T")


class _Bridge:
    def __init__(self, ctx: InvocationContext, loop: asyncio.AbstractEventLoop) -> None:
        self.ctx = ctx
        self.loop = loop
        self.pending: set[concurrent.futures.Future[Any]] = set()
        self.closed = False

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.closed:
            raise asyncio.CancelledError("the invocation attempt has ended")

        async def on_loop() -> Any:
            result: Any = fn(*args, **kwargs)
            if isinstance(result, RestateFuture) or inspect.isawaitable(result):
                awaitable = cast("Awaitable[Any]", result)
                return await awaitable
            return result

        fut = asyncio.run_coroutine_threadsafe(on_loop(), self.loop)
        self.pending.add(fut)
        try:
            return fut.result()
        finally:
            self.pending.discard(fut)

    def close(self) -> None:
        """Unblock the worker thread when the attempt ends under it."""
        self.closed = True
        for fut in list(self.pending):
            fut.cancel()


class SyncFuture(Generic[T]):
    """A durable result in a plain ``def`` handler; ``result()`` blocks until it is there."""

    def __init__(self, bridge: _Bridge, future: RestateFuture[T]) -> None:
        self._bridge = bridge
        self._future = future

    def result(self) -> T:
        return self._bridge.call(lambda: self._future)  # type: ignore[no-any-return]


class SyncSendHandle:
    """A one-way send from a plain ``def`` handler."""

    def __init__(self, bridge: _Bridge, handle: SendHandle) -> None:
        self._bridge = bridge
        self._handle = handle

    def invocation_id(self) -> str:
        return self._bridge.call(self._handle.invocation_id)  # type: ignore[no-any-return]


class _SyncPromise(Generic[T]):
    def __init__(self, bridge: _Bridge, promise: Any) -> None:
        self._bridge = bridge
        self._promise = promise

    def value(self) -> T:
        return self._bridge.call(self._promise.value)  # type: ignore[no-any-return]

    def peek(self) -> T | None:
        return self._bridge.call(self._promise.peek)  # type: ignore[no-any-return]

    def resolve(self, value: T) -> None:
        self._bridge.call(self._promise.resolve, value)

    def reject(self, message: str, code: int = 500) -> None:
        self._bridge.call(self._promise.reject, message, code)


class BlockingContext:
    """Implements every ``Sync*Context`` protocol over an invocation context, for plain ``def`` handlers.

    Only the methods that need more than a hop to the loop are written here; every other method
    of the protocols is made by ``_hop`` below, so a new Context method needs nothing here (the
    type checker sees the protocols: ``as_sync_context``; tests/unit/test_surface.py checks it).
    """

    def __init__(self, ctx: InvocationContext, loop: asyncio.AbstractEventLoop) -> None:
        self._ctx = ctx
        self._bridge = _Bridge(ctx, loop)

    def close(self) -> None:
        self._bridge.close()

    # pure reads: no hop needed
    def invocation_id(self) -> str:
        return self._ctx.invocation_id()

    def key(self) -> str:
        return self._ctx.key()

    def request(self) -> Request:
        return self._ctx.request()

    def random(self) -> _random.Random:
        return self._ctx.random()

    def uuid(self) -> _uuid.UUID:
        return self._ctx.uuid()

    # results that stay blocking handles
    def _send(self, method: Callable[..., SendHandle], *args: Any, **options: Any) -> SyncSendHandle:
        return SyncSendHandle(self._bridge, self._bridge.call(method, *args, **options))

    def service_send(
        self, handler: ServiceHandler[..., Any], arg: Any = None, **options: Unpack[SendOptions]
    ) -> SyncSendHandle:
        return self._send(self._ctx.service_send, handler, arg, **options)

    def object_send(
        self, handler: ObjectHandler[..., Any], key: str, arg: Any = None, **options: Unpack[SendOptions]
    ) -> SyncSendHandle:
        return self._send(self._ctx.object_send, handler, key, arg, **options)

    def workflow_send(
        self, handler: WorkflowHandler[..., Any], key: str, arg: Any = None, **options: Unpack[SendOptions]
    ) -> SyncSendHandle:
        return self._send(self._ctx.workflow_send, handler, key, arg, **options)

    def generic_send(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        input_serde: Serde[Any] | None = None,
        **options: Unpack[SendOptions],
    ) -> SyncSendHandle:
        return self._send(
            self._ctx.generic_send, service, handler, arg, key, input_serde=input_serde, **options
        )

    def awakeable(
        self, type_hint: Any = None, serde: Serde[Any] | None = None
    ) -> tuple[str, SyncFuture[Any]]:
        awakeable_id, future = self._bridge.call(self._ctx.awakeable, type_hint, serde)
        return awakeable_id, SyncFuture(self._bridge, future)

    def promise(self, name: str, type_hint: Any = None, serde: Serde[Any] | None = None) -> _SyncPromise[Any]:
        return _SyncPromise(self._bridge, self._ctx.promise(name, type_hint, serde))


def _hop(name: str) -> Callable[..., Any]:
    """``BlockingContext.<name>``: the async context's method, run on the loop, its result awaited."""
    declared = getattr(SyncWorkflowContext, name)

    def method(self: BlockingContext, *args: Any, **kwargs: Any) -> Any:
        return self._bridge.call(getattr(self._ctx, name), *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = declared.__doc__
    setattr(method, "__signature__", inspect.signature(declared))  # noqa: B010 - for help() and the surface test
    return method


for _name in dir(SyncWorkflowContext):
    if not _name.startswith("_") and _name not in vars(BlockingContext):
        setattr(BlockingContext, _name, _hop(_name))


def as_sync_context(ctx: BlockingContext) -> SyncWorkflowContext:
    """``ctx`` as the type checker should see it: every Sync context (its methods are made at import)."""
    return cast("SyncWorkflowContext", ctx)
