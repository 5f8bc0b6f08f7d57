"""One invocation attempt over ASGI: the request body feeds an ``Attempt``, whose output is the response.

Only HTTP lives here: reading the replayed journal before the response starts, rejecting a broken
request, the ASGI messages, and how a server wants the response ended. The attempt itself (engine,
handler, waits, runs) is ``attempt.Attempt``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from .._definitions import HandlerInfo
from .._engine.engine import InvocationEngine
from .._engine.errors import LimitExceeded, ProtocolError
from .._middleware import Middleware
from .attempt import Attempt, JournalMismatchOption, Listen, Read, Write
from .deadlines import JournalDeadlines, Receive
from .rsgi import RsgiReceive, RsgiSend

__all__ = ["drain_request", "run_attempt"]

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def run_attempt(
    info: HandlerInfo,
    engine: InvocationEngine,
    receive: Receive,
    send: Send,
    content_type: bytes,
    attempt_headers: dict[str, str],
    deadlines: JournalDeadlines,
    middleware: Sequence[Middleware] = (),
    active: set[Attempt] | None = None,
    on_journal_mismatch: JournalMismatchOption = "retry",
) -> None:
    """Serve one attempt; ``LimitExceeded`` while its journal is read (nothing has been sent yet)."""
    try:
        if not await deadlines.read(engine, receive):
            return
    except ProtocolError as e:
        # nothing is left to read once the body has ended: waiting for more would wait for a timeout
        rest = None if engine.input_closed else receive
        await _reject(rest, send, 400, f"protocol violation ({e.code}): {e.message}")
        return

    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", content_type), (b"x-restate-server", SERVER_HEADER)],
        }
    )

    async def asgi_read() -> tuple[bytes, bool] | None:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return None
        return msg.get("body", b""), not msg.get("more_body", False)

    async def asgi_write(data: bytes, end: bool) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": not end})

    read: Read = asgi_read
    write: Write = asgi_write
    sender = None
    listen: Listen | None = None
    if isinstance(receive, RsgiReceive) and isinstance(send, RsgiSend):
        read, write = receive.read, send.write  # RSGI: no ASGI message per chunk
        sender = send.sender  # and, once the response streams, bytes out without awaiting
        listen = receive.listen  # the builtin server: chunks handed over as they arrive

    attempt = Attempt(
        engine, info, read, write, attempt_headers, middleware, on_journal_mismatch, sender, listen
    )
    if active is not None:
        active.add(attempt)
    try:
        await attempt.run()
    finally:
        if active is not None:
            active.discard(attempt)
    await attempt.finish(_ends_early(send))


async def _reject(receive: Receive | None, send: Send, status: int, message: str) -> None:
    """Answer with an error, then read what is left of the request before closing the stream.

    On HTTP/2, hypercorn drops the whole connection (and every invocation on it) when DATA arrives
    for a stream whose response has ended, so the response is ended only after the request.
    """
    body = message.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if receive is None:
        headers.append((b"content-length", str(len(body)).encode()))
    # else no content-length: granian (hyper) would end the response once that many bytes are out and,
    # the request body being unread, close an HTTP/1.1 connection under a client still sending it.
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if receive is None:
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    await send({"type": "http.response.body", "body": body, "more_body": True})
    await drain_request(receive)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def drain_request(receive: Receive) -> None:
    """Read and drop what is left of a request body, for a few seconds at most, before its response ends.

    Ending the response first would end the stream under a client still sending: on HTTP/2,
    hypercorn then drops the whole connection (every invocation on it) and granian resets the
    stream.
    """
    with contextlib.suppress(TimeoutError, LimitExceeded):
        async with asyncio.timeout(_DRAIN_TIMEOUT):
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect" or not msg.get("more_body", False):
                    return


def _ends_early(send: Send) -> bool:
    """True for servers known to take a response that ends while the request body still streams.

    granian (hyper) does, and resets the request stream with NO_ERROR as HTTP/2 allows: its ASGI
    ``send`` is a granian method, its RSGI one our ``RsgiSend``, which says so. hypercorn drops the
    whole connection instead, and a server we cannot tell (a wrapped ``send``) gets the cautious path.
    """
    if getattr(send, "ends_early", False):
        return True
    return type(getattr(send, "__self__", None)).__module__.startswith("granian")


SERVER_HEADER = b"restate-sdk-py/0.1.0"
_DRAIN_TIMEOUT = 5.0  # how long drain_request reads what is left of a request
