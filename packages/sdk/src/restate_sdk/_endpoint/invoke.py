"""One invocation attempt over ASGI: request body -> engine -> handler -> response body."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import traceback
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from .._codecs import decode_input
from .._context_impl import AttemptEnded, InvocationContext, Suspended, to_failure
from .._definitions import HandlerInfo
from .._engine.engine import InvocationEngine
from .._engine.errors import ProtocolError
from .._errors import TerminalError
from .._logging import current_invocation
from .._middleware import AttemptInfo, AttemptOutcome, Middleware, open_attempt
from .._sync_context import SyncContext, executor

__all__ = ["run_attempt"]

log = logging.getLogger("restate_sdk")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def _read_journal(engine: InvocationEngine, receive: Receive) -> bool:
    """Read until StartMessage and the replayed journal are in; False if the client went away."""
    while not engine.ready:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return False
        last = not msg.get("more_body", False)
        if last:
            engine.input_closed = True  # the body has ended, even if its last bytes turn out broken
        engine.receive_data(msg.get("body", b""))
        if last:
            engine.receive_eof()
    return True


async def _pump(engine: InvocationEngine, ctx: InvocationContext, receive: Receive) -> None:
    """Feed the rest of the request body (notifications, in BIDI mode) to the engine."""
    try:
        while not engine.input_closed:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                engine.input_closed = True
            else:
                engine.receive_data(msg.get("body", b""))
                if not msg.get("more_body", False):
                    engine.receive_eof()
            ctx.wake()
    except ProtocolError as e:
        ctx.protocol_error = e
        engine.input_closed = True
        if ctx.handler_task is not None:
            ctx.handler_task.cancel()
        ctx.wake()


async def run_attempt(
    info: HandlerInfo,
    engine: InvocationEngine,
    receive: Receive,
    send: Send,
    content_type: bytes,
    attempt_headers: dict[str, str],
    middleware: Sequence[Middleware] = (),
    active: set[InvocationContext] | None = None,
) -> None:
    try:
        if not await _read_journal(engine, receive):
            return
    except ProtocolError as e:
        # nothing is left to read once the body has ended: waiting for more would wait for a timeout
        rest = None if engine.input_closed else receive
        await _reject(rest, send, 400, f"protocol violation ({e.code}): {e.message}")
        return

    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", content_type), (b"x-restate-server", SERVER_HEADER)],
        }
    )
    lock = asyncio.Lock()

    async def flush() -> None:
        async with lock:
            data = engine.data_to_send()
            if data:
                await send({"type": "http.response.body", "body": data, "more_body": True})

    ctx = InvocationContext(engine, info, flush, attempt_headers, middleware)
    pump: asyncio.Task[None] | None = None

    def start_pump() -> None:
        # Notifications are read only once the handler waits for one: a handler that never blocks
        # costs no reader task.
        nonlocal pump
        if pump is None and not engine.input_closed:
            pump = asyncio.get_running_loop().create_task(_pump(engine, ctx, receive))

    ctx.start_input = start_pump
    task = asyncio.get_running_loop().create_task(
        _run_with_middleware(middleware, info, engine, ctx) if middleware else _run_handler(info, engine, ctx)
    )
    ctx.handler_task = task
    if active is not None:
        active.add(ctx)
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if not task.cancelled() or (current is not None and current.cancelling()):
            # This attempt itself is being cancelled (the server dropped the connection, or is
            # stopping): nothing more can go out, and a send could wait forever for a dead writer.
            if pump is not None:
                pump.cancel()
            raise
        # cancelled on purpose: a run ended the attempt, or the input stream broke
        if ctx.protocol_error is not None and not engine.closed:
            _fail_protocol(engine, ctx.protocol_error)
    finally:
        for run in list(ctx._runs):
            run.cancel()
        if active is not None:
            active.discard(ctx)
    if not engine.closed:
        engine.fail(571, "the handler stopped without producing a result")
    if _ends_early(send):
        # The last bytes go out with the end of the response, without waiting for restate-server to
        # close its side first: it answers the ingress request once our response has ended, so that
        # wait is on every invocation's latency (noop, one in flight: 4.9 -> 4.3 ms).
        if pump is not None:
            pump.cancel()
        async with lock:
            await send({"type": "http.response.body", "body": engine.data_to_send(), "more_body": False})
        return
    await flush()
    # Wait for restate-server to close its side before closing ours: hypercorn's HTTP/2 stack
    # drops the whole connection on DATA for a stream whose response already ended.
    if pump is not None:
        await asyncio.wait((pump,), timeout=_DRAIN_TIMEOUT)
        if not pump.done():
            pump.cancel()
        elif not pump.cancelled():
            pump.exception()  # retrieved: a broken input stream changes nothing any more
    elif not engine.input_closed:
        with contextlib.suppress(Exception):  # a timeout, or a broken input stream: we are done anyway
            async with asyncio.timeout(_DRAIN_TIMEOUT):
                while True:
                    msg = await receive()
                    if msg["type"] == "http.disconnect" or not msg.get("more_body", False):
                        break
    async with lock:
        await send({"type": "http.response.body", "body": engine.data_to_send(), "more_body": False})


async def _run_handler(info: HandlerInfo, engine: InvocationEngine, ctx: InvocationContext) -> None:
    current_invocation.set(ctx)  # this task's context: seen by its runs, threads and log filters
    try:
        assert engine.input is not None
        args: tuple[Any, ...] = ()
        if info.has_input:
            args = (decode_input(info.input_serde, engine.input.value or b"", "input"),)
        if info.is_async:
            result = await info.fn(ctx, *args)
        else:
            result = await _run_sync(info, ctx, args)
        if ctx.protocol_error is not None:
            raise ctx.protocol_error  # user code swallowed it; the attempt is still broken
        engine.write_output(info.output_serde.encode(result))
    except TerminalError as e:
        ctx.error = e
        if ctx.protocol_error is not None:
            _fail_protocol(engine, ctx.protocol_error)
        elif not engine.closed:
            engine.write_output(to_failure(e))
    except (Suspended, AttemptEnded):
        pass
    except ProtocolError as e:
        ctx.error = e
        _fail_protocol(engine, e)
    except Exception as e:
        ctx.error = e
        if ctx.protocol_error is not None:
            _fail_protocol(engine, ctx.protocol_error)
        elif not engine.closed:
            log.warning(
                "invocation %s (%s.%s) failed, the server will retry: %s: %s",
                engine.invocation_id,
                info.service_name,
                info.name,
                type(e).__name__,
                e,
            )
            engine.fail(500, f"{type(e).__name__}: {e}", stacktrace=traceback.format_exc())


async def _run_sync(info: HandlerInfo, ctx: InvocationContext, args: tuple[Any, ...]) -> Any:
    """A plain ``def`` handler runs on a worker thread with the blocking context."""
    loop = asyncio.get_running_loop()
    sync_ctx = SyncContext(ctx, loop)
    context = contextvars.copy_context()
    try:
        return await loop.run_in_executor(executor, lambda: context.run(info.fn, sync_ctx, *args))
    finally:
        sync_ctx.close()


_OUTCOMES: dict[str | None, AttemptOutcome] = {
    "success": "success",
    "failure": "failure",
    "suspended": "suspended",
}


async def _run_with_middleware(
    middleware: Sequence[Middleware], info: HandlerInfo, engine: InvocationEngine, ctx: InvocationContext
) -> None:
    """``_run_handler`` inside the middleware's attempt contexts, entered in the handler's own task."""
    assert engine.start is not None and engine.input is not None
    attempt = AttemptInfo(
        service=info.service_name,
        handler=info.name,
        service_kind=info.service_kind,
        invocation_id=engine.invocation_id,
        key=engine.key,
        retry_count=engine.start.retry_count_since_last_stored_entry,
        journal_length=engine.known_commands,
        attempt_headers=ctx._attempt_headers,
        request_headers={h.key: h.value for h in engine.input.headers},
    )
    stack = open_attempt(middleware, attempt)
    try:
        await _run_handler(info, engine, ctx)
    finally:
        # An attempt the engine has not closed yet is failed by run_attempt: the server retries it.
        attempt.outcome = _OUTCOMES.get(engine.outcome, "retry")
        attempt.error = ctx.protocol_error or ctx.error
        stack.close()


def _fail_protocol(engine: InvocationEngine, e: ProtocolError) -> None:
    if engine.closed:
        return
    log.error("invocation %s: %s", engine.invocation_id, e.message)
    engine.fail(
        e.code,
        e.message,
        command_index=e.command_index,
        command_type=e.command_type,
        command_name=e.command_name,
    )


async def _reject(receive: Receive | None, send: Send, status: int, message: str) -> None:
    """Answer with an error, then read what is left of the request before closing the stream.

    On HTTP/2, hypercorn drops the whole connection (and every invocation on it) when DATA arrives
    for a stream whose response has ended, so the response is ended only after the request.
    """
    body = message.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if receive is None:
        headers.append((b"content-length", str(len(body)).encode()))
    # else no content-length: granian (hyper) would end the response once that many bytes are out and,
    # the request body being unread, close an HTTP/1.1 connection under a client still sending it.
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if receive is None:
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    await send({"type": "http.response.body", "body": body, "more_body": True})
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_DRAIN_TIMEOUT):
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect" or not msg.get("more_body", False):
                    break
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _ends_early(send: Send) -> bool:
    """True for servers known to take a response that ends while the request body still streams.

    granian (hyper) does, and resets the request stream with NO_ERROR as HTTP/2 allows: its ASGI
    ``send`` is a granian method, its RSGI one our ``RsgiSend``, which says so. hypercorn drops the
    whole connection instead, and a server we cannot tell (a wrapped ``send``) gets the cautious path.
    """
    if getattr(send, "ends_early", False):
        return True
    return type(getattr(send, "__self__", None)).__module__.startswith("granian")


SERVER_HEADER = b"restate-sdk-py/0.1.0"
_DRAIN_TIMEOUT = 5.0
