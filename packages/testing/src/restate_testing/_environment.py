"""RestateEnvironment: restate-server + the app served + the deployment registered + ingress clients."""

from __future__ import annotations

import asyncio
import logging
import platform
import time
from types import TracebackType
from typing import Any, Self

from restate_ingress import AdminClient, AsyncClient, Client, IngressError, ServerError

from ._cluster import start_cluster
from ._endpoint import AppServer
from ._errors import RestateStartError
from ._inspect import JournalEntry, ObjectState, read_journal
from ._provision import DEFAULT_SERVER_VERSION
from ._server import BackendName, RestateServer, resolve_backend

__all__ = ["RestateEnvironment"]

_log = logging.getLogger("restate_testing")
_REGISTER_RETRY_SECONDS = 5.0


class RestateEnvironment:
    """Everything an integration test needs: restate-server, the app served and registered, clients.

    ::

        with RestateEnvironment(app) as env:
            assert env.client.service("Greeter").call("greet", "Ann") == "Hello Ann!"

        async with RestateEnvironment(app, always_replay=True) as env:
            await env.async_client.service("Greeter").call("greet", "Ann")

    Teardown (leaving the block, or :meth:`close`) stops the app server, the restate-server process or
    container, and removes its data, also when the block raised.

    Args:
        app: the ASGI application to serve, e.g. ``restate_sdk.app([...])``.
        backend: ``"docker"``, ``"binary"`` or ``"auto"`` (docker when an engine answers, else a local
            binary); ``None`` reads ``$RESTATE_TESTING_BACKEND`` and defaults to auto.
        image: docker image (default ``$RESTATE_TESTING_IMAGE`` or ``docker.io/restatedev/restate:1.7``).
        always_replay: make the server suspend the handler at every await, so that every step is
            replayed; catches nondeterminism.
        disable_retries: kill an invocation after its first failed attempt, so a test sees the failure
            instead of waiting for retries.
        lazy_state: send no state eagerly with invocations.
        env: further ``RESTATE_*`` settings for the server (they win over the options above).
        server_version: restate-server version downloaded for the binary backend when none is installed.
        startup_timeout: seconds the server gets to report healthy.
        nodes: how many restate-server nodes to run. ``3`` starts a cluster of three nodes with a
            replicated metadata server and a replicated log (replication 2), ready once all three
            are metadata members; :attr:`nodes` gives each node's URLs, ``kill()`` and ``restart()``.
            The clients, the admin API and registration go through node 0.
    """

    def __init__(
        self,
        app: Any,
        *,
        backend: BackendName | None = None,
        image: str | None = None,
        always_replay: bool = False,
        disable_retries: bool = False,
        lazy_state: bool = False,
        env: dict[str, str] | None = None,
        server_version: str = DEFAULT_SERVER_VERSION,
        startup_timeout: float = 60.0,
        nodes: int = 1,
    ) -> None:
        if nodes < 1:
            raise ValueError(f"nodes must be at least 1, not {nodes}")
        self.app = app
        self._server_options: dict[str, Any] = {
            "backend": backend,
            "image": image,
            "always_replay": always_replay,
            "disable_retries": disable_retries,
            "lazy_state": lazy_state,
            "env": env,
            "server_version": server_version,
            "startup_timeout": startup_timeout,
        }
        self._node_count = nodes
        # One node exists from the start (its log is readable before start()); a cluster's nodes are
        # made by start(), which picks all their ports at once.
        self._nodes: list[RestateServer] = [RestateServer(**self._server_options)] if nodes == 1 else []
        self._endpoint: AppServer | None = None
        self._admin: AdminClient | None = None
        self._client: Client | None = None
        self._async_client: tuple[asyncio.AbstractEventLoop, AsyncClient] | None = None
        self.deployment: dict[str, Any] | None = None
        """The admin API's answer to the last registration."""
        self.startup_seconds: float | None = None
        """How long start() took."""

    # -- nodes -------------------------------------------------------------------------------------

    @property
    def server(self) -> RestateServer:
        """The restate-server the clients talk to (node 0 of a cluster)."""
        return self.nodes[0]

    @property
    def nodes(self) -> list[RestateServer]:
        """Every restate-server node, node 0 first; one unless ``nodes=`` asked for more.

        Each has ``ingress_url``, ``admin_url``, ``kill()`` (SIGKILL, data kept), ``restart()`` and
        ``start()``.
        """
        if not self._nodes:
            raise RuntimeError("the environment has not been started")
        return list(self._nodes)

    # -- addresses and clients ---------------------------------------------------------------------

    @property
    def ingress_url(self) -> str:
        """Base URL of restate-server's HTTP ingress."""
        return self.server.ingress_url

    @property
    def admin_url(self) -> str:
        """Base URL of restate-server's admin API."""
        return self.server.admin_url

    @property
    def endpoint(self) -> AppServer:
        """The server that serves the app (stop()/start() it to take the app away)."""
        if self._endpoint is None:
            raise RuntimeError("the environment has not been started")
        return self._endpoint

    @property
    def deployment_uri(self) -> str:
        """The URI under which the app is registered with restate-server."""
        return self.server.deployment_uri(self.endpoint.port)

    @property
    def client(self) -> Client:
        """A ``restate_ingress.Client`` for the ingress."""
        if self._client is None:
            self._client = Client(self.ingress_url)
        return self._client

    @property
    def async_client(self) -> AsyncClient:
        """A ``restate_ingress.AsyncClient`` for the ingress, bound to the running event loop.

        Each event loop gets its own client (pytest-asyncio may run every test in a new loop); the
        environment closes the last one.
        """
        loop = asyncio.get_running_loop()
        if self._async_client is None or self._async_client[0] is not loop:
            self._async_client = (loop, AsyncClient(self.ingress_url))
        return self._async_client[1]

    @property
    def admin(self) -> AdminClient:
        """A ``restate_ingress.AdminClient`` (register deployments, list services, cancel/kill invocations)."""
        if self._admin is None:
            self._admin = AdminClient(self.admin_url)
        return self._admin

    def state(self, service: str, key: str) -> ObjectState:
        """Read and write the state of virtual object or workflow ``service`` under ``key``.

        ::

            env.state("Counter", "a").get("count", type_hint=int)
            env.state("Counter", "a").set("count", 10)
            env.state("Counter", "a").all()          # {"count": 10}
        """
        return ObjectState(self.admin, service, key)

    def journal(self, invocation_id: str) -> list[JournalEntry]:
        """The journal entries of ``invocation_id`` (running or completed), oldest first.

        ::

            runs = [e for e in env.journal(invocation_id) if e.kind == "Run" and not e.notification]
            assert [e.name for e in runs] == ["charge"]
        """
        return read_journal(self.admin, invocation_id)

    def logs(self) -> str:
        """restate-server's output so far (every node's, one after the other, for a cluster)."""
        if len(self._nodes) <= 1:
            return self._nodes[0].logs() if self._nodes else ""
        return "\n".join(f"--- {node.node_name} ---\n{node.logs()}" for node in self._nodes)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server, serve the app, register it. Raises RestateStartError with the logs."""
        started = time.monotonic()
        try:
            if self._node_count == 1:
                self.server.start()
            else:
                self._nodes = start_cluster(self._node_count, self._cluster_options())
            self._endpoint = AppServer(self.app, host=self._bind_host())
            self._endpoint.start()
            self.register()
        except BaseException:
            self.close()
            raise
        self.startup_seconds = time.monotonic() - started
        _log.info(
            "restate environment (%s, %d node(s)) ready in %.2fs: ingress %s, app %s",
            self.server.backend.name,
            self._node_count,
            self.startup_seconds,
            self.ingress_url,
            self.deployment_uri,
        )
        return self

    def register(self) -> dict[str, Any]:
        """(Re-)register the app's deployment, e.g. after changing the app or restarting the server."""
        deadline = time.monotonic() + _REGISTER_RETRY_SECONDS
        while True:
            try:
                self.deployment = self.admin.register_deployment(self.deployment_uri, force=True)
                return self.deployment
            except IngressError as error:
                # Right after a (re)start the admin may answer 5xx for a moment; anything else is final.
                if isinstance(error, ServerError) and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise RestateStartError(
                    f"registering the app at {self.deployment_uri} failed: {error}"
                ).attach_logs("restate-server log", self.logs()) from error

    def close(self) -> None:
        """Tear everything down; safe to call more than once and after a failed start."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self._async_client = None  # bound to a loop we cannot reach from here; aclose() in __aexit__
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        try:
            if self._endpoint is not None:
                self._endpoint.stop()
                self._endpoint = None
        finally:
            for node in self._nodes:
                node.close()

    def _cluster_options(self) -> dict[str, Any]:
        # Resolve "auto" once for all nodes, and refuse what cannot form a cluster.
        backend = resolve_backend(self._server_options["backend"])
        if backend == "docker":
            from ._container import default_network_mode

            if default_network_mode() != "host":
                raise RestateStartError(
                    "a cluster on the docker backend needs host networking (Linux), so that the nodes "
                    "reach each other on 127.0.0.1; use backend='binary' or nodes=1"
                )
        return {**self._server_options, "backend": backend}

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        # Starting blocks for a moment (process spawn, health polling): keep the event loop free.
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._async_client is not None and self._async_client[0] is asyncio.get_running_loop():
                await self._async_client[1].aclose()
        finally:
            self._async_client = None
            await asyncio.to_thread(self.close)

    def _bind_host(self) -> str:
        # Host networking and the binary reach us on loopback. A bridged container on Linux comes from
        # the docker bridge, so listen everywhere; Docker Desktop forwards host.docker.internal to loopback.
        if self.server.endpoint_host == "127.0.0.1" or platform.system() != "Linux":
            return "127.0.0.1"
        return "0.0.0.0"
