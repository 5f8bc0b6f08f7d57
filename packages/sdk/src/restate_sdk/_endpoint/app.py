"""The ASGI application: routes /discover, /health and /invoke/{service}/{handler}.

A path ending in ``invoke/{service}/{handler}`` is an invocation even when the handler is named
``health`` or ``discover``; other paths ending in ``health`` or ``discover`` are those routes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import msgspec

from .._definitions import HandlerInfo, _Definition
from .._discovery import ManifestTooOld, build_manifest, manifest_content_type, negotiate
from .._engine.engine import DEFAULT_MAX_JOURNAL_SIZE, SUPPORTED_VERSIONS, InvocationEngine
from .._engine.errors import LimitExceeded
from .._errors import SdkUsageError
from .._failures import AsTerminalError, check_as_terminal_error
from .._middleware import Middleware
from .attempt import Attempt, JournalMismatchOption
from .deadlines import JournalDeadlines, Receive
from .invoke import SERVER_HEADER, Scope, Send, _reject, drain_request, run_attempt
from .limits import DEFAULT_JOURNAL_READ_TIMEOUT, RateLimitedLog, refuse_attempt
from .rsgi import RsgiReceive, RsgiSend

__all__ = ["Endpoint", "app"]

log = logging.getLogger("restate_sdk")

_INVOCATION_CT = "application/vnd.restate.invocation.v"


class Endpoint:
    """An ASGI-3 application serving Restate services; build it with ``restate_sdk.app``."""

    def __init__(
        self,
        services: Iterable[_Definition],
        *,
        identity_keys: Sequence[str] | None = None,
        middleware: Sequence[Middleware] | None = None,
        as_terminal_error: AsTerminalError | None = None,
        protocol: ProtocolOption | None = None,
        max_journal_size: int = DEFAULT_MAX_JOURNAL_SIZE,
        journal_read_timeout: float = DEFAULT_JOURNAL_READ_TIMEOUT,
        on_journal_mismatch: JournalMismatchOption = "retry",
    ) -> None:
        if protocol not in (None, "bidi", "request_response"):
            raise SdkUsageError(f"protocol must be None, 'bidi' or 'request_response', not {protocol!r}")
        if on_journal_mismatch not in ("retry", "pause", "fail"):
            raise SdkUsageError(
                f"on_journal_mismatch must be 'retry', 'pause' or 'fail', not {on_journal_mismatch!r}"
            )
        self.on_journal_mismatch: JournalMismatchOption = on_journal_mismatch
        self.protocol: ProtocolOption | None = protocol  # the mode discovery announces (see app())
        self.services: dict[str, _Definition] = {}
        for s in services:
            if s.name in self.services:
                raise SdkUsageError(f"two services are named {s.name!r}")
            if s.kind == "workflow" and not any(h.kind == "workflow" for h in s.handlers.values()):
                raise SdkUsageError(f"workflow {s.name} has no main handler (use @workflow.main())")
            self.services[s.name] = s
        self.middleware: list[Middleware] = list(middleware or [])
        self._verifier = None
        if identity_keys is not None:
            from .identity import IdentityVerifier

            self._verifier = IdentityVerifier(identity_keys)
        self._rejections = RateLimitedLog()
        _check_limits(max_journal_size, journal_read_timeout)
        self.max_journal_size = max_journal_size
        self.journal_read_timeout = float(journal_read_timeout)
        self._deadlines = JournalDeadlines(self.journal_read_timeout)
        self._manifests: dict[tuple[int, str], bytes] = {}
        self._active: set[Attempt] = set()
        self._draining = False
        self.as_terminal_error = check_as_terminal_error(as_terminal_error, "restate.app")
        self._handlers: dict[tuple[str, str], HandlerInfo] = {}
        for s in self.services.values():
            for h in s.handlers.values():
                self._lookup(s.name, h.name)  # resolved once, here: each handler's as_terminal_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        await self._route(
            scope["method"], scope["path"], scope.get("http_version", "1.1"), headers, receive, send
        )

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        """The RSGI entry point (``restate_sdk.serve``'s builtin server and granian): the same routes as ASGI."""
        if scope.proto != "http":
            return
        send = RsgiSend(protocol)
        try:
            headers = dict(scope.headers.items())  # granian (hyper) gives names in lower case
            await self._route(
                scope.method, scope.path, scope.http_version, headers, RsgiReceive(protocol), send
            )
        except asyncio.CancelledError:
            # granian cancels the requests still open when it shuts down (after our drain, e.g. a
            # request answered 503 whose body never ended): that request is over, and letting the
            # cancellation out only makes granian log a traceback for it.
            return
        except Exception:
            log.exception("the endpoint failed on %s %s", scope.method, scope.path)
            if not send.started:
                protocol.response_bytes(
                    500, [("content-type", "text/plain; charset=utf-8")], b"internal error"
                )

    async def _route(
        self, method: str, path: str, http_version: str, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        segments = [s for s in path.split("/") if s]
        # an invocation path wins: a handler may be named "health" or "discover"
        invoke = len(segments) >= 3 and segments[-3] == "invoke"
        if not invoke and segments and segments[-1] == "health":
            await drain_request(receive)  # a body is not expected: read it before answering
            await _respond(send, 200, b'{"status":"ok"}', b"application/json")
            return
        if self._verifier is not None:
            error = self._verifier.verify(path, headers)
            if error is not None:
                self._rejections.warning("request identity check failed on %.100s: %s", path, error)
                await _reject(receive, send, 401, f"request identity check failed: {error}")
                return
        if invoke:
            await self._invoke(receive, send, segments[-2], segments[-1], headers)
        elif segments and segments[-1] == "discover":
            await drain_request(receive)
            await self._discover(http_version, headers, send)
        else:
            await _reject(receive, send, 404, f"no route for {method} {path}")

    async def _discover(self, http_version: str, headers: dict[str, str], send: Send) -> None:
        version = negotiate(headers.get("accept"))
        if version is None:
            await _reject(
                None,
                send,
                415,
                f"unsupported manifest versions in accept {headers.get('accept')!r}; this SDK serves v2..v4",
            )
            return
        mode = _protocol_mode(self.protocol, http_version)
        body = self._manifests.get((version, mode))
        if body is None:
            try:
                manifest = build_manifest(self.services.values(), version, mode)  # type: ignore[arg-type]
            except ManifestTooOld as e:
                log.error("discovery failed: %s", e)
                # 415 as for an Accept without any version we serve; restate-server shows the body
                await _reject(None, send, 415, str(e))
                return
            body = msgspec.json.encode(manifest)
            self._manifests[(version, mode)] = body
        await _respond(send, 200, body, manifest_content_type(version).encode())

    async def _invoke(
        self, receive: Receive, send: Send, service: str, handler: str, headers: dict[str, str]
    ) -> None:
        info = self._lookup(service, handler)
        if info is None:
            await _reject(receive, send, 404, f"unknown handler {service}/{handler}")
            return
        content_type = headers.get("content-type", "")
        version = _protocol_version(content_type)
        if version is None:
            await _reject(
                receive,
                send,
                415,
                f"unsupported content-type {content_type!r}; expected {_INVOCATION_CT}5, 6 or 7",
            )
            return
        if self._draining:
            # restate-server retries this attempt, on this endpoint's successor
            await _reject(receive, send, 503, "the endpoint is shutting down")
            return
        # _CONTENT_TYPES holds only SUPPORTED_VERSIONS: the engine takes any version found there
        engine = InvocationEngine(version, max_journal_size=self.max_journal_size)
        attempt_headers = {k: v for k, v in headers.items() if k not in ("content-type", "accept")}
        try:
            await run_attempt(
                info,
                engine,
                receive,
                send,
                content_type.encode(),
                attempt_headers,
                self._deadlines,
                self.middleware,
                self._active,
                self.on_journal_mismatch,
            )
        except LimitExceeded as e:  # raised while the journal is read, before anything was sent
            await refuse_attempt(engine, e, receive, send, content_type.encode())

    @property
    def in_flight(self) -> int:
        """Invocation attempts being served right now."""
        return len(self._active)

    def resume(self) -> None:
        """Take attempts again after ``drain()`` (an endpoint stopped and served again in one process)."""
        self._draining = False

    async def drain(self, timeout: float = 30.0) -> bool:
        """Stop taking attempts and end the ones in flight; True if they all ended within ``timeout``.

        Attempts blocked on a durable result suspend at once (restate-server resumes them later,
        here or elsewhere); running ``ctx.run`` closures finish and their results are sent first.
        ``restate_sdk.serve`` calls this on SIGTERM and SIGINT.
        """
        self._draining = True
        if self._active:
            log.info("draining %d in-flight invocation attempt(s)", len(self._active))
        for attempt in list(self._active):
            attempt.drain()
        deadline = asyncio.get_running_loop().time() + timeout
        while self._active:
            if asyncio.get_running_loop().time() >= deadline:
                log.warning("%d attempt(s) still running after %.1fs of draining", len(self._active), timeout)
                return False
            await asyncio.sleep(0.02)
        return True

    def _lookup(self, service: str, handler: str) -> HandlerInfo | None:
        """The handler as this endpoint runs it: its ``as_terminal_error`` is the effective one."""
        info = self._handlers.get((service, handler))
        if info is not None:
            return info
        s = self.services.get(service)
        info = None if s is None else s.handlers.get(handler)
        if s is None or info is None:
            return None
        mapper = info.as_terminal_error or s.as_terminal_error or self.as_terminal_error  # innermost wins
        if mapper is not info.as_terminal_error:
            info = dataclasses.replace(info, as_terminal_error=mapper)
        self._handlers[(service, handler)] = info
        return info


ProtocolOption = Literal["bidi", "request_response"]


def _protocol_mode(
    protocol: ProtocolOption | None, http_version: str
) -> Literal["BIDI_STREAM", "REQUEST_RESPONSE"]:
    """The mode discovery announces: as configured, else streaming over HTTP/2 only."""
    if protocol is None:
        return "BIDI_STREAM" if http_version == "2" else "REQUEST_RESPONSE"
    return "BIDI_STREAM" if protocol == "bidi" else "REQUEST_RESPONSE"


def _check_limits(max_journal_size: object, journal_read_timeout: object) -> None:
    size = max_journal_size
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise SdkUsageError(f"max_journal_size must be a positive number of bytes, not {size!r}")
    timeout = journal_read_timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise SdkUsageError(
            f"journal_read_timeout must be a positive, finite number of seconds, not {timeout!r}"
        )


def _protocol_version(content_type: str) -> int | None:
    # exact strings (protocol.md §1.3): int() would also take " 6", "+6", "06" or "0_6", and the
    # response echoes the content type back
    return _CONTENT_TYPES.get(content_type)


_CONTENT_TYPES = {f"{_INVOCATION_CT}{v}": v for v in SUPPORTED_VERSIONS}


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-restate-server", SERVER_HEADER),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def app(
    services: Iterable[_Definition],
    *,
    identity_keys: Sequence[str] | None = None,
    middleware: Sequence[Middleware] | None = None,
    as_terminal_error: AsTerminalError | None = None,
    protocol: ProtocolOption | None = None,
    max_journal_size: int = DEFAULT_MAX_JOURNAL_SIZE,
    journal_read_timeout: float = DEFAULT_JOURNAL_READ_TIMEOUT,
    on_journal_mismatch: JournalMismatchOption = "retry",
) -> Endpoint:
    """Build the ASGI application serving ``services``.

    Example::

        app = restate.app([greeter, counter])
        # hypercorn module:app --bind 127.0.0.1:9080   (or restate.serve(app, port=9080))

    With ``identity_keys`` (a list of ``publickeyv1_...`` keys), every request must carry
    restate-server's signature or gets 401; the keys are checked here, and ``[]`` is an error
    (``None``, the default, accepts unsigned requests).
    ``middleware`` runs around every invocation attempt and durable operation (see ``Middleware``),
    e.g. ``restate_otel.TracingMiddleware``.

    ``as_terminal_error`` maps an exception a handler raises to a ``TerminalError`` (or None to
    keep retrying); a service's or a handler's own ``as_terminal_error=`` wins over it.

    ``protocol``: ``None`` (the default) streams over HTTP/2 and answers in request-response mode
    over HTTP/1.1; ``"request_response"`` always answers in request-response mode, for servers or
    proxies that cannot stream a request and a response at once over HTTP/2 (each suspension then
    ends the attempt, and restate-server sends a new request to continue); ``"bidi"`` always streams.

    Limits per invocation attempt, both answered with an ErrorMessage that restate-server records
    as the attempt's failure: ``max_journal_size`` (bytes, default 64 MiB) caps what restate-server
    sends before the handler starts (StartMessage with eager state, plus the replayed journal);
    ``journal_read_timeout`` (seconds, default 60) is how long that may take to arrive.

    ``on_journal_mismatch`` says what happens when a replay finds the handler's code no longer
    matches the journal (error 570, e.g. a handler changed under an invocation in flight):
    ``"retry"`` (the default) lets restate-server retry by its retry policy; ``"pause"`` pauses the
    invocation at once, to be resumed by an operator after a fix is deployed; ``"fail"`` ends the
    invocation with the 570 error as its failure. ``"pause"`` and ``"fail"`` need service protocol
    V7; on V5/V6 a mismatch is always retried (the retry policy's ``on-max-attempts`` decides
    when the attempts run out).
    """
    return Endpoint(
        services,
        identity_keys=identity_keys,
        middleware=middleware,
        as_terminal_error=as_terminal_error,
        protocol=protocol,
        max_journal_size=max_journal_size,
        journal_read_timeout=journal_read_timeout,
        on_journal_mismatch=on_journal_mismatch,
    )
