"""The invocation context: turns Context calls into engine commands and awaits their results.

This is the only module that drives the engine on behalf of user code. It runs on the endpoint's
event loop; ``wait_any`` is where a handler blocks, flushes, suspends or learns it was cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as _random
import time as _time
import traceback
import typing
import uuid as _uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from ._codecs import JsonSerde, Serde, serde_for
from ._context import Request
from ._definitions import HandlerInfo, handler_info
from ._engine import messages as m
from ._engine.engine import CANCEL_HANDLE, Handle, InvocationEngine
from ._engine.errors import ProtocolError
from ._errors import SdkUsageError, TerminalError
from ._futures import CallFuture, RestateFuture, SendHandle
from ._middleware import Middleware, OperationInfo, OperationKind, open_operation, traced_run
from ._shortcuts import CallShortcuts
from ._threads import call_blocking_aware

__all__ = ["InvocationContext", "Suspended"]

T = TypeVar("T")
log = logging.getLogger("restate_sdk")

_ANY_JSON: JsonSerde[Any] = JsonSerde()


class Suspended(BaseException):
    """Stops a handler that must suspend; a BaseException so ``except Exception`` cannot swallow it."""


class AttemptEnded(BaseException):
    """Stops a handler whose attempt was already ended (by a failing run that the server will retry)."""


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def to_failure(e: TerminalError) -> m.Failure:
    return m.Failure(
        code=e.status_code,
        message=e.message,
        metadata=[m.FailureMetadata(k, v) for k, v in e.metadata.items()],
    )


def from_failure(f: m.Failure) -> TerminalError:
    return TerminalError(f.message, status_code=f.code, metadata={md.key: md.value for md in f.metadata})


_UNTRACED = contextlib.nullcontext()  # stands in for the middleware's hooks when there are none


def _journaled_headers(recorded: Any, headers: Mapping[str, str] | None) -> dict[str, str]:
    """A replayed call's headers: the handler's, then those a middleware added, from the journal."""
    merged: dict[str, str] = dict(headers) if headers else {}
    if isinstance(recorded, m.CallCommandMessage | m.OneWayCallCommandMessage):
        for h in recorded.headers[len(merged) :]:
            merged.setdefault(h.key, h.value)
    return merged


class InvocationContext(CallShortcuts):
    """Implements every Context protocol for one attempt (kind checks happen at call time)."""

    def __init__(
        self,
        engine: InvocationEngine,
        info: HandlerInfo,
        flush: Callable[[], Awaitable[None]],
        attempt_headers: Mapping[str, str],
        middleware: Sequence[Middleware] = (),
    ) -> None:
        self._engine = engine
        self._middleware = middleware
        self._info = info
        self._flush = flush
        self._attempt_headers = attempt_headers
        self._progress = asyncio.Event()
        self._runs: set[asyncio.Task[None]] = set()
        self._child_calls: list[tuple[Handle, Handle]] = []  # (invocation id, result) of each call
        self._cancelled = False
        self._rng: _random.Random | None = None
        self.protocol_error: ProtocolError | None = None
        self.error: BaseException | None = None
        """The exception that ended the attempt (the handler's, or a run's the server retries)."""
        self.handler_task: asyncio.Task[Any] | None = None
        self.draining = False
        self.start_input: Callable[[], None] = _nothing
        """Set by the endpoint: start reading notifications (called before the handler first waits)."""

    # ---- plumbing used by futures and the endpoint ----------------------------------------------

    def is_replaying(self) -> bool:
        """True while the handler re-executes what the journal already records."""
        return self._engine.replaying

    def drain(self) -> None:
        """The endpoint is shutting down: suspend at the next wait instead of waiting for input."""
        self.draining = True
        self.wake()

    def wake(self) -> None:
        """New input (or a finished run): let blocked waiters look again."""
        self._progress.set()

    def is_completed(self, handle: Handle) -> bool:
        return self._engine.is_ready(handle)

    def take_result(self, handle: Handle) -> Any:
        """The raw result for ``handle``: bytes, str, list, None, or a TerminalError to raise."""
        n = self._engine.result(handle)
        if n.failure is not None:
            return from_failure(n.failure)
        if n.value is not None:
            return n.value
        if n.invocation_id is not None:
            return n.invocation_id
        if n.state_keys is not None:
            return [k.decode() for k in n.state_keys.keys]
        return None

    async def wait_any(self, handles: list[Handle]) -> None:
        """Block until one of ``handles`` completes; suspend when nothing more can arrive."""
        engine = self._engine
        while True:
            # Cancellation is awaited along with every operation, in arrival order like the rest.
            if engine.advance(handles if self._cancelled else [*handles, CANCEL_HANDLE]):
                if any(engine.is_ready(h) for h in handles):
                    return
                self._cancelled = True
                await self._cancel_children()
                raise TerminalError("cancelled", status_code=409)
            if engine.closed:
                raise AttemptEnded()
            try:
                engine.check_can_wait(handles)
            except ProtocolError as e:
                self.protocol_error = e
                raise
            self._progress.clear()
            await self._flush()
            if (engine.input_closed or self.draining) and not self._runs:
                engine.suspend(handles)
                await self._flush()
                raise Suspended()
            self.start_input()
            await self._progress.wait()

    async def _cancel_children(self) -> None:
        """Cancel every call still running; a call's invocation id may have to be awaited first."""
        for id_handle, result_handle in self._child_calls:
            if self._engine.is_ready(result_handle):
                continue
            if not self._engine.is_ready(id_handle):
                await self.wait_any([id_handle])  # no longer watches the cancel signal itself
            self._engine.cancel_invocation(self.take_result(id_handle))

    def _command(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run an engine operation, remembering protocol errors even if user code swallows them."""
        try:
            return fn(*args, **kwargs)
        except ProtocolError as e:
            self.protocol_error = e
            raise

    def _operation(
        self,
        kind: OperationKind,
        service: str = "",
        handler: str = "",
        key: str = "",
        headers: Mapping[str, str] | None = None,
        delay_ms: int | None = None,
        *,
        name: str = "",
        awakeable_id: str | None = None,
    ) -> contextlib.AbstractContextManager[Mapping[str, str]]:
        """The middleware's hooks around issuing a new command; none run while replaying.

        Entering gives the headers a call or send goes out with: the handler's plus those the
        middleware adds; on replay, the ones it added back then, from the journal so the command matches.
        """
        engine = self._engine
        if engine.replaying:
            return contextlib.nullcontext(_journaled_headers(engine.next_recorded(), headers))
        info = OperationInfo(
            kind=kind,
            name=f"{service}/{handler}" if service else name,
            service=service,
            handler=handler,
            key=key,
            headers=(dict(headers) if headers else {}) if kind == "call" or kind == "send" else None,
            delay_ms=delay_ms,
            awakeable_id=awakeable_id,
        )
        return open_operation(self._middleware, info, info.headers if info.headers is not None else {})

    # ---- identity -------------------------------------------------------------------------------

    def invocation_id(self) -> str:
        return self._engine.invocation_id

    def key(self) -> str:
        if not self._info.keyed:
            raise SdkUsageError("key() is only available in virtual objects and workflows")
        return self._engine.key

    def request(self) -> Request:
        inp = self._engine.input
        assert inp is not None
        return Request(
            id=self._engine.invocation_id,
            headers={h.key: h.value for h in inp.headers},
            attempt_headers=dict(self._attempt_headers),
            body=inp.value or b"",
        )

    def random(self) -> _random.Random:
        """A random generator seeded per invocation: the same numbers on every replay."""
        if self._rng is None:
            self._rng = _random.Random(self._engine.random_seed)
        return self._rng

    def uuid(self) -> _uuid.UUID:
        """A UUID (v4 layout) from the deterministic generator."""
        return _uuid.UUID(int=self.random().getrandbits(128), version=4)

    async def time(self) -> float:
        """The current time (seconds since the epoch), journaled so replays see the same value."""
        return await self.run("time", _time.time, type_hint=float)

    # ---- state ----------------------------------------------------------------------------------

    def _check_state(self, write: bool) -> None:
        info = self._info
        if not info.keyed:
            raise SdkUsageError(
                f"{info.service_name} is a service: state needs a virtual object or a workflow"
            )
        if write and info.kind == "shared":
            raise SdkUsageError(
                f"{info.service_name}.{info.name} is a shared handler: it can only read state"
            )

    async def get(
        self, name: str, type_hint: type[T] | None = None, serde: Serde[T] | None = None
    ) -> T | None:
        self._check_state(write=False)
        known, value, handle = self._command(self._engine.get_state, name)
        if not known:
            assert handle is not None
            await self.wait_any([handle])
            value = self.take_result(handle)
        if value is None:
            return None
        return (serde or (_ANY_JSON if type_hint is None else serde_for(type_hint))).decode(value)  # type: ignore[no-any-return]

    async def state_keys(self) -> list[str]:
        self._check_state(write=False)
        known, keys, handle = self._command(self._engine.get_state_keys)
        if not known:
            assert handle is not None
            await self.wait_any([handle])
            keys = self.take_result(handle)
        return keys

    def set(self, name: str, value: Any, serde: Serde[Any] | None = None) -> None:
        self._check_state(write=True)
        data = (serde or serde_for(type(value))).encode(value)
        self._command(self._engine.set_state, name, data)

    def clear(self, name: str) -> None:
        self._check_state(write=True)
        self._command(self._engine.clear_state, name)

    def clear_all(self) -> None:
        self._check_state(write=True)
        self._command(self._engine.clear_all_state)

    # ---- run ------------------------------------------------------------------------------------

    def run(
        self,
        name: str,
        fn: Callable[..., Any],
        *args: Any,
        max_attempts: int | None = None,
        max_duration: timedelta | None = None,
        initial_retry_interval: timedelta | None = None,
        retry_interval_factor: float | None = None,
        max_retry_interval: timedelta | None = None,
        type_hint: Any = None,
        serde: Serde[Any] | None = None,
    ) -> RestateFuture[Any]:
        """Run ``fn(*args)`` once and journal its result; replays return the journaled result."""
        if serde is None:
            if type_hint is None:
                type_hint = _return_type(fn)
            serde = _ANY_JSON if type_hint is Any else serde_for(type_hint)
        handle, index = self._command(self._engine.run, name)
        if not self._engine.is_completed(handle):
            if self._middleware:
                fn = traced_run(self._middleware, name, fn)
            policy = _RunPolicy(
                max_attempts, max_duration, initial_retry_interval, retry_interval_factor, max_retry_interval
            )
            task = asyncio.get_running_loop().create_task(
                self._execute_run(handle, index, name, fn, args, serde, policy)
            )
            self._runs.add(task)
        run_serde = serde
        return RestateFuture(self, handle, lambda v: run_serde.decode(v))

    async def _execute_run(
        self,
        handle: Handle,
        index: int,
        name: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        serde: Serde[Any],
        policy: _RunPolicy,
    ) -> None:
        started = _time.monotonic()
        engine = self._engine
        try:
            try:
                value = await call_blocking_aware(fn, args)
                result: bytes | m.Failure | None = serde.encode(value)
                # A result over the message size limit raises here (nothing is written) and fails
                # the run like any other error: retried, or given up on, by the run's policy.
                engine.propose_run_completion(handle, result)
                result = None
            except TerminalError as e:
                result = to_failure(e)
            except Exception as e:
                retries, spent_ms = engine.run_retry_info(index)
                spent_ms += int((_time.monotonic() - started) * 1000)
                if policy.exhausted(retries + 1, spent_ms):
                    log.warning("run %r failed after %d attempts, giving up: %s", name, retries + 1, e)
                    result = m.Failure(
                        code=500, message=f"run {name!r} failed after {retries + 1} attempts: {e}"
                    )
                else:
                    log.info("run %r failed (attempt %d), the server will retry: %s", name, retries + 1, e)
                    self.error = e
                    engine.fail(
                        500,
                        f"{type(e).__name__}: {e}",
                        stacktrace=traceback.format_exc(),
                        command_index=index,
                        command_type=int(m.MessageType.RUN_COMMAND),
                        command_name=name or None,
                        next_retry_delay_ms=policy.delay_ms(retries),
                    )
                    await self._flush()
                    if self.handler_task is not None:
                        self.handler_task.cancel()
                    return
            if result is not None:
                try:
                    engine.propose_run_completion(handle, result)
                except ProtocolError as e:  # a failure too big to send: this attempt cannot go on
                    self.protocol_error = e
                    if self.handler_task is not None:
                        self.handler_task.cancel()
                    return
            await self._flush()
        finally:
            self._runs.discard(asyncio.current_task())  # type: ignore[arg-type]
            self.wake()

    # ---- timers ---------------------------------------------------------------------------------

    def sleep(self, delta: timedelta, name: str = "") -> RestateFuture[None]:
        wake_up = int(_time.time() * 1000) + _ms(delta)
        with self._operation("sleep", name=name, delay_ms=_ms(delta)) if self._middleware else _UNTRACED:
            handle = self._command(self._engine.sleep, wake_up, name)
        return RestateFuture(self, handle, lambda _: None)

    # ---- calls and sends ------------------------------------------------------------------------

    def _call(
        self,
        service: str,
        handler: str,
        parameter: bytes,
        key: str,
        output_serde: Serde[Any],
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> CallFuture[Any]:
        with self._operation("call", service, handler, key, headers) if self._middleware else _UNTRACED as h:
            headers = headers if h is None else h  # with middleware: plus the headers it adds
            id_handle, result_handle = self._command(
                self._engine.call,
                service,
                handler,
                parameter,
                key=key,
                headers=list(headers.items()) if headers else None,
                idempotency_key=idempotency_key,
            )
        self._child_calls.append((id_handle, result_handle))
        return CallFuture(self, result_handle, id_handle, output_serde.decode)

    def _typed_call(
        self,
        fn: Callable[..., Any],
        expected: str,
        key: str,
        arg: Any,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> CallFuture[Any]:
        info = _target(fn, expected)
        return self._call(
            info.service_name,
            info.name,
            info.input_serde.encode(arg),
            key,
            info.output_serde,
            idempotency_key,
            headers,
        )

    def generic_call(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> CallFuture[Any]:
        """Call by names; ``arg`` bytes go out as they are, anything else as JSON."""
        return self._call(
            service,
            handler,
            _encode_generic(arg, input_serde),
            key or "",
            output_serde or _ANY_JSON,
            idempotency_key,
            headers,
        )

    def _send(
        self,
        service: str,
        handler: str,
        parameter: bytes,
        key: str,
        delay: timedelta | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> SendHandle:
        invoke_time = int(_time.time() * 1000) + _ms(delay) if delay else 0
        with (
            self._operation("send", service, handler, key, headers, _ms(delay) if delay else None)
            if self._middleware
            else _UNTRACED
        ) as h:
            headers = headers if h is None else h  # with middleware: plus the headers it adds
            id_handle = self._command(
                self._engine.send,
                service,
                handler,
                parameter,
                key=key,
                headers=list(headers.items()) if headers else None,
                idempotency_key=idempotency_key,
                invoke_time_ms=invoke_time,
            )
        return SendHandle(self, id_handle)

    def _typed_send(
        self,
        fn: Callable[..., Any],
        expected: str,
        key: str,
        arg: Any,
        delay: timedelta | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> SendHandle:
        info = _target(fn, expected)
        return self._send(
            info.service_name, info.name, info.input_serde.encode(arg), key, delay, idempotency_key, headers
        )

    def generic_send(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        input_serde: Serde[Any] | None = None,
    ) -> SendHandle:
        return self._send(
            service, handler, _encode_generic(arg, input_serde), key or "", delay, idempotency_key, headers
        )

    # ---- awakeables, signals, promises, other invocations ---------------------------------------

    def awakeable(
        self, type_hint: Any = None, serde: Serde[Any] | None = None
    ) -> tuple[str, RestateFuture[Any]]:
        awakeable_id, handle = self._engine.awakeable()
        if self._middleware and not self._engine.replaying and not self._engine.is_completed(handle):
            with self._operation("awakeable", awakeable_id=awakeable_id):
                pass
        decoder = serde or (serde_for(type_hint) if type_hint is not None else _ANY_JSON)
        return awakeable_id, RestateFuture(self, handle, decoder.decode)

    def resolve_awakeable(self, awakeable_id: str, value: Any, serde: Serde[Any] | None = None) -> None:
        self._command(
            self._engine.complete_awakeable, awakeable_id, (serde or serde_for(type(value))).encode(value)
        )

    def reject_awakeable(self, awakeable_id: str, reason: str, code: int = 500) -> None:
        self._command(self._engine.complete_awakeable, awakeable_id, m.Failure(code=code, message=reason))

    def signal(self, name: str, type_hint: Any = None, serde: Serde[Any] | None = None) -> RestateFuture[Any]:
        from ._engine.engine import named_signal

        decoder = serde or (serde_for(type_hint) if type_hint is not None else _ANY_JSON)
        return RestateFuture(self, named_signal(name), decoder.decode)

    def resolve_signal(
        self, invocation_id: str, name: str, value: Any, serde: Serde[Any] | None = None
    ) -> None:
        data = (serde or serde_for(type(value))).encode(value)
        self._command(self._engine.send_signal, invocation_id, signal_name=name, result=data)

    def reject_signal(self, invocation_id: str, name: str, reason: str, code: int = 500) -> None:
        self._command(
            self._engine.send_signal,
            invocation_id,
            signal_name=name,
            result=m.Failure(code=code, message=reason),
        )

    def cancel_invocation(self, invocation_id: str) -> None:
        self._command(self._engine.cancel_invocation, invocation_id)

    def attach_invocation(
        self, invocation_id: str, type_hint: Any = None, serde: Serde[Any] | None = None
    ) -> RestateFuture[Any]:
        handle = self._command(self._engine.attach_invocation, invocation_id)
        decoder = serde or (serde_for(type_hint) if type_hint is not None else _ANY_JSON)
        return RestateFuture(self, handle, decoder.decode)

    def promise(self, name: str, type_hint: Any = None, serde: Serde[Any] | None = None) -> _Promise:
        if self._info.service_kind != "workflow":
            raise SdkUsageError("durable promises are only available in workflows")
        return _Promise(self, name, serde or (serde_for(type_hint) if type_hint is not None else None))


class _Promise:
    """A workflow's durable promise (see ``DurablePromise``)."""

    def __init__(self, ctx: InvocationContext, name: str, serde: Serde[Any] | None) -> None:
        self._ctx = ctx
        self._name = name
        self._explicit = serde
        self._serde: Serde[Any] = serde or _ANY_JSON

    def value(self) -> RestateFuture[Any]:
        handle = self._ctx._command(self._ctx._engine.get_promise, self._name)
        return RestateFuture(self._ctx, handle, self._serde.decode)

    def peek(self) -> RestateFuture[Any]:
        handle = self._ctx._command(self._ctx._engine.peek_promise, self._name)
        return RestateFuture(self._ctx, handle, lambda v: None if v is None else self._serde.decode(v))

    async def resolve(self, value: Any) -> None:
        data = (self._explicit or serde_for(type(value))).encode(value)
        handle = self._ctx._command(self._ctx._engine.complete_promise, self._name, data)
        await RestateFuture[None](self._ctx, handle, lambda _: None)

    async def reject(self, message: str, code: int = 500) -> None:
        handle = self._ctx._command(
            self._ctx._engine.complete_promise, self._name, m.Failure(code=code, message=message)
        )
        await RestateFuture[None](self._ctx, handle, lambda _: None)


class _RunPolicy:
    """Retry policy of one ``ctx.run``; with no limits the server's policy decides the pace."""

    def __init__(
        self,
        max_attempts: int | None,
        max_duration: timedelta | None,
        initial: timedelta | None,
        factor: float | None,
        max_interval: timedelta | None,
    ) -> None:
        self.max_attempts = max_attempts
        self.max_duration_ms = _ms(max_duration) if max_duration is not None else None
        self.initial_ms = _ms(initial) if initial is not None else None
        self.factor = factor if factor is not None else 2.0
        self.max_interval_ms = _ms(max_interval) if max_interval is not None else None

    def exhausted(self, attempts: int, spent_ms: int) -> bool:
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        return self.max_duration_ms is not None and spent_ms >= self.max_duration_ms

    def delay_ms(self, retries: int) -> int | None:
        if self.initial_ms is None:
            return None
        delay = self.initial_ms * (self.factor**retries)
        if self.max_interval_ms is not None:
            delay = min(delay, self.max_interval_ms)
        return int(delay)


def _target(fn: Callable[..., Any], expected: str) -> HandlerInfo:
    info = handler_info(fn)
    if info.service_kind != expected:
        raise SdkUsageError(
            f"{info.service_name}.{info.name} belongs to a {info.service_kind}, not a {expected}: "
            f"use ctx.{info.service_kind}_call/_send"
        )
    return info


def _encode_generic(arg: Any, serde: Serde[Any] | None) -> bytes:
    """A by-name call's argument: through ``serde`` if given, bytes as they are, None as no body, else JSON."""
    if serde is not None:
        return serde.encode(arg)
    if isinstance(arg, bytes | bytearray):
        return bytes(arg)
    return b"" if arg is None else _ANY_JSON.encode(arg)


def _nothing() -> None:
    return None


def _return_type(fn: Callable[..., Any]) -> Any:
    """The declared return type of a run's function (string annotations resolved), else Any."""
    try:
        return _RETURN_TYPES[fn]
    except (KeyError, TypeError):  # not seen yet, or not weak-referenceable (builtins)
        pass
    try:
        hint = typing.get_type_hints(fn).get("return", Any)
    except Exception:  # unresolvable names, callables without annotations
        hint = Any
    with contextlib.suppress(TypeError):
        _RETURN_TYPES[fn] = hint
    return hint


# Resolving string annotations compiles and evaluates them: once per function is enough. Weak keys, so
# closures made per call do not pile up.
_RETURN_TYPES: weakref.WeakKeyDictionary[Callable[..., Any], Any] = weakref.WeakKeyDictionary()
