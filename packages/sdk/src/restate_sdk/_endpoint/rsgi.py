"""granian's native interface (RSGI) in front of the ASGI-shaped endpoint code.

``restate_sdk.serve`` serves endpoints through RSGI, on its builtin server (``builtin.py``, which
presents requests the way granian does) or on granian: a complete response goes out in one
synchronous call (``response_bytes``) instead of awaited ASGI messages, each of which, on granian,
crosses from the event loop to its Rust thread and back. The endpoint code speaks ASGI messages,
which these two small adapters translate; an attempt, once its journal is in, reads and writes
bytes through them directly (``RsgiReceive.read``, ``RsgiSend.write``, ``RsgiSend.sender``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .attempt import Listen

__all__ = ["RsgiReceive", "RsgiSend", "SentAtTheCall"]


class SentAtTheCall:
    """What a stream transport's ``send_bytes`` returns when the bytes went out at the call.

    The builtin server returns it; granian's counterpart (2.x) is its ``PyEmptyAwaitable``.
    """

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        return
        yield


def _sent_at_the_call(sent: object) -> bool:
    kind = type(sent)
    return kind is SentAtTheCall or kind.__name__ == "PyEmptyAwaitable"


# Empty chunks in a row after which a request body counts as broken. granian (2.x) hands out b"" for
# every read of a body whose stream was reset (hyper keeps returning the error, granian maps it to
# b""), never an exception or the end: read on, an attempt would spin at full CPU for the process's
# life. A body that ends normally gives at most two (an empty END_STREAM frame, then the end).
_BROKEN_AFTER_EMPTY = 8


class RsgiStreamTransport(Protocol):
    def send_bytes(self, data: bytes) -> Awaitable[None]: ...


class RsgiHTTPProtocol(Protocol):
    """The part of granian's ``RSGIHTTPProtocol`` the endpoint uses."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None: ...

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> RsgiStreamTransport: ...


class RsgiReceive:
    """ASGI ``receive`` over an RSGI request body: ``http.request`` chunks, then the end of it.

    A body that breaks off (the client reset the stream, or the connection went away) reads as
    ``http.disconnect``, as it does under an ASGI server; granian reports a reset stream as empty
    chunks without end, so a run of them counts as that too.
    """

    __slots__ = ("_chunks", "_empty", "_ended", "listen")

    def __init__(self, protocol: RsgiHTTPProtocol) -> None:
        self._chunks = protocol.__aiter__()
        self._ended = False
        self._empty = 0  # empty chunks in a row
        self.listen: Listen | None = getattr(protocol, "listen", None)
        """The builtin server's push of chunks as they arrive (``attempt.Listen``); None on granian."""

    async def __call__(self) -> MutableMapping[str, Any]:
        chunk = await self.read()
        if chunk is None:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk[0], "more_body": not chunk[1]}

    async def read(self) -> tuple[bytes, bool] | None:
        """The next chunk and whether the body ended with it; None once the stream is gone.

        The attempt reads with this directly (``attempt.Read``), without an ASGI message per chunk.
        """
        if self._ended:
            return None
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            self._ended = True
            return b"", True
        except Exception:  # granian's RSGIProtocolClosed / RSGIProtocolError: the stream is gone
            self._ended = True
            return None
        if chunk:
            self._empty = 0
        else:
            self._empty += 1
            if self._empty >= _BROKEN_AFTER_EMPTY:  # a reset stream: see _BROKEN_AFTER_EMPTY
                self._ended = True
                return None
        return chunk, False


class RsgiSend:
    """ASGI ``send`` onto an RSGI response.

    A response whose first body message is also its last goes out whole, headers, body and end
    together; anything else is streamed, and the stream ends with the message that says so.
    """

    __slots__ = ("_headers", "_protocol", "_sends_at_once", "_status", "_stream", "started")

    # granian (hyper) lets a response end while the request body still streams; see invoke._ends_early
    ends_early = True

    def __init__(self, protocol: RsgiHTTPProtocol) -> None:
        self._protocol = protocol
        self._status = 500
        self._headers: list[tuple[str, str]] = []
        self._stream: RsgiStreamTransport | None = None
        self._sends_at_once = False
        self.started = False

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self._status = message["status"]
            self._headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())
            ]
            return
        if message["type"] == "http.response.body":
            await self.write(message.get("body", b""), not message.get("more_body", False))

    async def write(self, data: bytes, end: bool) -> None:
        """Response body bytes; ``end`` ends the response (``attempt.Write``, no ASGI message).

        Bytes for a client that went away (granian's ``RSGIProtocolClosed``) are dropped, as are
        any after them: nobody can receive them, and the request side reads as gone too.
        """
        stream = self._stream
        try:
            if stream is None:
                if self.started:
                    return  # the response has ended already (or its client went away)
                self.started = True
                if end:
                    self._protocol.response_bytes(self._status, self._headers, data)
                    return
                stream = self._stream = self._protocol.response_stream(self._status, self._headers)
            if end:
                # granian ends a streamed response when its transport is freed: drop ours now rather
                # than whenever the garbage collector breaks a reference cycle through this object
                self._stream = None
            if data:
                sent = stream.send_bytes(data)
                if _sent_at_the_call(sent):
                    self._sends_at_once = not end
                await sent
        except (
            RuntimeError
        ):  # granian's RSGIProtocolClosed (a RuntimeError): the stream or connection is gone
            self._stream = None  # and so sender() is None from now on

    def sender(self) -> Callable[[bytes], object] | None:
        """A function that sends streamed body bytes at once, if granian does; else None.

        granian's stream transport (2.x) puts the bytes into the response at the call and returns an
        awaitable that is already finished: then an attempt can send from a loop callback (a run
        worker's result) without a Task or a wake-up. Learnt from the first streamed write; None
        before it, after the end, and on a granian that really waits.
        """
        return self._stream.send_bytes if self._sends_at_once and self._stream is not None else None
