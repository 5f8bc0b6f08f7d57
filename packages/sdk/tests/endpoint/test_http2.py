"""The sans-IO h2c server connection (``http2.ServerConnection``), byte by byte against the h2 client.

A ``Pair`` pipes an ``h2`` client connection into ``ServerConnection.receive`` and the server's writes
back into the client: the preface and settings exchange, request bodies (plain, padded, with
trailers), responses and their flow control, stream resets both ways, refused streams, oversize
header lists, header blocks in CONTINUATION frames, the protocol errors that end a connection with a
GOAWAY, and ``connection_lost`` / ``goaway``. Frames h2 will not send are built by hand.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import TypeVar

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest
from restate_sdk._endpoint.http2 import (
    ErrorCode,
    ProtocolError,
    ServerConnection,
    ServerStream,
    StreamReset,
)

from .wire import (
    ACK,
    CONTINUATION,
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADERS,
    PADDED,
    PING,
    PREFACE,
    PRIORITY,
    PRIORITY_FLAG,
    PUSH_PROMISE,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    Frame,
    raw,
)

MiB = 1 << 20
STREAM_WINDOW = MiB  # what the server announces as SETTINGS_INITIAL_WINDOW_SIZE
SERVER_MAX_FRAME = 256 * 1024  # what the server announces as SETTINGS_MAX_FRAME_SIZE
MAX_WINDOW = 2**31 - 1


def parse(data: bytes | bytearray) -> list[Frame]:
    """The frames in ``data``, which must hold whole frames only."""
    out: list[Frame] = []
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 3], "big")
        kind, flags = data[pos + 3], data[pos + 4]
        stream_id = int.from_bytes(data[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
        out.append(Frame(kind, flags, stream_id, bytes(data[pos + 9 : pos + 9 + length])))
        pos += 9 + length
    assert pos == len(data), "a partial frame"
    return out


def settings_of(payload: bytes) -> dict[int, int]:
    return {k: v for k, v in struct.iter_unpack(">HI", payload)}


def goaway_of(frame: Frame) -> tuple[int, int]:
    """(last stream id, error code) of a GOAWAY frame."""
    assert frame.kind == GOAWAY and frame.stream_id == 0
    return int.from_bytes(frame.payload[:4], "big") & 0x7FFFFFFF, int.from_bytes(frame.payload[4:8], "big")


def rst_code(frame: Frame) -> int:
    assert frame.kind == RST_STREAM
    return int.from_bytes(frame.payload, "big")


class Pair:
    """An h2 client and a ``ServerConnection``, wired together; bytes move only when told to."""

    def __init__(
        self, *, max_streams: int = 100, max_header_list_size: int = 64 * 1024, connect: bool = True
    ) -> None:
        self.wire = bytearray()  # everything the server wrote, in order
        self._unsent = bytearray()  # what the server wrote that the client has not received yet
        self.requests: list[ServerStream] = []
        self.wakes: dict[int, int] = {}  # stream id -> how often its wake was called
        self.server = ServerConnection(
            self._write, self._on_request, max_streams=max_streams, max_header_list_size=max_header_list_size
        )
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.client = h2.connection.H2Connection(config)
        self.server.initiate()
        self.client.initiate_connection()
        if connect:
            self.exchange()

    def _write(self, data: bytes) -> None:
        self.wire += data
        self._unsent += data

    def _on_request(self, stream: ServerStream) -> None:
        self.requests.append(stream)
        self.wakes[stream.id] = 0

        def wake() -> None:
            self.wakes[stream.id] += 1

        stream.wake = wake

    def to_server(self) -> bool:
        data = self.client.data_to_send()
        if data:
            self.server.receive(data)
        return bool(data)

    def to_client(self) -> list[h2.events.Event]:
        data = bytes(self._unsent)
        self._unsent.clear()
        return self.client.receive_data(data) if data else []

    def exchange(self) -> list[h2.events.Event]:
        """Move bytes both ways until neither side has anything more to say."""
        events: list[h2.events.Event] = []
        while True:
            sent = self.to_server()
            if not self._unsent and not sent:
                return events
            events += self.to_client()

    def mark(self) -> int:
        """A position in ``wire``: ``since(mark)`` gives the frames the server wrote after it."""
        return len(self.wire)

    def since(self, mark: int) -> list[Frame]:
        return parse(self.wire[mark:])

    def request(
        self,
        path: str = "/invoke/Svc/handler",
        *,
        method: str = "POST",
        end: bool = False,
        headers: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Queue a request's HEADERS at the client (not moved yet); its stream id."""
        stream_id = self.client.get_next_available_stream_id()
        fields = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "localhost")]
        self.client.send_headers(stream_id, [*fields, *headers], end_stream=end)
        return stream_id

    def stream(self, stream_id: int) -> ServerStream:
        matching = [s for s in self.requests if s.id == stream_id]
        assert len(matching) == 1, f"no request on stream {stream_id}"
        return matching[0]


E = TypeVar("E", bound=h2.events.Event)


def of_type(events: Sequence[h2.events.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def body_of(events: Sequence[h2.events.Event], stream_id: int) -> bytes:
    return b"".join(
        e.data or b"" for e in of_type(events, h2.events.DataReceived) if e.stream_id == stream_id
    )


def take_all(stream: ServerStream) -> bytes:
    out = b""
    while (chunk := stream.take()) is not None:
        out += chunk
    return out


# -- the connection preface and settings --------------------------------------------------------------


def test_initiate_writes_our_settings_and_opens_the_connection_window() -> None:
    pair = Pair(max_streams=77, max_header_list_size=12_345, connect=False)
    settings, window_update = parse(pair.wire)
    assert (settings.kind, settings.flags, settings.stream_id) == (SETTINGS, 0, 0)
    assert settings_of(settings.payload) == {
        0x2: 0,  # ENABLE_PUSH
        0x3: 77,  # MAX_CONCURRENT_STREAMS
        0x4: STREAM_WINDOW,  # INITIAL_WINDOW_SIZE
        0x5: SERVER_MAX_FRAME,  # MAX_FRAME_SIZE
        0x6: 12_345,  # MAX_HEADER_LIST_SIZE
    }
    assert (window_update.kind, window_update.stream_id) == (WINDOW_UPDATE, 0)
    assert int.from_bytes(window_update.payload, "big") == MAX_WINDOW - 65_535


def test_the_preface_and_settings_exchange_with_an_h2_client() -> None:
    pair = Pair(max_streams=77, connect=False)
    assert pair.to_server()  # the client's preface and SETTINGS
    events = pair.to_client()
    changed = of_type(events, h2.events.RemoteSettingsChanged)
    assert len(changed) == 1
    new = {int(k): v.new_value for k, v in changed[0].changed_settings.items()}
    assert new[h2.settings.SettingCodes.ENABLE_PUSH] == 0
    assert new[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] == 77
    assert new[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] == STREAM_WINDOW
    assert new[h2.settings.SettingCodes.MAX_FRAME_SIZE] == SERVER_MAX_FRAME
    # the server acknowledged the client's SETTINGS, and opened the connection's window to the maximum
    assert of_type(events, h2.events.SettingsAcknowledged)
    assert pair.client.outbound_flow_control_window == MAX_WINDOW
    # the client's ACK of our SETTINGS is taken without a reply
    mark = pair.mark()
    assert pair.to_server()
    assert pair.since(mark) == []


def test_a_settings_change_is_acknowledged() -> None:
    pair = Pair()
    pair.client.update_settings({h2.settings.SettingCodes.MAX_FRAME_SIZE: 20_000})
    events = pair.exchange()
    assert of_type(events, h2.events.SettingsAcknowledged)


def test_ping_is_acknowledged_with_its_payload() -> None:
    pair = Pair()
    pair.client.ping(b"12345678")
    mark = pair.mark()
    events = pair.exchange()
    assert pair.since(mark) == [Frame(PING, ACK, 0, b"12345678")]
    acks = of_type(events, h2.events.PingAckReceived)
    assert [a.ping_data for a in acks] == [b"12345678"]
    # a PING ACK from the client gets no answer
    mark = pair.mark()
    pair.server.receive(raw(PING, ACK, 0, b"abcdefgh"))
    assert pair.since(mark) == []


# -- requests ------------------------------------------------------------------------------------------


def test_a_request_body_in_several_data_frames() -> None:
    pair = Pair()
    sid = pair.request("/invoke/Svc/run?a=1&b=2", headers=[("content-type", "application/x"), ("x-id", "7")])
    pair.exchange()
    [stream] = pair.requests
    assert (stream.id, stream.method, stream.path, stream.query) == (
        sid,
        "POST",
        "/invoke/Svc/run",
        "a=1&b=2",
    )
    assert stream.headers == {"content-type": "application/x", "x-id": "7"}  # no pseudo-headers
    assert not stream.ended and not stream.reset and not stream.chunks
    for part in (b"one", b"two", b"three"):
        pair.client.send_data(sid, part)
        pair.exchange()
    assert list(stream.chunks) == [b"one", b"two", b"three"]
    assert pair.wakes[sid] == 3
    assert not stream.ended
    pair.client.send_data(sid, b"", end_stream=True)
    pair.exchange()
    assert stream.ended
    assert pair.wakes[sid] == 4
    assert [stream.take(), stream.take(), stream.take(), stream.take()] == [b"one", b"two", b"three", None]


def test_a_request_without_body_is_ended_at_once() -> None:
    pair = Pair()
    sid = pair.request("/health", method="GET", end=True)
    pair.exchange()
    [stream] = pair.requests
    assert (stream.id, stream.method, stream.path, stream.query) == (sid, "GET", "/health", "")
    assert stream.ended and stream.take() is None


def test_a_response_with_headers_data_and_end() -> None:
    pair = Pair()
    sid = pair.request(method="GET", end=True)
    pair.exchange()
    stream = pair.stream(sid)
    long_value = "v" * 300  # a string literal of more than 127 bytes: a multi-byte length
    stream.send_headers(201, [("Content-Type", "application/json"), ("x-long", long_value)])
    stream.send_data(b'{"a":')
    stream.send_data(b"1}", end=True)
    events = pair.exchange()
    [response] = of_type(events, h2.events.ResponseReceived)
    assert response.stream_id == sid
    assert list(response.headers) == [
        (b":status", b"201"),
        (b"content-type", b"application/json"),
        (b"x-long", long_value.encode()),
    ]
    assert body_of(events, sid) == b'{"a":1}'
    assert [e.stream_id for e in of_type(events, h2.events.StreamEnded)] == [sid]
    assert not of_type(events, h2.events.StreamReset)  # the request had ended: no reset needed
    assert stream.response_ended and sid not in pair.server.streams


def test_a_200_response_ending_with_its_headers() -> None:
    pair = Pair()
    sid = pair.request(method="GET", end=True)
    pair.exchange()
    pair.stream(sid).send_headers(200, [("content-length", "0")], end=True)
    events = pair.exchange()
    [response] = of_type(events, h2.events.ResponseReceived)
    assert list(response.headers) == [(b":status", b"200"), (b"content-length", b"0")]
    assert [e.stream_id for e in of_type(events, h2.events.StreamEnded)] == [sid]
    assert sid not in pair.server.streams


def test_a_response_ending_before_the_request_body_resets_the_stream_with_no_error() -> None:
    pair = Pair()
    sid = pair.request()
    pair.client.send_data(sid, b"first")
    pair.exchange()
    stream = pair.stream(sid)
    mark = pair.mark()
    stream.send_headers(404, [("content-type", "text/plain")])
    stream.send_data(b"nope", end=True)
    assert [(f.kind, f.flags) for f in pair.since(mark)] == [
        (HEADERS, END_HEADERS),
        (DATA, END_STREAM),
        (RST_STREAM, 0),
    ]
    assert rst_code(pair.since(mark)[-1]) == ErrorCode.NO_ERROR
    assert stream.reset and sid not in pair.server.streams
    # DATA the client sent before it saw the reset is dropped without a word
    pair.client.send_data(sid, b"in flight")
    mark = pair.mark()
    assert pair.to_server()
    assert pair.since(mark) == []
    events = pair.to_client()
    [response] = of_type(events, h2.events.ResponseReceived)
    assert dict(response.headers)[b":status"] == b"404"
    assert body_of(events, sid) == b"nope"
    [reset] = of_type(events, h2.events.StreamReset)
    assert (reset.stream_id, reset.error_code) == (sid, ErrorCode.NO_ERROR)
    # and so is DATA (even with END_STREAM) that arrives after that, built by hand as h2 sends none now
    pair.server.receive(raw(DATA, 0, sid, b"late") + raw(DATA, END_STREAM, sid, b"later"))
    assert list(stream.chunks) == [b"first"]
    assert pair.since(mark) == []
    # the connection carries on
    other = pair.request("/health", method="GET", end=True)
    pair.exchange()
    assert pair.stream(other).path == "/health"


def test_taking_the_body_gives_the_window_back() -> None:
    pair = Pair()
    sid = pair.request()
    pair.exchange()
    stream = pair.stream(sid)
    sent = 0
    for _ in range(6):  # 1.5 MiB through a 1 MiB stream window: only possible if it is given back
        assert pair.client.local_flow_control_window(sid) >= 256 * 1024
        pair.client.send_data(sid, b"x" * 256 * 1024)
        pair.exchange()
        sent += len(take_all(stream))
    assert sent == 6 * 256 * 1024


def test_padded_data_gives_its_whole_length_back_as_window() -> None:
    """RFC 9113 6.1: the pad length and padding count for flow control, so they must be given back."""
    pair = Pair()
    sid = pair.request()
    pair.exchange()
    stream = pair.stream(sid)
    taken = 0
    frames = 5000  # 257 bytes of window each (1 data, 1 pad length, 255 padding): 1.2 MiB in all
    for i in range(frames):
        window = pair.client.local_flow_control_window(sid)
        assert window >= 257, f"the stream's window ran out after {i} frames, all of them read"
        pair.client.send_data(sid, b"x", pad_length=255)
        pair.exchange()
        taken += len(take_all(stream))
    assert taken == frames


def test_padded_data_is_unpadded() -> None:
    pair = Pair()
    sid = pair.request()
    pair.client.send_data(sid, b"abc", pad_length=10)
    pair.client.send_data(sid, b"", pad_length=0)
    pair.client.send_data(sid, b"def", pad_length=255, end_stream=True)
    pair.exchange()
    stream = pair.stream(sid)
    assert list(stream.chunks) == [b"abc", b"def"]
    assert stream.ended


def test_padding_longer_than_the_frame_is_a_protocol_error() -> None:
    pair = Pair()
    sid = pair.request()
    pair.exchange()
    mark = pair.mark()
    with pytest.raises(ProtocolError) as raised:
        pair.server.receive(raw(DATA, PADDED, sid, bytes((3,)) + b"ab"))
    assert raised.value.code == ErrorCode.PROTOCOL_ERROR
    [goaway] = pair.since(mark)
    assert goaway_of(goaway) == (sid, ErrorCode.PROTOCOL_ERROR)


def reframe_headers(data: bytes, make: Callable[[Frame], list[bytes]]) -> tuple[bytes, list[Frame]]:
    """``data`` (what the client sent) with its HEADERS frame rebuilt by ``make``; also the frames."""
    frames = parse(data[len(PREFACE) :] if data.startswith(PREFACE) else data)
    out = b""
    for f in frames:
        out += b"".join(make(f)) if f.kind == HEADERS else raw(*f)
    return out, frames


@pytest.mark.parametrize(
    "flags",
    [PADDED, PRIORITY_FLAG, PADDED | PRIORITY_FLAG],
    ids=["padded", "priority", "padded+priority"],
)
def test_headers_with_padding_and_priority(flags: int) -> None:
    pair = Pair()
    pair.request("/p?q=1", headers=[("x-one", "1")], end=True)

    def padded(f: Frame) -> list[bytes]:
        block = f.payload
        if flags & PRIORITY_FLAG:
            block = b"\x00\x00\x00\x00\x0f" + block  # depends on stream 0, weight 16
        if flags & PADDED:
            block = bytes((7,)) + block + b"\x00" * 7
        return [raw(HEADERS, f.flags | flags, f.stream_id, block)]

    data, _ = reframe_headers(pair.client.data_to_send(), padded)
    pair.server.receive(data)
    [stream] = pair.requests
    assert (stream.path, stream.query, stream.headers, stream.ended) == ("/p", "q=1", {"x-one": "1"}, True)


def test_a_header_block_in_headers_and_continuation_frames() -> None:
    pair = Pair()
    sid = pair.request(headers=[("x-a", "a" * 100), ("x-b", "b" * 100)])

    def split(f: Frame) -> list[bytes]:
        block = f.payload
        third = len(block) // 3
        flags = f.flags & ~END_HEADERS
        return [
            raw(HEADERS, flags, f.stream_id, block[:third]),
            raw(CONTINUATION, 0, f.stream_id, block[third : 2 * third]),
            raw(CONTINUATION, END_HEADERS, f.stream_id, block[2 * third :]),
        ]

    data, frames = reframe_headers(pair.client.data_to_send(), split)
    assert [f.kind for f in frames] == [HEADERS]
    pair.server.receive(data[: len(data) - 20])  # the block is not complete: no request yet
    assert pair.requests == []
    pair.server.receive(data[len(data) - 20 :])
    stream = pair.stream(sid)
    assert stream.headers == {"x-a": "a" * 100, "x-b": "b" * 100}
    assert not stream.ended
    # the decoder is still in step with the client's encoder: a second request reuses its table
    sid2 = pair.request(headers=[("x-a", "a" * 100), ("x-b", "b" * 100)], end=True)
    pair.exchange()
    assert pair.stream(sid2).headers == {"x-a": "a" * 100, "x-b": "b" * 100}


def test_an_endless_header_block_is_a_protocol_error() -> None:
    pair = Pair(max_header_list_size=1000)
    sid = pair.request()
    data, _ = reframe_headers(pair.client.data_to_send(), lambda f: [raw(HEADERS, 0, f.stream_id, f.payload)])
    pair.server.receive(data)
    with pytest.raises(ProtocolError) as raised:
        for _ in range(5):
            pair.server.receive(raw(CONTINUATION, 0, sid, b"\x00" * 1000))
    assert raised.value.code == ErrorCode.PROTOCOL_ERROR
    assert pair.requests == []


def test_trailers_end_the_request() -> None:
    pair = Pair()
    sid = pair.request()
    pair.client.send_data(sid, b"body")
    pair.exchange()
    stream = pair.stream(sid)
    assert not stream.ended
    wakes = pair.wakes[sid]
    pair.client.send_headers(sid, [("x-checksum", "abc")], end_stream=True)
    pair.exchange()
    assert stream.ended
    assert pair.wakes[sid] == wakes + 1
    assert list(stream.chunks) == [b"body"]
    assert len(pair.requests) == 1  # trailers are not a new request
    assert stream.headers == {}  # nor headers of this one


def test_trailers_without_end_stream_are_a_protocol_error() -> None:
    pair = Pair()
    sid = pair.request()
    pair.exchange()
    block = pair.client.encoder.encode([("x-checksum", "abc")])  # h2 would not send these: by hand
    with pytest.raises(ProtocolError) as raised:
        pair.server.receive(raw(HEADERS, END_HEADERS, sid, block))
    assert raised.value.code == ErrorCode.PROTOCOL_ERROR
    assert [f.kind for f in parse(pair.wire)][-1] == GOAWAY


# -- response flow control -----------------------------------------------------------------------------


def test_response_data_beyond_the_clients_window_waits_for_window_update() -> None:
    pair = Pair()
    pair.client.update_settings({h2.settings.SettingCodes.MAX_FRAME_SIZE: 20_000})
    sid = pair.request(method="GET", end=True)
    pair.exchange()
    stream = pair.stream(sid)
    body = bytes(range(256)) * 400  # 102,400 bytes; the client's windows are 65,535 each
    stream.send_headers(200, [])
    mark = pair.mark()
    stream.send_data(body[:90_000])
    stream.send_data(body[90_000:], end=True)  # queued behind the first
    frames = pair.since(mark)
    assert [(f.kind, len(f.payload), f.flags) for f in frames] == [
        (DATA, 20_000, 0),
        (DATA, 20_000, 0),
        (DATA, 20_000, 0),
        (DATA, 5_535, 0),
    ]
    events = pair.exchange()
    assert body_of(events, sid) == body[:65_535]
    assert not of_type(events, h2.events.StreamEnded)
    assert sid in pair.server.streams
    # the connection's window alone is not enough: the stream's is empty too
    mark = pair.mark()
    pair.client.increment_flow_control_window(50_000)
    pair.exchange()
    assert pair.since(mark) == []
    pair.client.increment_flow_control_window(50_000, stream_id=sid)
    more = pair.exchange()
    rest = pair.since(mark)
    assert all(f.kind == DATA and 0 < len(f.payload) <= 20_000 for f in rest)
    assert sum(len(f.payload) for f in rest) == len(body) - 65_535
    assert [f.flags for f in rest] == [0] * (len(rest) - 1) + [END_STREAM]
    assert body_of(events + more, sid) == body
    assert [e.stream_id for e in of_type(more, h2.events.StreamEnded)] == [sid]
    assert sid not in pair.server.streams


def test_a_client_lowering_its_initial_window_size() -> None:
    pair = Pair()
    sid = pair.request(method="GET", end=True)
    pair.exchange()
    stream = pair.stream(sid)
    stream.send_headers(200, [])
    stream.send_data(b"a" * 1000)
    pair.exchange()
    # 65,535 - 1,000 left; lowering the initial window by 65,035 leaves -500
    pair.client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 500})
    pair.exchange()
    mark = pair.mark()
    stream.send_data(b"b" * 300)
    assert pair.since(mark) == []  # queued: the window is below zero
    pair.client.increment_flow_control_window(600, stream_id=sid)  # -500 + 600 = 100
    events = pair.exchange()
    assert [(f.kind, f.payload) for f in pair.since(mark)] == [(DATA, b"b" * 100)]
    assert body_of(events, sid) == b"b" * 100
    # a stream opened after the change starts with the lowered window
    sid2 = pair.request(method="GET", end=True)
    pair.exchange()
    second = pair.stream(sid2)
    second.send_headers(200, [])
    mark = pair.mark()
    second.send_data(b"c" * 800, end=True)
    assert [(f.kind, len(f.payload), f.flags) for f in pair.since(mark)] == [(DATA, 500, 0)]
    # and raising it again releases what waits, on both streams
    pair.client.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 65_535})
    events = pair.exchange()
    assert body_of(events, sid) == b"b" * 200
    assert body_of(events, sid2) == b"c" * 800  # the 500 sent before, and the 300 that waited
    assert [e.stream_id for e in of_type(events, h2.events.StreamEnded)] == [sid2]


# -- resets, refusals, limits ------------------------------------------------------------------------


def test_a_client_reset_marks_the_stream_gone() -> None:
    pair = Pair()
    sid = pair.request()
    pair.exchange()
    stream = pair.stream(sid)
    stream.send_headers(200, [])
    stream.send_data(b"z" * 70_000)  # more than the client's window: some is queued
    pair.exchange()
    assert pair.wakes[sid] == 0
    pair.client.reset_stream(sid, error_code=ErrorCode.CANCEL)
    mark = pair.mark()
    pair.exchange()
    assert stream.reset
    assert pair.wakes[sid] == 1
    assert sid not in pair.server.streams
    with pytest.raises(StreamReset):
        stream.send_data(b"more")
    with pytest.raises(StreamReset):
        stream.send_data(b"", end=True)
    # the queued data is dropped: window given to the connection sends nothing on the reset stream
    pair.client.increment_flow_control_window(100_000)
    pair.exchange()
    assert pair.since(mark) == []


def test_a_reset_before_the_response_makes_send_headers_raise() -> None:
    pair = Pair()
    sid = pair.request()
    pair.exchange()
    stream = pair.stream(sid)
    pair.client.reset_stream(sid)
    pair.exchange()
    assert stream.reset and pair.wakes[sid] == 1
    with pytest.raises(StreamReset):
        stream.send_headers(200, [])
    assert isinstance(StreamReset("x"), RuntimeError)


def test_streams_beyond_max_streams_are_refused() -> None:
    pair = Pair(max_streams=2, connect=False)
    # the client has not seen our SETTINGS yet, so it opens more than we allow
    first, second, third = pair.request(), pair.request(), pair.request(end=True)
    mark = pair.mark()
    pair.to_server()
    assert [s.id for s in pair.requests] == [first, second]
    refused = [f for f in pair.since(mark) if f.kind == RST_STREAM]
    assert [(f.stream_id, rst_code(f)) for f in refused] == [(third, ErrorCode.REFUSED_STREAM)]
    events = pair.exchange()
    [reset] = of_type(events, h2.events.StreamReset)
    assert (reset.stream_id, reset.error_code) == (third, ErrorCode.REFUSED_STREAM)
    # DATA the client had in flight for the refused stream is dropped without an error
    pair.server.receive(raw(DATA, END_STREAM, third, b"late"))
    # once a stream is over, there is room for another
    done = pair.stream(first)
    pair.client.end_stream(first)
    pair.exchange()
    done.send_headers(200, [], end=True)
    pair.exchange()
    fourth = pair.request(end=True)
    pair.exchange()
    assert [s.id for s in pair.requests] == [first, second, fourth]


@pytest.mark.parametrize("end", [True, False], ids=["request-ended", "request-open"])
def test_an_oversize_header_list_gets_431(end: bool) -> None:
    pair = Pair(max_header_list_size=1000)
    sid = pair.request(headers=[("x-big", "a" * 2000)], end=end)
    events = pair.exchange()
    assert pair.requests == []  # never reaches the app
    [response] = of_type(events, h2.events.ResponseReceived)
    assert response.stream_id == sid
    assert dict(response.headers)[b":status"] == b"431"
    assert body_of(events, sid)
    assert [e.stream_id for e in of_type(events, h2.events.StreamEnded)] == [sid]
    resets = of_type(events, h2.events.StreamReset)
    assert [(r.stream_id, r.error_code) for r in resets] == ([] if end else [(sid, ErrorCode.NO_ERROR)])
    assert sid not in pair.server.streams


def test_the_header_table_stays_in_step_after_an_oversize_header_list() -> None:
    """A header block must be decoded in full even when refused (RFC 9113 4.3), else later requests
    that refer to the client's HPACK dynamic table decode to the wrong headers."""
    pair = Pair(max_header_list_size=1000)
    pair.request("/big", headers=[("x-big", "a" * 2000), ("x-after", "z")], end=True)
    events = pair.exchange()
    [response] = of_type(events, h2.events.ResponseReceived)
    assert dict(response.headers)[b":status"] == b"431"
    # h2's encoder indexed x-after in the block above: this request refers to it by its table index
    sid = pair.request("/small", headers=[("x-after", "z")], end=True)
    events = pair.exchange()
    assert not of_type(events, h2.events.ResponseReceived)  # no 431 for a small request
    stream = pair.stream(sid)
    assert (stream.path, stream.headers) == ("/small", {"x-after": "z"})


# -- protocol errors: a GOAWAY with the right code, and ProtocolError -------------------------------


def test_bytes_that_are_not_the_preface() -> None:
    written = bytearray()
    server = ServerConnection(written.extend, lambda s: None, max_streams=10, max_header_list_size=1000)
    with pytest.raises(ProtocolError) as raised:
        server.receive(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raised.value.code == ErrorCode.PROTOCOL_ERROR
    [goaway] = parse(written)
    assert goaway_of(goaway) == (0, ErrorCode.PROTOCOL_ERROR)


def test_a_preface_going_wrong_part_way_fails_at_the_first_wrong_byte() -> None:
    written = bytearray()
    server = ServerConnection(written.extend, lambda s: None, max_streams=10, max_header_list_size=1000)
    bad = b"PRI * HTTP/1.1"
    for byte in bad[:-3]:
        server.receive(bytes((byte,)))  # still a prefix of the preface
    assert written == b""
    with pytest.raises(ProtocolError):
        server.receive(bad[-3:-2])  # "1" where the preface has "2"
    assert goaway_of(parse(written)[0])[1] == ErrorCode.PROTOCOL_ERROR


TOO_LONG = (SERVER_MAX_FRAME + 1).to_bytes(3, "big") + bytes((DATA, 0)) + (1).to_bytes(4, "big")


@pytest.mark.parametrize(
    ("bad", "code", "last"),
    [
        # the length field alone says too much: the server need not wait for the payload
        pytest.param(TOO_LONG, ErrorCode.FRAME_SIZE_ERROR, 1, id="frame-too-long"),
        pytest.param(raw(DATA, 0, 0, b"data"), ErrorCode.PROTOCOL_ERROR, 1, id="data-on-stream-0"),
        pytest.param(
            raw(PUSH_PROMISE, END_HEADERS, 1, (2).to_bytes(4, "big") + b"\x82"),
            ErrorCode.PROTOCOL_ERROR,
            1,
            id="push-promise",
        ),
        pytest.param(
            raw(HEADERS, END_HEADERS | END_STREAM, 2, b"\x82\x84"),
            ErrorCode.PROTOCOL_ERROR,
            1,
            id="even-stream-id",
        ),
        pytest.param(
            raw(HEADERS, END_HEADERS, 0, b"\x82\x84"), ErrorCode.PROTOCOL_ERROR, 1, id="headers-on-stream-0"
        ),
        # a header block (stream 3, no END_HEADERS) interrupted by another frame
        pytest.param(
            raw(HEADERS, 0, 3, b"\x82") + raw(PING, 0, 0, b"12345678"),
            ErrorCode.PROTOCOL_ERROR,
            3,
            id="interrupted-by-ping",
        ),
        pytest.param(
            raw(HEADERS, 0, 3, b"\x82") + raw(CONTINUATION, END_HEADERS, 5, b"\x84"),
            ErrorCode.PROTOCOL_ERROR,
            3,
            id="interrupted-by-continuation-of-another-stream",
        ),
        pytest.param(
            raw(CONTINUATION, END_HEADERS, 3, b"\x84"),
            ErrorCode.PROTOCOL_ERROR,
            1,
            id="continuation-without-headers",
        ),
        pytest.param(
            raw(DATA, 0, 9, b"never opened"), ErrorCode.PROTOCOL_ERROR, 1, id="data-on-an-idle-stream"
        ),
        pytest.param(
            raw(SETTINGS, 0, 0, b"\x00\x04"), ErrorCode.FRAME_SIZE_ERROR, 1, id="settings-not-a-multiple-of-6"
        ),
        pytest.param(
            raw(SETTINGS, 0, 0, struct.pack(">HI", 0x4, 2**31)),
            ErrorCode.FLOW_CONTROL_ERROR,
            1,
            id="initial-window-too-large",
        ),
        pytest.param(
            raw(SETTINGS, 0, 0, struct.pack(">HI", 0x5, 100)),
            ErrorCode.PROTOCOL_ERROR,
            1,
            id="max-frame-size-too-small",
        ),
        pytest.param(raw(PING, 0, 0, b"short"), ErrorCode.FRAME_SIZE_ERROR, 1, id="ping-not-8-bytes"),
        pytest.param(
            raw(WINDOW_UPDATE, 0, 0, (0).to_bytes(4, "big")),
            ErrorCode.PROTOCOL_ERROR,
            1,
            id="window-update-of-0",
        ),
        pytest.param(  # the connection's window is at 2^31 - 1 already
            raw(WINDOW_UPDATE, 0, 0, (1).to_bytes(4, "big")),
            ErrorCode.FLOW_CONTROL_ERROR,
            1,
            id="connection-window-overflow",
        ),
        pytest.param(
            raw(HEADERS, END_HEADERS | END_STREAM, 3, b"\xff" * 10),
            ErrorCode.COMPRESSION_ERROR,
            3,
            id="bad-hpack",
        ),
    ],
)
def test_protocol_errors_end_the_connection_with_goaway(bad: bytes, code: ErrorCode, last: int) -> None:
    pair = Pair()
    sid = pair.request()  # an open stream: the GOAWAY names it as the last one
    pair.exchange()
    pair.client.increment_flow_control_window(MAX_WINDOW - 65_535)  # the connection window at its maximum
    pair.exchange()
    mark = pair.mark()
    with pytest.raises(ProtocolError) as raised:
        pair.server.receive(bad)
    assert raised.value.code == code
    [goaway] = pair.since(mark)
    assert sid == 1
    assert goaway_of(goaway) == (last, code)
    [terminated] = of_type(pair.to_client(), h2.events.ConnectionTerminated)
    assert (terminated.error_code, terminated.last_stream_id) == (code, last)


# -- receive in pieces, connection_lost, goaway ----------------------------------------------------


def scripted_client_bytes() -> bytes:
    """A client's whole side of a conversation, sent without waiting for the server."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
    client.initiate_connection()
    fields = [(":method", "POST"), (":path", "/invoke/S/h?x=1"), (":scheme", "http"), (":authority", "a")]
    client.send_headers(1, [*fields, ("content-type", "application/x")])
    client.send_data(1, b"hello ")
    client.send_data(1, b"padded", pad_length=20)
    client.ping(b"pingpong")
    client.send_headers(
        3, [(":method", "GET"), (":path", "/health"), (":scheme", "http"), (":authority", "a")]
    )
    client.send_data(1, b"world")
    client.send_headers(1, [("x-trailer", "t")], end_stream=True)
    client.send_data(3, b"", end_stream=True)
    client.send_headers(5, [*fields, ("content-type", "application/y")])
    client.reset_stream(5)
    return client.data_to_send()


def replay(pieces: list[bytes]) -> tuple[bytes, list[tuple[object, ...]]]:
    written = bytearray()
    requests: list[ServerStream] = []
    wakes: list[int] = []

    def on_request(stream: ServerStream) -> None:
        requests.append(stream)
        stream.wake = lambda: wakes.append(stream.id)

    server = ServerConnection(written.extend, on_request, max_streams=10, max_header_list_size=1000)
    server.initiate()
    for piece in pieces:
        server.receive(piece)
    seen: list[tuple[object, ...]] = [
        (s.id, s.method, s.path, s.query, s.headers, list(s.chunks), s.ended, s.reset) for s in requests
    ]
    seen.append(tuple(wakes))
    return bytes(written), seen


def test_receive_one_byte_at_a_time_is_the_same_as_all_at_once() -> None:
    data = scripted_client_bytes()
    whole = replay([data])
    bytewise = replay([data[i : i + 1] for i in range(len(data))])
    assert bytewise == whole
    written, seen = whole
    # and what it is: three requests, the first with its body and trailers, the third reset
    assert seen[:3] == [
        (
            1,
            "POST",
            "/invoke/S/h",
            "x=1",
            {"content-type": "application/x"},
            [b"hello ", b"padded", b"world"],
            True,
            False,
        ),
        (3, "GET", "/health", "", {}, [], True, False),
        (5, "POST", "/invoke/S/h", "x=1", {"content-type": "application/y"}, [], False, True),
    ]
    assert seen[3] == (1, 1, 1, 1, 3, 5)
    kinds = [(f.kind, f.flags) for f in parse(written)]
    assert kinds == [(SETTINGS, 0), (WINDOW_UPDATE, 0), (SETTINGS, ACK), (PING, ACK)]


def test_connection_lost_marks_open_streams_reset_and_wakes_them() -> None:
    pair = Pair()
    open_sid = pair.request()
    ended_sid = pair.request(end=True)  # request complete, response not sent yet
    pair.exchange()
    pair.server.connection_lost()
    for sid in (open_sid, ended_sid):
        stream = pair.stream(sid)
        assert stream.reset
        assert pair.wakes[sid] == 1
        with pytest.raises(StreamReset):
            stream.send_headers(200, [])
    assert pair.server.streams == {}


def test_after_goaway_new_requests_are_refused_and_open_ones_finish() -> None:
    pair = Pair()
    sid = pair.request(method="GET", end=True)
    pair.exchange()
    mark = pair.mark()
    pair.server.goaway()
    [goaway] = pair.since(mark)
    assert goaway_of(goaway) == (sid, ErrorCode.NO_ERROR)
    assert pair.server.going_away
    late = pair.request(method="GET", end=True)  # sent before the client saw the GOAWAY
    mark = pair.mark()
    pair.to_server()
    assert [s.id for s in pair.requests] == [sid]
    [refused] = pair.since(mark)
    assert (refused.stream_id, rst_code(refused)) == (late, ErrorCode.REFUSED_STREAM)
    # the stream that was open may still answer
    pair.stream(sid).send_headers(200, [("content-length", "2")])
    pair.stream(sid).send_data(b"ok", end=True)
    frames = pair.since(mark)[1:]
    assert [(f.kind, f.stream_id, f.flags) for f in frames] == [
        (HEADERS, sid, END_HEADERS),
        (DATA, sid, END_STREAM),
    ]


def test_a_client_goaway_refuses_later_streams() -> None:
    pair = Pair()
    pair.server.receive(raw(GOAWAY, 0, 0, (0).to_bytes(4, "big") + (0).to_bytes(4, "big")))
    mark = pair.mark()
    sid = pair.request(end=True)
    pair.to_server()
    assert pair.requests == []
    [refused] = pair.since(mark)
    assert (refused.stream_id, rst_code(refused)) == (sid, ErrorCode.REFUSED_STREAM)


def test_unknown_frame_types_and_priority_are_ignored() -> None:
    pair = Pair()
    sid = pair.request()
    pair.exchange()
    mark = pair.mark()
    pair.server.receive(raw(0xFA, 0xFF, 0, b"whatever") + raw(PRIORITY, 0, sid, b"\x00\x00\x00\x00\x10"))
    assert pair.since(mark) == []
    pair.client.send_data(sid, b"still here", end_stream=True)
    pair.exchange()
    assert list(pair.stream(sid).chunks) == [b"still here"]
