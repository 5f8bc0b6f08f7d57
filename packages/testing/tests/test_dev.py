"""``python -m restate_testing dev``: serves, registers, reloads on change, tears down on Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from restate_testing._dev import sample_curl, snapshot

APP = """
import restate_sdk as restate

greeter = restate.Service("Greeter")

@greeter.handler()
async def greet(ctx, name: str) -> str:
    return "{greeting} " + name

app = restate.app([greeter])
"""


def _write_app(directory: Path, greeting: str) -> None:
    (directory / "devapp.py").write_text(APP.replace("{greeting}", greeting))


class Output:
    """Collects a child's merged output on a thread, so waiting for a line never blocks forever."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=lambda: [self.lines.put(line) for line in stream], daemon=True).start()

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matched {pattern!r}; output:\n{''.join(self.seen)}")

    def rest(self, quiet: float = 0.5) -> list[str]:
        """Every line so far, after the output has been quiet for ``quiet`` seconds."""
        while True:
            try:
                self.seen.append(self.lines.get(timeout=quiet))
            except queue.Empty:
                return list(self.seen)


def _start_dev(
    directory: Path, restate_binary: str, *args: str, sigint_ignored: bool = True
) -> tuple[subprocess.Popen[str], Output]:
    """Start the dev runner in ``directory``. By default with SIGINT ignored, as a background job of a
    script or ``nohup`` would start it: the runner must install its own handler."""
    env = {**os.environ, "RESTATE_SERVER_BIN": restate_binary, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "restate_testing", "dev", "devapp:app", "--backend", "binary", *args]
    if sigint_ignored:
        # exec keeps an ignored disposition, so the runner starts with SIGINT ignored.
        launcher = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])"
        command = [sys.executable, "-c", launcher, *command]
    process = subprocess.Popen(
        command, cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, Output(process)


def _interrupt(process: subprocess.Popen[str], output: Output, within: float = 5.0) -> None:
    """Ctrl-C: the runner ends everything, with exit code 0, within ``within`` seconds."""
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the dev runner still ran {within}s after SIGINT") from None
    assert code == 0
    output.wait_for("stopping")
    print(f"dev runner stopped {time.monotonic() - started:.2f}s after SIGINT")


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.integration
def test_dev_serves_reloads_and_stops(tmp_path: Path, restate_binary: str) -> None:
    _write_app(tmp_path, "Hello")
    process, output = _start_dev(tmp_path, restate_binary)
    try:
        ingress = output.wait_for(r"ingress (http://127\.0\.0\.1:\d+)").group(1)
        output.wait_for(r"registered http://127\.0\.0\.1:\d+: Greeter")
        output.wait_for(r"curl .*/Greeter/greet")
        assert httpx.post(f"{ingress}/Greeter/greet", json="Ann").json() == "Hello Ann"

        time.sleep(1.1)  # a new mtime, also on file systems with one-second resolution
        _write_app(tmp_path, "Bonjour")
        output.wait_for(r"change in devapp\.py; restarting the app")
        output.wait_for(r"registered http://127\.0\.0\.1:\d+: Greeter")
        assert httpx.post(f"{ingress}/Greeter/greet", json="Ann").json() == "Bonjour Ann"

        _interrupt(process, output)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{ingress}/restate/health")
    finally:
        _kill(process)


BLOCKING_APP = """
import asyncio
import restate_sdk as restate

worker = restate.Service("Worker")

@worker.handler()
async def block(ctx) -> str:
    async def forever() -> str:
        print("STEP STARTED", flush=True)
        await asyncio.sleep(3600)
        return "never"
    return await ctx.run("forever", forever)

app = restate.app([worker])
"""


@pytest.mark.integration
def test_ctrl_c_while_a_step_blocks_stops_within_five_seconds(tmp_path: Path, restate_binary: str) -> None:
    (tmp_path / "devapp.py").write_text(BLOCKING_APP)
    process, output = _start_dev(tmp_path, restate_binary)
    try:
        ingress = output.wait_for(r"ingress (http://127\.0\.0\.1:\d+)").group(1)
        app_url = output.wait_for(r"registered (http://127\.0\.0\.1:\d+): Worker").group(1)
        response = httpx.post(f"{ingress}/Worker/block/send")
        assert response.status_code == 202, response.text
        output.wait_for("STEP STARTED")

        _interrupt(process, output)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{ingress}/restate/health")
        with pytest.raises(httpx.ConnectError):
            httpx.get(app_url)
    finally:
        _kill(process)


@pytest.mark.integration
def test_a_taken_port_is_reported_before_anything_starts(tmp_path: Path, restate_binary: str) -> None:
    _write_app(tmp_path, "Hello")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        process, output = _start_dev(tmp_path, restate_binary, "--port", str(port))
        try:
            assert process.wait(timeout=30) == 2
            output.wait_for(rf"port {port} is already in use")
            assert not any("registered" in line or "restate-server" in line for line in output.rest())
        finally:
            _kill(process)


CRASHING_APP = """
import os
import restate_sdk as restate

greeter = restate.Service("Greeter")

@greeter.handler()
async def greet(ctx, name: str) -> str:
    if {crash}:
        os._exit(3)
    return "Hello " + name

app = restate.app([greeter])
"""


@pytest.mark.integration
def test_a_crashed_app_is_reported_and_the_next_change_restarts_it(
    tmp_path: Path, restate_binary: str
) -> None:
    (tmp_path / "devapp.py").write_text("this is not python\n")
    process, output = _start_dev(tmp_path, restate_binary, sigint_ignored=False)
    try:
        ingress = output.wait_for(r"ingress (http://127\.0\.0\.1:\d+)").group(1)
        output.wait_for(r"the app exited with code 1; waiting for a change")

        time.sleep(1.1)
        (tmp_path / "devapp.py").write_text(CRASHING_APP.replace("{crash}", "True"))
        output.wait_for(r"registered http://127\.0\.0\.1:\d+: Greeter")
        assert httpx.post(f"{ingress}/Greeter/greet/send", json="Ann").status_code == 202
        output.wait_for(r"the app exited with code 3; waiting for a change")

        time.sleep(1.1)
        (tmp_path / "devapp.py").write_text(CRASHING_APP.replace("{crash}", "False"))
        output.wait_for(r"registered http://127\.0\.0\.1:\d+: Greeter")
        assert httpx.post(f"{ingress}/Greeter/greet", json="Bob").json() == "Hello Bob"
        _interrupt(process, output)
    finally:
        _kill(process)


def test_snapshot_sees_python_files_but_not_virtualenvs(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "dep.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    assert set(snapshot(tmp_path)) == {tmp_path / "pkg" / "mod.py"}


def test_sample_curl_uses_keys_and_input_schema() -> None:
    services = [
        {
            "name": "Counter",
            "ty": "VirtualObject",
            "handlers": [{"name": "add", "input_json_schema": {"type": "integer"}}],
        }
    ]
    assert sample_curl("http://x", services) == (
        "curl http://x/Counter/my-key/add -H 'content-type: application/json' -d '1'"
    )
    no_input = [
        {"name": "Greeter", "ty": "Service", "handlers": [{"name": "ping", "input_description": "none"}]}
    ]
    assert sample_curl("http://x", no_input) == "curl http://x/Greeter/ping"
