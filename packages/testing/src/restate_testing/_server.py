"""RestateServer: one restate-server, from a local binary or a container, on free 127.0.0.1 ports."""

from __future__ import annotations

import logging
import os
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from ._backend import Backend, ServerPorts
from ._binary import BinaryBackend
from ._config import default_image, server_env
from ._errors import RestateStartError
from ._ports import free_ports
from ._provision import DEFAULT_SERVER_VERSION, find_restate_server

__all__ = ["BackendName", "RestateServer", "resolve_backend", "started_servers"]

BackendName = Literal["auto", "docker", "binary"]

_log = logging.getLogger("restate_testing")

# Servers started in this process and not yet garbage: the pytest plugin reads their logs on failures.
_STARTED: weakref.WeakSet[RestateServer] = weakref.WeakSet()


def started_servers() -> list[RestateServer]:
    """Every RestateServer started in this process that is still referenced (closed ones included)."""
    return list(_STARTED)


def resolve_backend(backend: BackendName | None = None) -> Literal["docker", "binary"]:
    """Turn ``auto`` (the default, or ``$RESTATE_TESTING_BACKEND``) into a concrete backend.

    ``auto`` means docker when an engine answers a ping quickly, else the local binary.
    """
    chosen = backend or os.environ.get("RESTATE_TESTING_BACKEND") or "auto"
    if chosen == "auto":
        from ._container import docker_available  # docker and testcontainers take a while to import

        return "docker" if docker_available() else "binary"
    if chosen not in ("docker", "binary"):
        raise ValueError(f"unknown backend {chosen!r}; expected 'auto', 'docker' or 'binary'")
    return chosen


class RestateServer:
    """A restate-server for tests, reachable on 127.0.0.1.

    ::

        with RestateServer(backend="binary") as server:
            httpx.get(f"{server.admin_url}/health")
            server.kill()      # SIGKILL: a crash; data and ports stay
            server.start()     # back, with its journal and state
            server.restart()   # graceful stop + start

    Args:
        backend: ``"docker"``, ``"binary"`` or ``"auto"`` (docker when an engine answers, else the
            binary). ``None`` reads ``$RESTATE_TESTING_BACKEND``, defaulting to auto.
        image: docker image (default ``$RESTATE_TESTING_IMAGE`` or ``docker.io/restatedev/restate:1.7``).
        always_replay: suspend at every await, so each step is replayed (inactivity timeout 0).
        disable_retries: a failing attempt kills the invocation instead of being retried.
        lazy_state: send no state eagerly with invocations; every get() asks the server.
        env: further ``RESTATE_*`` settings; they win over the above.
        server_version: restate-server version the binary backend downloads when none is installed.
        startup_timeout: seconds to wait for the server to report healthy.
    """

    def __init__(
        self,
        *,
        backend: BackendName | None = None,
        image: str | None = None,
        always_replay: bool = False,
        disable_retries: bool = False,
        lazy_state: bool = False,
        env: dict[str, str] | None = None,
        server_version: str = DEFAULT_SERVER_VERSION,
        startup_timeout: float = 60.0,
    ) -> None:
        self._requested: BackendName | None = backend
        self._image = image
        self._env = server_env(
            always_replay=always_replay, disable_retries=disable_retries, lazy_state=lazy_state, extra=env
        )
        self._server_version = server_version
        self._startup_timeout = startup_timeout
        self._backend: Backend | None = None
        self._closed_logs = ""
        self.ports: ServerPorts | None = None
        self._fixed_ports = False

    @classmethod
    def _cluster_node(cls, ports: ServerPorts, **options: Any) -> RestateServer:
        """One node of a cluster: its ports are fixed up front, because every node lists the others."""
        server = cls(**options)
        server.ports = ports
        server._fixed_ports = True
        return server

    @property
    def node_name(self) -> str | None:
        """``RESTATE_NODE_NAME`` when this server is a node of a cluster, else None."""
        return self._env["RESTATE_NODE_NAME"] if self._fixed_ports else None

    @property
    def env(self) -> dict[str, str]:
        """The ``RESTATE_*`` settings the server runs with (besides its bind addresses)."""
        return dict(self._env)

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The running backend (BinaryBackend or DockerBackend)."""
        if self._backend is None:
            raise RuntimeError("the server has not been started")
        return self._backend

    @property
    def ingress_url(self) -> str:
        """Base URL of the HTTP ingress, e.g. ``http://127.0.0.1:35871``."""
        return f"http://127.0.0.1:{self._ports().ingress}"

    @property
    def admin_url(self) -> str:
        """Base URL of the admin API."""
        return f"http://127.0.0.1:{self._ports().admin}"

    @property
    def endpoint_host(self) -> str:
        """The host name restate-server uses to reach an endpoint served on this machine."""
        return self.backend.endpoint_host

    def deployment_uri(self, port: int) -> str:
        """The URI to register for an endpoint listening on 127.0.0.1:``port`` of this machine."""
        return f"http://{self.endpoint_host}:{port}"

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server (or start it again after stop() or kill()) and wait until it is healthy.

        Raises RestateStartError, with the server log attached, when it does not come up.
        """
        started = time.monotonic()
        self.launch()
        self.wait_healthy(started)
        return self

    def launch(self) -> None:
        """Start the process or container and return at once; :meth:`wait_healthy` waits for it.

        A cluster launches every node before waiting: the nodes that join wait for the one that
        provisions.
        """
        if self._backend is None:
            self._backend = self._make_backend()
            _STARTED.add(self)
        try:
            self._backend.start()
        except Exception as error:
            raise RestateStartError(
                f"restate-server ({self._backend.name}) failed to start: {error}"
            ).attach_logs("restate-server log", self.logs()) from error

    def wait_healthy(self, started: float | None = None) -> None:
        """Wait until the launched server reports healthy (RestateStartError, with its log, if not)."""
        started = time.monotonic() if started is None else started
        try:
            self._wait_healthy(started + self._startup_timeout)
        except RestateStartError:
            raise
        except Exception as error:
            raise RestateStartError(
                f"restate-server ({self.backend.name}) failed to start: {error}"
            ).attach_logs("restate-server log", self.logs()) from error
        _log.info(
            "restate-server %s(%s) ready in %.2fs: ingress %s, admin %s",
            f"{self.node_name} " if self.node_name else "",
            self.backend.name,
            time.monotonic() - started,
            self.ingress_url,
            self.admin_url,
        )

    def stop(self) -> None:
        """Stop the server gracefully; data and ports are kept, so start() brings it back."""
        if self._backend is not None:
            self._backend.stop()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; data and ports are kept, so start() brings it back."""
        if self._backend is not None:
            self._backend.stop(kill=True)

    def restart(self, *, kill: bool = False) -> Self:
        """Stop (gracefully, or by SIGKILL with ``kill``) and start again with the same data and ports."""
        self.backend.stop(kill=kill)
        return self.start()

    def close(self) -> None:
        """Stop the server and remove what it created (process, container, data directory).

        The log stays readable through logs(); a later start() begins afresh on new ports.
        """
        if self._backend is not None:
            self._closed_logs = self._backend.logs()
            try:
                self._backend.close()
            finally:
                self._backend = None

    def running(self) -> bool:
        """True while the server process or container runs."""
        return self._backend is not None and self._backend.running()

    def logs(self) -> str:
        """The server's output so far (after close(), its output until then)."""
        return self._backend.logs() if self._backend is not None else self._closed_logs

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------

    def _ports(self) -> ServerPorts:
        if self.ports is None:
            raise RuntimeError("the server has not been started")
        return self.ports

    def _make_backend(self) -> Backend:
        kind = resolve_backend(self._requested)
        if not self._fixed_ports:
            ingress, admin, node = free_ports(3)
            self.ports = ServerPorts(ingress=ingress, admin=admin, node=node)
        assert self.ports is not None
        if kind == "docker":
            from ._container import DockerBackend

            return DockerBackend(self._image or default_image(), self._env, self.ports)
        binary: Path = find_restate_server(self._server_version)
        return BinaryBackend(binary, self._env, self.ports)

    def _wait_healthy(self, deadline: float) -> None:
        backend = self.backend
        checks = (f"{self.admin_url}/health", f"{self.ingress_url}/restate/health")
        last_error = "no answer yet"
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if not backend.running():
                    raise RestateStartError(
                        f"restate-server ({backend.name}) exited during startup"
                    ).attach_logs("restate-server log", backend.logs())
                try:
                    statuses = [http.get(url).status_code for url in checks]
                except httpx.TransportError as error:
                    last_error = repr(error)
                else:
                    if all(status == 200 for status in statuses):
                        return
                    last_error = f"health answered {statuses}"
                time.sleep(0.05)
        raise RestateStartError(
            f"restate-server ({backend.name}) not healthy after {self._startup_timeout:.0f}s: {last_error}"
        ).attach_logs("restate-server log", backend.logs())
