"""Shared command line of the examples: ``python -m examples.<name> [serve [--port N]]``.

Without arguments an example runs its scenario end to end: restate_testing starts restate-server
(a local binary, downloaded from npm into a cache on first use; ``RESTATE_TESTING_BACKEND=docker``
runs the container image instead), serves the app, registers it, and the scenario talks to it
through the ingress client. ``serve`` only serves the app on a port, for a restate-server of your own.
"""

from __future__ import annotations

import argparse
import enum
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

import restate_sdk as restate
from restate_ingress import Client
from restate_testing import RestateEnvironment

__all__ = ["check", "eventually", "main"]

T = TypeVar("T")


def eventually(probe: Callable[[], T], done: Callable[[T], bool] = bool, timeout: float = 20) -> T:
    """Call ``probe`` until ``done(value)`` holds or ``timeout`` seconds pass; return the last value.

    For effects that land a moment after the call that caused them: one-way sends, state written
    after a side effect, spans of another invocation.
    """
    deadline = time.monotonic() + timeout
    while not done(value := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def check(label: str, got: Any, expected: Any) -> Any:
    """Print ``label -> got``; raise AssertionError when ``got`` is not ``expected``."""
    shown = got.value if isinstance(got, enum.Enum) else got
    print(f"  {label} -> {shown!r}", flush=True)
    if got != expected:
        raise AssertionError(f"{label}: expected {expected!r}, got {got!r}")
    return got


class _OneLineFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        return ""

    def formatStack(self, stack_info: str) -> str:
        return ""


def main(app: restate.Endpoint, scenario: Callable[[Client], None], *, name: str) -> int:
    """Serve ``app`` (``serve``) or run ``scenario`` against it end to end (default); the exit code."""
    parser = argparse.ArgumentParser(prog=f"python -m examples.{name}")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="only serve the app (register it with your restate-server)")
    serve.add_argument("--port", type=int, default=9080)
    args = parser.parse_args()

    # One line per record: the SDK's warning for a failed attempt already names the exception, and
    # the scenarios fail attempts on purpose (a traceback each would bury the output).
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(_OneLineFormatter("    log %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[console])
    logging.getLogger("examples").setLevel(logging.INFO)
    if args.command == "serve":
        print(f"serving {name} on :{args.port}; register it with restate-server, e.g.", flush=True)
        print(f"  restate deployments register http://localhost:{args.port}", flush=True)
        restate.serve(app, port=args.port)
        return 0

    backend = cast(Literal["auto", "docker", "binary"], os.environ.get("RESTATE_TESTING_BACKEND") or "binary")
    started = time.monotonic()
    print(f"[{name}] starting restate-server ({backend}) and serving the app ...", flush=True)
    with RestateEnvironment(app, backend=backend) as env:
        print(
            f"[{name}] ready in {env.startup_seconds:.1f}s: ingress {env.ingress_url}, "
            f"app registered at {env.deployment_uri}",
            flush=True,
        )
        try:
            scenario(env.client)
        except AssertionError as error:
            print(f"[{name}] FAILED: {error}", file=sys.stderr, flush=True)
            return 1
    print(f"[{name}] OK ({time.monotonic() - started:.1f}s in all)", flush=True)
    return 0
