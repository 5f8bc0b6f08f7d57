"""Run an endpoint with granian or hypercorn (HTTP/2 cleartext and HTTP/1.1 on one port)."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any, Literal

__all__ = ["serve"]

log = logging.getLogger("restate_sdk")


def serve(
    app: Any,
    port: int = 9080,
    host: str = "0.0.0.0",
    *,
    server: Literal["auto", "granian", "hypercorn"] = "auto",
    loop: Literal["auto", "uvloop", "asyncio"] = "auto",
    drain_timeout: float = 30.0,
    **config: Any,
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then drain in-flight attempts and exit.

    Draining: attempts blocked on a durable result suspend at once, running ``ctx.run`` closures
    finish (up to ``drain_timeout`` seconds), and new attempts get 503 so restate-server retries
    them elsewhere or later.

    ``server``: ``"auto"`` (the default) takes granian when it is installed
    (``pip install restate-sdk-py[granian]``), else hypercorn. granian's HTTP/2 is Rust (hyper) and
    costs about half the CPU per invocation of hypercorn's pure-Python h2 (docs/decisions.md). Either
    runs in this process, on one event loop. Extra keyword arguments go to the server: hypercorn
    ``Config`` attributes, or arguments of granian's embedded ``Server``.

    ``loop``: ``"auto"`` runs on uvloop when the server is granian and uvloop is installed (the
    ``granian`` extra brings it): its cross-thread wake-ups, which granian uses for every request,
    are cheaper than asyncio's. hypercorn gains nothing from it, so ``auto`` keeps asyncio there.

    Example::

        restate.serve(restate.app([greeter]), port=9080)
    """
    if server not in ("auto", "granian", "hypercorn"):
        raise ValueError(f"server must be 'auto', 'granian' or 'hypercorn', not {server!r}")
    if loop not in ("auto", "uvloop", "asyncio"):
        raise ValueError(f"loop must be 'auto', 'uvloop' or 'asyncio', not {loop!r}")
    if server == "auto":
        server = "granian" if importlib.util.find_spec("granian") is not None else "hypercorn"
    if loop == "auto":
        uvloop_ok = server == "granian" and importlib.util.find_spec("uvloop") is not None
        loop = "uvloop" if uvloop_ok else "asyncio"

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        async def shutdown_trigger() -> None:
            await stop.wait()
            drain = getattr(app, "drain", None)
            if drain is not None:
                log.info("shutting down: draining in-flight invocation attempts")
                await drain(drain_timeout)
            log.info("shutting down")

        if server == "granian":
            await _serve_granian(app, host, port, shutdown_trigger, config)
        else:
            await _serve_hypercorn(app, host, port, shutdown_trigger, config)

    log.info("serving on http://%s:%d with %s on %s", host, port, server, loop)
    if loop == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


async def _serve_granian(
    app: Any, host: str, port: int, shutdown_trigger: Callable[[], Awaitable[None]], config: dict[str, Any]
) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP2Settings
    from granian.log import LogLevels
    from granian.server.embed import Server

    options: dict[str, Any] = {
        "address": host,
        "port": port,
        # RSGI, granian's own interface, when the app speaks it (an Endpoint does): a whole response
        # goes out in one call instead of awaited ASGI messages (docs/decisions.md)
        "interface": Interfaces.RSGI if hasattr(app, "__rsgi__") else Interfaces.ASGI,
        "http": HTTPModes.auto,  # h2c with prior knowledge (what restate-server speaks) and HTTP/1.1
        "websockets": False,
        "log_level": LogLevels.warning,
        # restate-server multiplexes a deployment's invocations over one h2 connection, and an
        # invocation can stay open for minutes: lift the caps on streams and on requests in flight.
        "backlog": 1024,
        "backpressure": 2**20,
        "http2_settings": HTTP2Settings(max_concurrent_streams=2**31 - 1),
    }
    options.update(config)
    granian = Server(app, **options)
    # granian warns on every start that its embedded mode is experimental; we chose it knowingly.
    logging.getLogger("_granian").addFilter(lambda record: "experimental" not in record.getMessage())

    async def stop_on_trigger() -> None:
        await shutdown_trigger()
        granian.stop()

    stopper = asyncio.get_running_loop().create_task(stop_on_trigger())
    try:
        await granian.serve()
    finally:
        stopper.cancel()


async def _serve_hypercorn(
    app: Any, host: str, port: int, shutdown_trigger: Callable[[], Awaitable[None]], config: dict[str, Any]
) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve  # pyright: ignore[reportUnknownVariableType]
    from hypercorn.config import Config

    cfg = Config()
    cfg.bind = [f"{host}:{port}"]
    cfg.h2_max_concurrent_streams = 2**31 - 1
    # hypercorn's default (1000 requests per connection) sends GOAWAY and drops the connection with
    # invocations still streaming on it; restate-server keeps one h2 connection per deployment.
    cfg.keep_alive_max_requests = 2**31 - 1
    cfg.keep_alive_timeout = 3600
    cfg.graceful_timeout = 5
    for k, v in config.items():
        setattr(cfg, k, v)
    stopping = False

    async def trigger() -> None:
        nonlocal stopping
        await shutdown_trigger()
        stopping = True

    try:
        await hypercorn_serve(app, cfg, shutdown_trigger=trigger)  # type: ignore[arg-type]
    except Exception as e:
        if not stopping:
            raise
        # After the drain, hypercorn's HTTP/2 code can still fail while it closes connections: a
        # request restate-server sends meanwhile is reset, and its DATA then raises KeyError. Nothing
        # is in flight any more and restate-server retries that request: not worth exit status 1.
        log.warning("hypercorn failed while closing its connections after the drain: %r", e)
