"""``serve(server="builtin")``: our own HTTP server, on the event loop itself.

h2c with prior knowledge (what restate-server speaks to ``http://`` deployments) through the sans-IO
``http2.ServerConnection``, and HTTP/1.1 through ``h11`` on the same port (a connection that does not
open with the HTTP/2 preface). Each request is handed to the app's RSGI entry point
(``Endpoint.__rsgi__``) through a small object shaped like granian's RSGI protocol, so the endpoint
has one code path for both servers. Everything runs in the loop's own callbacks: a journal step's
DATA frame is parsed in ``data_received`` and wakes the attempt reading it directly, with no thread
and no crossing (docs/decisions.md, "our own HTTP/2 server").
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import socket
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, cast

import h11

from .http2 import PREFACE, ProtocolError, ServerConnection, StreamReset
from .rsgi import SentAtTheCall

__all__ = ["serve_builtin"]

log = logging.getLogger("restate_sdk.serve")

_SENT = SentAtTheCall()
_REASONS = {s.value: s.phrase.encode() for s in http.HTTPStatus}
# After the drain, requests still open may finish for this long before they are cut
GRACE = 5.0
# An HTTP/1.1 connection (or one that has not yet said which protocol it speaks) with no request in
# progress is closed after this long: a client trickling a request head, or keeping sockets open
# with nothing on them, cannot hold the endpoint's sockets. As Node's and uvicorn's keep-alive
# timeouts; clients reconnect. h2c connections are restate-server's pool and stay open.
IDLE_TIMEOUT = 5.0


class _Stream(Protocol):
    """What a request looks like to the RSGI adapter, over HTTP/2 (``ServerStream``) or HTTP/1.1."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    chunks: deque[bytes]
    ended: bool
    reset: bool
    response_started: bool
    response_ended: bool
    wake: Callable[[], None] | None

    def take(self) -> bytes | None: ...
    def send_headers(self, status: int, headers: list[tuple[str, str]], end: bool = False) -> None: ...
    def send_data(self, data: bytes, end: bool = False) -> None: ...


class _Scope:
    """The part of an RSGI scope the endpoint reads."""

    __slots__ = ("headers", "http_version", "method", "path", "query_string")
    proto = "http"
    scheme = "http"

    def __init__(self, stream: _Stream, http_version: str) -> None:
        self.method = stream.method
        self.path = stream.path
        self.query_string = stream.query
        self.headers = stream.headers
        self.http_version = http_version


class _Request:
    """A request as granian's RSGI protocol presents it: body chunks by ``async for``, a response."""

    __slots__ = ("_loop", "_stream", "_waiter")

    def __init__(self, stream: _Stream, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._loop = loop
        self._waiter: asyncio.Future[None] | None = None
        stream.wake = self._wake

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    def listen(self, deliver: Callable[[tuple[bytes, bool] | None], None]) -> Callable[[], None]:
        """Hand every further chunk to ``deliver`` as it arrives, from the loop (``attempt.Listen``).

        ``deliver`` gets what ``RsgiReceive.read`` returns: (chunk, ended), or None once the stream
        is gone. No Task and no wake-up per chunk: a step's notification goes from the frame parser
        into the attempt. Chunks already buffered go at the loop's next turn, not inside this call.
        """
        stream = self._stream
        done = False

        def push() -> None:
            nonlocal done
            while not done:
                chunk = stream.take()
                if chunk is not None:
                    out: tuple[bytes, bool] | None = (chunk, stream.ended and not stream.chunks)
                elif stream.reset:
                    out = None
                elif stream.ended:
                    out = (b"", True)
                else:
                    return
                if out is None or out[1]:
                    done = True
                    stream.wake = None
                try:
                    deliver(out)
                except Exception:  # the attempt's own failure must not break the connection's parser
                    log.exception("an attempt failed on its input; it ends")
                    done = True
                    stream.wake = None

        def stop() -> None:
            nonlocal done
            done = True
            if stream.wake is push:
                stream.wake = self._wake  # reading on with ``async for`` works again

        stream.wake = push
        if stream.chunks or stream.ended or stream.reset:
            self._loop.call_soon(push)
        return stop

    async def __anext__(self) -> bytes:
        stream = self._stream
        while True:
            chunk = stream.take()
            if chunk is not None:
                return chunk
            if stream.reset:
                raise StreamReset("the request stream is gone")
            if stream.ended:
                raise StopAsyncIteration
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        stream = self._stream
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers = [*headers, ("content-length", str(len(body)))]
        if body:
            stream.send_headers(status, headers)
            stream.send_data(body, end=True)
        else:
            stream.send_headers(status, headers, end=True)

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> _Transport:
        self._stream.send_headers(status, headers)
        return _Transport(self._stream)


class _Transport:
    """A streamed response. Like granian's, it ends when the endpoint lets go of it."""

    __slots__ = ("_stream",)

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream

    def send_bytes(self, data: bytes) -> SentAtTheCall:
        self._stream.send_data(data)  # out at the call (or queued for flow control): nothing to await
        return _SENT

    def __del__(self) -> None:
        _end(self._stream)


def _end(stream: _Stream) -> None:
    if stream.response_started and not stream.response_ended and not stream.reset:
        with contextlib.suppress(RuntimeError):  # gone meanwhile
            stream.send_data(b"", end=True)


class _Http11Stream:
    """One HTTP/1.1 request on an h11 connection, with the surface of ``http2.ServerStream``."""

    __slots__ = (
        "_conn",
        "chunks",
        "ended",
        "headers",
        "method",
        "path",
        "query",
        "reset",
        "response_ended",
        "response_started",
        "wake",
    )

    def __init__(self, conn: _Connection, request: h11.Request) -> None:
        self._conn = conn
        target = request.target.decode("latin-1")
        path, _, query = target.partition("?")
        self.method = request.method.decode("latin-1")
        self.path = path
        self.query = query
        self.headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        self.chunks: deque[bytes] = deque()
        self.ended = False
        self.reset = False
        self.response_started = False
        self.response_ended = False
        self.wake: Callable[[], None] | None = None

    def take(self) -> bytes | None:
        return self.chunks.popleft() if self.chunks else None

    def send_headers(self, status: int, headers: list[tuple[str, str]], end: bool = False) -> None:
        if self.reset:
            raise StreamReset("the connection is gone")
        self.response_started = True
        reason = _REASONS.get(status, b"")
        self._conn.send_h11(h11.Response(status_code=status, headers=headers, reason=reason))
        if end:
            self.send_data(b"", end=True)

    def send_data(self, data: bytes, end: bool = False) -> None:
        if self.reset:
            raise StreamReset("the connection is gone")
        if data:
            self._conn.send_h11(h11.Data(data=data))
        if end:
            self.response_ended = True
            self._conn.send_h11(h11.EndOfMessage())
            self._conn.response_done(self)

    def _gone(self) -> None:
        self.reset = True
        if self.wake is not None:
            self.wake()


class _Connection(asyncio.Protocol):
    """One client connection: HTTP/2 if it opens with the preface, else HTTP/1.1."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._h2: ServerConnection | None = None
        self._h11: h11.Connection | None = None
        self._h11_stream: _Http11Stream | None = None
        self._first = b""
        self._out: list[bytes] = []  # bytes written during this turn of the loop, sent at its end
        self._loop = asyncio.get_running_loop()
        self._idle: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:  # a step is a small write each way: do not let Nagle hold it back
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._server.connections.add(self)
        self._arm_idle()

    def data_received(self, data: bytes) -> None:
        h2 = self._h2
        if h2 is not None:
            try:
                h2.receive(data)
            except ProtocolError as e:
                log.warning("closing an HTTP/2 connection whose client broke the protocol: %s", e)
                self._close()
            return
        if self._h11 is not None:
            self._receive_h11(data)
            return
        first = self._first + data
        if len(first) < len(PREFACE) and PREFACE.startswith(first):
            self._first = first  # could still be the HTTP/2 preface
            return
        self._first = b""
        if first.startswith(PREFACE):
            self._disarm_idle()
            h2 = self._h2 = ServerConnection(
                self._write,
                self._on_request,
                max_streams=self._server.max_streams,
                max_header_list_size=self._server.max_header_list_size,
            )
            h2.initiate()
            if self._server.stopping:
                h2.goaway()
            self.data_received(first)
        else:
            self._h11 = h11.Connection(
                h11.SERVER, max_incomplete_event_size=self._server.max_header_list_size
            )
            self._receive_h11(first)

    def eof_received(self) -> bool | None:
        if self._h11 is not None:
            self._receive_h11(b"")
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._disarm_idle()
        self._server.connections.discard(self)
        if self._h2 is not None:
            self._h2.connection_lost()
        if self._h11_stream is not None:
            self._h11_stream._gone()

    # -- shared

    def _write(self, data: bytes) -> None:
        # Everything written in one turn of the loop goes out in one send at its end: the attempts
        # woken by one read answer together, as one TCP segment for restate-server to read
        # instead of one per stream (and one syscall here).
        if self._transport is None:
            return
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(data)

    def _flush(self) -> None:
        out = self._out
        if not out:
            return
        self._out = []
        if self._transport is not None:
            self._transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _close(self) -> None:
        if self._transport is not None:
            self._flush()
            self._transport.close()

    def _arm_idle(self) -> None:
        timeout = self._server.idle_timeout
        if timeout is not None and self._idle is None:
            self._idle = self._loop.call_later(timeout, self._idle_expired)

    def _disarm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _idle_expired(self) -> None:
        self._idle = None
        if self._h2 is None and self._h11_stream is None:
            log.debug("closing a connection idle for %s s", self._server.idle_timeout)
            self._close()

    def _on_request(self, stream: _Stream) -> None:
        self._server.start(stream, "2" if self._h2 is not None else "1.1")

    def goaway(self) -> None:
        """The server stops: no new requests on this connection; an idle one is closed."""
        if self._h2 is not None:
            self._h2.goaway()
            if not self._h2.streams:
                self._close()
        elif self._h11_stream is None:
            self._close()

    # -- HTTP/1.1

    def _receive_h11(self, data: bytes) -> None:
        conn = self._h11
        assert conn is not None
        try:
            conn.receive_data(data)
            self._next_h11_events()
        except h11.RemoteProtocolError as e:
            log.info("a malformed HTTP/1.1 request: %s", e)
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                try:
                    body = f"bad request: {e}".encode()
                    headers = [
                        ("content-type", "text/plain; charset=utf-8"),
                        ("content-length", str(len(body))),
                    ]
                    self._write(
                        conn.send(h11.Response(status_code=e.error_status_hint, headers=headers)) or b""
                    )
                    self._write(conn.send(h11.Data(data=body)) or b"")
                    self._write(conn.send(h11.EndOfMessage()) or b"")
                except h11.LocalProtocolError:
                    pass
            self._close()

    def _next_h11_events(self) -> None:
        conn = self._h11
        assert conn is not None
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._disarm_idle()
                stream = self._h11_stream = _Http11Stream(self, event)
                if self._server.stopping:
                    stream.headers["connection"] = "close"
                self._on_request(stream)
            elif isinstance(event, h11.Data):
                stream = self._h11_stream
                if stream is not None:
                    stream.chunks.append(bytes(event.data))
                    if stream.wake is not None:
                        stream.wake()
            elif isinstance(event, h11.EndOfMessage):
                stream = self._h11_stream
                if stream is not None:
                    stream.ended = True
                    if stream.wake is not None:
                        stream.wake()
            elif isinstance(event, h11.ConnectionClosed):
                if self._h11_stream is not None:
                    self._h11_stream._gone()
                self._close()
                return

    def send_h11(self, event: h11.Response | h11.Data | h11.EndOfMessage) -> None:
        assert self._h11 is not None
        try:
            data = self._h11.send(event)
        except h11.LocalProtocolError as e:
            raise RuntimeError(f"HTTP/1.1 response: {e}") from e
        if data:
            self._write(data)

    def response_done(self, stream: _Http11Stream) -> None:
        conn = self._h11
        assert conn is not None
        self._h11_stream = None
        if conn.our_state is h11.MUST_CLOSE or self._server.stopping or not stream.ended:
            # the rest of the request body is not wanted; a reused connection would have to read it
            stream.reset = True
            self._close()
            return
        try:
            conn.start_next_cycle()
        except h11.LocalProtocolError:
            self._close()
            return
        if conn.their_state is h11.CLOSED:
            self._receive_h11(b"")
        else:
            self._next_h11_events()
            if self._h11_stream is None:  # no next request yet: the connection is idle again
                self._arm_idle()


class _Server:
    def __init__(
        self, app: Any, max_streams: int, max_header_list_size: int, grace: float, idle_timeout: float | None
    ) -> None:
        self.app = app
        self.grace = grace
        self.idle_timeout = idle_timeout
        self.max_streams = max_streams
        self.max_header_list_size = max_header_list_size
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = False
        self._loop = asyncio.get_running_loop()

    def start(self, stream: _Stream, http_version: str) -> None:
        task = self._loop.create_task(self._serve(stream, http_version))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _serve(self, stream: _Stream, http_version: str) -> None:
        request = _Request(stream, self._loop)
        try:
            await self.app.__rsgi__(_Scope(stream, http_version), request)
        except asyncio.CancelledError:
            pass  # cut at the end of the grace period after a drain
        except Exception:
            log.exception("the endpoint failed on %s %s", stream.method, stream.path)
        finally:
            stream.wake = None
            with contextlib.suppress(RuntimeError):  # the stream is gone
                if not stream.response_started and not stream.reset:
                    request.response_bytes(500, [("content-type", "text/plain")], b"no response")
                else:
                    _end(stream)

    async def stop(self) -> None:
        """No new requests; those open get ``grace`` seconds to finish, then are cut."""
        self.stopping = True
        for conn in list(self.connections):
            conn.goaway()
        deadline = self._loop.time() + self.grace
        while self.tasks and self._loop.time() < deadline:
            await asyncio.sleep(0.02)
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=1.0)
        for conn in list(self.connections):
            conn._close()


async def serve_builtin(
    app: Any,
    sock: socket.socket,
    shutdown_trigger: Callable[[], Awaitable[None]],
    *,
    max_streams: int,
    max_header_list_size: int,
    grace: float | Callable[[], float] = GRACE,
    idle_timeout: float | None = IDLE_TIMEOUT,
) -> None:
    """Serve ``app`` (an RSGI app: ``Endpoint``) on the listening ``sock`` until ``shutdown_trigger`` returns.

    Then: GOAWAY to every connection, ``grace`` seconds (or what the callable says at that moment)
    for the requests still open, and the rest are cut. ``sock`` stays the caller's. An HTTP/1.1
    connection with no request in progress for ``idle_timeout`` seconds is closed (None: never).
    """
    loop = asyncio.get_running_loop()
    server = _Server(app, max_streams, max_header_list_size, GRACE, idle_timeout)
    listener = await loop.create_server(lambda: _Connection(server), sock=sock.dup())
    try:
        await shutdown_trigger()
    finally:
        server.grace = grace() if callable(grace) else grace
        listener.close()
        await server.stop()
        await listener.wait_closed()
