"""The blocking results of plain ``def`` handlers' contexts: futures, send handles, promises."""

from __future__ import annotations

from typing import Protocol, TypeVar

__all__ = ["SyncDurablePromise", "SyncFuture", "SyncSendHandle"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class SyncFuture(Protocol[T_co]):
    """A durable result in a plain ``def`` handler (from ``ctx.awakeable()``)."""

    def result(self) -> T_co:
        """Block until the result is there and return it (or raise its failure)."""
        ...


class SyncSendHandle(Protocol):
    """A one-way send from a plain ``def`` handler."""

    def invocation_id(self) -> str:
        """The callee's invocation id (blocks until the server assigned it)."""
        ...


class SyncDurablePromise(Protocol[T]):
    """A workflow's durable promise, in a plain ``def`` handler."""

    def value(self) -> T:
        """Wait until some handler resolves the promise and return its value."""
        ...

    def peek(self) -> T | None:
        """The value if the promise is already resolved, else None."""
        ...

    def resolve(self, value: T) -> None:
        """Resolve the promise; a promise completed before raises ``TerminalError`` (409)."""
        ...

    def reject(self, message: str, code: int = 500) -> None:
        """Reject the promise: its ``value()`` raises ``TerminalError(message, code)``."""
        ...
