"""Run an endpoint on our builtin server, granian or hypercorn (h2c and HTTP/1.1 on one port), in one or N processes."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import importlib.util
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from .._errors import SdkUsageError
from .builtin import serve_builtin

__all__ = ["serve"]

log = logging.getLogger("restate_sdk")

MAX_CONCURRENT_STREAMS = 4096
"""HTTP/2 streams one connection may have open at once. restate-server multiplexes a deployment's
invocation attempts over one connection and, by default, runs at most 1000 attempts at once per node
(``worker.invoker.concurrent-invocations-limit``); past this bound it waits for a stream to free up.
Each open stream costs an attempt's memory, so the bound caps what one connection can hold."""

MAX_HEADER_LIST_SIZE = 64 * 1024
"""Request headers per HTTP/2 stream (hypercorn's default; granian's is 16 MiB): restate-server's
headers, the request-identity token included, are well under 1 KiB."""


def serve(
    app: Any,
    port: int = 9080,
    host: str = "0.0.0.0",
    *,
    workers: int = 1,
    server: Literal["auto", "builtin", "granian", "hypercorn"] = "auto",
    loop: Literal["auto", "uvloop", "asyncio"] = "auto",
    drain_timeout: float = 30.0,
    **config: Any,
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then drain in-flight attempts and exit.

    Draining: attempts blocked on a durable result suspend at once, running ``ctx.run`` closures
    finish (up to ``drain_timeout`` seconds), and new attempts get 503 so restate-server retries
    them elsewhere or later.

    The port is bound here, without SO_REUSEPORT, before the server starts: a port that another
    process listens on ends the program at once with a one-line error (exit status 1).

    ``workers``: processes serving the one port (default 1: this process). With more, this process
    forks them (POSIX only), restarts one that dies (logged as a warning), and on SIGTERM or SIGINT
    passes the signal on so that every worker drains as above. restate-server carries a
    deployment's invocations over one HTTP/2 connection, and one connection is served by one
    worker: workers share the load only across connections (HTTP/1.1 deployments, several
    restate-server nodes, or a lower ``RESTATE_WORKER__INVOKER__HTTP2_STREAMS_PER_CONNECTION_LIMIT``).

    ``server``: ``"auto"`` (the default) is ``"builtin"`` for an endpoint (``restate.app(...)``):
    the SDK's own HTTP server, h2c and HTTP/1.1 on one port, running on the event loop itself; a run
    step costs about half to two thirds of the CPU it costs on granian (docs/decisions.md). Any other ASGI
    app gets granian when it is installed (``pip install restate-sdk-py[granian]``), else hypercorn.
    ``"granian"`` (Rust, hyper) and ``"hypercorn"`` (pure-Python h2) are there to choose. Every server
    runs on one event loop per process. Extra keyword arguments go to the server: for ``builtin``,
    ``max_concurrent_streams=`` and ``max_header_list_size=``; for hypercorn, ``Config`` attributes;
    for granian, arguments of its embedded ``Server``.

    HTTP/2 limits, on every server: at most ``MAX_CONCURRENT_STREAMS`` (4096) streams open at once
    per connection, and 64 KiB of request headers per stream. Raise the first with
    ``max_concurrent_streams=`` (builtin), ``h2_max_concurrent_streams=`` (hypercorn) or
    ``http2_settings=`` (granian) if restate-server runs more attempts at once against this endpoint.

    ``loop``: ``"auto"`` runs on uvloop (a dependency on Linux and macOS) when the server is builtin
    or granian: its callbacks and wake-ups are cheaper than asyncio's. hypercorn gains nothing from
    it, so ``auto`` keeps asyncio there, as it does where uvloop is not installed.

    Example::

        restate.serve(restate.app([greeter]), port=9080)
    """
    if server not in ("auto", "builtin", "granian", "hypercorn"):
        raise ValueError(f"server must be 'auto', 'builtin', 'granian' or 'hypercorn', not {server!r}")
    if loop not in ("auto", "uvloop", "asyncio"):
        raise ValueError(f"loop must be 'auto', 'uvloop' or 'asyncio', not {loop!r}")
    if not isinstance(workers, int) or workers < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError(f"workers must be a positive int, not {workers!r}")
    if workers > 1 and not hasattr(os, "fork"):
        raise SdkUsageError("serve(workers=N) forks its workers: it needs a POSIX system (Linux, macOS)")
    if server == "granian" and importlib.util.find_spec("granian") is None:
        raise SdkUsageError(
            "server='granian' needs granian, which is not installed: pip install 'restate-sdk-py[granian]'"
        )
    rsgi = hasattr(app, "__rsgi__")
    if server == "builtin" and not rsgi:
        raise SdkUsageError(
            f"server='builtin' serves restate_sdk endpoints (restate.app(...)), not {type(app).__name__}: "
            "pass the endpoint itself, or server='granian' or 'hypercorn' for another ASGI app"
        )
    if server == "auto":
        if rsgi:
            server = "builtin"
        else:
            server = "granian" if importlib.util.find_spec("granian") is not None else "hypercorn"
    if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise SdkUsageError("loop='uvloop' needs uvloop, which is not installed: pip install uvloop")
    if loop == "auto":
        uvloop_ok = server != "hypercorn" and importlib.util.find_spec("uvloop") is not None
        loop = "uvloop" if uvloop_ok else "asyncio"

    if server == "builtin":
        unknown = sorted(set(config) - {"backlog", "max_concurrent_streams", "max_header_list_size"})
        if unknown:
            raise SdkUsageError(
                f"serve(server='builtin') takes no option {', '.join(unknown)}: its options are backlog=, "
                "max_concurrent_streams= and max_header_list_size= (the others are granian's or hypercorn's)"
            )
    backlog = int(config.get("backlog", _BACKLOG))
    sock = _listen(host, port, backlog)
    bound: int = sock.getsockname()[1]
    log.info("serving on http://%s:%d with %s on %s, %d worker(s)", host, bound, server, loop, workers)
    chosen: _Server = server
    chosen_loop: _Loop = loop

    def run(on: socket.socket, parent: int | None) -> None:
        _serve_one(app, on, chosen, chosen_loop, drain_timeout, config, parent)

    if workers == 1:
        try:
            run(sock, None)
        finally:
            sock.close()
        return
    if _BALANCED_REUSEPORT:
        # One SO_REUSEPORT socket per worker: Linux spreads new connections over them evenly (a shared
        # socket goes to whichever worker accepts first, often one worker for a whole burst). The
        # port was free a moment ago (bound above without SO_REUSEPORT); a later serve() still fails.
        sock.close()
        _supervise(workers, run, lambda: _listen(host, bound, backlog, reuse_port=True), drain_timeout)
    else:
        try:
            _supervise(workers, run, sock.dup, drain_timeout)
        finally:
            sock.close()


_Server = Literal["builtin", "granian", "hypercorn"]
_Loop = Literal["uvloop", "asyncio"]
_BACKLOG = 1024
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


_BALANCED_REUSEPORT = sys.platform == "linux"


def _listen(host: str, port: int, backlog: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening socket; without ``reuse_port``, no other process can listen beside it.

    granian binds with SO_REUSEPORT by itself, which let a stale endpoint keep serving old code
    next to a new one; binding here first makes that a start-up error instead.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # a restarted endpoint may bind while its predecessor's connections linger in TIME_WAIT
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            message = f"port {port} on {host} is already in use: stop the process listening there or pick another port"
        else:
            message = f"cannot listen on {host}:{port}: {e.strerror or e}"
        # one line on stderr and exit status 1, not a traceback
        raise SystemExit(f"restate_sdk.serve: {message}") from None
    sock.set_inheritable(True)
    return sock


def _serve_one(
    app: Any,
    sock: socket.socket,
    server: _Server,
    loop: _Loop,
    drain_timeout: float,
    config: dict[str, Any],
    parent: int | None,
) -> None:
    """Serve on ``sock`` in this process until SIGTERM or SIGINT (or, in a worker, until the parent is gone)."""

    async def main() -> None:
        stop = asyncio.Event()
        running = asyncio.get_running_loop()
        for sig in _SIGNALS:
            running.add_signal_handler(sig, stop.set)
        if parent is not None:
            # a worker: signals held back since the fork arrive now, at the handlers above
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
            watchdog = running.create_task(_watch_parent(parent, stop))
            watchdog.add_done_callback(lambda _: None)

        async def shutdown_trigger() -> None:
            await stop.wait()
            drain = getattr(app, "drain", None)
            if drain is not None:
                log.info("shutting down: draining in-flight invocation attempts")
                await drain(drain_timeout)
            log.info("shutting down")

        if server == "builtin":
            await serve_builtin(
                app,
                sock,
                shutdown_trigger,
                max_streams=int(config.get("max_concurrent_streams", MAX_CONCURRENT_STREAMS)),
                max_header_list_size=int(config.get("max_header_list_size", MAX_HEADER_LIST_SIZE)),
            )
        elif server == "granian":
            await _serve_granian(app, sock, shutdown_trigger, config)
        else:
            await _serve_hypercorn(app, sock, shutdown_trigger, config)

    if loop == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    """A worker whose supervisor died (SIGKILL leaves no time to pass a signal on) drains and exits."""
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("worker %d: the supervising process is gone; shutting down", os.getpid())
    stop.set()


def _supervise(
    workers: int,
    run: Callable[[socket.socket, int | None], None],
    open_socket: Callable[[], socket.socket],
    drain_timeout: float,
) -> None:
    """Fork ``workers`` processes that each ``run``; restart one that dies; pass SIGTERM/SIGINT on.

    Each worker listens on its own socket from ``open_socket``, closed here when the worker ends so
    that no new connection waits on a socket nobody accepts from.
    """
    me = os.getpid()
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNALS}
    children: dict[int, int] = {}  # pid -> worker number
    sockets: dict[int, socket.socket] = {}  # worker number -> its listening socket
    restarts: list[float] = []

    def spawn(number: int) -> None:
        sock = open_socket()
        # Held back across the fork: a worker takes signals once its event loop handles them.
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for sig in _SIGNALS:
                    signal.signal(sig, signal.SIG_DFL)
                for other in sockets.values():
                    other.close()
                log.info("worker %d serving (pid %d)", number, os.getpid())
                run(sock, me)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except BaseException:
                log.exception("worker %d (pid %d) failed", number, os.getpid())
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        children[pid] = number
        sockets[number] = sock

    try:
        for number in range(1, workers + 1):
            spawn(number)
        forwarded = False
        deadline = 0.0
        while children:
            if stopping and not forwarded:
                forwarded = True
                deadline = time.monotonic() + drain_timeout + _STOP_GRACE
                log.info("stopping %d worker(s)", len(children))
                for pid in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
            if forwarded and time.monotonic() > deadline:
                for pid, number in children.items():
                    log.warning("worker %d (pid %d) did not stop in time: killing it", number, pid)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                deadline = float("inf")
            ended = _ended(children)
            if not ended:
                time.sleep(0.2)
                continue
            for pid, status in ended:
                number = children.pop(pid)
                sockets.pop(number).close()
                if stopping:
                    continue
                log.warning("worker %d (pid %d) %s; starting a new one", number, pid, _describe(status))
                now = time.monotonic()
                restarts[:] = [t for t in restarts if now - t < 10.0] + [now]
                if len(restarts) > 2 * workers:
                    time.sleep(1.0)  # a worker that dies at start must not fork in a tight loop
                spawn(number)
    finally:
        for sock in sockets.values():
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_STOP_GRACE = 15.0


def _ended(children: dict[int, int]) -> list[tuple[int, int]]:
    """The workers that have exited, with their wait status (only ours: other children stay unreaped)."""
    ended: list[tuple[int, int]] = []
    for pid in list(children):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            ended.append((pid, status))
    return ended


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


async def _serve_granian(
    app: Any, sock: socket.socket, shutdown_trigger: Callable[[], Awaitable[None]], config: dict[str, Any]
) -> None:
    from granian._granian import SocketHolder
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP2Settings
    from granian.log import LogLevels
    from granian.server.embed import Server

    class ServerOnSocket(Server):
        """granian's embedded server on our listening socket, instead of one it binds with SO_REUSEPORT."""

        def _init_shared_socket(self) -> None:
            # granian's own hook for making the socket its workers share (granian >= 2.5)
            self._ssp = None
            self._shd = SocketHolder(os.dup(sock.fileno()), False, self.backlog)  # pyright: ignore[reportCallIssue]
            self._sfd = self._shd.get_fd()

    address, port = sock.getsockname()[:2]
    options: dict[str, Any] = {
        "address": address,
        "port": port,
        # RSGI, granian's own interface, when the app speaks it (an Endpoint does): a whole response
        # goes out in one call instead of awaited ASGI messages (docs/decisions.md)
        "interface": Interfaces.RSGI if hasattr(app, "__rsgi__") else Interfaces.ASGI,
        "http": HTTPModes.auto,  # h2c with prior knowledge (what restate-server speaks) and HTTP/1.1
        "websockets": False,
        "log_level": LogLevels.warning,
        # restate-server multiplexes a deployment's invocations over one h2 connection, and an
        # invocation can stay open for minutes: room for many streams and requests in flight, bounded.
        "backlog": _BACKLOG,
        "backpressure": 2**20,
        "http2_settings": HTTP2Settings(
            max_concurrent_streams=MAX_CONCURRENT_STREAMS, max_headers_size=MAX_HEADER_LIST_SIZE
        ),
    }
    options.update(config)
    granian = ServerOnSocket(app, **options)
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
    app: Any, sock: socket.socket, shutdown_trigger: Callable[[], Awaitable[None]], config: dict[str, Any]
) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve  # pyright: ignore[reportUnknownVariableType]
    from hypercorn.config import Config

    cfg = Config()
    cfg.bind = [f"fd://{os.dup(sock.fileno())}"]  # hypercorn owns (and closes) the copy
    cfg.backlog = _BACKLOG
    cfg.h2_max_concurrent_streams = MAX_CONCURRENT_STREAMS
    cfg.h2_max_header_list_size = MAX_HEADER_LIST_SIZE
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
