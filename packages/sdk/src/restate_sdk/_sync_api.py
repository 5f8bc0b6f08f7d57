"""The Context types plain ``def`` handlers annotate with: the same methods, returning values.

GENERATED from ``_context.py`` by ``scripts/unasync.py``: do not edit; edit that file and
run ``uv run python scripts/unasync.py``.

A method that returns a future in ``_context`` returns its value here, blocking the handler's
worker thread (never the event loop). ``awakeable`` returns ``(id, SyncFuture)``, sends return a
``SyncSendHandle``, and ``promise`` a ``SyncDurablePromise``.

    SyncContext                    services
    SyncObjectSharedContext        shared handlers of virtual objects
    SyncObjectContext              exclusive handlers of virtual objects
    SyncWorkflowSharedContext      shared handlers of workflows
    SyncWorkflowContext            the workflow's main handler
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar, Unpack, overload

from ._codecs import Serde
from ._context import CallOptions, Request, SendOptions
from ._definitions import ObjectHandler, ServiceHandler, WorkflowHandler
from ._sync_types import SyncDurablePromise, SyncFuture, SyncSendHandle

__all__ = [
    "SyncContext",
    "SyncObjectContext",
    "SyncObjectSharedContext",
    "SyncWorkflowContext",
    "SyncWorkflowSharedContext",
]

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741


class SyncContext(Protocol):
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
    ) -> T:
        """Run ``fn(*args)`` once and journal its result; a replay returns the journaled result.

        Example::

            receipt = ctx.run("charge", charge_card, order.card, max_attempts=3)
        """
        ...

    def sleep(self, delta: timedelta, name: str = "") -> None:
        """Sleep durably for ``delta`` (the invocation may suspend meanwhile).

        Example::

            ctx.sleep(timedelta(minutes=5))
        """
        ...

    # Calls and sends are typed by the target: its kind (ServiceHandler, ObjectHandler,
    # WorkflowHandler), whether it takes an input, and (calls) its output, for async and plain def
    # handlers alike. The last signature of each is the one the implementations match.
    @overload
    def service_call(
        self, handler: ServiceHandler[[Any, I], Awaitable[O]], arg: I, **options: Unpack[CallOptions]
    ) -> O: ...
    @overload
    def service_call(
        self, handler: ServiceHandler[[Any], Awaitable[O]], **options: Unpack[CallOptions]
    ) -> O: ...
    @overload
    def service_call(
        self, handler: ServiceHandler[[Any, I], O], arg: I, **options: Unpack[CallOptions]
    ) -> O: ...
    @overload
    def service_call(self, handler: ServiceHandler[[Any], O], **options: Unpack[CallOptions]) -> O: ...
    def service_call(
        self, handler: ServiceHandler[..., Any], arg: Any = None, **options: Unpack[CallOptions]
    ) -> Any:
        """Call a service handler and wait for its result.

        Example::

            total = ctx.service_call(add, 2)
        """
        ...

    @overload
    def service_send(
        self, handler: ServiceHandler[[Any, I], Any], arg: I, **options: Unpack[SendOptions]
    ) -> SyncSendHandle: ...
    @overload
    def service_send(
        self, handler: ServiceHandler[[Any], Any], **options: Unpack[SendOptions]
    ) -> SyncSendHandle: ...
    def service_send(
        self, handler: ServiceHandler[..., Any], arg: Any = None, **options: Unpack[SendOptions]
    ) -> SyncSendHandle:
        """Start a service handler without waiting for its result (``delay=`` starts it later).

        Example::

            ctx.service_send(notify, "hi", delay=timedelta(hours=1))
        """
        ...

    @overload
    def object_call(
        self, handler: ObjectHandler[[Any, I], Awaitable[O]], key: str, arg: I, **options: Unpack[CallOptions]
    ) -> O: ...
    @overload
    def object_call(
        self, handler: ObjectHandler[[Any], Awaitable[O]], key: str, **options: Unpack[CallOptions]
    ) -> O: ...
    @overload
    def object_call(
        self, handler: ObjectHandler[[Any, I], O], key: str, arg: I, **options: Unpack[CallOptions]
    ) -> O: ...
    @overload
    def object_call(
        self, handler: ObjectHandler[[Any], O], key: str, **options: Unpack[CallOptions]
    ) -> O: ...
    def object_call(
        self, handler: ObjectHandler[..., Any], key: str, arg: Any = None, **options: Unpack[CallOptions]
    ) -> Any:
        """Call a virtual object handler, for the object ``key`` and wait for its result.

        Example::

            count = ctx.object_call(increment, "user-1", 5)
        """
        ...

    @overload
    def object_send(
        self, handler: ObjectHandler[[Any, I], Any], key: str, arg: I, **options: Unpack[SendOptions]
    ) -> SyncSendHandle: ...
    @overload
    def object_send(
        self, handler: ObjectHandler[[Any], Any], key: str, **options: Unpack[SendOptions]
    ) -> SyncSendHandle: ...
    def object_send(
        self, handler: ObjectHandler[..., Any], key: str, arg: Any = None, **options: Unpack[SendOptions]
    ) -> SyncSendHandle:
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
    ) -> O: ...
    @overload
    def workflow_call(
        self, handler: WorkflowHandler[[Any], Awaitable[O]], key: str, **options: Unpack[CallOptions]
    ) -> O: ...
    @overload
    def workflow_call(
        self, handler: WorkflowHandler[[Any, I], O], key: str, arg: I, **options: Unpack[CallOptions]
    ) -> O: ...
    @overload
    def workflow_call(
        self, handler: WorkflowHandler[[Any], O], key: str, **options: Unpack[CallOptions]
    ) -> O: ...
    def workflow_call(
        self, handler: WorkflowHandler[..., Any], key: str, arg: Any = None, **options: Unpack[CallOptions]
    ) -> Any:
        """Call a workflow's handler, for the workflow run ``key`` and wait for its result.

        Example::

            status = ctx.workflow_call(get_status, "order-7")
        """
        ...

    @overload
    def workflow_send(
        self, handler: WorkflowHandler[[Any, I], Any], key: str, arg: I, **options: Unpack[SendOptions]
    ) -> SyncSendHandle: ...
    @overload
    def workflow_send(
        self, handler: WorkflowHandler[[Any], Any], key: str, **options: Unpack[SendOptions]
    ) -> SyncSendHandle: ...
    def workflow_send(
        self, handler: WorkflowHandler[..., Any], key: str, arg: Any = None, **options: Unpack[SendOptions]
    ) -> SyncSendHandle:
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
    ) -> Any:
        """Call a handler by its names, for code that cannot import it (``arg`` bytes go out as is).

        Example::

            result = ctx.generic_call("Greeter", "greet", "Ann")
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
    ) -> SyncSendHandle:
        """Start a handler by its names without waiting for its result."""
        ...

    def awakeable(
        self, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> tuple[str, SyncFuture[T]]:
        """A new awakeable: its id (for an outside system) and a future of the value it gets.

        Example::

            awakeable_id, approved = ctx.awakeable(type_hint=bool)
            ctx.run("ask", ask_for_approval, awakeable_id)
            if approved.result(): ...
        """
        ...

    def resolve_awakeable(self, awakeable_id: str, value: Any, serde: Serde[Any] | None = None) -> None:
        """Complete another invocation's awakeable with ``value``."""
        ...

    def reject_awakeable(self, awakeable_id: str, reason: str, code: int = 500) -> None:
        """Fail another invocation's awakeable: its waiter gets ``TerminalError(reason, code)``."""
        ...

    def signal(self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None) -> T:
        """Wait for this invocation's signal ``name`` (sent with ``resolve_signal``).

        Example::

            approved = ctx.signal("approve", type_hint=bool)
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
    ) -> T:
        """Wait for another invocation's result.

        Example::

            result = ctx.attach_invocation(invocation_id, type_hint=str)
        """
        ...

    def random(self) -> random.Random:
        """A random generator seeded per invocation: the same numbers on every replay."""
        ...

    def uuid(self) -> uuid.UUID:
        """A UUID (v4 layout) from the deterministic generator: the same on every replay."""
        ...

    def time(self) -> float:
        """The current time (seconds since the epoch), journaled so that replays see the same value."""
        ...


class SyncObjectSharedContext(SyncContext, Protocol):
    """A virtual object's shared handler: reads state, runs concurrently with others."""

    def key(self) -> str:
        """The key of this object or workflow."""
        ...

    def get(self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None) -> T | None:
        """The state value ``name``, or None if it is not set.

        Example::

            count = ctx.get("count", type_hint=int) or 0
        """
        ...

    def state_keys(self) -> list[str]:
        """The names of all state values that are set."""
        ...


class SyncObjectContext(SyncObjectSharedContext, Protocol):
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


class SyncWorkflowSharedContext(SyncObjectSharedContext, Protocol):
    """A workflow's shared handler: reads state, resolves promises."""

    def promise(
        self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> SyncDurablePromise[T]:
        """The workflow's durable promise ``name``.

        Example::

            link = ctx.promise("link", type_hint=str).value()
        """
        ...


class SyncWorkflowContext(SyncWorkflowSharedContext, SyncObjectContext, Protocol):
    """The workflow's main handler."""
