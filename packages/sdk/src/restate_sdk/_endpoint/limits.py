"""Per-attempt limits: how long the journal may take to arrive, and how an attempt over a limit is refused.

The size limit is counted by the engine (``InvocationEngine(max_journal_size=)``); the time limit
is ``deadlines.JournalDeadlines``. Either raises ``LimitExceeded`` before the handler
starts, and ``refuse_attempt`` answers it with an ErrorMessage, which restate-server records as
the attempt's failure (a bare HTTP status would only show as "unexpected http status code").
"""

from __future__ import annotations

import logging
import time

from .._engine.engine import InvocationEngine
from .._engine.errors import LimitExceeded
from .deadlines import Receive
from .invoke import SERVER_HEADER, Send, drain_request

__all__ = ["DEFAULT_JOURNAL_READ_TIMEOUT", "RateLimitedLog", "refuse_attempt"]

log = logging.getLogger("restate_sdk")

DEFAULT_JOURNAL_READ_TIMEOUT = 60.0
"""Seconds from a request's arrival until its whole journal must be in. restate-server sends the
journal in one go right after the headers; a request still half-sent after a minute is stalled or
hostile, and each one held open costs memory and a stream."""


class RateLimitedLog:
    """One warning line per ``every`` seconds at most, counting the events it did not print."""

    __slots__ = ("_every", "_last", "_skipped")

    def __init__(self, every: float = 10.0) -> None:
        self._every = every
        self._last = float("-inf")
        self._skipped = 0

    def warning(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < self._every:
            self._skipped += 1
            return
        if self._skipped:
            message += f" ({self._skipped} more since the last report)"
        log.warning(message, *args)
        self._last = now
        self._skipped = 0


_refusals = RateLimitedLog()


async def refuse_attempt(
    engine: InvocationEngine, error: LimitExceeded, receive: Receive, send: Send, content_type: bytes
) -> None:
    """Answer an attempt that ran into a limit: 200 with an ErrorMessage, then end the response
    once the rest of the request body is read (hypercorn drops the whole HTTP/2 connection when
    DATA arrives for a stream whose response has ended) or after a few seconds."""
    _refusals.warning(
        "invocation %s refused: %s", engine.invocation_id or "(no StartMessage yet)", error.message
    )
    engine.fail(error.code, error.message)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", content_type), (b"x-restate-server", SERVER_HEADER)],
        }
    )
    body = engine.data_to_send()
    if engine.input_closed:
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    await send({"type": "http.response.body", "body": body, "more_body": True})
    await drain_request(receive)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
