"""``serve_builtin``, the asyncio HTTP server, over real loopback sockets (127.0.0.1).

The server runs in-process as a task on the test's event loop, on a socket bound to port 0, serving a
small ``restate.app([...])``. Clients speak h2c (frames built here, header blocks by ``hpack``) and
HTTP/1.1 (``h11``): /health and /discover on both, keep-alive and the idle timeout of HTTP/1.1
connections, a malformed request or frame costing its own connection only, many concurrent streams on one connection, and the shutdown (GOAWAY, the
grace period for open requests, and serve_builtin returning). ``serve(server="builtin")`` is checked
for its usage error, and once in a real process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import Any

import h11
import hpack
import pytest
import restate_sdk as restate
from restate_sdk._endpoint.builtin import serve_builtin
from restate_sdk._engine import messages as m

from .wire import (
    ACK,
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADERS,
    PING,
    PREFACE,
    RST_STREAM,
    SETTINGS,
    WINDOW_UPDATE,
    Frame,
    invocation,
    messages,
    raw,
)

svc = restate.Service("Builtin")


@svc.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


APP = restate.app([svc])

NO_ERROR, PROTOCOL_ERROR = 0x0, 0x1
INVOCATION_CT = "application/vnd.restate.invocation.v6"
MANIFEST_V2 = "application/vnd.restate.endpointmanifest.v2+json"


# -- the server ---------------------------------------------------------------------------------------


@dataclass
class Running:
    port: int
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def shut_down(self, timeout: float = 5.0) -> float:
        """Trigger the shutdown; the seconds until serve_builtin returned."""
        started = time.monotonic()
        self.stop.set()
        await asyncio.wait_for(asyncio.shield(self.task), timeout)
        return time.monotonic() - started


@contextlib.asynccontextmanager
async def serving(
    app: Any = APP, *, max_streams: int = 100, grace: float = 5.0, idle_timeout: float | None = 5.0
) -> AsyncGenerator[Running]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    stop = asyncio.Event()

    async def shutdown_trigger() -> None:
        await stop.wait()

    task = asyncio.create_task(
        serve_builtin(
            app,
            sock,
            shutdown_trigger,
            max_streams=max_streams,
            max_header_list_size=64 * 1024,
            grace=grace,
            idle_timeout=idle_timeout,
        )
    )
    try:
        yield Running(sock.getsockname()[1], stop, task)
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 10)
        finally:
            sock.close()


# -- an h2c client, frame by frame ----------------------------------------------------------------------


@dataclass
class Response:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict[str, str])
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False
    reset: int | None = None  # the RST_STREAM error code, if the server reset the stream
    done_at: float = 0.0

    @property
    def done(self) -> bool:
        return self.ended or self.reset is not None


class H2:
    """A plain h2c client: requests out as frames, responses gathered per stream."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.next_id = 1
        self.responses: dict[int, Response] = {}
        self.server_settings: dict[int, int] | None = None
        self.goaway: tuple[int, int] | None = None  # (last stream id, error code)
        self.goaway_at = 0.0
        self.closed = False
        self._block: bytes | None = None

    @classmethod
    async def connect(cls, port: int) -> H2:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        settings = (0x4).to_bytes(2, "big") + (1 << 20).to_bytes(4, "big")  # INITIAL_WINDOW_SIZE 1 MiB
        writer.write(
            PREFACE + raw(SETTINGS, 0, 0, settings) + raw(WINDOW_UPDATE, 0, 0, (1 << 30).to_bytes(4, "big"))
        )
        await writer.drain()
        return client

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        end: bool = True,
    ) -> int:
        """HEADERS (and one DATA if ``body``); ``end`` ends the request with the last frame."""
        sid = self.next_id
        self.next_id += 2
        self.responses[sid] = Response()
        fields = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "localhost")]
        block = self.encoder.encode([*fields, *headers])
        flags = END_HEADERS | (END_STREAM if end and body is None else 0)
        self.send(raw(HEADERS, flags, sid, block))
        if body is not None:
            self.data(sid, body, end=end)
        return sid

    def data(self, sid: int, data: bytes, *, end: bool = False) -> None:
        self.send(raw(DATA, END_STREAM if end else 0, sid, data))

    async def frame(self) -> Frame | None:
        """The next frame from the server, applied; None once the connection is closed."""
        try:
            head = await self.reader.readexactly(9)
            payload = await self.reader.readexactly(int.from_bytes(head[:3], "big"))
        except (asyncio.IncompleteReadError, ConnectionResetError):
            self.closed = True
            return None
        f = Frame(head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF, payload)
        now = time.monotonic()
        if f.kind == SETTINGS and not f.flags & ACK:
            self.server_settings = {
                int.from_bytes(payload[i : i + 2], "big"): int.from_bytes(payload[i + 2 : i + 6], "big")
                for i in range(0, len(payload), 6)
            }
            self.send(raw(SETTINGS, ACK, 0))
        elif f.kind == HEADERS:
            assert f.flags & END_HEADERS, "the server sends a header block in one frame"
            response = self.responses[f.stream_id]
            fields: list[tuple[str, str]] = self.decoder.decode(payload)  # pyright: ignore[reportAssignmentType]
            response.headers = {k: v for k, v in fields if not k.startswith(":")}
            response.status = int(dict(fields)[":status"])
            if f.flags & END_STREAM:
                response.ended, response.done_at = True, now
        elif f.kind == DATA:
            response = self.responses[f.stream_id]
            response.body += payload
            if f.flags & END_STREAM:
                response.ended, response.done_at = True, now
        elif f.kind == RST_STREAM:
            response = self.responses[f.stream_id]
            if not response.done:
                response.done_at = now
            response.reset = int.from_bytes(payload, "big")
        elif f.kind == GOAWAY:
            self.goaway = (int.from_bytes(payload[:4], "big"), int.from_bytes(payload[4:8], "big"))
            self.goaway_at = now
        elif f.kind == PING and not f.flags & ACK:
            self.send(raw(PING, ACK, 0, payload))
        return f

    async def response(self, sid: int, timeout: float = 5.0) -> Response:
        async with asyncio.timeout(timeout):
            while not self.responses[sid].done:
                if await self.frame() is None:
                    raise AssertionError(f"the connection closed before stream {sid} was answered")
        return self.responses[sid]

    async def until_closed(self, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while await self.frame() is not None:
                pass

    async def until_goaway(self, timeout: float = 5.0) -> tuple[int, int]:
        async with asyncio.timeout(timeout):
            while self.goaway is None:
                if await self.frame() is None:
                    raise AssertionError("closed without a GOAWAY")
        return self.goaway

    def close(self) -> None:
        self.writer.close()


# -- an HTTP/1.1 client --------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class H1:
    """HTTP/1.1 through h11, one request at a time, on one (kept-alive) connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.CLIENT)

    @classmethod
    async def connect(cls, port: int) -> H1:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, event: h11.Request | h11.Data | h11.EndOfMessage) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)

    def start(self, method: str, path: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send(h11.Request(method=method, target=path, headers=[("host", "localhost"), *headers]))

    async def request(
        self, method: str, path: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
    ) -> Reply:
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        self.start(method, path, [*headers, ("content-length", str(len(body)))])
        if body:
            self.send(h11.Data(data=body))
        self.send(h11.EndOfMessage())
        return await self.reply()

    async def reply(self, timeout: float = 5.0) -> Reply:
        status, headers, body = 0, dict[str, str](), bytearray()
        async with asyncio.timeout(timeout):
            while True:
                event = self.conn.next_event()
                if event is h11.NEED_DATA:
                    self.conn.receive_data(await self.reader.read(65536))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                    headers = {k.decode(): v.decode() for k, v in event.headers}
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    return Reply(status, headers, bytes(body))
                elif isinstance(event, h11.ConnectionClosed):
                    raise AssertionError("the connection closed before the response ended")

    def close(self) -> None:
        self.writer.close()


async def read_to_eof(reader: asyncio.StreamReader, timeout: float = 5.0) -> bytes:
    async with asyncio.timeout(timeout):
        return await reader.read()


# -- the invocation protocol, for requests that run a handler ------------------------------------------


# -- /health and /discover --------------------------------------------------------------------------


async def test_health_and_discover_over_h2c() -> None:
    async with serving(max_streams=33) as server:
        client = await H2.connect(server.port)
        health = client.request("/health")
        discover = client.request("/discover", headers=[("accept", MANIFEST_V2)])
        answer = await client.response(health)
        assert (answer.status, bytes(answer.body), answer.reset) == (200, b'{"status":"ok"}', None)
        assert answer.headers["content-type"] == "application/json"
        manifest = await client.response(discover)
        assert manifest.status == 200
        assert manifest.headers["content-type"] == MANIFEST_V2
        document = json.loads(manifest.body)
        assert document["protocolMode"] == "BIDI_STREAM"  # the endpoint was told it is HTTP/2
        assert [s["name"] for s in document["services"]] == ["Builtin"]
        assert client.server_settings is not None and client.server_settings[0x3] == 33
        client.close()


async def test_health_and_discover_over_http11_on_one_kept_alive_connection() -> None:
    async with serving() as server:
        client = await H1.connect(server.port)
        health = await client.request("GET", "/health")
        assert (health.status, health.body) == (200, b'{"status":"ok"}')
        assert health.headers["content-length"] == str(len(health.body))
        discover = await client.request("GET", "/discover", headers=[("accept", MANIFEST_V2)])
        assert discover.status == 200
        assert json.loads(discover.body)["protocolMode"] == "REQUEST_RESPONSE"  # HTTP/1.1
        # a request with a body on the same connection, then another
        again = await client.request("POST", "/health", body=b"ignored")
        assert again.status == 200
        assert (await client.request("GET", "/nowhere")).status == 404
        client.close()


async def test_an_invocation_over_http11() -> None:
    async with serving() as server:
        client = await H1.connect(server.port)
        reply = await client.request(
            "POST",
            "/invoke/Builtin/greet",
            headers=[("content-type", INVOCATION_CT)],
            body=invocation(b'"Ada"'),
        )
        assert reply.status == 200
        out = messages(reply.body)
        assert isinstance(out[0], m.OutputCommandMessage) and out[0].value == b'"Hello Ada!"'
        assert isinstance(out[-1], m.EndMessage)
        client.close()


async def test_a_malformed_http11_request_gets_400_and_others_are_served() -> None:
    async with serving() as server:
        good = await H1.connect(server.port)
        assert (await good.request("GET", "/health")).status == 200
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"this is not HTTP\r\n\r\n")
        answer = await read_to_eof(reader)  # answered, then closed
        assert re.match(rb"HTTP/1\.1 400 ", answer), answer
        writer.close()
        # the connection opened before, and a new one, are served
        assert (await good.request("GET", "/health")).status == 200
        fresh = await H1.connect(server.port)
        assert (await fresh.request("GET", "/health")).status == 200
        good.close()
        fresh.close()


async def test_a_malformed_h2_frame_closes_that_connection_only() -> None:
    async with serving() as server:
        other = await H2.connect(server.port)
        pending = other.request("/health", method="POST", body=b"part", end=False)  # open across the failure
        bad = await H2.connect(server.port)
        assert (await bad.response(bad.request("/health"))).status == 200
        bad.send(raw(DATA, 0, 0, b"DATA on stream 0"))
        await bad.until_closed()
        assert bad.goaway is not None and bad.goaway[1] == PROTOCOL_ERROR
        other.data(pending, b"", end=True)
        assert (await other.response(pending)).status == 200
        assert (await other.response(other.request("/health"))).status == 200
        other.close()


async def test_the_preface_and_a_request_line_arriving_in_pieces() -> None:
    """The server tells HTTP/2 from HTTP/1.1 by the first bytes, however few arrive at a time."""
    async with serving() as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        client = H2(reader, writer)
        fields = [(":method", "GET"), (":path", "/health"), (":scheme", "http"), (":authority", "x")]
        data = (
            PREFACE
            + raw(SETTINGS, 0, 0)
            + raw(HEADERS, END_HEADERS | END_STREAM, 1, client.encoder.encode(fields))
        )
        client.responses[1] = Response()
        for piece in (data[:1], data[1:5], data[5:23], data[23:]):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)
        answer = await client.response(1)
        assert (answer.status, bytes(answer.body)) == (200, b'{"status":"ok"}')
        writer.close()
        # "POST" starts like the preface ("PRI ...") for one byte only
        h1 = await H1.connect(server.port)
        request = h1.conn.send(
            h11.Request(method="POST", target="/health", headers=[("host", "x"), ("content-length", "0")])
        )
        request += h1.conn.send(h11.EndOfMessage())
        for piece in (request[:1], request[1:]):
            h1.writer.write(piece)
            await h1.writer.drain()
            await asyncio.sleep(0.01)
        reply = await h1.reply()
        assert (reply.status, reply.body) == (200, b'{"status":"ok"}')
        h1.close()


async def test_an_idle_http11_connection_is_closed_after_the_idle_timeout() -> None:
    idle = 0.3
    async with serving(idle_timeout=idle) as server:
        # kept alive between requests for less than the timeout ...
        client = await H1.connect(server.port)
        assert (await client.request("GET", "/health")).status == 200
        await asyncio.sleep(idle / 3)
        assert (await client.request("GET", "/health")).status == 200
        # ... and closed once idle for longer, with nothing more sent
        answered = time.monotonic()
        assert await read_to_eof(client.reader) == b""
        assert idle - 0.05 <= time.monotonic() - answered < idle + 1.0
        client.close()


async def test_a_connection_that_sends_nothing_or_a_trickled_head_is_closed() -> None:
    idle = 0.3
    async with serving(idle_timeout=idle) as server:
        silent_reader, silent = await asyncio.open_connection("127.0.0.1", server.port)
        trickle_reader, trickle = await asyncio.open_connection("127.0.0.1", server.port)
        opened = time.monotonic()
        head = b"GET /health HTTP/1.1\r\nhost: x\r\n"
        for i in range(5):  # a byte every 50 ms: the head is far from complete at the timeout
            trickle.write(head[i : i + 1])
            await asyncio.sleep(0.05)
        assert await read_to_eof(trickle_reader) == b""  # closed without an answer
        assert await read_to_eof(silent_reader) == b""
        assert idle - 0.05 <= time.monotonic() - opened < idle + 1.5
        silent.close()
        trickle.close()
        # the server itself goes on
        fresh = await H1.connect(server.port)
        assert (await fresh.request("GET", "/health")).status == 200
        fresh.close()


async def test_a_request_in_progress_outlives_the_idle_timeout() -> None:
    idle = 0.2
    async with serving(idle_timeout=idle) as server:
        client = await H1.connect(server.port)
        body = invocation(b'"Ada"')
        client.start(
            "POST",
            "/invoke/Builtin/greet",
            [("content-type", INVOCATION_CT), ("content-length", str(len(body)))],
        )
        client.send(h11.Data(data=body[:10]))
        await asyncio.sleep(idle * 3)  # the body is late, but the request is under way
        client.send(h11.Data(data=body[10:]))
        client.send(h11.EndOfMessage())
        reply = await client.reply()
        assert reply.status == 200
        out = messages(reply.body)
        assert isinstance(out[0], m.OutputCommandMessage) and out[0].value == b'"Hello Ada!"'
        client.close()


async def test_an_idle_h2c_connection_stays_open() -> None:
    idle = 0.2
    async with serving(idle_timeout=idle) as server:
        client = await H2.connect(server.port)
        assert (await client.response(client.request("/health"))).status == 200
        await asyncio.sleep(idle * 3)
        assert (await client.response(client.request("/health"))).status == 200
        assert client.goaway is None
        client.close()


async def test_many_concurrent_streams_on_one_connection() -> None:
    async with serving() as server:
        client = await H2.connect(server.port)
        names = [f"n{i}" for i in range(60)]
        headers = [("content-type", INVOCATION_CT)]
        # every request open at once (headers first), then their bodies, in reverse order
        sids = [
            client.request("/invoke/Builtin/greet", method="POST", headers=headers, end=False) for _ in names
        ]
        for sid, name in reversed(list(zip(sids, names, strict=True))):
            client.data(sid, invocation(json.dumps(name).encode()), end=True)
        for sid, name in zip(sids, names, strict=True):
            response = await client.response(sid)
            assert response.status == 200
            out = messages(bytes(response.body))
            assert isinstance(out[0], m.OutputCommandMessage)
            assert out[0].value == json.dumps(f"Hello {name}!").encode()
            assert isinstance(out[-1], m.EndMessage)
        client.close()


# -- shutdown ---------------------------------------------------------------------------------------


async def test_shutdown_sends_goaway_to_an_idle_h2_connection_and_returns() -> None:
    async with serving() as server:
        client = await H2.connect(server.port)
        sid = client.request("/health")
        assert (await client.response(sid)).status == 200
        h1 = await H1.connect(server.port)  # an idle kept-alive HTTP/1.1 connection too
        assert (await h1.request("GET", "/health")).status == 200
        elapsed = await server.shut_down()
        assert elapsed < 1.0  # idle connections are not waited for (the grace period is 5 s)
        assert await client.until_goaway() == (sid, NO_ERROR)
        await client.until_closed()
        assert await read_to_eof(h1.reader) == b""
        client.close()
        h1.close()


async def test_a_request_finishing_in_the_grace_period_is_answered() -> None:
    async with serving(grace=3.0) as server:
        client = await H2.connect(server.port)
        sid = client.request("/health", method="POST", body=b"part", end=False)
        await asyncio.sleep(0.05)  # let the request reach the endpoint
        started = time.monotonic()
        server.stop.set()
        assert await client.until_goaway() == (sid, NO_ERROR)
        client.data(sid, b"", end=True)
        response = await client.response(sid)
        assert (response.status, response.reset) == (200, None)
        await asyncio.wait_for(server.task, 2)
        assert time.monotonic() - started < 1.5  # done once the request was: not at the end of the grace
        await client.until_closed()
        client.close()


async def test_a_request_open_at_shutdown_is_cut_after_the_grace_period() -> None:
    grace = 0.3
    async with serving(grace=grace) as server:
        client = await H2.connect(server.port)
        sid = client.request("/health", method="POST", body=b"part", end=False)  # never ends
        await asyncio.sleep(0.05)
        reading = asyncio.create_task(client.until_closed())  # frames are timed as they arrive
        elapsed = await server.shut_down()
        assert grace <= elapsed < grace + 1.5
        await reading
        assert client.goaway == (sid, NO_ERROR)
        response = client.responses[sid]
        assert response.done, "the stream was neither answered nor reset"
        assert response.status != 200
        assert response.done_at - client.goaway_at >= grace - 0.05  # the GOAWAY came first, the cut later
        client.close()


async def test_an_http11_request_open_at_shutdown_is_cut_after_the_grace_period() -> None:
    grace = 0.3
    async with serving(grace=grace) as server:
        client = await H1.connect(server.port)
        client.start("POST", "/health", [("content-length", "10")])
        client.send(h11.Data(data=b"12345"))  # half the body, never the rest
        await asyncio.sleep(0.05)
        elapsed = await server.shut_down()
        assert grace <= elapsed < grace + 1.5
        rest = await read_to_eof(client.reader)  # the connection is closed
        assert rest == b"" or rest.startswith(b"HTTP/1.1 500 "), rest
        client.close()


# -- serve(server="builtin") ------------------------------------------------------------------------


async def plain_asgi(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never served
    raise AssertionError("not served")


def test_serve_builtin_refuses_an_app_that_is_not_an_endpoint() -> None:
    with pytest.raises(
        restate.SdkUsageError, match=r"server='builtin' serves restate_sdk endpoints"
    ) as raised:
        restate.serve(plain_asgi, port=0, host="127.0.0.1", server="builtin")
    assert "pass the endpoint itself" in str(raised.value)
    assert "server='granian' or 'hypercorn'" in str(raised.value)


SERVE = """
import logging, restate_sdk as restate
logging.basicConfig(level=logging.INFO, format="%(message)s")
svc = restate.Service("Proc")
@svc.handler()
async def ping(ctx: restate.Context) -> str:
    return "pong"
restate.serve(restate.app([svc]), port=0, host="127.0.0.1", server={server!r})
"""


@pytest.mark.parametrize("server", ["builtin", "auto"])
def test_serve_in_a_process_answers_and_stops_on_sigterm(server: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE.format(server=server)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        assert proc.stderr is not None
        port = 0
        deadline = time.monotonic() + 20
        while not port and time.monotonic() < deadline:
            line = proc.stderr.readline().decode()
            assert line, "the process ended before serving"
            found = re.search(r"serving on http://127\.0\.0\.1:(\d+) with (\w+)", line)
            if found:
                assert found[2] == "builtin"  # "auto" picks it for an endpoint too
                port = int(found[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            answer = b""
            while b'{"status":"ok"}' not in answer:
                chunk = conn.recv(4096)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            fields = hpack.Encoder().encode(
                [(":method", "GET"), (":path", "/health"), (":scheme", "http"), (":authority", "x")]
            )
            conn.sendall(PREFACE + raw(SETTINGS, 0, 0) + raw(HEADERS, END_HEADERS | END_STREAM, 1, fields))
            got = b""
            while b'{"status":"ok"}' not in got:
                chunk = conn.recv(4096)
                assert chunk, got
                got += chunk
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
