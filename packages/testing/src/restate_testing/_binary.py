"""The binary backend: restate-server as a child process of the test run."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import weakref
from pathlib import Path
from typing import IO

from ._backend import ServerPorts

__all__ = ["BinaryBackend"]

_STOP_TIMEOUT = 10.0

# Every live backend, so that a test run that ends without tearing down (an interrupted session, a
# forgotten close()) does not leave restate-server processes behind.
_LIVE: weakref.WeakSet[BinaryBackend] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for backend in list(_LIVE):
        backend.close()


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
        self._owns_dir = base_dir is None
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
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def start(self) -> None:
        """Start the process (returns at once; health is checked by the caller)."""
        if self.running():
            return
        self._close_log()
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(self.binary), "--base-dir", str(self.base_dir / "data"), "--no-logo"],
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C in the terminal reaches only us, and we stop it in order.
            start_new_session=True,
        )
        _LIVE.add(self)

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process (SIGTERM, or SIGKILL with ``kill``); its data stays for a later start()."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None
        self._close_log()

    def close(self) -> None:
        """Stop the process and delete the directory we created."""
        self.stop()
        _LIVE.discard(self)
        if self._owns_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def running(self) -> bool:
        """True while the process is alive."""
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        """The exit code once the process has ended on its own, else None."""
        return None if self._process is None else self._process.poll()

    def logs(self) -> str:
        """Everything the server printed since this backend was created."""
        with contextlib.suppress(FileNotFoundError):
            return self.log_path.read_text(errors="replace")
        return ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
