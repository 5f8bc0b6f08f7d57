"""The Context types handlers annotate with.

They are Protocols: the SDK's invocation context implements all of them, and so does
``restate_mocks.MockContext``. Which one a handler receives depends on its kind:

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
from typing import Any, Protocol, TypeVar

from ._codecs import Serde
from ._futures import CallFuture, RestateFuture, SendHandle

__all__ = [
    "Context",
    "DurablePromise",
    "ObjectContext",
    "ObjectSharedContext",
    "Request",
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


class DurablePromise(Protocol[T]):
    """A workflow's durable promise, resolved once by any handler of the same workflow."""

    def value(self) -> RestateFuture[T]: ...
    def peek(self) -> RestateFuture[T | None]: ...
    async def resolve(self, value: T) -> None: ...
    async def reject(self, message: str, code: int = 500) -> None: ...


class Context(Protocol):
    """Durable operations available to every handler."""

    def request(self) -> Request: ...
    def invocation_id(self) -> str: ...

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
    ) -> RestateFuture[T]: ...

    def sleep(self, delta: timedelta, name: str = "") -> RestateFuture[None]: ...

    def service_call(
        self,
        handler: Callable[[Any, I], Awaitable[O]] | Callable[[Any], Awaitable[O]],
        arg: I | None = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> CallFuture[O]: ...

    def object_call(
        self,
        handler: Callable[[Any, I], Awaitable[O]] | Callable[[Any], Awaitable[O]],
        key: str,
        arg: I | None = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> CallFuture[O]: ...

    def workflow_call(
        self,
        handler: Callable[[Any, I], Awaitable[O]] | Callable[[Any], Awaitable[O]],
        key: str,
        arg: I | None = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> CallFuture[O]: ...

    def generic_call(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> CallFuture[Any]: ...

    def service_send(
        self,
        handler: Callable[..., Awaitable[Any]],
        arg: Any = None,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle: ...

    def object_send(
        self,
        handler: Callable[..., Awaitable[Any]],
        key: str,
        arg: Any = None,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle: ...

    def workflow_send(
        self,
        handler: Callable[..., Awaitable[Any]],
        key: str,
        arg: Any = None,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle: ...

    def generic_send(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        input_serde: Serde[Any] | None = None,
    ) -> SendHandle: ...

    def awakeable(
        self, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> tuple[str, RestateFuture[T]]: ...
    def resolve_awakeable(self, awakeable_id: str, value: Any, serde: Serde[Any] | None = None) -> None: ...
    def reject_awakeable(self, awakeable_id: str, reason: str, code: int = 500) -> None: ...

    def signal(
        self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> RestateFuture[T]: ...
    def resolve_signal(
        self, invocation_id: str, name: str, value: Any, serde: Serde[Any] | None = None
    ) -> None: ...
    def reject_signal(self, invocation_id: str, name: str, reason: str, code: int = 500) -> None: ...

    def cancel_invocation(self, invocation_id: str) -> None: ...
    def attach_invocation(
        self, invocation_id: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> RestateFuture[T]: ...

    def random(self) -> random.Random: ...
    def uuid(self) -> uuid.UUID: ...
    async def time(self) -> float: ...


class ObjectSharedContext(Context, Protocol):
    """A virtual object's shared handler: reads state, runs concurrently with others."""

    def key(self) -> str: ...
    async def get(
        self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> T | None: ...
    async def state_keys(self) -> list[str]: ...


class ObjectContext(ObjectSharedContext, Protocol):
    """A virtual object's exclusive handler: reads and writes state."""

    def set(self, name: str, value: Any, serde: Serde[Any] | None = None) -> None: ...
    def clear(self, name: str) -> None: ...
    def clear_all(self) -> None: ...


class WorkflowSharedContext(ObjectSharedContext, Protocol):
    """A workflow's shared handler: reads state, resolves promises."""

    def promise(
        self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> DurablePromise[T]: ...


class WorkflowContext(WorkflowSharedContext, ObjectContext, Protocol):
    """The workflow's main handler."""
