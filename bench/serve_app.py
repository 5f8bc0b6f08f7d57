"""Serve one benchmark app in this very process (so its pid is the one whose CPU we read).

Usage: python serve_app.py {ours|official|floor} PORT [builtin|hypercorn|granian] [auto|asyncio|uvloop]

Run with the interpreter of the SDK under test: the workspace's for ``ours``, bench/.venv-official's
for ``official``. ``ours`` is served by ``restate_sdk.serve`` (what its users run); ``official`` by
hypercorn configured as the official SDK's harness does (or by granian, for reference); the floor
by granian or by our SDK's builtin server. Each server
runs in one process with one event loop and speaks h2c (HTTP/2 with prior knowledge, as restate-server
does for ``http://`` deployments). With BENCH_PROFILE=file the
process runs under cProfile and dumps its stats there when stopped (SIGTERM).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load_app(which: str) -> Any:
    path = HERE / "apps" / f"{which}.py"
    spec = importlib.util.spec_from_file_location(f"bench_app_{which}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


async def serve_hypercorn(app: Any, port: int) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    # What the official SDK's harness sets (restate/harness.py). Hypercorn's default of 1000 requests
    # per connection sends GOAWAY mid-stream and breaks every invocation in flight on it.
    config.h2_max_concurrent_streams = 2**31 - 1
    config.keep_alive_max_requests = 2**31 - 1
    config.keep_alive_timeout = 2**31 - 1
    config.loglevel = "WARNING"
    await serve(app, config)


async def serve_granian(app: Any, port: int) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP2Settings
    from granian.log import LogLevels
    from granian.server.embed import Server

    # restate-server multiplexes every invocation of a deployment over one h2 connection: lift
    # granian's defaults of 200 streams per connection and 128 requests in flight per worker.
    server = Server(
        app,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.RSGI if hasattr(app, "__rsgi__") else Interfaces.ASGI,
        http=HTTPModes.auto,
        log_level=LogLevels.warning,
        websockets=False,
        backlog=1024,
        backpressure=2**20,
        http2_settings=HTTP2Settings(max_concurrent_streams=2**31 - 1),
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.stop)
    await server.serve()


async def serve_builtin(app: Any, port: int) -> None:
    """The SDK's own HTTP server (what ``restate_sdk.serve`` picks for endpoints) around another app."""
    import socket

    from restate_sdk._endpoint.builtin import serve_builtin as serve
    from restate_sdk._endpoint.serve import MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sock = socket.create_server(("127.0.0.1", port), backlog=1024)
    await serve(
        app, sock, stop.wait, max_streams=MAX_CONCURRENT_STREAMS, max_header_list_size=MAX_HEADER_LIST_SIZE
    )


def run(main: Coroutine[Any, Any, None], loop_impl: str) -> None:  # for the official SDK's app
    if loop_impl == "uvloop":
        import uvloop

        uvloop.run(main)
    else:
        asyncio.run(main)


def main() -> None:
    which, port = sys.argv[1], int(sys.argv[2])
    server = sys.argv[3] if len(sys.argv) > 3 else "hypercorn"
    loop_impl = sys.argv[4] if len(sys.argv) > 4 else "auto"
    app = load_app(which)

    def start() -> None:
        if which == "ours":  # what users of this SDK run: restate_sdk.serve
            import restate_sdk

            restate_sdk.serve(app, port, host="127.0.0.1", server=server, loop=loop_impl)  # type: ignore[arg-type]
        else:
            serve = {"hypercorn": serve_hypercorn, "granian": serve_granian, "builtin": serve_builtin}[server]
            run(serve(app, port), loop_impl)

    profile = os.environ.get("BENCH_PROFILE")
    if not profile:
        start()
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        start()
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


if __name__ == "__main__":
    main()
