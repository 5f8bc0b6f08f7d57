"""Run an endpoint with hypercorn (HTTP/2 cleartext and HTTP/1.1 on one port)."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["serve"]


def serve(app: Any, port: int = 9080, host: str = "0.0.0.0", **config: Any) -> None:
    """Serve ``app`` until interrupted (Ctrl-C or SIGTERM drain in-flight attempts first).

    Extra keyword arguments set hypercorn ``Config`` attributes, e.g. ``graceful_timeout=10``.
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
    cfg.graceful_timeout = 30
    for k, v in config.items():
        setattr(cfg, k, v)
    asyncio.run(hypercorn_serve(app, cfg))  # type: ignore[arg-type]
