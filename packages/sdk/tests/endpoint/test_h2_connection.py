"""A rejected streaming request must not take the HTTP/2 connection (and its other streams) down."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import h2.config
import h2.connection
import h2.events
import pytest
import restate_sdk as restate
from restate_testing import AppServer

svc = restate.Service("H2")


@svc.handler()
async def echo(ctx: restate.Context, value: str) -> str:
    return value


@pytest.fixture(scope="module", params=["auto", "hypercorn"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[AppServer]:
    """The endpoint on the builtin server ("auto") and on hypercorn."""
    with AppServer(restate.app([svc]), server=request.param) as server:
        yield server


class H2Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.flush()

    def flush(self) -> None:
        self.sock.sendall(self.conn.data_to_send())

    def request(self, path: str, content_type: str, method: str = "POST") -> int:
        stream_id = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":path", path), (":scheme", "http"), (":authority", "x")]
        self.conn.send_headers(stream_id, [*headers, ("content-type", content_type)])
        self.flush()
        return stream_id

    def data(self, stream_id: int, data: bytes, end: bool = False) -> None:
        self.conn.send_data(stream_id, data, end_stream=end)
        self.flush()

    def status(self, stream_id: int) -> int:
        while True:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed by the endpoint"
            for event in self.conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                    return int(dict(event.headers)[b":status"])
            self.flush()


@pytest.mark.parametrize(
    ("path", "content_type", "status"),
    [
        ("/invoke/Nope/echo", "application/vnd.restate.invocation.v6", 404),
        ("/invoke/H2/echo", "text/plain", 415),
        ("/invoke/H2/echo", "application/vnd.restate.invocation.v6", 400),  # garbage frames
    ],
)
def test_data_after_a_rejection_keeps_the_connection(
    endpoint: AppServer, path: str, content_type: str, status: int
) -> None:
    client = H2Client(endpoint.port)
    stream = client.request(path, content_type)
    client.data(stream, b"\x00\x00\x00\x00\x00\x00\x00\x04garb" if status == 400 else b"first")
    if status == 400:
        client.data(stream, b"", end=True)
    assert client.status(stream) == status
    if status != 400:
        client.data(stream, b"more data after the response", end=True)
    health = client.request("/health", "text/plain", method="GET")
    client.data(health, b"", end=True)
    assert client.status(health) == 200
