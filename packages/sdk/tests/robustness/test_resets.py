"""A stream that restate-server resets under a waiting attempt ends that attempt; nothing spins.

restate-server resets an invocation's HTTP/2 stream when the invocation is killed (or it gives up on
the attempt), and every stream breaks when its connection goes (restate-server restarting, say).
granian reports such a stream to an RSGI app as empty body chunks without end, never an error: an
endpoint that read on would spin at full CPU for the rest of its life (it did, until
``rsgi._BROKEN_AFTER_EMPTY``). The endpoint's CPU after the reset is the test: an idle endpoint uses
next to none.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import h2.config
import h2.connection
import h2.errors
import h2.events
import httpx
import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import encode_header
from restate_testing import RestateServer

from .conftest import SERVER_ENV
from .support import EndpointProcess, crash_lines, register

pytestmark = pytest.mark.integration

IDLE_CPU = 0.25  # CPU seconds an idle endpoint may use in the 2 s window (a spinning one: about 2)


@pytest.fixture(params=["builtin", "granian", "hypercorn"])
def endpoint(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EndpointProcess]:
    """``serve()`` on each HTTP server in its own process."""
    endpoint = EndpointProcess(tmp_path / "endpoint.log", server=request.param)
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def _idle_cpu(endpoint: EndpointProcess, seconds: float = 2.0) -> float:
    before = endpoint.cpu_seconds()
    time.sleep(seconds)
    return endpoint.cpu_seconds() - before


def _frame(msg: object) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload  # type: ignore[attr-defined]


def test_killing_a_waiting_invocation_leaves_the_endpoint_idle(
    server: RestateServer, endpoint: EndpointProcess
) -> None:
    register(server, endpoint.url)
    with httpx.Client(base_url=server.ingress_url, timeout=30) as ingress:
        ids = [ingress.post("/Steps/nap/send", json=60_000).json()["invocationId"] for _ in range(4)]
    with httpx.Client(base_url=server.admin_url, timeout=30, headers={"accept": "application/json"}) as admin:
        deadline = time.monotonic() + 20
        while True:  # every attempt is in the endpoint, waiting on its sleep
            rows = admin.post(
                "/query",
                json={"query": "SELECT id, status FROM sys_invocation WHERE target_handler_name = 'nap'"},
            ).json()["rows"]
            if sum(1 for r in rows if r["id"] in ids and r["status"] == "running") == len(ids):
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.1)
        time.sleep(0.5)
        for invocation_id in ids:
            admin.patch(f"/invocations/{invocation_id}/kill").raise_for_status()
    time.sleep(1.0)
    assert endpoint.alive()
    spent = _idle_cpu(endpoint)
    assert spent < IDLE_CPU, f"the endpoint used {spent:.2f} s of CPU in 2 s with nothing to do"
    # and it still serves
    with httpx.Client(base_url=server.ingress_url, timeout=30) as ingress:
        assert ingress.post("/Steps/nap", json=10).json() == "rested"
    assert not crash_lines(endpoint.log_text()), endpoint.log_text()[-3000:]


@pytest.mark.parametrize("kill", [False, True], ids=["graceful", "sigkill"])
def test_restate_server_restarting_under_waiting_attempts_leaves_the_endpoint_idle(
    endpoint: EndpointProcess, kill: bool
) -> None:
    # a restate-server of its own: restarting the suite's would disturb the other tests
    with RestateServer(backend="binary", env=SERVER_ENV) as own:
        register(own, endpoint.url)
        with httpx.Client(base_url=own.ingress_url, timeout=30) as ingress:
            for _ in range(4):
                ingress.post("/Steps/nap/send", json=60_000).raise_for_status()
        time.sleep(1.0)  # the attempts are in the endpoint, waiting on their sleeps
        own.restart(kill=kill)  # its connections to the endpoint go away under them
        time.sleep(1.0)
        spent = _idle_cpu(endpoint)
        assert spent < IDLE_CPU, f"the endpoint used {spent:.2f} s of CPU in 2 s with nothing to do"
        with httpx.Client(base_url=own.ingress_url, timeout=30) as ingress:
            assert ingress.post("/Steps/nap", json=10).json() == "rested"
    assert endpoint.alive()


@pytest.mark.parametrize("how", ["reset the streams", "close the connection"])
def test_a_client_that_drops_waiting_attempts_leaves_the_endpoint_idle(
    endpoint: EndpointProcess, how: str
) -> None:
    """RST_STREAM of each stream, or the whole connection closed (restate-server restarting, say)."""
    sock = socket.create_connection(("127.0.0.1", endpoint.port), timeout=5)
    try:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        streams: list[int] = []
        for i in range(3):
            stream_id = conn.get_next_available_stream_id()
            headers = [
                (":method", "POST"),
                (":path", "/invoke/Steps/nap"),
                (":scheme", "http"),
                (":authority", "x"),
            ]
            conn.send_headers(
                stream_id, [*headers, ("content-type", "application/vnd.restate.invocation.v5")]
            )
            start = m.StartMessage(id=bytes([i + 1]) * 24, debug_id=f"inv_{i}", known_entries=1)
            conn.send_data(stream_id, _frame(start) + _frame(m.InputCommandMessage(value=b"60000")))
            streams.append(stream_id)
        sock.sendall(conn.data_to_send())
        answered: set[int] = set()
        while answered != set(streams):  # each attempt wrote its SleepCommand and waits
            data = sock.recv(65536)
            assert data, "the endpoint closed the connection"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    answered.add(event.stream_id)
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            sock.sendall(conn.data_to_send())
        if how == "reset the streams":
            for stream_id in streams:
                conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
            sock.sendall(conn.data_to_send())
            time.sleep(0.5)
            spent = _idle_cpu(endpoint)
            assert spent < IDLE_CPU, f"the endpoint used {spent:.2f} s of CPU in 2 s with nothing to do"
        sock.close()
        time.sleep(0.5)
        spent = _idle_cpu(endpoint)
        assert spent < IDLE_CPU, f"after the connection closed: {spent:.2f} s of CPU in 2 s"
        assert endpoint.alive()
    finally:
        sock.close()
