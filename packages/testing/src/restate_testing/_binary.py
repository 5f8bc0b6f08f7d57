"""The binary backend: restate-server as a child process of the test run."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import weakref
from pathlib import Path

from ._backend import ServerPorts

__all__ = ["BinaryBackend"]

_STOP_TIMEOUT = 10.0


def _stop_process(process: subprocess.Popen[bytes], kill: bool) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Resources:
    """What a backend must release: its process and its directory. Kept apart from the backend so that
    a finalizer can release them when a forgotten backend is collected, or when the interpreter exits."""

    def __init__(self, base_dir: Path, owns_dir: bool) -> None:
        self.base_dir = base_dir
        self.owns_dir = owns_dir
        self.process: subprocess.Popen[bytes] | None = None

    def release(self) -> None:
        if self.process is not None:
            _stop_process(self.process, kill=False)
            self.process = None
        if self.owns_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)


class BinaryBackend:
    """Runs a local restate-server binary with its data and log in a directory of its own.

    ``base_dir`` defaults to a fresh temporary directory, removed by :meth:`close`; a given one is kept.
    """

    name = "binary"
    endpoint_host = "127.0.0.1"

    def __init__(
        self, binary: Path, env: dict[str, str], ports: ServerPorts, base_dir: Path | None = None
    ) -> None:
        self.binary = binary
        self.ports = ports
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="restate-testing-"))
        self.log_path = self.base_dir / "restate-server.log"
        # The server reads its whole configuration from RESTATE_* variables. Inherited ones are dropped,
        # so that a stray variable in the developer's shell cannot make the binary backend behave
        # differently from the docker one (which sees only what we pass).
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("RESTATE_")}
        self._env = {
            **inherited,
            **env,
            "RESTATE_INGRESS__BIND_ADDRESS": f"127.0.0.1:{ports.ingress}",
            "RESTATE_ADMIN__BIND_ADDRESS": f"127.0.0.1:{ports.admin}",
            "RESTATE_BIND_ADDRESS": f"127.0.0.1:{ports.node}",
        }
        self._resources = _Resources(self.base_dir, owns_dir=base_dir is None)
        # Runs at close(), when the backend is collected without close(), or at interpreter exit.
        self._finalizer = weakref.finalize(self, self._resources.release)

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._resources.process.pid if self.running() and self._resources.process else None

    def start(self) -> None:
        """Start the process (returns at once; health is checked by the caller)."""
        if self.running():
            return
        with self.log_path.open("ab") as log:  # the child keeps its own handle
            self._resources.process = subprocess.Popen(
                [str(self.binary), "--base-dir", str(self.base_dir / "data"), "--no-logo"],
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches only us, and we stop it in order.
                start_new_session=True,
            )

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process (SIGTERM, or SIGKILL with ``kill``); its data stays for a later start()."""
        if self._resources.process is not None:
            _stop_process(self._resources.process, kill)
            self._resources.process = None

    def close(self) -> None:
        """Stop the process and delete the directory we created."""
        self._finalizer()

    def running(self) -> bool:
        """True while the process is alive."""
        process = self._resources.process
        return process is not None and process.poll() is None

    def logs(self) -> str:
        """Everything the server printed since this backend was created."""
        with contextlib.suppress(FileNotFoundError):
            return self.log_path.read_text(errors="replace")
        return ""
