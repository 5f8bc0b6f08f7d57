"""The typed call and send methods of a context, over the two methods each context implements.

``InvocationContext`` and ``restate_mocks.MockContext`` differ only in what a call or a send does
(``_typed_call`` / ``_typed_send``); the six public methods that name the target kind are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Unpack

from ._futures import CallFuture, SendHandle

if TYPE_CHECKING:
    from ._context import CallOptions, SendOptions

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
        **options: Unpack[CallOptions],
    ) -> CallFuture[Any]:
        return self._typed_call(
            handler, "service", "", arg, options.get("idempotency_key"), options.get("headers")
        )

    def object_call(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        **options: Unpack[CallOptions],
    ) -> CallFuture[Any]:
        return self._typed_call(
            handler, "object", key, arg, options.get("idempotency_key"), options.get("headers")
        )

    def workflow_call(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        **options: Unpack[CallOptions],
    ) -> CallFuture[Any]:
        return self._typed_call(
            handler, "workflow", key, arg, options.get("idempotency_key"), options.get("headers")
        )

    def service_send(
        self,
        handler: Callable[..., Any],
        arg: Any = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle:
        o = options
        return self._typed_send(
            handler, "service", "", arg, o.get("delay"), o.get("idempotency_key"), o.get("headers")
        )

    def object_send(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle:
        o = options
        return self._typed_send(
            handler, "object", key, arg, o.get("delay"), o.get("idempotency_key"), o.get("headers")
        )

    def workflow_send(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle:
        o = options
        return self._typed_send(
            handler, "workflow", key, arg, o.get("delay"), o.get("idempotency_key"), o.get("headers")
        )
