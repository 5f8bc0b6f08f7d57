"""Run an endpoint with hypercorn (HTTP/2 cleartext and HTTP/1.1 on one port)."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

__all__ = ["serve"]

log = logging.getLogger("restate_sdk")


def serve(
    app: Any, port: int = 9080, host: str = "0.0.0.0", *, drain_timeout: float = 30.0, **config: Any
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then drain in-flight attempts and exit.

    Draining: attempts blocked on a durable result suspend at once, running ``ctx.run`` closures
    finish (up to ``drain_timeout`` seconds), and new attempts get 503 so restate-server retries
    them elsewhere or later. Extra keyword arguments set hypercorn ``Config`` attributes.

    Example::

        restate.serve(restate.app([greeter]), port=9080)
    """
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

        await hypercorn_serve(app, cfg, shutdown_trigger=shutdown_trigger)  # type: ignore[arg-type]

    asyncio.run(main())
