"""Helpers of the conformance tests: the services process, the server configurations, polling.

``ServicesProcess`` runs ``test-services/serve`` on a fixed port, so tests can kill and restart it;
``Restate`` bundles one configured restate-server with ingress and admin clients; ``wait_until`` polls
instead of sleeping.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from restate_ingress import AdminClient, Client
from restate_testing import RestateServer

T = TypeVar("T")

SERVE = Path(__file__).resolve().parent.parent / "serve"

# The key pair of the conformance contract (ProxyRequestSigning).
PRIVATE_KEY_PEM = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHsQRVQ+AZX9/Yy1b0Zw+OA+bb7xDxGsAd5kB45jZhoc
-----END PRIVATE KEY-----
"""
PUBLIC_KEY = "publickeyv1_ChjENKeMvCtRnqG2mrBK1HmPKufgFUc98K8B3ononQvp"

CONFIGS: dict[str, dict[str, str]] = {
    "default": {"RESTATE_DEFAULT_NUM_PARTITIONS": "4"},
    "always-suspending": {
        "RESTATE_DEFAULT_NUM_PARTITIONS": "4",
        "RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT": "0s",
    },
    "lazy-state": {
        "RESTATE_DEFAULT_NUM_PARTITIONS": "4",
        "RESTATE_WORKER__INVOKER__DISABLE_EAGER_STATE": "true",
    },
    "single-partition": {"RESTATE_DEFAULT_NUM_PARTITIONS": "1", "RESTATE_DEFAULT_THREAD_POOL_SIZE": "1"},
    # service protocol V7 (opt-in on restate-server 1.7), with vqueues for scopes and limit keys
    "v7": {
        "RESTATE_DEFAULT_NUM_PARTITIONS": "4",
        "RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7": "true",
        "RESTATE_EXPERIMENTAL_ENABLE_VQUEUES": "true",
        "RESTATE_WORKER__RULE_BOOK_POLL_INTERVAL": "1s",  # concurrency rules apply within a second
    },
}

# Retries at a steady 500 ms: quick, yet a failed attempt stays visible in sys_invocation long enough
# for a test to read it before the next attempt.
RETRY_ENV = {
    "RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL": "500ms",
    "RESTATE_DEFAULT_RETRY_POLICY__EXPONENTIATION_FACTOR": "1.0",
    "RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL": "500ms",
}

CALL_TIMEOUT = 60.0


def wait_until(
    check: Callable[[], T | None], timeout: float = 20.0, what: str = "condition", poll: float = 0.1
) -> T:
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = min(0.02, poll)
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, poll)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServicesProcess:
    """``test-services/serve`` as a subprocess on a fixed port, which tests may stop and start."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.process = subprocess.Popen([str(SERVE)], env=self.env, cwd="/")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"test-services/serve exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"test-services/serve not healthy on {self.url} after {timeout}s")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process is None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self, sig: signal.Signals = signal.SIGKILL) -> None:
        self.stop(sig)
        self.start()


@dataclass
class Restate:
    """One restate-server configuration, with the services registered and clients for it."""

    config: str
    server: RestateServer
    services: ServicesProcess
    client: Client = field(init=False)
    admin: AdminClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = Client(self.server.ingress_url, timeout=CALL_TIMEOUT)
        self.admin = AdminClient(self.server.admin_url)

    @property
    def always_suspending(self) -> bool:
        return self.config == "always-suspending"

    def register(self) -> None:
        self.admin.register_deployment(self.services.url, force=True)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of an SQL query over the admin API (``sys_invocation``, ``state``, ...)."""
        return self.admin.query(sql)

    def invocation(self, invocation_id: str) -> dict[str, Any] | None:
        rows = self.query(f"SELECT * FROM sys_invocation WHERE id = '{invocation_id}'")
        return rows[0] if rows else None

    def status(self, invocation_id: str) -> str | None:
        row = self.invocation(invocation_id)
        return None if row is None else str(row["status"])

    def wait_status(self, invocation_id: str, *statuses: str, timeout: float = 20.0) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            row = self.invocation(invocation_id)
            return row if row is not None and row["status"] in statuses else None

        return wait_until(reached, timeout, f"invocation {invocation_id} to be {'/'.join(statuses)}")

    def restart_server(self, *, kill: bool) -> None:
        """Stop restate-server (SIGKILL with ``kill``, else SIGTERM) and start it again on its data."""
        self.close()
        self.server.restart(kill=kill)
        self.__post_init__()  # fresh connections to the restarted server

    def close(self) -> None:
        self.client.close()
        self.admin.close()
