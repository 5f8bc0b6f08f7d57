"""Crashes: the endpoint SIGKILLed mid-invocation, restate-server restarted during a sleep."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from restate_testing import RestateServer

from .conftest import CONFIGS

pytestmark = pytest.mark.integration

APPS = Path(__file__).with_name("apps.py")


@pytest.fixture(params=list(CONFIGS))
def server(request: pytest.FixtureRequest) -> Iterator[RestateServer]:
    with RestateServer(backend="binary", **CONFIGS[request.param]) as s:
        yield s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EndpointProcess:
    """The test app in its own process, so it can be SIGKILLed and started again on the same port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PORT": str(self.port)}
        self.proc = subprocess.Popen(
            [sys.executable, str(APPS)],
            env=env,
            stderr=open(os.environ.get("ENDPOINT_LOG", os.devnull), "ab"),  # noqa: SIM115 - lives as long as the process
        )
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.time() < deadline, "endpoint did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _register(server: RestateServer, uri: str) -> None:
    r = httpx.post(f"{server.admin_url}/deployments", json={"uri": uri, "force": True}, timeout=30)
    assert r.status_code in (200, 201), r.text


def _wait_for_lines(path: Path, n: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while not path.exists() or len(path.read_text().split()) < n:
        assert time.time() < deadline, f"fewer than {n} steps ran"
        time.sleep(0.02)


def test_endpoint_sigkill_in_the_middle_of_twenty_steps(server: RestateServer, tmp_path: Path) -> None:
    endpoint = EndpointProcess()
    endpoint.start()
    try:
        _register(server, f"http://127.0.0.1:{endpoint.port}")
        log = tmp_path / "steps.log"
        with httpx.Client(base_url=server.ingress_url, timeout=120) as ingress:
            sent = ingress.post(
                "/Steps/run_steps/send",
                json={"count": 20, "log": str(log), "step_seconds": 0.05},
                headers={"idempotency-key": uuid.uuid4().hex},
            )
            assert sent.status_code == 202, sent.text
            invocation_id = sent.json()["invocationId"]
            _wait_for_lines(log, 8)
            endpoint.kill()
            executed_before_kill = len(log.read_text().split())
            assert executed_before_kill < 20
            endpoint.start()
            result = ingress.get(f"/restate/invocation/{invocation_id}/attach")
        assert result.status_code == 200, result.text
        assert result.json() == sum(range(20))
        runs = collections.Counter(int(x) for x in log.read_text().split())
        assert sorted(runs) == list(range(20)), "every step ran"
        twice = [step for step, n in runs.items() if n > 1]
        assert all(n <= 2 for n in runs.values()), runs
        # only the step in flight at the kill may run again: the last one started before it
        assert len(twice) <= 1, runs
        if twice:
            assert twice[0] == executed_before_kill - 1, (twice, executed_before_kill)
    finally:
        endpoint.stop()


def test_a_sleep_survives_a_restate_server_restart(server: RestateServer) -> None:
    from restate_testing import AppServer

    from .apps import app

    with AppServer(app) as endpoint:
        _register(server, endpoint.url)
        with httpx.Client(base_url=server.ingress_url, timeout=60) as ingress:
            started = time.monotonic()
            sent = ingress.post("/Steps/nap/send", json=1000)
            assert sent.status_code == 202, sent.text
            invocation_id = sent.json()["invocationId"]
            time.sleep(0.3)
            server.kill()
            server.start()
            result = ingress.get(f"/restate/invocation/{invocation_id}/attach")
            assert result.status_code == 200, result.text
            assert result.json() == "rested"
            assert time.monotonic() - started >= 1.0


def test_sigterm_drains_in_flight_attempts_and_nothing_is_lost(server: RestateServer, tmp_path: Path) -> None:
    endpoint = EndpointProcess()
    endpoint.start()
    try:
        _register(server, f"http://127.0.0.1:{endpoint.port}")
        log = tmp_path / "steps.log"
        with httpx.Client(base_url=server.ingress_url, timeout=120) as ingress:
            steps = ingress.post(
                "/Steps/run_steps/send", json={"count": 10, "log": str(log), "step_seconds": 0.1}
            ).json()["invocationId"]
            nap = ingress.post("/Steps/nap/send", json=1500).json()["invocationId"]
            _wait_for_lines(log, 3)
            assert endpoint.proc is not None
            endpoint.proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            assert endpoint.proc.wait(10) == 0
            assert time.monotonic() - started < 5, "drain took too long"
            assert len(log.read_text().split()) < 10
            endpoint.start()
            assert ingress.get(f"/restate/invocation/{steps}/attach").json() == sum(range(10))
            assert ingress.get(f"/restate/invocation/{nap}/attach").json() == "rested"
        runs = collections.Counter(int(x) for x in log.read_text().split())
        assert runs == {i: 1 for i in range(10)}, "a drained step ran twice"
    finally:
        endpoint.stop()
