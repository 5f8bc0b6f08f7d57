"""``python -m restate_testing dev``: serves, registers, reloads on change, tears down on Ctrl-C."""

from __future__ import annotations

import os
import queue
import re
import signal
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


@pytest.mark.integration
def test_dev_serves_reloads_and_stops(tmp_path: Path, restate_binary: str) -> None:
    _write_app(tmp_path, "Hello")
    env = {**os.environ, "RESTATE_SERVER_BIN": restate_binary, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "restate_testing", "dev", "devapp:app", "--backend", "binary"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = Output(process)
        ingress = output.wait_for(r"ingress (http://127\.0\.0\.1:\d+)").group(1)
        output.wait_for(r"registered http://127\.0\.0\.1:\d+: Greeter")
        output.wait_for(r"curl .*/Greeter/greet")
        assert httpx.post(f"{ingress}/Greeter/greet", json="Ann").json() == "Hello Ann"

        time.sleep(1.1)  # a new mtime, also on file systems with one-second resolution
        _write_app(tmp_path, "Bonjour")
        output.wait_for(r"change in devapp\.py; restarting the app")
        output.wait_for(r"registered http://127\.0\.0\.1:\d+: Greeter")
        assert httpx.post(f"{ingress}/Greeter/greet", json="Ann").json() == "Bonjour Ann"

        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=30) == 0
        output.wait_for("stopping")
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{ingress}/restate/health")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


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
