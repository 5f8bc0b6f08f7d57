"""restate_sdk.serve() on granian, through a real restate-server.

restate.serve runs granian with its RSGI interface. granian takes a response that ends while
restate-server's request stream is still open, so the endpoint ends each attempt without waiting for
the server to close its side first (see invoke._ends_early).
Runs, calls, sleeps, state and suspensions must all still work, many at once, and SIGTERM must stop it.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from restate_testing import RestateServer

pytestmark = pytest.mark.integration

APP = textwrap.dedent(
    """
    import sys
    from datetime import timedelta

    import restate_sdk as restate

    svc = restate.Service("GranianSvc")
    counter = restate.VirtualObject("GranianCounter")


    async def double(i: int) -> int:
        return 2 * i


    @svc.handler()
    async def echo(ctx: restate.Context, x: str) -> str:
        return x


    @svc.handler()
    async def steps(ctx: restate.Context, n: int) -> int:
        total = 0
        for i in range(n):
            total += await ctx.run("double", double, i)
        return total


    @svc.handler()
    async def call(ctx: restate.Context, x: str) -> str:
        await ctx.sleep(timedelta(milliseconds=5))
        return await ctx.service_call(echo, x)


    @counter.handler()
    async def add(ctx: restate.ObjectContext, delta: int) -> int:
        value = (await ctx.get("n", int) or 0) + delta
        ctx.set("n", value)
        return value


    restate.serve(restate.app([svc, counter]), port=int(sys.argv[1]), host="127.0.0.1", server="granian")
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[RestateServer, subprocess.Popen[bytes], int]]:
    pytest.importorskip("granian")
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", APP, str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "the granian endpoint exited"
            assert time.monotonic() < deadline, "the granian endpoint did not come up"
            time.sleep(0.1)
        with RestateServer(backend="binary") as server:
            r = httpx.post(
                f"{server.admin_url}/deployments",
                json={"uri": f"http://127.0.0.1:{port}", "force": True},
                timeout=30,
            )
            assert r.status_code in (200, 201), r.text
            yield server, process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_many_invocations_at_once(endpoint: tuple[RestateServer, subprocess.Popen[bytes], int]) -> None:
    server, _process, _port = endpoint
    requests = [("/GranianSvc/echo", f"x{i}", f"x{i}") for i in range(40)]
    requests += [("/GranianSvc/steps", 10, 90) for _ in range(20)]
    requests += [("/GranianSvc/call", f"c{i}", f"c{i}") for i in range(20)]
    with httpx.Client(base_url=server.ingress_url, timeout=60) as client:

        def invoke(request: tuple[str, object, object]) -> tuple[object, object]:
            path, body, expected = request
            response = client.post(path, json=body)
            assert response.status_code == 200, response.text
            return response.json(), expected

        with ThreadPoolExecutor(16) as pool:
            for got, expected in pool.map(invoke, requests):
                assert got == expected
            totals = sorted(
                pool.map(lambda _: client.post("/GranianCounter/k/add", json=1).json(), range(30))
            )
    assert totals == list(range(1, 31))  # exclusive handler: every add saw the previous one
    logs = server.logs()
    assert "broken pipe" not in logs
    # every response ended with the attempt: restate-server never waited for one to end
    assert "draining timeout" not in logs


def test_sigterm_stops_the_server(endpoint: tuple[RestateServer, subprocess.Popen[bytes], int]) -> None:
    _server, process, _port = endpoint
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
