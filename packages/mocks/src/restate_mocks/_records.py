"""What a MockContext records: one record per operation, in lists tests inspect afterwards.

Records of operations whose future can still be pending (a sleep the test marked ``pending()``, an
awakeable nobody resolved) also let the test complete that future while the handler waits::

    task = asyncio.create_task(approve(ctx, "doc-1"))
    await asyncio.sleep(0)                      # the handler now waits on its awakeable
    ctx.awakeables[0].resolve("yes")
    assert await task == "approved"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from restate_sdk import TerminalError

from ._errors import MockError

__all__ = [
    "AwakeableRecord",
    "CallRecord",
    "CompletionRecord",
    "RunRecord",
    "SignalRecord",
    "SleepRecord",
]

_PENDING: Any = object()


def _identity(value: Any) -> Any:
    return value


class Slot:
    """The result of one operation: pending, a value, or an exception to raise (internal)."""

    __slots__ = ("convert", "on_take", "task", "value", "wake", "what")

    def __init__(
        self, what: str, wake: Callable[[], None], convert: Callable[[Any], Any] = _identity
    ) -> None:
        self.what = what
        self.wake = wake
        self.convert = convert
        self.value: Any = _PENDING
        self.on_take: Callable[[], None] | None = None
        self.task: Any = None

    @property
    def done(self) -> bool:
        return self.value is not _PENDING

    def settle(self, value: Any) -> None:
        """Complete with a value as is (or an exception to raise when awaited)."""
        if self.done:
            raise MockError(f"{self.what} is already completed")
        self.value = value
        self.wake()

    def resolve(self, value: Any) -> None:
        """Complete with a value given by the test, through the operation's serde."""
        self.settle(self.convert(value))


class _Completable:
    """A recorded operation whose future the test may complete by hand."""

    _slot: Slot | None

    @property
    def done(self) -> bool:
        """True once the operation's future is complete."""
        return self._slot is None or self._slot.done

    def resolve(self, value: Any = None) -> None:
        """Complete the operation's future with ``value`` (a sleep fires; ``value`` is ignored)."""
        self._pending_slot().resolve(value)

    def reject(self, error: BaseException | str, code: int = 500) -> None:
        """Complete the operation's future with an error (a message becomes a ``TerminalError``)."""
        if isinstance(error, str):
            error = TerminalError(error, status_code=code)
        self._pending_slot().settle(error)

    def _pending_slot(self) -> Slot:
        if self._slot is None:
            raise MockError(f"{self} has no future to complete")
        return self._slot


@dataclass
class RunRecord(_Completable):
    """A ``ctx.run(name, fn, *args)``; ``attempts`` counts how often ``fn`` itself ran (0 if stubbed)."""

    name: str
    args: tuple[Any, ...] = ()
    attempts: int = 0
    _slot: Slot | None = field(default=None, repr=False, compare=False)


@dataclass
class CallRecord(_Completable):
    """A call (in ``ctx.calls``) or a one-way send (in ``ctx.sends``, with its ``delay``).

    ``arg`` is the value the handler passed; ``key`` is ``""`` for services, like on the wire.
    """

    service: str
    handler: str
    arg: Any = None
    key: str = ""
    idempotency_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict[str, str])
    delay: timedelta | None = None
    invocation_id: str = ""
    scope: str | None = None
    limit_key: str | None = None
    _slot: Slot | None = field(default=None, repr=False, compare=False)

    @property
    def target(self) -> str:
        """``"Service/handler"``."""
        return f"{self.service}/{self.handler}"


@dataclass
class SleepRecord(_Completable):
    """A ``ctx.sleep(delta, name)``."""

    delta: timedelta
    name: str = ""
    _slot: Slot | None = field(default=None, repr=False, compare=False)


@dataclass
class AwakeableRecord(_Completable):
    """A ``ctx.awakeable()``; ``resolve(value)``/``reject(reason)`` complete it as another service would."""

    id: str
    _slot: Slot | None = field(default=None, repr=False, compare=False)


@dataclass
class SignalRecord(_Completable):
    """A ``ctx.signal(name)``; ``resolve(value)``/``reject(reason)`` deliver the signal."""

    name: str
    _slot: Slot | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CompletionRecord:
    """The handler resolved or rejected an awakeable (``id``) or a signal (``id`` of the target
    invocation, and the signal's ``name``); ``failure`` is set for a rejection."""

    id: str
    name: str | None = None
    value: Any = None
    failure: TerminalError | None = None
