"""Errors a handler raises or sees.

    RestateError
    ├─ TerminalError(message, status_code=500, metadata=None)   ends the invocation; 409 = cancelled
    ├─ RetryableError(message, status_code=500)                 fails this attempt; the server retries
    └─ SdkUsageError                                            ctx misuse, bad definitions

Protocol errors live in ``restate_sdk._engine.errors``; user code never sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

__all__ = ["RestateError", "RetryableError", "SdkUsageError", "TerminalError"]


class RestateError(Exception):
    """Base of every error the SDK raises on purpose."""


class TerminalError(RestateError):
    """Ends the invocation with a failure that is not retried.

    Example::

        raise TerminalError("card declined", status_code=402, metadata={"card": "visa"})

    A cancelled invocation sees ``TerminalError`` with ``status_code == 409``.
    """

    def __init__(
        self,
        message: str,
        status_code: int = 500,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.metadata: dict[str, str] = dict(metadata or {})

    def __repr__(self) -> str:
        return f"TerminalError({self.message!r}, status_code={self.status_code})"


class RetryableError(RestateError):
    """Fails the current attempt; restate-server retries it (any other exception does the same).

    ``retry_after`` overrides the server's retry delay for the next attempt.
    """

    def __init__(self, message: str, status_code: int = 500, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


class SdkUsageError(RestateError):
    """The SDK was used in a way it does not support (a bad definition, a context call out of place)."""
