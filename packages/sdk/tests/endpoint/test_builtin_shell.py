"""The builtin server's shell, frame by frame: chunks pushed into an attempt, writes per loop turn.

An attempt on the builtin server reads its notifications without a reader Task: the frame parser
hands each chunk to the attempt as it arrives (``_Request.listen``). What it hands over must be what
``RsgiReceive.read`` would have returned, in order, ending with the end of the body or ``None`` for a
stream that is gone. And what a connection's streams write in one turn of the loop goes out in one
write to the socket.
"""

from __future__ import annotations

import asyncio

import hpack
import restate_sdk as restate
from restate_sdk._endpoint.builtin import _Connection, _Request, _Server  # pyright: ignore[reportPrivateUsage]
from restate_sdk._endpoint.http2 import ServerConnection, ServerStream

from .wire import DATA, END_HEADERS, END_STREAM, HEADERS, PREFACE, RST_STREAM, SETTINGS
from .wire import raw as frame

Chunk = tuple[bytes, bool] | None


def connect() -> tuple[ServerConnection, list[ServerStream]]:
    requests: list[ServerStream] = []
    conn = ServerConnection(lambda data: None, requests.append, max_streams=10, max_header_list_size=65536)
    conn.initiate()
    block = hpack.Encoder().encode([(":method", "POST"), (":path", "/invoke/S/h"), (":scheme", "http")])
    conn.receive(PREFACE + frame(4, 0, 0) + frame(HEADERS, END_HEADERS, 1, block))
    return conn, requests


async def test_chunks_are_handed_over_as_they_arrive_then_the_end() -> None:
    conn, (stream,) = connect()
    request = _Request(stream, asyncio.get_running_loop())
    got: list[Chunk] = []
    request.listen(got.append)
    conn.receive(frame(DATA, 0, 1, b"one"))
    assert got == [(b"one", False)]  # inside receive(): no loop turn, no Task
    conn.receive(frame(DATA, 0, 1, b"two") + frame(DATA, END_STREAM, 1, b"three"))
    assert got == [(b"one", False), (b"two", False), (b"three", True)]


async def test_an_empty_end_of_stream_frame_is_the_end() -> None:
    conn, (stream,) = connect()
    got: list[Chunk] = []
    _Request(stream, asyncio.get_running_loop()).listen(got.append)
    conn.receive(frame(DATA, 0, 1, b"x") + frame(DATA, END_STREAM, 1))
    assert got == [(b"x", False), (b"", True)]


async def test_chunks_buffered_before_listening_come_at_the_next_turn() -> None:
    conn, (stream,) = connect()
    conn.receive(frame(DATA, 0, 1, b"early"))
    got: list[Chunk] = []
    _Request(stream, asyncio.get_running_loop()).listen(got.append)
    assert got == []  # not inside listen(): the attempt is in the middle of starting a wait
    await asyncio.sleep(0)
    assert got == [(b"early", False)]
    conn.receive(frame(DATA, 0, 1, b"late"))
    assert got == [(b"early", False), (b"late", False)]


async def test_a_reset_stream_is_none_and_nothing_after_it() -> None:
    conn, (stream,) = connect()
    got: list[Chunk] = []
    _Request(stream, asyncio.get_running_loop()).listen(got.append)
    conn.receive(frame(DATA, 0, 1, b"a") + frame(RST_STREAM, 0, 1, (8).to_bytes(4, "big")))
    assert got == [(b"a", False), None]
    conn.connection_lost()
    assert got == [(b"a", False), None]


async def test_a_lost_connection_is_none() -> None:
    conn, (stream,) = connect()
    got: list[Chunk] = []
    _Request(stream, asyncio.get_running_loop()).listen(got.append)
    conn.connection_lost()
    assert got == [None]


async def test_after_stop_nothing_is_handed_over_and_async_for_reads_on() -> None:
    conn, (stream,) = connect()
    request = _Request(stream, asyncio.get_running_loop())
    got: list[Chunk] = []
    stop = request.listen(got.append)
    conn.receive(frame(DATA, 0, 1, b"a"))
    stop()
    conn.receive(frame(DATA, 0, 1, b"b"))
    assert got == [(b"a", False)]
    chunks = request.__aiter__()
    assert await asyncio.wait_for(chunks.__anext__(), 1) == b"b"
    reading = asyncio.ensure_future(chunks.__anext__())
    await asyncio.sleep(0)
    conn.receive(frame(DATA, END_STREAM, 1, b"c"))
    assert await asyncio.wait_for(reading, 1) == b"c"


async def test_a_failing_receiver_ends_its_own_input_not_the_connection() -> None:
    conn, (stream,) = connect()
    calls: list[Chunk] = []

    def deliver(chunk: Chunk) -> None:
        calls.append(chunk)
        raise RuntimeError("boom")

    _Request(stream, asyncio.get_running_loop()).listen(deliver)
    conn.receive(frame(DATA, 0, 1, b"a"))
    conn.receive(frame(DATA, 0, 1, b"b"))  # the parser carries on; that attempt gets no more
    assert calls == [(b"a", False)]
    assert list(stream.chunks) == [b"b"]


class RecordingTransport:
    """The part of an asyncio transport the shell uses, recording each write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> None:
        return None


def headers_frames(data: bytes) -> list[int]:
    """The stream ids of the HEADERS frames in ``data``."""
    ids: list[int] = []
    while data:
        length = int.from_bytes(data[:3], "big")
        if data[3] == HEADERS:
            ids.append(int.from_bytes(data[5:9], "big"))
        data = data[9 + length :]
    return ids


async def test_what_streams_write_in_one_turn_goes_out_in_one_write() -> None:
    server = _Server(
        restate.app([]), max_streams=10, max_header_list_size=65536, grace=1.0, idle_timeout=None
    )
    conn = _Connection(server)
    transport = RecordingTransport()
    conn.connection_made(transport)  # pyright: ignore[reportArgumentType]
    encoder = hpack.Encoder()
    requests = b"".join(
        frame(
            HEADERS, END_HEADERS | END_STREAM, sid, encoder.encode([(":method", "GET"), (":path", "/health")])
        )
        for sid in (1, 3, 5)
    )
    conn.data_received(PREFACE + frame(SETTINGS, 0, 0) + requests)
    assert transport.writes == []  # nothing inside the callback: it goes out at the end of the turn
    for _ in range(5):
        await asyncio.sleep(0)
    assert not server.tasks
    answers = [w for w in transport.writes if headers_frames(w)]
    assert len(answers) == 1 and headers_frames(answers[0]) == [1, 3, 5]  # three responses, one write
