"""The typed call and send methods of a context, over the two methods each context implements.

``InvocationContext`` and ``restate_mocks.MockContext`` differ only in what a call or a send does
(``_typed_call`` / ``_typed_send``); the six public methods that name the target kind are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from ._futures import CallFuture, SendHandle

__all__ = ["CallShortcuts"]


class CallShortcuts:
    def _typed_call(
        self,
        fn: Callable[..., Any],
        expected: str,
        key: str,
        arg: Any,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> CallFuture[Any]:
        raise NotImplementedError

    def _typed_send(
        self,
        fn: Callable[..., Any],
        expected: str,
        key: str,
        arg: Any,
        delay: timedelta | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> SendHandle:
        raise NotImplementedError

    def service_call(
        self,
        handler: Callable[..., Any],
        arg: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> CallFuture[Any]:
        return self._typed_call(handler, "service", "", arg, idempotency_key, headers)

    def object_call(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> CallFuture[Any]:
        return self._typed_call(handler, "object", key, arg, idempotency_key, headers)

    def workflow_call(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> CallFuture[Any]:
        return self._typed_call(handler, "workflow", key, arg, idempotency_key, headers)

    def service_send(
        self,
        handler: Callable[..., Any],
        arg: Any = None,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle:
        return self._typed_send(handler, "service", "", arg, delay, idempotency_key, headers)

    def object_send(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle:
        return self._typed_send(handler, "object", key, arg, delay, idempotency_key, headers)

    def workflow_send(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle:
        return self._typed_send(handler, "workflow", key, arg, delay, idempotency_key, headers)
