"""Replay-aware logging: a handler's log lines are written once, not again on every replay.

Example::

    log = restate.getLogger(__name__)

    @greeter.handler()
    async def greet(ctx: restate.Context, name: str) -> str:
        log.info("greeting %s", name)      # not repeated when this invocation is replayed
        ...
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Protocol

__all__ = ["ReplayFilter", "current_invocation", "getLogger"]


class _Replaying(Protocol):
    def is_replaying(self) -> bool: ...


current_invocation: ContextVar[_Replaying | None] = ContextVar("restate_invocation", default=None)


class ReplayFilter(logging.Filter):
    """Drops records emitted while the current invocation replays its journal."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = current_invocation.get()
        return ctx is None or not ctx.is_replaying()


_FILTER = ReplayFilter()


def getLogger(name: str | None = None) -> logging.Logger:
    """A standard logger that stays quiet while an invocation replays."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
