"""Errors a handler raises or sees.

    RestateError
    ├─ TerminalError(message, status_code=500, metadata=None)   ends the invocation; 409 = cancelled
    │  └─ TimeoutError(message)                                 status 408: ``with_timeout``'s timer won
    ├─ RetryableError(message, status_code=500, retry_after=None)  fails this attempt; the server retries
    ├─ PauseError(message)                                      pauses the invocation (protocol V7)
    └─ SdkUsageError                                            ctx misuse, bad definitions

What each of them (and any other exception) does to an attempt is decided in ``_failures.py``.

Protocol errors live in ``restate_sdk._engine.errors``; user code never sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import cast

__all__ = [
    "PauseError",
    "RestateError",
    "RetryableError",
    "SdkUsageError",
    "TerminalError",
    "TimeoutError",
]


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


class TimeoutError(TerminalError):  # shadows the builtin here on purpose: restate.TimeoutError (api.md)
    """A durable timer won the race: ``restate.with_timeout`` raises it (status 408).

    It is a ``TerminalError``: left uncaught, it ends the invocation with status 408. It is not
    the builtin ``TimeoutError``; catch it as ``restate.TimeoutError``.
    """

    def __init__(self, message: str = "timed out", metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message, status_code=408, metadata=metadata)

    def __repr__(self) -> str:
        return f"restate.TimeoutError({self.message!r})"


class RetryableError(RestateError):
    """Fails the current attempt; restate-server retries it (any other exception does the same).

    ``retry_after`` overrides the server's retry delay for the next attempt.
    """

    def __init__(self, message: str, status_code: int = 500, retry_after: timedelta | None = None) -> None:
        given = cast(object, retry_after)  # checked at run time: a number of seconds is a common slip
        if given is not None and not isinstance(given, timedelta):
            raise TypeError(
                f"retry_after must be a datetime.timedelta, got {type(given).__name__}: "
                f"pass timedelta(seconds={given!r})"
            )
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


class PauseError(RestateError):
    """Pauses the invocation: no more attempts until an operator resumes it (protocol V7).

    Example::

        if not config_is_valid(cfg):
            raise PauseError("the pricing table is missing; fix it, then resume")

    ``restate invocations resume <id>`` (or the admin API) resumes it; it then replays its
    journal. On protocol V5/V6, which cannot pause, the attempt fails and is retried instead.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SdkUsageError(RestateError):
    """The SDK was used in a way it does not support (a bad definition, a context call out of place)."""
