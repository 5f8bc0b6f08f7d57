"""The journal read deadline: how long an attempt may take to send its replayed journal.

One periodic check per event loop watches every attempt still reading its journal, instead of a
timer per attempt: restate-server sends the journal right after the headers, so almost every
attempt is done reading before any check runs, and a timer of its own (``asyncio.timeout``) was
about a twentieth of a noop invocation's CPU. An attempt over its deadline is cancelled in its
read and gets ``JournalReadTimeout``; the check runs every eighth of the timeout (at most every
second), so the refusal comes within that much after the deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._engine.engine import InvocationEngine
from .._engine.errors import JournalReadTimeout

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
"""ASGI ``receive`` (``invoke.py`` and ``app.py`` use this one)."""

__all__ = ["JournalDeadlines", "Receive"]

_EXPIRED = -1.0  # in place of a reading attempt's deadline once the check cancelled it


class _LoopWatch:
    """The attempts of one event loop that are reading their journal, and the loop's next check."""

    __slots__ = ("loop", "reading", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.reading: dict[asyncio.Task[Any], float] = {}
        self.timer: asyncio.TimerHandle | None = None


class JournalDeadlines:
    """Runs an attempt's journal read under the endpoint's ``journal_read_timeout``."""

    __slots__ = ("_period", "_watches", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._period = min(1.0, timeout / 8)
        self._watches: dict[asyncio.AbstractEventLoop, _LoopWatch] = {}

    async def read(self, engine: InvocationEngine, receive: Receive) -> bool:
        """Read until StartMessage and the replayed journal are in; False if the client went away.

        Raises ``JournalReadTimeout`` once the deadline has passed, and the engine's ``ProtocolError``
        for a broken journal.
        """
        task = asyncio.current_task()
        assert task is not None
        loop = task.get_loop()
        watch = self._watches.get(loop)
        if watch is None:
            for closed in [other for other in self._watches if other.is_closed()]:
                del self._watches[closed]  # its check never ran: the loop ended first
            watch = self._watches[loop] = _LoopWatch(loop)
        watch.reading[task] = loop.time() + self.timeout
        if watch.timer is None:
            watch.timer = loop.call_later(self._period, self._check, watch)
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
            if watch.reading.get(task) != _EXPIRED:
                raise
            task.uncancel()
            raise JournalReadTimeout(
                f"the journal did not arrive within {self.timeout:g}s (journal_read_timeout= on restate.app)"
            ) from None
        finally:
            del watch.reading[task]

    def _check(self, watch: _LoopWatch) -> None:
        now = watch.loop.time()
        late = [task for task, deadline in watch.reading.items() if _EXPIRED < deadline <= now]
        for task in late:
            watch.reading[task] = _EXPIRED
            task.cancel()
        if watch.reading:
            watch.timer = watch.loop.call_later(self._period, self._check, watch)
        else:
            watch.timer = None
            del self._watches[watch.loop]  # nothing left to watch: the next read starts again
