"""restate.serve(app, workers=2) through a real restate-server, and the one-port rule.

restate-server normally carries all invocations over one HTTP/2 connection, which one worker serves;
with at most one stream per connection it opens a connection per concurrent invocation, and the
workers' shared listening socket spreads them over both processes.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from restate_testing import RestateServer

pytestmark = pytest.mark.integration

APP = textwrap.dedent(
    """
    import asyncio
    import logging
    import os
    import sys

    import restate_sdk as restate

    svc = restate.Service("Workers")


    @svc.handler()
    async def pid(ctx: restate.Context, seconds: float) -> int:
        await asyncio.sleep(seconds)  # in flight, not suspended: a drain lets it finish
        return os.getpid()


    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    restate.serve(
        restate.app([svc]), port=int(sys.argv[1]), host="127.0.0.1", workers=2, server=sys.argv[2],
        drain_timeout=20,
    )
    """
)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    ingress: httpx.Client

    def log_text(self) -> str:
        return self.log.read_text()

    def pids(self, n: int, seconds: float) -> list[int]:
        with ThreadPoolExecutor(n) as pool:
            responses = list(pool.map(lambda _: self.ingress.post("/Workers/pid", json=seconds), range(n)))
        for r in responses:
            assert r.status_code == 200, r.text
        return [int(r.json()) for r in responses]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(port: int, server: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", APP, str(port), server], stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the endpoint did not come up"
        time.sleep(0.1)


@pytest.fixture(scope="module", params=["builtin", "granian", "hypercorn"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if request.param == "granian":
        pytest.importorskip("granian")
    port = _free_port()
    log = tmp_path_factory.mktemp("workers") / "endpoint.log"
    process = _start(port, request.param, log)
    try:
        env = {"RESTATE_WORKER__INVOKER__HTTP2_STREAMS_PER_CONNECTION_LIMIT": "1"}
        with RestateServer(backend="binary", env=env) as server:
            r = httpx.post(
                f"{server.admin_url}/deployments",
                json={"uri": f"http://127.0.0.1:{port}", "force": True},
                timeout=30,
            )
            assert r.status_code in (200, 201), r.text
            with httpx.Client(base_url=server.ingress_url, timeout=60) as ingress:
                yield Served(process, port, log, ingress)
    finally:
        if process.poll() is None:
            process.terminate()  # the supervisor stops its workers
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # its workers notice within a second and exit
                process.wait()


def _both_answer(served: Served) -> set[int]:
    # Whichever worker accepts first takes a new connection: one may win a whole burst.
    pids: set[int] = set()
    for _ in range(10):
        pids |= set(served.pids(16, 0.3))
        if len(pids) == 2:
            break
    return pids


def test_both_workers_answer(served: Served) -> None:
    pids = _both_answer(served)
    assert len(pids) == 2, pids
    assert served.process.pid not in pids  # the supervisor only supervises


def test_a_second_endpoint_on_the_port_fails_at_once(served: Served, tmp_path: Path) -> None:
    started = time.monotonic()
    other = subprocess.run(
        [sys.executable, "-c", APP, str(served.port), "hypercorn"], capture_output=True, timeout=60
    )
    assert other.returncode == 1
    assert other.stderr.decode().strip().splitlines() == [
        f"restate_sdk.serve: port {served.port} on 127.0.0.1 is already in use: "
        "stop the process listening there or pick another port"
    ]
    assert time.monotonic() - started < 30


def test_a_dead_worker_is_restarted(served: Served) -> None:
    before = _both_answer(served)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while f"(pid {victim}) was killed by SIGKILL; starting a new one" not in served.log_text():
        assert time.monotonic() < deadline, served.log_text()
        time.sleep(0.1)
    # restate-server keeps its connections to the survivor; more at once than those opens new ones
    after: set[int] = set()
    for _ in range(10):
        after |= set(served.pids(32, 0.3))
        if len(after) == 2:
            break
    assert victim not in after
    assert len(after - before) == 1


def test_sigterm_drains_every_worker(served: Served) -> None:
    # More calls than restate-server keeps idle connections from the tests before (one stream per
    # connection here, up to 32 at once): new connections are spread over both workers by the kernel,
    # while eight calls could all reuse connections to one of them.
    n = 48
    with ThreadPoolExecutor(n) as pool:
        calls = [pool.submit(served.ingress.post, "/Workers/pid", json=3.0) for _ in range(n)]
        time.sleep(1.0)  # all of them are in flight, on both workers
        served.process.send_signal(signal.SIGTERM)
        responses = [c.result() for c in calls]
    assert [r.status_code for r in responses] == [200] * n, [r.text for r in responses]
    assert len({r.json() for r in responses}) == 2  # each worker finished its share
    assert served.process.wait(timeout=60) == 0
    log = served.log_text()
    assert len(re.findall(r"draining \d+ in-flight invocation attempt", log)) == 2, log
