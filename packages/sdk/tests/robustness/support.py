"""Helpers for the robustness tests: the endpoint in its own process, and what /proc says about it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from restate_testing import RestateServer

HERE = Path(__file__).parent
APPS = HERE / "apps.py"
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EndpointProcess:
    """``apps.py`` served in a process of its own, so it can be killed, stopped and measured.

    ``mode="serve"`` runs it with ``restate.serve`` (SIGTERM drains) on ``server`` ("auto", "granian"
    or "hypercorn"); ``mode="hypercorn-cli"`` runs the hypercorn command line, ``hypercorn apps:app``,
    ``mode="granian-cli"`` granian's, ``granian --interface asgi apps:app``, with ``extra_args`` added.
    stdout and stderr go to ``log``; ``env`` is added to the process's environment.
    """

    def __init__(
        self,
        log: Path,
        *,
        server: str = "auto",
        mode: str = "serve",
        extra_args: tuple[str, ...] = (),
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.env = env or {}
        self.log = log
        self.server = server
        self.mode = mode
        self.extra_args = extra_args
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30) -> None:
        env = {
            **os.environ,
            "PORT": str(self.port),
            "SERVE_WITH": self.server,
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        if self.mode == "serve":
            argv = [sys.executable, str(APPS)]
        elif self.mode == "hypercorn-cli":
            bind = f"127.0.0.1:{self.port}"
            argv = [sys.executable, "-m", "hypercorn", "apps:app", "--bind", bind, *self.extra_args]
        else:  # granian-cli
            argv = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"]
            argv += ["--port", str(self.port), *self.extra_args, "apps:app"]
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(argv, env=env, cwd=HERE, stdout=err, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert self.proc.poll() is None, f"the endpoint exited: {self.log_text()[-2000:]}"
                assert time.monotonic() < deadline, "the endpoint did not start"
                time.sleep(0.02)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        """Whatever state it is in: gone afterwards (SIGTERM, then SIGKILL after 10 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS


def register(server: RestateServer, uri: str) -> None:
    r = httpx.post(f"{server.admin_url}/deployments", json={"uri": uri, "force": True}, timeout=60)
    assert r.status_code in (200, 201), r.text


def crash_lines(log: str) -> list[str]:
    """Lines of an endpoint's stderr that show an unhandled exception.

    The traceback the SDK logs under its own "attempt N failed" warning (a user exception that
    Restate retries) is a handled failure, not a crash.
    """
    markers = ("Traceback", "Unhandled exception", "Task exception was never retrieved", "Error in ASGI")
    lines = log.splitlines()
    return [
        line
        for i, line in enumerate(lines)
        if any(m in line for m in markers)
        and not (line.startswith("Traceback") and i > 0 and re.search(r"attempt \d+ failed: ", lines[i - 1]))
    ]
