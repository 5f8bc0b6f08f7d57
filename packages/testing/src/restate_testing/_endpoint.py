"""AppServer: serve an app on a background thread with its own event loop (builtin server or hypercorn)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from ._errors import RestateStartError
from ._ports import free_ports, is_listening

if TYPE_CHECKING:
    from hypercorn.config import Config

__all__ = ["AppServer", "serve_asgi"]

_log = logging.getLogger("restate_testing.endpoint")


class AppServer:
    """Serves ``app`` over HTTP/1.1 and cleartext HTTP/2 (what restate-server speaks) on a free port.

    The server runs on a daemon thread with its own event loop, so it serves while the test blocks
    on a synchronous call. :meth:`stop` and :meth:`start` again reuse the same port, which lets a test
    take an endpoint away and bring it back (restate-server retries in between).

    Args:
        app: the app, e.g. ``restate_sdk.app([...])``, or any ASGI application.
        host: interface to listen on.
        port: port to listen on; a free one when omitted.
        graceful_timeout: seconds stop() lets in-flight requests finish before cancelling them.
        server: ``"auto"`` serves an endpoint with the SDK's builtin server (what
            ``restate_sdk.serve`` runs by default) and any other ASGI app with hypercorn;
            ``"hypercorn"`` forces hypercorn.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        graceful_timeout: float = 1.0,
        server: Literal["auto", "hypercorn"] = "auto",
    ) -> None:
        if server not in ("auto", "hypercorn"):
            raise ValueError(f"server must be 'auto' or 'hypercorn', not {server!r}")
        self.app = app
        self.server: Literal["builtin", "hypercorn"] = (
            "builtin" if server == "auto" and hasattr(app, "__rsgi__") else "hypercorn"
        )
        self.host = host
        self.port = port if port is not None else free_ports(1)[0]
        self.graceful_timeout = graceful_timeout
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shutdown: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._stop_grace = graceful_timeout

    @property
    def url(self) -> str:
        """``http://host:port`` of this server, as seen from this machine."""
        return f"http://{self.host}:{self.port}"

    def running(self) -> bool:
        """True while the serving thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> Self:
        """Start serving and return once the port accepts connections."""
        if self.running():
            return self
        self._error = None
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name=f"restate-testing-endpoint-{self.port}", daemon=True
        )
        self._thread.start()
        ready.wait(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RestateStartError(f"the app server on port {self.port} stopped: {self._error!r}") from (
                    self._error
                )
            if is_listening(self.port, "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host):
                _log.debug("serving the app on %s", self.url)
                return self
            time.sleep(0.02)
        self.stop()
        raise RestateStartError(f"the app server did not listen on port {self.port} within {timeout}s")

    def stop(self, graceful_timeout: float | None = None) -> None:
        """Stop serving: in-flight requests get ``graceful_timeout`` seconds, then are cancelled."""
        thread, loop, shutdown = self._thread, self._loop, self._shutdown
        if thread is None:
            return
        if loop is not None and shutdown is not None and thread.is_alive():
            self._stop_grace = self.graceful_timeout if graceful_timeout is None else graceful_timeout
            # The loop may close between the check and the call; then there is nothing left to stop.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(shutdown.set)
        thread.join(timeout=30)
        if thread.is_alive():
            _log.warning("the app server thread on port %s did not stop within 30s", self.port)
        self._thread = self._loop = self._shutdown = None

    def restart(self) -> Self:
        """Stop and start again on the same port."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        try:
            with asyncio.Runner() as runner:
                runner.run(self._serve(ready))
        except BaseException as error:  # handed to start(); a thread has nobody else to tell
            self._error = error
            _log.exception("the app server on port %s failed", self.port)
        finally:
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        shutdown = self._shutdown = asyncio.Event()
        ready.set()
        if self.server == "builtin":
            await self._serve_builtin(shutdown)
            return
        from hypercorn.config import Config  # imported here: hypercorn is slow to import

        config = Config()
        config.bind = [f"{self.host}:{self.port}"]
        config.accesslog = None
        config.errorlog = _log
        config.graceful_timeout = self.graceful_timeout
        # As restate_sdk.serve() does: restate-server multiplexes every invocation over one long-lived
        # h2 connection, which hypercorn's defaults (1000 requests, 100 streams) would cut.
        config.h2_max_concurrent_streams = 2**31 - 1
        config.keep_alive_max_requests = 2**31 - 1
        config.keep_alive_timeout = 3600

        resume = getattr(self.app, "resume", None)
        if resume is not None:
            resume()  # served again after an earlier stop() drained it

        async def trigger() -> None:
            await shutdown.wait()
            config.graceful_timeout = self._stop_grace  # read by hypercorn once shutdown begins
            drain = getattr(self.app, "drain", None)
            if drain is not None:
                # a restate_sdk endpoint suspends its in-flight attempts at once; without this,
                # an attempt waiting on a long sleep would hold the connection open
                await drain(self._stop_grace)

        await serve_asgi(self.app, config, trigger)

    async def _serve_builtin(self, shutdown: asyncio.Event) -> None:
        from restate_sdk._endpoint.builtin import serve_builtin
        from restate_sdk._endpoint.serve import MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # start() right after stop() binds the same port while old connections sit in TIME_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(1024)
            resume = getattr(self.app, "resume", None)
            if resume is not None:
                resume()  # served again after an earlier stop() drained it

            async def trigger() -> None:
                await shutdown.wait()
                # suspends the in-flight attempts at once: an attempt waiting on a long sleep
                # would otherwise hold its stream open
                drain = getattr(self.app, "drain", None)
                if drain is not None:
                    await drain(self._stop_grace)

            await serve_builtin(
                self.app,
                sock,
                trigger,
                max_streams=MAX_CONCURRENT_STREAMS,
                max_header_list_size=MAX_HEADER_LIST_SIZE,
                grace=lambda: self._stop_grace,
            )


async def serve_asgi(
    app: Any, config: Config, shutdown_trigger: Callable[[], Awaitable[None]] | None = None
) -> None:
    """hypercorn's serve() for an ASGI app; without a trigger it stops on SIGINT/SIGTERM."""
    from hypercorn.asyncio import serve  # pyright: ignore[reportUnknownVariableType]

    await serve(app, config, shutdown_trigger=shutdown_trigger, mode="asgi")
