"""The docker backend: restate-server in a container, started with testcontainers.

On Linux the container shares the host's network: it binds the same 127.0.0.1 ports the binary
backend would, and reaches the test's endpoint on 127.0.0.1. Elsewhere (Docker Desktop) host networking
is not generally available, so the container listens on its default ports, which are published on
127.0.0.1, and reaches the endpoint through ``host.docker.internal``.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import weakref
from typing import Literal

import docker
import docker.errors
from testcontainers.core.container import DockerContainer

from ._backend import ServerPorts

__all__ = ["DockerBackend", "docker_available"]

NetworkMode = Literal["host", "bridge"]

_LABEL = "org.restate-sdk-py.testing"
_STOP_TIMEOUT = 10
# Inside the container in bridge mode: restate-server's own defaults.
_INGRESS, _ADMIN, _NODE = 8080, 9070, 5122


def docker_available(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout`` seconds."""
    try:
        client = docker.from_env(timeout=max(1, round(timeout)))
    except docker.errors.DockerException:
        return False
    try:
        return bool(client.ping())  # pyright: ignore[reportUnknownMemberType]
    except Exception:  # any transport error means "no engine here"
        return False
    finally:
        client.close()


def default_network_mode() -> NetworkMode:
    """``$RESTATE_TESTING_DOCKER_NETWORK``, else host networking on Linux and bridge elsewhere."""
    explicit = os.environ.get("RESTATE_TESTING_DOCKER_NETWORK")
    if explicit in ("host", "bridge"):
        return explicit
    return "host" if platform.system() == "Linux" else "bridge"


def _remove_container(container_id: str) -> None:
    """Best effort, at garbage collection or interpreter exit: remove a container left running."""
    with contextlib.suppress(Exception):
        client = docker.from_env()
        try:
            client.containers.get(container_id).remove(force=True, v=True)
        finally:
            client.close()


class DockerBackend:
    """Runs restate-server from ``image`` in a container that keeps its data across stop()/start()."""

    name = "docker"

    def __init__(
        self, image: str, env: dict[str, str], ports: ServerPorts, network: NetworkMode | None = None
    ) -> None:
        self.image = image
        self.ports = ports
        self.network: NetworkMode = network or default_network_mode()
        container = DockerContainer(image).with_envs(**env)
        if self.network == "host":
            container.with_kwargs(network="host", labels={_LABEL: "true"}).with_envs(
                RESTATE_INGRESS__BIND_ADDRESS=f"127.0.0.1:{ports.ingress}",
                RESTATE_ADMIN__BIND_ADDRESS=f"127.0.0.1:{ports.admin}",
                RESTATE_BIND_ADDRESS=f"127.0.0.1:{ports.node}",
            )
        else:
            # Fixed host ports (not random ones) so that a restarted container keeps its addresses.
            container.with_bind_ports(_INGRESS, ports.ingress).with_bind_ports(_ADMIN, ports.admin)
            container.with_kwargs(
                labels={_LABEL: "true"}, extra_hosts={"host.docker.internal": "host-gateway"}
            ).with_envs(
                RESTATE_INGRESS__BIND_ADDRESS=f"0.0.0.0:{_INGRESS}",
                RESTATE_ADMIN__BIND_ADDRESS=f"0.0.0.0:{_ADMIN}",
                RESTATE_BIND_ADDRESS=f"0.0.0.0:{_NODE}",
                RESTATE_ADVERTISED_ADDRESS=f"http://127.0.0.1:{_NODE}/",
            )
        self._container = container
        self._created = False
        self._finalizer: weakref.finalize[[str], DockerBackend] | None = None

    @property
    def endpoint_host(self) -> str:
        """Where the container finds the test's endpoint."""
        return "127.0.0.1" if self.network == "host" else "host.docker.internal"

    @property
    def container_id(self) -> str | None:
        """The container's id once created."""
        return self._container.get_container_id() if self._created else None

    def start(self) -> None:
        """Create and start the container, or start it again after stop()."""
        if not self._created:
            self._announce_pull()
            try:
                self._container.start()
            finally:
                # Created even if starting failed (a port taken, say): close() must remove it then too.
                self._created = self._container._container is not None
            # Without Ryuk nobody else removes a container whose backend was never closed.
            self._finalizer = weakref.finalize(self, _remove_container, self._container.get_container_id())
        elif not self.running():
            self._container.get_wrapped_container().start()

    def _announce_pull(self) -> None:
        # testcontainers pulls a missing image silently; a first pull can take a while.
        try:
            self._container.get_docker_client().client.images.get(self.image)
        except docker.errors.ImageNotFound:
            print(f"restate-testing: pulling docker image {self.image} ...", file=sys.stderr, flush=True)

    def stop(self, *, kill: bool = False) -> None:
        """Stop (or SIGKILL) the container; its file system, so the server's data, stays."""
        if not self._created or not self.running():
            return
        wrapped = self._container.get_wrapped_container()
        if kill:
            wrapped.kill()
            wrapped.wait(timeout=_STOP_TIMEOUT)
        else:
            wrapped.stop(timeout=_STOP_TIMEOUT)

    def close(self) -> None:
        """Remove the container with its data."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._created:
            with contextlib.suppress(docker.errors.NotFound):
                self._container.stop(force=True, delete_volume=True)
            self._created = False

    def running(self) -> bool:
        """True while the container runs."""
        if not self._created:
            return False
        wrapped = self._container.get_wrapped_container()
        try:
            wrapped.reload()
        except docker.errors.NotFound:
            return False
        return wrapped.status == "running"

    def logs(self) -> str:
        """The container's stdout and stderr, interleaved."""
        if not self._created:
            return ""
        try:
            raw: bytes = self._container.get_wrapped_container().logs(stdout=True, stderr=True)
        except docker.errors.NotFound:
            return ""
        return raw.decode(errors="replace")
