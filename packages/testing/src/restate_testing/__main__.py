"""Command line: ``python -m restate_testing {dev,provision,serve-app} ...``.

``dev module:app``
    Start restate-server, serve the app, register it, print the ingress URL and a sample curl; restart
    the app and register it again whenever a .py file next to it changes. Ctrl-C stops everything.
``provision [--version V]``
    Make sure a restate-server binary is available (downloading it from npm into the cache if needed)
    and print its path.
``serve-app module:app --port N``
    Serve an ASGI app with hypercorn (HTTP/1.1 and h2c) on 127.0.0.1:N; used by ``dev``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from typing import Any

from ._dev import run_dev
from ._errors import ProvisionError
from ._provision import DEFAULT_SERVER_VERSION, download_restate_server, find_restate_server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m restate_testing", description="restate-server for development and tests"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run restate-server and an app, reloading the app on changes")
    dev.add_argument("target", help="module:attribute of the ASGI app, e.g. greeter:app")
    dev.add_argument("--port", type=int, help="port for the app (default: a free one)")
    dev.add_argument("--backend", choices=["auto", "docker", "binary"], default=None)
    dev.add_argument("--image", help="docker image for the docker backend")
    dev.add_argument("--always-replay", action="store_true", help="suspend and replay at every await")
    dev.add_argument("--disable-retries", action="store_true", help="kill invocations after one failure")
    dev.add_argument("--server-version", default=DEFAULT_SERVER_VERSION)

    provision = commands.add_parser("provision", help="download restate-server if needed; print its path")
    provision.add_argument("--version", default=DEFAULT_SERVER_VERSION, help="restate-server version")
    provision.add_argument(
        "--cache-only", action="store_true", help="ignore RESTATE_SERVER_BIN and PATH; use the download cache"
    )

    serve = commands.add_parser("serve-app", help="serve an ASGI app with hypercorn (used by dev)")
    serve.add_argument("target", help="module:attribute of the ASGI app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, required=True)
    return parser


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    sys.path.insert(0, str(Path.cwd()))
    module = importlib.import_module(module_name)
    return getattr(module, attribute or "app")


def _serve_app(target: str, host: str, port: int) -> None:
    import restate_sdk

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # errorlog: a logger of our own, so hypercorn adds no second stderr handler next to basicConfig's.
    restate_sdk.serve(
        _load(target),
        port=port,
        host=host,
        server="hypercorn",  # the options below are hypercorn's; restarts want its quick shutdown
        drain_timeout=0.5,  # in development nothing waits for in-flight steps: Ctrl-C stops at once
        graceful_timeout=1.0,
        errorlog=logging.getLogger("hypercorn.error"),
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m restate_testing``; a failure to provision prints what to do, no traceback."""
    args = _parser().parse_args(argv)
    try:
        return _main(args)
    except ProvisionError as error:
        print(f"restate-testing: {error}", file=sys.stderr)
        return 1


def _main(args: argparse.Namespace) -> int:
    if args.command == "provision":
        path = download_restate_server(args.version) if args.cache_only else find_restate_server(args.version)
        print(path)
        return 0
    if args.command == "serve-app":
        _serve_app(args.target, args.host, args.port)
        return 0
    options: dict[str, Any] = {
        "backend": args.backend,
        "image": args.image,
        "always_replay": args.always_replay,
        "disable_retries": args.disable_retries,
        "server_version": args.server_version,
    }
    return run_dev(args.target, port=args.port, server_options=options)


if __name__ == "__main__":
    sys.exit(main())
