"""``python -m restate_testing dev module:app``: a local restate-server plus the app, reloaded on change."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from restate_ingress import AdminClient, IngressError

from ._ports import free_ports, is_listening
from ._server import RestateServer

__all__ = ["app_directory", "port_in_use", "run_dev", "sample_curl", "snapshot"]

_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "venv"}
_POLL_SECONDS = 0.5
# The app gets this long after SIGTERM before SIGKILL; its in-flight attempts are simply retried later.
_APP_STOP_SECONDS = 2.0


def _say(message: str) -> None:
    print(f"restate-dev: {message}", file=sys.stderr, flush=True)


def app_directory(target: str) -> Path:
    """The directory whose .py files make up ``module:app`` (found without importing the module)."""
    module = target.partition(":")[0]
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"restate-dev: cannot find module {module!r} (run from its project directory)")
    return Path(spec.origin).resolve().parent


def _python_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if not name.startswith(".") and name not in _SKIP_DIRS]
        for name in filenames:
            if name.endswith(".py"):
                yield Path(dirpath, name)


def snapshot(root: Path) -> dict[Path, float]:
    """Modification times of the .py files under ``root`` (hidden dirs and virtualenvs skipped)."""
    times: dict[Path, float] = {}
    for path in _python_files(root):
        try:
            times[path] = path.stat().st_mtime
        except FileNotFoundError:  # deleted between listing and stat
            continue
    return times


def _changed(before: dict[Path, float], after: dict[Path, float]) -> list[Path]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def sample_curl(ingress_url: str, services: list[dict[str, Any]]) -> str | None:
    """A curl command calling the first handler of the first registered service."""
    for service in services:
        for handler in service.get("handlers", []):
            keyed = service.get("ty") in ("VirtualObject", "Workflow")
            path = (
                f"{service['name']}/my-key/{handler['name']}"
                if keyed
                else f"{service['name']}/{handler['name']}"
            )
            command = f"curl {ingress_url}/{path}"
            if handler.get("input_description") != "none":  # the admin API says "none" for no input
                command += f" -H 'content-type: application/json' -d '{_sample_input(handler)}'"
            return command
    return None


def _sample_input(handler: dict[str, Any]) -> str:
    schema = handler.get("input_json_schema")
    kind = cast("dict[str, Any]", schema).get("type") if isinstance(schema, dict) else None
    samples = {"string": '"Ann"', "integer": "1", "number": "1.5", "boolean": "true", "array": "[]"}
    return samples.get(str(kind), "{}")


class _AppProcess:
    """The app served by hypercorn in a child process, so a reload gets fresh modules."""

    def __init__(self, target: str, port: int) -> None:
        self.target = target
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.reported_exit = False

    def start(self, timeout: float = 15.0) -> bool:
        """Start the app and wait until it listens; False (and said why) when it does not."""
        command = [
            sys.executable,
            "-m",
            "restate_testing",
            "serve-app",
            self.target,
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(command, cwd=Path.cwd())
        self.reported_exit = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.crashed():
                return False
            if is_listening(self.port):
                return True
            time.sleep(0.05)
        _say(f"the app did not listen on port {self.port} within {timeout:.0f}s; waiting for a change")
        return False

    def crashed(self) -> bool:
        """True once the app has exited on its own; says so the first time."""
        if self.process is None or self.process.poll() is None:
            return False
        if not self.reported_exit:
            self.reported_exit = True
            _say(f"the app exited with code {self.process.returncode}; waiting for a change")
        return True

    def stop(self) -> None:
        """Stop the app: SIGTERM, and SIGKILL if it is not gone within a moment (nothing drains in dev)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=_APP_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def port_in_use(port: int) -> bool:
    """True when 127.0.0.1:``port`` cannot be bound (another process listens there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As servers do: a socket of our own earlier app, lingering in TIME_WAIT, does not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return is_listening(port)


def _register(admin: AdminClient, server: RestateServer, port: int, first: bool) -> None:
    uri = server.deployment_uri(port)
    try:
        deployment = admin.register_deployment(uri, force=True)
    except IngressError as error:
        _say(f"registration failed: {error}")
        return
    services: list[dict[str, Any]] = deployment.get("services", [])
    names = ", ".join(service["name"] for service in services) or "no services"
    _say(f"registered {uri}: {names}")
    if first and (curl := sample_curl(server.ingress_url, services)):
        _say(f"try:\n    {curl}")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_dev(target: str, *, port: int | None = None, server_options: dict[str, Any] | None = None) -> int:
    """Run restate-server and ``target`` (``module:attribute``), reloading the app on file changes.

    Returns 0 after Ctrl-C (SIGINT) or SIGTERM, 2 when the app's port is taken.
    """
    if ":" not in target:
        raise SystemExit("restate-dev: expected module:app, e.g. `python -m restate_testing dev greeter:app`")
    watch_dir = app_directory(target)
    # Installed explicitly for both: a plain SIGTERM would end us without teardown and orphan the server
    # (it has its own session), and SIGINT may have been inherited as ignored (nohup, `cmd &` in a script).
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _run(target, watch_dir, port, server_options or {})
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(target: str, watch_dir: Path, port: int | None, server_options: dict[str, Any]) -> int:
    app_port = port or free_ports(1)[0]
    if port_in_use(app_port):
        _say(f"port {app_port} is already in use; stop what listens there or choose another with --port")
        return 2
    server = RestateServer(**server_options)
    app = _AppProcess(target, app_port)
    _say("starting restate-server ...")
    try:
        server.start()
        _say(
            f"restate-server ({server.backend.name}) up: ingress {server.ingress_url}, admin {server.admin_url}"
        )
        with AdminClient(server.admin_url) as admin:
            if app.start():
                _register(admin, server, app_port, first=True)
            _say(f"watching {watch_dir} for changes; Ctrl-C to stop")
            seen = snapshot(watch_dir)
            while True:
                time.sleep(_POLL_SECONDS)
                app.crashed()
                now = snapshot(watch_dir)
                changed = _changed(seen, now)
                if not changed:
                    continue
                seen = now
                shown = ", ".join(str(path.relative_to(watch_dir)) for path in changed[:3])
                _say(f"change in {shown}; restarting the app")
                app.stop()
                if port_in_use(app_port):
                    _say(f"port {app_port} is taken by another process; waiting for a change")
                elif app.start():
                    _register(admin, server, app_port, first=False)
    except KeyboardInterrupt:
        _say("stopping")
        return 0
    finally:
        # A second Ctrl-C must not cut the teardown short and leave restate-server running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        app.stop()
        server.kill()  # its data is thrown away anyway: no need for a graceful stop
        server.close()
