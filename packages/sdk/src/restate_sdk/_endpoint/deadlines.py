"""Deadlines checked by one periodic check per event loop, instead of a timer each.

``LoopDeadlines`` is the mechanism; two things use it. The journal read deadline
(``JournalDeadlines``): how long an attempt may take to send its replayed journal. restate-server
sends the journal right after the headers, so almost every attempt is done reading before any
check runs, and a timer of its own (``asyncio.timeout``) was about a twentieth of a noop
invocation's CPU. An attempt over its deadline is cancelled in its read and gets
``JournalReadTimeout``; the check runs every eighth of the timeout (at most every second), so the
refusal comes within that much after the deadline. And the hold on a run's RunCommand
(``attempt.py``), which a timer per step made ~3 µs of a ~40 µs step dearer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Hashable, MutableMapping
from typing import Any, Generic, TypeVar

from .._engine.engine import InvocationEngine
from .._engine.errors import JournalReadTimeout

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
"""ASGI ``receive`` (``invoke.py`` and ``app.py`` use this one)."""

__all__ = ["JournalDeadlines", "LoopDeadlines", "Receive"]

K = TypeVar("K", bound=Hashable)


class LoopDeadlines(Generic[K]):
    """Deadlines of many keys, each key's on one event loop, checked every ``period`` seconds.

    ``on_due(key)`` runs on that loop once the key's deadline has passed, once per ``add``, at most
    ``period`` late; the key stays until ``discard``. A loop's check runs only while it has keys,
    and a loop that closed with keys left is forgotten at the next ``add``.
    """

    __slots__ = ("_on_due", "_period", "loops")

    def __init__(self, period: float, on_due: Callable[[K], object]) -> None:
        self._period = period
        self._on_due = on_due
        self.loops: dict[asyncio.AbstractEventLoop, dict[K, float]] = {}
        """Per loop with a check pending: its keys and their deadlines (``loop.time()``)."""

    def add(self, loop: asyncio.AbstractEventLoop, key: K, deadline: float) -> None:
        pending = self.loops.get(loop)
        if pending is None:
            for closed in [other for other in self.loops if other.is_closed()]:
                del self.loops[closed]  # its check never ran: the loop ended first
            pending = self.loops[loop] = {}
            loop.call_later(self._period, self._check, loop)
        pending[key] = deadline

    def discard(self, loop: asyncio.AbstractEventLoop, key: K) -> None:
        pending = self.loops.get(loop)
        if pending is not None:
            pending.pop(key, None)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = self.loops[loop]
        now = loop.time()
        for key in [k for k, deadline in pending.items() if deadline <= now]:
            pending[key] = math.inf  # due once
            self._on_due(key)
        if pending:
            loop.call_later(self._period, self._check, loop)
        else:
            del self.loops[loop]  # nothing left: the next add starts the check again


class JournalDeadlines:
    """Runs an attempt's journal read under the endpoint's ``journal_read_timeout``."""

    __slots__ = ("_checks", "_expired", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._checks = LoopDeadlines[asyncio.Task[Any]](min(1.0, timeout / 8), self._expire)
        self._expired: set[asyncio.Task[Any]] = set()  # reads the check cancelled

    async def read(self, engine: InvocationEngine, receive: Receive) -> bool:
        """Read until StartMessage and the replayed journal are in; False if the client went away.

        Raises ``JournalReadTimeout`` once the deadline has passed, and the engine's ``ProtocolError``
        for a broken journal.
        """
        task = asyncio.current_task()
        assert task is not None
        loop = task.get_loop()
        self._checks.add(loop, task, loop.time() + self.timeout)
        try:
            while not engine.ready:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return False
                last = not msg.get("more_body", False)
                if last:
                    engine.close_input()  # the body has ended, even if its last bytes turn out broken
                engine.receive_data(msg.get("body", b""))
                if last:
                    engine.receive_eof()
            return True
        except asyncio.CancelledError:
            if task not in self._expired:
                raise
            task.uncancel()
            raise JournalReadTimeout(
                f"the journal did not arrive within {self.timeout:g}s (journal_read_timeout= on restate.app)"
            ) from None
        finally:
            self._checks.discard(loop, task)
            self._expired.discard(task)

    def _expire(self, task: asyncio.Task[Any]) -> None:
        self._expired.add(task)
        task.cancel()
