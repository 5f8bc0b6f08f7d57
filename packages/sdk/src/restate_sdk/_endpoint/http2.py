"""The server side of an h2c connection (HTTP/2 with prior knowledge), sans-IO.

This is what restate-server speaks to an ``http://`` deployment: one connection, every invocation a
stream on it, a frame or two each way per journal step. ``ServerConnection`` takes the bytes that
arrived (``receive``) and hands out what to send through the ``write`` callable it was given; it
touches no socket and no event loop. ``builtin.py`` is the asyncio shell around it.

Why by hand (docs/decisions.md, "our own HTTP/2 server"): the h2 library runs a state machine per
frame in Python and costs more than our whole SDK per step; granian runs hyper on Rust threads and
pays a crossing into the event loop for every read and write. A run step here is one DATA frame in
and one out, parsed and written in the loop's own callback. It implements what a server needs of
RFC 9113 and nothing a server may leave out: no server push, no priorities (ignored, as RFC 9113
allows), no trailers in responses. Header blocks are decoded by ``hpack``, responses use literal
fields only (no dynamic table to keep in step with the client).
"""

from __future__ import annotations

import enum
import struct
from collections import deque
from collections.abc import Callable

import hpack

__all__ = ["ErrorCode", "ProtocolError", "ServerConnection", "ServerStream", "StreamReset"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    range(10)
)
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20

SETTINGS_HEADER_TABLE_SIZE = 0x1
SETTINGS_ENABLE_PUSH = 0x2
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
SETTINGS_MAX_FRAME_SIZE = 0x5
SETTINGS_MAX_HEADER_LIST_SIZE = 0x6

MAX_WINDOW = 2**31 - 1
DEFAULT_WINDOW = 65_535
DEFAULT_MAX_FRAME = 16_384
# What we let the client send: a stream may have this much unread before it must wait for us to
# read it (restate-server sends a whole journal at the start); the connection's window is topped up
# as bytes arrive, so only the streams' windows bound what sits unread.
STREAM_WINDOW = 1 << 20
RECEIVE_MAX_FRAME = 1 << 18

_header = struct.Struct(">HBBBI")  # a 24-bit length as 16 + 8 bits, type, flags, stream id
_u32 = struct.Struct(">I")
_setting = struct.Struct(">HI")


class ErrorCode(enum.IntEnum):
    """RFC 9113 section 7."""

    NO_ERROR = 0x0
    PROTOCOL_ERROR = 0x1
    INTERNAL_ERROR = 0x2
    FLOW_CONTROL_ERROR = 0x3
    STREAM_CLOSED = 0x5
    FRAME_SIZE_ERROR = 0x6
    REFUSED_STREAM = 0x7
    CANCEL = 0x8
    COMPRESSION_ERROR = 0x9


class ProtocolError(Exception):
    """The client broke HTTP/2: the connection ends with a GOAWAY carrying ``code``."""

    def __init__(self, message: str, code: ErrorCode = ErrorCode.PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


class StreamReset(RuntimeError):
    """Writing to a stream that is gone (reset by either side, or its connection closed).

    A ``RuntimeError``, like granian's ``RSGIProtocolClosed``, which the endpoint's RSGI adapter drops.
    """


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return _header.pack(n >> 8, n & 0xFF, kind, flags, stream_id) + payload


def _literal(value: bytes) -> bytes:
    """An HPACK string literal, not Huffman-coded (RFC 7541 5.2)."""
    n = len(value)
    if n < 127:
        return bytes((n,)) + value
    out = bytearray((127,))
    n -= 127
    while n >= 128:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + value


def encode_response_headers(status: int, headers: list[tuple[str, str]]) -> bytes:
    """A header block of literal fields never added to the client's dynamic table (RFC 7541 6.2.2)."""
    # :status 200 is entry 8 of the static table; any other status is a literal with that name
    out = bytearray(b"\x88" if status == 200 else b"\x08" + _literal(str(status).encode()))
    for name, value in headers:
        out += b"\x00" + _literal(name.lower().encode("latin-1")) + _literal(value.encode("latin-1"))
    return bytes(out)


class ServerStream:
    """One request and its response. The shell reads ``chunks`` and is told by ``wake``.

    ``chunks`` holds request body bytes not yet taken; ``ended`` says the request body is complete
    (the client's END_STREAM); ``reset`` that the stream is gone (either side reset it, or the
    connection closed), after which nothing more arrives and writes raise ``StreamReset``.
    """

    __slots__ = (
        "_conn",
        "_pending",
        "_send_window",
        "_unacked",
        "chunks",
        "ended",
        "headers",
        "id",
        "method",
        "path",
        "query",
        "reset",
        "response_ended",
        "response_started",
        "wake",
    )

    def __init__(self, conn: ServerConnection, stream_id: int, method: str, path: str, query: str) -> None:
        self._conn = conn
        self.id = stream_id
        self.method = method
        self.path = path
        self.query = query
        self.headers: dict[str, str] = {}
        self.chunks: deque[bytes] = deque()
        self.ended = False
        self.reset = False
        self.response_started = False
        self.response_ended = False
        self.wake: Callable[[], None] | None = None  # set by the shell: called when chunks/ended/reset change
        self._send_window = conn._peer_initial_window
        self._pending: deque[tuple[bytes, bool]] = deque()  # data the client's windows do not take yet
        self._unacked = 0  # bytes taken from chunks, not yet given back as window

    def take(self) -> bytes | None:
        """The next request body chunk, or None if none is buffered; gives its bytes back as window."""
        if not self.chunks:
            return None
        chunk = self.chunks.popleft()
        self._unacked += len(chunk)
        if self._unacked >= STREAM_WINDOW // 2 and not self.ended and not self.reset:
            self._conn._write(frame(WINDOW_UPDATE, 0, self.id, _u32.pack(self._unacked)))
            self._unacked = 0
        return chunk

    def send_headers(self, status: int, headers: list[tuple[str, str]], end: bool = False) -> None:
        if self.reset:
            raise StreamReset(f"stream {self.id} is gone")
        if self.response_started:
            raise RuntimeError(f"stream {self.id}: the response has started already")
        self.response_started = True
        block = encode_response_headers(status, headers)
        conn = self._conn
        if len(block) > conn._peer_max_frame:
            raise RuntimeError(f"response headers of {len(block)} bytes: more than one frame holds")
        conn._write(frame(HEADERS, END_HEADERS | END_STREAM if end else END_HEADERS, self.id, block))
        if end:
            self._response_done()

    def send_data(self, data: bytes, end: bool = False) -> None:
        """Response body bytes, sent as the client's flow-control windows allow (the rest queued)."""
        if self.reset:
            raise StreamReset(f"stream {self.id} is gone")
        if self.response_ended or not self.response_started:
            raise RuntimeError(f"stream {self.id}: no response open to send data on")
        if end:
            self.response_ended = True
        if self._pending:
            self._pending.append((data, end))
            return
        conn = self._conn
        n = len(data)
        if n <= self._send_window and n <= conn._send_window and n <= conn._peer_max_frame:
            self._send_window -= n
            conn._send_window -= n
            conn._write(frame(DATA, END_STREAM if end else 0, self.id, data))
            if end:
                self._response_done()
            return
        self._pending.append((data, end))
        self._send_pending()

    def cancel(self, code: ErrorCode = ErrorCode.CANCEL) -> None:
        """Reset the stream (RST_STREAM): neither side sends on it any more."""
        if not self.reset:
            self._conn._write(frame(RST_STREAM, 0, self.id, _u32.pack(code)))
            self._conn._forget(self)
            self._gone()

    def _send_pending(self) -> None:
        conn = self._conn
        pending = self._pending
        while pending:
            data, end = pending[0]
            room = min(self._send_window, conn._send_window, conn._peer_max_frame)
            if len(data) > room:
                if room <= 0:
                    return
                pending[0] = (data[room:], end)
                data, end = data[:room], False
            else:
                pending.popleft()
            self._send_window -= len(data)
            conn._send_window -= len(data)
            conn._write(frame(DATA, END_STREAM if end else 0, self.id, data))
            if end:
                self._response_done()

    def _response_done(self) -> None:
        self.response_ended = True
        if not self.ended:
            # The response is complete and the rest of the request is not wanted: like hyper, reset
            # the stream with NO_ERROR (RFC 9113 8.1) so the client stops sending it.
            self.cancel(ErrorCode.NO_ERROR)
        else:
            self._conn._forget(self)

    def _gone(self) -> None:
        self.reset = True
        self._pending.clear()
        if self.wake is not None:
            self.wake()


class ServerConnection:
    """An h2c server connection: ``receive`` bytes, get requests and body chunks; write through ``write``.

    ``on_request(stream)`` is called for each new request once its headers are complete. A client
    that breaks the protocol gets a GOAWAY and ``receive`` raises ``ProtocolError``: the shell closes
    the connection. Streams beyond ``max_streams`` open at once are refused (REFUSED_STREAM, which
    clients retry); a header block beyond ``max_header_list_size`` gets a 431 response.
    """

    def __init__(
        self,
        write: Callable[[bytes], None],
        on_request: Callable[[ServerStream], None],
        *,
        max_streams: int,
        max_header_list_size: int,
    ) -> None:
        self._write = write
        self._on_request = on_request
        self._max_streams = max_streams
        self._max_header_list_size = max_header_list_size
        self.streams: dict[int, ServerStream] = {}
        self._buffer = b""
        self._preface = False
        self._decoder = hpack.Decoder()
        # hpack stops part-way through a block over its cap, and the tables then disagree with the
        # client's: cap far above the limit (a decompression bomb), and refuse over it ourselves
        self._decoder.max_header_list_size = 16 * max_header_list_size
        self._peer_initial_window = DEFAULT_WINDOW
        self._peer_max_frame = DEFAULT_MAX_FRAME
        self._send_window = DEFAULT_WINDOW
        self._received = 0  # connection-level bytes not yet given back
        self._last_stream = 0
        self._headers: list[bytes] | None = None  # a header block awaiting CONTINUATION frames
        self._headers_stream = 0
        self._headers_end = False
        self._headers_trailers = False  # the block is trailers (or for a stream that is over)
        self._headers_size = 0
        self.going_away = False
        self._handlers: dict[int, Callable[[int, int, bytes], None]] = {
            HEADERS: self._on_headers,
            PRIORITY: self._on_priority,
            RST_STREAM: self._on_rst_stream,
            SETTINGS: self._on_settings,
            PUSH_PROMISE: self._on_push_promise,
            PING: self._on_ping,
            GOAWAY: self._on_goaway,
            WINDOW_UPDATE: self._on_window_update,
            CONTINUATION: self._on_continuation,
        }

    def initiate(self) -> None:
        """Our SETTINGS, and the connection's receive window opened wide."""
        settings = b"".join(
            _setting.pack(k, v)
            for k, v in (
                (SETTINGS_ENABLE_PUSH, 0),
                (SETTINGS_MAX_CONCURRENT_STREAMS, self._max_streams),
                (SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW),
                (SETTINGS_MAX_FRAME_SIZE, RECEIVE_MAX_FRAME),
                (SETTINGS_MAX_HEADER_LIST_SIZE, self._max_header_list_size),
            )
        )
        self._write(
            frame(SETTINGS, 0, 0, settings)
            + frame(WINDOW_UPDATE, 0, 0, _u32.pack(MAX_WINDOW - DEFAULT_WINDOW))
        )

    def receive(self, data: bytes) -> None:
        """Bytes from the client. Raises ``ProtocolError`` (after writing a GOAWAY) if they break HTTP/2."""
        try:
            self._receive(data)
        except ProtocolError as e:
            self._buffer = b""
            self.goaway(e.code, str(e))
            raise
        except hpack.HPACKError as e:
            self._buffer = b""
            self.goaway(ErrorCode.COMPRESSION_ERROR, f"bad header block: {e}")
            raise ProtocolError(f"bad header block: {e}", ErrorCode.COMPRESSION_ERROR) from e

    def _receive(self, data: bytes) -> None:
        buf = self._buffer + data if self._buffer else data
        pos = 0
        if not self._preface:
            if len(buf) < len(PREFACE):
                if not PREFACE.startswith(buf):
                    raise ProtocolError("not an HTTP/2 connection preface")
                self._buffer = buf
                return
            if not buf.startswith(PREFACE):
                raise ProtocolError("not an HTTP/2 connection preface")
            self._preface = True
            pos = len(PREFACE)
        n = len(buf)
        streams = self.streams
        while n - pos >= 9:
            hi, lo, kind, flags, stream_id = _header.unpack_from(buf, pos)
            length = hi << 8 | lo
            if length > RECEIVE_MAX_FRAME:
                raise ProtocolError(
                    f"a frame of {length} bytes, more than our SETTINGS_MAX_FRAME_SIZE",
                    ErrorCode.FRAME_SIZE_ERROR,
                )
            end = pos + 9 + length
            if end > n:
                break
            stream_id &= 0x7FFFFFFF
            if self._headers is not None and kind != CONTINUATION:
                raise ProtocolError("a header block was interrupted before its END_HEADERS")
            if kind == DATA:  # the one frame of every step: kept inline
                if stream_id == 0:
                    raise ProtocolError("DATA on stream 0")
                payload = buf[pos + 9 : end]
                if flags & PADDED:
                    payload = _unpad(payload)
                self._received += length
                stream = streams.get(stream_id)
                if stream is not None:
                    if stream.ended:
                        raise ProtocolError(
                            f"DATA on stream {stream_id} after its END_STREAM", ErrorCode.STREAM_CLOSED
                        )
                    if flags & PADDED:  # padding counts for flow control: given back with the data
                        stream._unacked += length - len(payload)
                    if payload:
                        stream.chunks.append(payload)
                    if flags & END_STREAM:
                        stream.ended = True
                    if stream.wake is not None:
                        stream.wake()
                elif stream_id > self._last_stream:
                    raise ProtocolError(f"DATA on stream {stream_id}, which was never opened")
                # else: a stream already closed; its bytes in flight only count for the window
            else:
                handler = self._handlers.get(kind)
                if handler is not None:  # unknown frame types are ignored (RFC 9113 4.1)
                    handler(flags, stream_id, buf[pos + 9 : end])
            pos = end
        self._buffer = buf[pos:] if pos < n else b""
        if self._received >= MAX_WINDOW // 2:
            self._write(frame(WINDOW_UPDATE, 0, 0, _u32.pack(self._received)))
            self._received = 0

    def goaway(self, code: ErrorCode = ErrorCode.NO_ERROR, debug: str = "") -> None:
        """Tell the client to open no new streams (GOAWAY); the ones open may finish."""
        self.going_away = True
        self._write(
            frame(GOAWAY, 0, 0, _u32.pack(self._last_stream) + _u32.pack(code) + debug.encode()[:256])
        )

    def connection_lost(self) -> None:
        """The connection is gone: every open stream is too."""
        streams = list(self.streams.values())
        self.streams.clear()
        for stream in streams:
            stream._gone()

    def _forget(self, stream: ServerStream) -> None:
        self.streams.pop(stream.id, None)

    # -- frames other than DATA -----------------------------------------------------------------

    def _on_headers(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0 or stream_id % 2 == 0:
            raise ProtocolError(f"HEADERS on stream {stream_id}: a client opens odd-numbered streams")
        if flags & PADDED:
            payload = _unpad(payload)
        if flags & PRIORITY_FLAG:
            payload = payload[5:]
        stream = self.streams.get(stream_id)
        if stream is not None or stream_id <= self._last_stream:
            # trailers on an open request, or a frame for a stream that is over: decode (the
            # dynamic table must stay in step), then keep only what END_STREAM says
            self._headers_trailers = True
        else:
            self._last_stream = stream_id
            self._headers_trailers = False
        self._headers_stream, self._headers_end = stream_id, bool(flags & END_STREAM)
        self._headers, self._headers_size = [payload], len(payload)
        if flags & END_HEADERS:
            self._header_block_done()

    def _on_continuation(self, flags: int, stream_id: int, payload: bytes) -> None:
        if self._headers is None or stream_id != self._headers_stream:
            raise ProtocolError("CONTINUATION without a header block to continue")
        self._headers.append(payload)
        self._headers_size += len(payload)
        if self._headers_size > 4 * self._max_header_list_size:
            raise ProtocolError("a header block far beyond SETTINGS_MAX_HEADER_LIST_SIZE")
        if flags & END_HEADERS:
            self._header_block_done()

    def _header_block_done(self) -> None:
        if self._headers_trailers:
            self._trailers()
        else:
            self._request()

    def _block(self) -> list[tuple[str, str]] | None:
        """The header block just completed, decoded; None if it is too large to accept.

        Names and values as latin-1, as granian gives them: any bytes decode, and what they mean is
        for the route to judge, per request (a bad byte in one request's headers is that request's
        problem; undecodable HPACK breaks the connection's shared table and is the connection's).
        """
        assert self._headers is not None
        block = b"".join(self._headers)
        self._headers = None
        fields = self._decoder.decode(block, raw=True)  # over even the generous cap: HPACKError
        if sum(32 + len(k) + len(v) for k, v in fields) > self._max_header_list_size:  # RFC 9113 6.5.2
            return None
        return [(bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in fields]

    def _trailers(self) -> None:
        stream_id = self._headers_stream
        self._block()
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        if not self._headers_end:
            raise ProtocolError(f"a second header block on stream {stream_id} without END_STREAM")
        stream.ended = True
        if stream.wake is not None:
            stream.wake()

    def _request(self) -> None:
        stream_id = self._headers_stream
        fields = self._block()
        if self.going_away:
            self._write(frame(RST_STREAM, 0, stream_id, _u32.pack(ErrorCode.REFUSED_STREAM)))
            return
        if len(self.streams) >= self._max_streams:
            self._write(frame(RST_STREAM, 0, stream_id, _u32.pack(ErrorCode.REFUSED_STREAM)))
            return
        method = path = ""
        headers: dict[str, str] = {}
        if fields is not None:
            for name, value in fields:
                if name.startswith(":"):
                    if name == ":method":
                        method = value
                    elif name == ":path":
                        path = value
                else:
                    headers[name] = value
        path, _, query = path.partition("?")
        stream = ServerStream(self, stream_id, method, path, query)
        stream.headers = headers
        stream.ended = self._headers_end
        self.streams[stream_id] = stream
        if fields is None:
            stream.send_headers(431, [("content-type", "text/plain; charset=utf-8")])
            stream.send_data(b"request header fields too large", end=True)
            return
        if not method or not path:  # malformed (RFC 9113 8.1.1): a stream error, not the connection's
            stream.cancel(ErrorCode.PROTOCOL_ERROR)
            return
        self._on_request(stream)

    def _on_priority(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0 or len(payload) != 5:
            raise ProtocolError("a malformed PRIORITY frame")

    def _on_rst_stream(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id == 0 or len(payload) != 4:
            raise ProtocolError("a malformed RST_STREAM frame")
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            stream._gone()

    def _on_settings(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id != 0 or len(payload) % 6:
            raise ProtocolError("a malformed SETTINGS frame", ErrorCode.FRAME_SIZE_ERROR)
        if flags & ACK:
            return
        for offset in range(0, len(payload), 6):
            key, value = _setting.unpack_from(payload, offset)
            if key == SETTINGS_INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    raise ProtocolError(
                        "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", ErrorCode.FLOW_CONTROL_ERROR
                    )
                delta = value - self._peer_initial_window
                self._peer_initial_window = value
                for stream in self.streams.values():
                    stream._send_window += delta
            elif key == SETTINGS_MAX_FRAME_SIZE:
                if not DEFAULT_MAX_FRAME <= value <= 2**24 - 1:
                    raise ProtocolError(f"SETTINGS_MAX_FRAME_SIZE of {value}")
                self._peer_max_frame = value
            # header table size: our encoder keeps no dynamic table, nothing to resize
        self._write(frame(SETTINGS, ACK, 0))
        self._resume()

    def _on_push_promise(self, flags: int, stream_id: int, payload: bytes) -> None:
        raise ProtocolError("PUSH_PROMISE from a client")

    def _on_ping(self, flags: int, stream_id: int, payload: bytes) -> None:
        if stream_id != 0 or len(payload) != 8:
            raise ProtocolError("a malformed PING frame", ErrorCode.FRAME_SIZE_ERROR)
        if not flags & ACK:
            self._write(frame(PING, ACK, 0, payload))

    def _on_goaway(self, flags: int, stream_id: int, payload: bytes) -> None:
        self.going_away = True  # the client opens no more streams; the open ones carry on

    def _on_window_update(self, flags: int, stream_id: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise ProtocolError("a malformed WINDOW_UPDATE frame", ErrorCode.FRAME_SIZE_ERROR)
        increment = _u32.unpack(payload)[0] & 0x7FFFFFFF
        if stream_id == 0:
            if increment == 0:
                raise ProtocolError("WINDOW_UPDATE of 0")
            self._send_window += increment
            if self._send_window > MAX_WINDOW:
                raise ProtocolError("the connection's window above 2^31-1", ErrorCode.FLOW_CONTROL_ERROR)
            self._resume()
            return
        stream = self.streams.get(stream_id)
        if stream is not None:
            stream._send_window += increment
            if stream._pending:
                stream._send_pending()

    def _resume(self) -> None:
        for stream in list(self.streams.values()):
            if stream._pending:
                stream._send_pending()


def _unpad(payload: bytes) -> bytes:
    if not payload or payload[0] >= len(payload):
        raise ProtocolError("padding longer than the frame")
    return payload[1 : len(payload) - payload[0]]
