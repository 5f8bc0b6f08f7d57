"""The typed call and send methods of a context, over the two methods each context implements.

``InvocationContext`` and ``restate_mocks.MockContext`` differ only in what a call or a send does
(``_typed_call`` / ``_typed_send``); the six public methods that name the target kind are shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Unpack

from ._engine.engine import check_scope
from ._errors import SdkUsageError
from ._futures import CallFuture, SendHandle

if TYPE_CHECKING:
    from ._context import CallOptions, SendOptions

__all__ = ["CallShortcuts", "scope_options"]


class CallShortcuts:
    def _typed_call(
        self, fn: Callable[..., Any], expected: str, key: str, arg: Any, options: CallOptions
    ) -> CallFuture[Any]:
        raise NotImplementedError

    def _typed_send(
        self, fn: Callable[..., Any], expected: str, key: str, arg: Any, options: SendOptions
    ) -> SendHandle:
        raise NotImplementedError

    def service_call(
        self,
        handler: Callable[..., Any],
        arg: Any = None,
        **options: Unpack[CallOptions],
    ) -> CallFuture[Any]:
        return self._typed_call(handler, "service", "", arg, options)

    def object_call(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        **options: Unpack[CallOptions],
    ) -> CallFuture[Any]:
        return self._typed_call(handler, "object", key, arg, options)

    def workflow_call(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        **options: Unpack[CallOptions],
    ) -> CallFuture[Any]:
        return self._typed_call(handler, "workflow", key, arg, options)

    def service_send(
        self,
        handler: Callable[..., Any],
        arg: Any = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle:
        return self._typed_send(handler, "service", "", arg, options)

    def object_send(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle:
        return self._typed_send(handler, "object", key, arg, options)

    def workflow_send(
        self,
        handler: Callable[..., Any],
        key: str,
        arg: Any = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle:
        return self._typed_send(handler, "workflow", key, arg, options)


def scope_options(options: CallOptions, version: int | None = None) -> tuple[str | None, str | None]:
    """``options``' scope and limit key, checked: values restate-server accepts as they are (the
    canonical form it journals, so a replay compares equal), and, given the invocation's protocol
    ``version``, one that can carry them. Raises ``SdkUsageError`` naming the fix."""
    scope, limit_key = options.get("scope"), options.get("limit_key")
    if scope is None and limit_key is None:
        return None, None
    try:
        check_scope(scope, limit_key)
    except ValueError as e:
        raise SdkUsageError(str(e)) from None
    if version is not None and version < 7:
        raise SdkUsageError(
            f"scope= and limit_key= need service protocol v7, and this invocation runs on v{version}: "
            "start restate-server 1.7 with RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7=true (scopes also "
            "need RESTATE_EXPERIMENTAL_ENABLE_VQUEUES=true)"
        )
    return scope, limit_key
