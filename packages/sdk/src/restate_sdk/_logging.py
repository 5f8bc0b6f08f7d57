"""Logging: replay-aware loggers, the invocation id on every record, and the failed-attempt line.

Example::

    log = restate.getLogger(__name__)

    @greeter.handler()
    async def greet(ctx: restate.Context, name: str) -> str:
        log.info("greeting %s", name)      # not repeated when this invocation is replayed
        ...

    logging.basicConfig(format="%(restate_invocation_id)s %(levelname)s %(message)s")

Every log record, from any logger, carries ``restate_invocation_id``: the id of the invocation
whose code logged it (its handler, its ``ctx.run`` functions, their worker threads), or ``""``
outside any invocation. The SDK chains a log record factory in front of the current one when
it is imported, so a format that names the field never fails.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any, Protocol

from ._engine.errors import LimitExceeded, ProtocolError
from ._errors import RestateError
from ._failures import Pause, Retry, Terminal, Verdict

__all__ = ["ReplayFilter", "current_invocation", "getLogger", "install_record_factory", "log_attempt_failure"]

FIELD = "restate_invocation_id"


class _Invocation(Protocol):
    def is_replaying(self) -> bool: ...

    def invocation_id(self) -> str: ...


current_invocation: ContextVar[_Invocation | None] = ContextVar("restate_invocation", default=None)


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


def _invocation_id() -> str:
    ctx = current_invocation.get()
    if ctx is None:
        return ""
    try:
        return ctx.invocation_id()
    except Exception:  # a record must never fail for want of an id
        return ""


def install_record_factory() -> None:
    """Put ``restate_invocation_id`` on every log record (done on import; calling again is a no-op).

    The factory wraps whichever one is installed now, so another library's factory keeps working.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_restate", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        setattr(record, FIELD, _invocation_id())
        return record

    factory._restate = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


install_record_factory()

log = logging.getLogger("restate_sdk")


def log_attempt_failure(
    verdict: Verdict,
    *,
    invocation_id: str,
    handler: str,
    attempt: int,
    exc: BaseException | None = None,
    logger: logging.Logger = log,
) -> None:
    """Log a failed attempt at WARNING: which attempt, why, and what happens next.

    ``verdict`` is ``_failures.classify``'s answer for ``exc``; ``attempt`` counts from 1 since
    the last journaled step (``StartMessage.retry_count_since_last_stored_entry + 1``). An
    exception that is not a ``RestateError`` (a bug, a transient outage) is logged with its
    traceback; the Restate errors raised on purpose are not, nor the SDK's own coded protocol and
    limit errors, whose message says it all. Example line::

        invocation inv_1a2b (Greeter.greet) attempt 3 failed: ConnectionError: db down; Restate retries it after 2s
    """
    if not logger.isEnabledFor(logging.WARNING):
        return
    match verdict:
        case Terminal(error):
            reason = f"{type(error).__name__}: {error.message}"
        case Retry() | Pause():
            reason = verdict.message.rstrip(".")  # a message may end in a sentence; "; next step" follows
    exc_info = None if exc is None or isinstance(exc, (RestateError, ProtocolError, LimitExceeded)) else exc
    fn, lno, func, _ = logger.findCaller(stacklevel=2)
    record = logger.makeRecord(
        logger.name,
        logging.WARNING,
        fn,
        lno,
        "invocation %s (%s) attempt %d failed: %s; %s",
        (invocation_id, handler, attempt, reason, verdict.next_step()),
        None if exc_info is None else (type(exc_info), exc_info, exc_info.__traceback__),
        func,
    )
    setattr(record, FIELD, invocation_id)  # logged by the runtime, maybe outside the handler's context
    logger.handle(record)
