"""The invocation context: a thin facade from Context calls to engine operations and futures.

Each ``ctx.*`` call checks the handler kind, encodes its value, calls one engine method and wraps the
handle it returns in a future. Waiting, running closures and the attempt's errors belong to the
attempt (``_endpoint/attempt.py``), which the context knows only as a ``Runtime``.
"""

from __future__ import annotations

import contextlib
import logging
import random as _random
import time as _time
import uuid as _uuid
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar, Unpack

from ._codecs import JsonSerde, Serde, serde_for
from ._context import CallOptions, Request, SendOptions
from ._definitions import HandlerInfo, handler_info
from ._engine import messages as m
from ._engine.engine import Handle, InvocationEngine, named_signal
from ._engine.errors import ProtocolError
from ._errors import SdkUsageError, TerminalError
from ._failures import check_key, encode_checked, misuse
from ._futures import CallFuture, RestateFuture, SendHandle, Waiting
from ._logging import current_invocation
from ._middleware import Middleware, OperationInfo, OperationKind, open_operation, traced_run
from ._run_serde import run_serde as choose_run_serde
from ._shortcuts import CallShortcuts, scope_options

__all__ = [
    "AttemptEnded",
    "InvocationContext",
    "RunClosure",
    "RunPolicy",
    "Runtime",
    "Suspended",
    "running_run",
]

T = TypeVar("T")
log = logging.getLogger("restate_sdk")

_ANY_JSON: JsonSerde[Any] = JsonSerde()


running_run: ContextVar[object] = ContextVar("restate_running_run", default=None)
"""The context whose ``ctx.run`` function runs in this task or thread (None elsewhere)."""


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


class Runtime(Waiting, Protocol):
    """What the context needs from its attempt: waiting, plus the attempt's engine, runs and errors."""

    @property
    def engine(self) -> InvocationEngine: ...

    @property
    def ended(self) -> bool:
        """The attempt is over: the context must not be used any more."""
        ...

    def broken(self, error: ProtocolError) -> None:
        """Remember a protocol error: the attempt fails with it even if user code swallows it."""
        ...

    def start_run(self, run: RunClosure) -> None:
        """Execute a ``ctx.run`` closure and propose its result."""
        ...

    def call_started(self, id_handle: Handle, result_handle: Handle) -> None:
        """A call went out: cancelled along with this invocation while it runs."""
        ...


class InvocationContext(CallShortcuts):
    """Implements every Context protocol for one attempt (kind checks happen at call time)."""

    def __init__(
        self,
        runtime: Runtime,
        info: HandlerInfo,
        attempt_headers: Mapping[str, str],
        middleware: Sequence[Middleware] = (),
    ) -> None:
        self._runtime = runtime
        self._engine = runtime.engine
        self._middleware = middleware
        self._info = info
        self._attempt_headers = attempt_headers
        self._rng: _random.Random | None = None

    def is_replaying(self) -> bool:
        """True while the handler re-executes what the journal already records."""
        return self._engine.replaying

    def check_use(self) -> None:
        """``SdkUsageError`` for a context used where it does not belong (``_failures.misuse``)."""
        rule = None
        if running_run.get() is self:
            rule = "inside_run"
        elif self._runtime.ended:
            rule = "ended"
        else:
            current = current_invocation.get()
            if current is not None and current is not self:
                rule = "other_task"
        if rule is not None:
            raise misuse(rule, self._engine.invocation_id)

    def _command(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run an engine operation, remembering protocol errors even if user code swallows them."""
        self.check_use()
        try:
            return fn(*args, **kwargs)
        except ProtocolError as e:
            self._runtime.broken(e)
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
            scope=self._engine.scope,
            limit_key=self._engine.limit_key,
            idempotency_key=self._engine.idempotency_key,
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
            value = await RestateFuture[Any](self._runtime, handle, _same)
        if value is None:
            return None
        return (serde or (_ANY_JSON if type_hint is None else serde_for(type_hint))).decode(value)  # type: ignore[no-any-return]

    async def state_keys(self) -> list[str]:
        self._check_state(write=False)
        known, keys, handle = self._command(self._engine.get_state_keys)
        if not known:
            assert handle is not None
            keys = await RestateFuture[list[str]](self._runtime, handle, _same)
        return keys

    def set(self, name: str, value: Any, serde: Serde[Any] | None = None) -> None:
        self._check_state(write=True)
        data = encode_checked(
            serde or serde_for(type(value)),
            value,
            f"state {name!r}",
            "store a value of a type the codec supports, or pass serde= to ctx.set",
        )
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
        serde = choose_run_serde(fn, type_hint, serde)
        handle, index = self._command(self._engine.run, name)
        if not self._engine.is_completed(handle):
            if self._middleware:
                fn = traced_run(self._middleware, name, fn)
            policy = RunPolicy.of(
                max_attempts, max_duration, initial_retry_interval, retry_interval_factor, max_retry_interval
            )
            self._runtime.start_run(RunClosure(handle, index, name, fn, args, serde, policy))
        return RestateFuture(self._runtime, handle, serde.decode, f"ctx.run({name!r})")

    # ---- timers ---------------------------------------------------------------------------------

    def sleep(self, delta: timedelta, name: str = "") -> RestateFuture[None]:
        wake_up = int(_time.time() * 1000) + _ms(delta)
        with self._operation("sleep", name=name, delay_ms=_ms(delta)) if self._middleware else _UNTRACED:
            handle = self._command(self._engine.sleep, wake_up, name)
        return RestateFuture(self._runtime, handle, lambda _: None, "ctx.sleep()")

    # ---- calls and sends ------------------------------------------------------------------------

    def _call(
        self,
        service: str,
        handler: str,
        parameter: bytes,
        key: str,
        output_serde: Serde[Any],
        options: CallOptions,
    ) -> CallFuture[Any]:
        key = check_key(key, f"the call to {service}/{handler}")
        scope, limit_key = scope_options(options, self._engine.version)
        headers = options.get("headers")
        with self._operation("call", service, handler, key, headers) if self._middleware else _UNTRACED as h:
            headers = headers if h is None else h  # with middleware: plus the headers it adds
            id_handle, result_handle = self._command(
                self._engine.call,
                service,
                handler,
                parameter,
                key=key,
                headers=list(headers.items()) if headers else None,
                idempotency_key=options.get("idempotency_key"),
                scope=scope,
                limit_key=limit_key,
            )
        self._runtime.call_started(id_handle, result_handle)
        return CallFuture(
            self._runtime, result_handle, id_handle, output_serde.decode, f"the call to {service}/{handler}"
        )

    def _typed_call(
        self, fn: Callable[..., Any], expected: str, key: str, arg: Any, options: CallOptions
    ) -> CallFuture[Any]:
        info = _target(fn, expected)
        return self._call(
            info.service_name, info.name, _encode_arg(info, arg), key, info.output_serde, options
        )

    def generic_call(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
        **options: Unpack[CallOptions],
    ) -> CallFuture[Any]:
        """Call by names; ``arg`` bytes go out as they are, anything else as JSON."""
        return self._call(
            service, handler, _encode_generic(arg, input_serde), key or "", output_serde or _ANY_JSON, options
        )

    def _send(
        self, service: str, handler: str, parameter: bytes, key: str, options: SendOptions
    ) -> SendHandle:
        key = check_key(key, f"the send to {service}/{handler}")
        scope, limit_key = scope_options(options, self._engine.version)
        delay, headers = options.get("delay"), options.get("headers")
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
                idempotency_key=options.get("idempotency_key"),
                invoke_time_ms=invoke_time,
                scope=scope,
                limit_key=limit_key,
            )
        return SendHandle(self._runtime, id_handle)

    def _typed_send(
        self, fn: Callable[..., Any], expected: str, key: str, arg: Any, options: SendOptions
    ) -> SendHandle:
        info = _target(fn, expected)
        return self._send(info.service_name, info.name, _encode_arg(info, arg), key, options)

    def generic_send(
        self,
        service: str,
        handler: str,
        arg: Any = None,
        key: str | None = None,
        *,
        input_serde: Serde[Any] | None = None,
        **options: Unpack[SendOptions],
    ) -> SendHandle:
        return self._send(service, handler, _encode_generic(arg, input_serde), key or "", options)

    # ---- awakeables, signals, promises, other invocations ---------------------------------------

    def awakeable(
        self, type_hint: Any = None, serde: Serde[Any] | None = None
    ) -> tuple[str, RestateFuture[Any]]:
        self.check_use()
        awakeable_id, handle = self._engine.awakeable()
        if self._middleware and not self._engine.replaying and not self._engine.is_completed(handle):
            with self._operation("awakeable", awakeable_id=awakeable_id):
                pass
        decoder = serde or (serde_for(type_hint) if type_hint is not None else _ANY_JSON)
        return awakeable_id, RestateFuture(self._runtime, handle, decoder.decode, "ctx.awakeable()")

    def resolve_awakeable(self, awakeable_id: str, value: Any, serde: Serde[Any] | None = None) -> None:
        self._command(
            self._engine.complete_awakeable, awakeable_id, (serde or serde_for(type(value))).encode(value)
        )

    def reject_awakeable(self, awakeable_id: str, reason: str, code: int = 500) -> None:
        self._command(self._engine.complete_awakeable, awakeable_id, m.Failure(code=code, message=reason))

    def signal(self, name: str, type_hint: Any = None, serde: Serde[Any] | None = None) -> RestateFuture[Any]:
        decoder = serde or (serde_for(type_hint) if type_hint is not None else _ANY_JSON)
        return RestateFuture(self._runtime, named_signal(name), decoder.decode, f"ctx.signal({name!r})")

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
        return RestateFuture(self._runtime, handle, decoder.decode, "ctx.attach_invocation()")

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
        return RestateFuture(self._ctx._runtime, handle, self._serde.decode)

    def peek(self) -> RestateFuture[Any]:
        handle = self._ctx._command(self._ctx._engine.peek_promise, self._name)
        return RestateFuture(
            self._ctx._runtime, handle, lambda v: None if v is None else self._serde.decode(v)
        )

    async def resolve(self, value: Any) -> None:
        data = (self._explicit or serde_for(type(value))).encode(value)
        handle = self._ctx._command(self._ctx._engine.complete_promise, self._name, data)
        await RestateFuture[None](self._ctx._runtime, handle, lambda _: None)

    async def reject(self, message: str, code: int = 500) -> None:
        handle = self._ctx._command(
            self._ctx._engine.complete_promise, self._name, m.Failure(code=code, message=message)
        )
        await RestateFuture[None](self._ctx._runtime, handle, lambda _: None)


@dataclass(slots=True)
class RunClosure:
    """One ``ctx.run`` for the attempt to execute: its journal place, function and policy."""

    handle: Handle
    index: int
    name: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    serde: Serde[Any]
    policy: RunPolicy


class RunPolicy:
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

    @classmethod
    def of(
        cls,
        max_attempts: int | None,
        max_duration: timedelta | None,
        initial: timedelta | None,
        factor: float | None,
        max_interval: timedelta | None,
    ) -> RunPolicy:
        """The policy for these options; one shared object when none is set (most runs)."""
        if (max_attempts, max_duration, initial, factor, max_interval) == (None, None, None, None, None):
            return _SERVER_POLICY
        return cls(max_attempts, max_duration, initial, factor, max_interval)

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


_SERVER_POLICY = RunPolicy(None, None, None, None, None)  # no limits of its own (shared: never changed)


def _target(fn: Callable[..., Any], expected: str) -> HandlerInfo:
    info = handler_info(fn)
    if info.service_kind != expected:
        raise SdkUsageError(
            f"{info.service_name}.{info.name} belongs to a {_KINDS[info.service_kind]}, not a "
            f"{_KINDS[expected]}: use ctx.{info.service_kind}_call/_send"
        )
    return info


_KINDS = {"service": "service", "object": "virtual object", "workflow": "workflow"}


def _encode_arg(info: HandlerInfo, arg: Any) -> bytes:
    return encode_checked(
        info.input_serde,
        arg,
        f"the argument for {info.service_name}.{info.name}",
        "pass a value of the type that handler takes",
    )


def _encode_generic(arg: Any, serde: Serde[Any] | None) -> bytes:
    """A by-name call's argument: through ``serde`` if given, bytes as they are, None as no body, else JSON."""
    if serde is not None:
        return serde.encode(arg)
    if isinstance(arg, bytes | bytearray):
        return bytes(arg)
    return b"" if arg is None else _ANY_JSON.encode(arg)


def _same(value: Any) -> Any:
    return value
