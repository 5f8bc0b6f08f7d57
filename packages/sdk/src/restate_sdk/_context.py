"""The Context types handlers annotate with.

They are Protocols, and the one declaration of the Context surface: the SDK's invocation
context implements all of them, and so does ``restate_mocks.MockContext``; the blocking views
for plain ``def`` handlers (``_sync_api``) mirror them method for method, returning values
instead of futures (``tests/unit/test_surface.py`` fails on any drift). Which one a handler receives depends on its kind:

    Context                    services
    ObjectSharedContext        shared handlers of virtual objects (state read-only)
    ObjectContext              exclusive handlers of virtual objects
    WorkflowSharedContext      shared handlers of workflows (promises, state read-only)
    WorkflowContext            the workflow's main handler
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypedDict, TypeVar, Unpack, overload

from ._codecs import Serde
from ._definitions import ObjectHandler, ServiceHandler, WorkflowHandler
from ._futures import CallFuture, RestateFuture, SendHandle

__all__ = [
    "CallOptions",
    "Context",
    "DurablePromise",
    "ObjectContext",
    "ObjectSharedContext",
    "Request",
    "SendOptions",
    "WorkflowContext",
    "WorkflowSharedContext",
]

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741


@dataclass(frozen=True)
class Request:
    """The invocation as it arrived: id, headers, the attempt's headers and the raw body."""

    id: str
    headers: Mapping[str, str]
    attempt_headers: Mapping[str, str]
    body: bytes
    scope: str | None = None
    """The invocation's scope; only service protocol V7 carries it (None below V7, or unscoped)."""
    limit_key: str | None = None
    """The invocation's limit key; V7 with vqueues only (None otherwise: not known)."""
    idempotency_key: str | None = None
    """The invocation's idempotency key; V7 with vqueues only (None otherwise: not known, which
    does not mean the invocation is not idempotent)."""


class CallOptions(TypedDict, total=False):
    """Keyword options of every call (``service_call``, ``object_call``, ``generic_call``...)."""

    idempotency_key: str | None
    """The callee runs once per key: a second call with the same key gets the first one's result."""
    headers: Mapping[str, str] | None
    """Headers the callee sees in ``ctx.request().headers``."""
    scope: str | None
    """Run the callee in this scope (1-36 characters from ``A-Za-z0-9_.-``): its concurrency
    and identity are per scope. Needs service protocol V7 and a restate-server with vqueues."""
    limit_key: str | None
    """The concurrency limit key inside the scope: ``"level1"`` or ``"level1/level2"``, each level
    like a scope; needs ``scope``."""


class SendOptions(CallOptions, total=False):
    """Keyword options of every send: those of a call, plus ``delay``."""

    delay: timedelta | None
    """Start the callee this much later (a durable timer on the server)."""


class DurablePromise(Protocol[T]):
    """A workflow's durable promise, resolved once by any handler of the same workflow."""

    def value(self) -> RestateFuture[T]:
        """A future of the promise's value; it completes when some handler resolves the promise."""
        ...

    def peek(self) -> RestateFuture[T | None]:
        """A future of the value if the promise is already resolved, else of None."""
        ...

    async def resolve(self, value: T) -> None:
        """Resolve the promise; a promise completed before raises ``TerminalError`` (409)."""
        ...

    async def reject(self, message: str, code: int = 500) -> None:
        """Reject the promise: its ``value()`` raises ``TerminalError(message, code)``."""
        ...


class Context(Protocol):
    """Durable operations available to every handler."""

    def request(self) -> Request:
        """The invocation as it arrived: id, headers, the attempt's headers and the raw body."""
        ...

    def invocation_id(self) -> str:
        """This invocation's id (``inv_...``)."""
        ...

    def run(
        self,
        name: str,
        fn: Callable[..., Awaitable[T]] | Callable[..., T],
        *args: Any,
        max_attempts: int | None = None,
        max_duration: timedelta | None = None,
        initial_retry_interval: timedelta | None = None,
        retry_interval_factor: float | None = None,
        max_retry_interval: timedelta | None = None,
        type_hint: type[T] | None = None,
        serde: Serde[T] | None = None,
    ) -> RestateFuture[T]:
        """Run ``fn(*args)`` once and journal its result; a replay returns the journaled result.

        Example::

            receipt = await ctx.run("charge", charge_card, order.card, max_attempts=3)
        """
        ...

    def sleep(self, delta: timedelta, name: str = "") -> RestateFuture[None]:
        """A durable timer that completes after ``delta``; await it, or race it.

        Example::

            await ctx.sleep(timedelta(minutes=5))
        """
        ...

    # Calls and sends are typed by the target: its kind (ServiceHandler, ObjectHandler,
    # WorkflowHandler), whether it takes an input, and (calls) its output, for async and plain def
    # handlers alike. The last signature of each is the one the implementations match.
    @overload
    def service_call(
        self, handler: ServiceHandler[[Any, I], Awaitable[O]], arg: I, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    @overload
    def service_call(
        self, handler: ServiceHandler[[Any], Awaitable[O]], **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    @overload
    def service_call(
        self, handler: ServiceHandler[[Any, I], O], arg: I, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    @overload
    def service_call(
        self, handler: ServiceHandler[[Any], O], **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    def service_call(
        self, handler: ServiceHandler[..., Any], arg: Any = None, **options: Unpack[CallOptions]
    ) -> CallFuture[Any]:
        """Call a service handler; await the future for its result.

        Example::

            total = await ctx.service_call(add, 2)
        """
        ...

    @overload
    def service_send(
        self, handler: ServiceHandler[[Any, I], Any], arg: I, **options: Unpack[SendOptions]
    ) -> SendHandle: ...
    @overload
    def service_send(
        self, handler: ServiceHandler[[Any], Any], **options: Unpack[SendOptions]
    ) -> SendHandle: ...
    def service_send(
        self, handler: ServiceHandler[..., Any], arg: Any = None, **options: Unpack[SendOptions]
    ) -> SendHandle:
        """Start a service handler without waiting for its result (``delay=`` starts it later).

        Example::

            ctx.service_send(notify, "hi", delay=timedelta(hours=1))
        """
        ...

    @overload
    def object_call(
        self, handler: ObjectHandler[[Any, I], Awaitable[O]], key: str, arg: I, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    @overload
    def object_call(
        self, handler: ObjectHandler[[Any], Awaitable[O]], key: str, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    @overload
    def object_call(
        self, handler: ObjectHandler[[Any, I], O], key: str, arg: I, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    @overload
    def object_call(
        self, handler: ObjectHandler[[Any], O], key: str, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    def object_call(
        self, handler: ObjectHandler[..., Any], key: str, arg: Any = None, **options: Unpack[CallOptions]
    ) -> CallFuture[Any]:
        """Call a virtual object handler, for the object ``key``; await the future for its result.

        Example::

            count = await ctx.object_call(increment, "user-1", 5)
        """
        ...

    @overload
    def object_send(
        self, handler: ObjectHandler[[Any, I], Any], key: str, arg: I, **options: Unpack[SendOptions]
    ) -> SendHandle: ...
    @overload
    def object_send(
        self, handler: ObjectHandler[[Any], Any], key: str, **options: Unpack[SendOptions]
    ) -> SendHandle: ...
    def object_send(
        self, handler: ObjectHandler[..., Any], key: str, arg: Any = None, **options: Unpack[SendOptions]
    ) -> SendHandle:
        """Start a virtual object handler for the object ``key`` without waiting for its result.

        Example::

            ctx.object_send(expire, "user-1", delay=timedelta(minutes=15))
        """
        ...

    @overload
    def workflow_call(
        self,
        handler: WorkflowHandler[[Any, I], Awaitable[O]],
        key: str,
        arg: I,
        **options: Unpack[CallOptions],
    ) -> CallFuture[O]: ...
    @overload
    def workflow_call(
        self, handler: WorkflowHandler[[Any], Awaitable[O]], key: str, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    @overload
    def workflow_call(
        self, handler: WorkflowHandler[[Any, I], O], key: str, arg: I, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    @overload
    def workflow_call(
        self, handler: WorkflowHandler[[Any], O], key: str, **options: Unpack[CallOptions]
    ) -> CallFuture[O]: ...
    def workflow_call(
        self, handler: WorkflowHandler[..., Any], key: str, arg: Any = None, **options: Unpack[CallOptions]
    ) -> CallFuture[Any]:
        """Call a workflow's handler, for the workflow run ``key``; await the future for its result.

        Example::

            status = await ctx.workflow_call(get_status, "order-7")
        """
        ...

    @overload
    def workflow_send(
        self, handler: WorkflowHandler[[Any, I], Any], key: str, arg: I, **options: Unpack[SendOptions]
    ) -> SendHandle: ...
    @overload
    def workflow_send(
        self, handler: WorkflowHandler[[Any], Any], key: str, **options: Unpack[SendOptions]
    ) -> SendHandle: ...
    def workflow_send(
        self, handler: WorkflowHandler[..., Any], key: str, arg: Any = None, **options: Unpack[SendOptions]
    ) -> SendHandle:
        """Start a workflow handler (e.g. its main handler: a new run) for ``key`` without waiting.

        Example::

            ctx.workflow_send(run, "signup-ann", "ann@example.com")
        """
        ...

    def generic_call(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> CallFuture[Any]:
        """Call a handler by its names, for code that cannot import it (``arg`` bytes go out as is).

        Example::

            result = await ctx.generic_call("Greeter", "greet", "Ann")
        """
        ...

    def generic_send(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        input_serde: Serde[Any] | None = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle:
        """Start a handler by its names without waiting for its result."""
        ...

    def awakeable(
        self, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> tuple[str, RestateFuture[T]]:
        """A new awakeable: its id (for an outside system) and a future of the value it gets.

        Example::

            awakeable_id, approved = ctx.awakeable(type_hint=bool)
            await ctx.run("ask", ask_for_approval, awakeable_id)
            if await approved: ...
        """
        ...

    def resolve_awakeable(self, awakeable_id: str, value: Any, serde: Serde[Any] | None = None) -> None:
        """Complete another invocation's awakeable with ``value``."""
        ...

    def reject_awakeable(self, awakeable_id: str, reason: str, code: int = 500) -> None:
        """Fail another invocation's awakeable: its waiter gets ``TerminalError(reason, code)``."""
        ...

    def signal(
        self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> RestateFuture[T]:
        """A future of this invocation's signal ``name`` (sent with ``resolve_signal``).

        Example::

            approved = await ctx.signal("approve", type_hint=bool)
        """
        ...

    def resolve_signal(
        self, invocation_id: str, name: str, value: Any, serde: Serde[Any] | None = None
    ) -> None:
        """Send the signal ``name`` with ``value`` to the invocation ``invocation_id``."""
        ...

    def reject_signal(self, invocation_id: str, name: str, reason: str, code: int = 500) -> None:
        """Fail the signal ``name`` of the invocation ``invocation_id`` with ``TerminalError(reason, code)``."""
        ...

    def cancel_invocation(self, invocation_id: str) -> None:
        """Cancel another invocation (it sees a ``TerminalError`` with status 409)."""
        ...

    def attach_invocation(
        self, invocation_id: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> RestateFuture[T]:
        """A future of another invocation's result.

        Example::

            result = await ctx.attach_invocation(invocation_id, type_hint=str)
        """
        ...

    def random(self) -> random.Random:
        """A random generator seeded per invocation: the same numbers on every replay."""
        ...

    def uuid(self) -> uuid.UUID:
        """A UUID (v4 layout) from the deterministic generator: the same on every replay."""
        ...

    async def time(self) -> float:
        """The current time (seconds since the epoch), journaled so that replays see the same value."""
        ...


class ObjectSharedContext(Context, Protocol):
    """A virtual object's shared handler: reads state, runs concurrently with others."""

    def key(self) -> str:
        """The key of this object or workflow."""
        ...

    async def get(
        self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> T | None:
        """The state value ``name``, or None if it is not set.

        Example::

            count = await ctx.get("count", type_hint=int) or 0
        """
        ...

    async def state_keys(self) -> list[str]:
        """The names of all state values that are set."""
        ...


class ObjectContext(ObjectSharedContext, Protocol):
    """A virtual object's exclusive handler: reads and writes state."""

    def set(self, name: str, value: Any, serde: Serde[Any] | None = None) -> None:
        """Set the state value ``name`` (encoded with ``serde``, or the codec for its type).

        Example::

            ctx.set("count", count + 1)
        """
        ...

    def clear(self, name: str) -> None:
        """Remove the state value ``name``."""
        ...

    def clear_all(self) -> None:
        """Remove every state value of this object or workflow."""
        ...


class WorkflowSharedContext(ObjectSharedContext, Protocol):
    """A workflow's shared handler: reads state, resolves promises."""

    def promise(
        self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> DurablePromise[T]:
        """The workflow's durable promise ``name``.

        Example::

            link = await ctx.promise("link", type_hint=str).value()
        """
        ...


class WorkflowContext(WorkflowSharedContext, ObjectContext, Protocol):
    """The workflow's main handler."""
