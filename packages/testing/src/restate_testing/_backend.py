"""What RestateServer needs from a way of running restate-server (a local binary, a container)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Backend", "ServerPorts"]


@dataclass(frozen=True, slots=True)
class ServerPorts:
    """Host ports of one restate-server: HTTP ingress, admin API, node-to-node fabric."""

    ingress: int
    admin: int
    node: int


class Backend(Protocol):
    """A restate-server that can be started, stopped (keeping its data) and finally removed."""

    @property
    def name(self) -> str:
        """``"binary"`` or ``"docker"``."""
        ...

    @property
    def endpoint_host(self) -> str:
        """The host name under which restate-server reaches services listening on this machine."""
        ...

    def start(self) -> None:
        """Launch the server (or relaunch it after stop()); does not wait for health."""
        ...

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server gracefully, or SIGKILL it; its data stays for a later start()."""
        ...

    def close(self) -> None:
        """Stop the server and remove everything this backend created."""
        ...

    def running(self) -> bool:
        """True while the server process or container runs."""
        ...

    def logs(self) -> str:
        """The server's output so far."""
        ...
