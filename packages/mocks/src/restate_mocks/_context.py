"""MockContext: every Context kind in memory, for unit tests of handlers.

State lives in a dict, ``run`` runs its function, and everything that would leave the invocation
(calls, sends, timers, awakeables, signals) is recorded and answered by the test's expectations.
Values cross the same serdes as in production, so a stub of the wrong shape fails here too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import inspect
import itertools
import random as _random
import sys
import time as _time
import uuid as _uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator, Mapping, Sequence
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, Unpack, cast

from restate_sdk import (
    CallFuture,
    HandlerInfo,
    JsonSerde,
    Request,
    RestateFuture,
    SdkUsageError,
    SendHandle,
    Serde,
    TerminalError,
    handler_info,
    serde_for,
)
from restate_sdk._context_impl import _encode_generic, _target
from restate_sdk._definitions import handler_for_code
from restate_sdk._engine.awaiting import Awaited, AwaitNode, Combinator, Watch, leaves
from restate_sdk._engine.handles import Handle
from restate_sdk._run_serde import run_serde as sdk_run_serde
from restate_sdk._shortcuts import CallShortcuts, scope_options
from restate_sdk._sync_context import BlockingContext, as_sync_context

from ._errors import (
    HandlerBlockedError,
    MissingStubError,
    MockError,
    UnexpectedOperationError,
    UnmetExpectationError,
)
from ._expectations import (
    ANY,
    AttachExpectation,
    AwakeableExpectation,
    CallExpectation,
    Expectation,
    Kind,
    Outcome,
    RunExpectation,
    SendExpectation,
    SignalExpectation,
    SleepExpectation,
    describe,
    hint,
    unexpected_message,
    unmet_message,
)
from ._records import (
    AwakeableRecord,
    CallRecord,
    CompletionRecord,
    RunRecord,
    SignalRecord,
    SleepRecord,
    Slot,
)

if TYPE_CHECKING:
    from restate_sdk import (
        CallOptions,
        ObjectContext,
        SendOptions,
        SyncWorkflowContext,
        WorkflowContext,
        WorkflowSharedContext,
    )
    from restate_sdk._context_impl import InvocationContext
    from restate_sdk._sync_context import _Bridge

__all__ = ["MockContext"]

_ANY_JSON: JsonSerde[Any] = JsonSerde()
E = TypeVar("E", bound=Expectation)
T = TypeVar("T")


def _identity(value: Any) -> Any:
    return value


def _roundtrip(value: Any, source: Serde[Any] | None, target: Serde[Any]) -> Any:
    """``value`` as the receiving side decodes it (bytes are taken as already encoded)."""
    if source is None and isinstance(value, bytes | bytearray):
        return target.decode(bytes(value))
    return target.decode((source or serde_for(type(value))).encode(value))


def _decoder(type_hint: Any, serde: Serde[Any] | None) -> Serde[Any]:
    return serde or (serde_for(type_hint) if type_hint is not None else _ANY_JSON)


def _run_blocking(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to its end from synchronous code, even under a running event loop."""
    if _running_loop() is None:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _stub_body(outcome: Outcome) -> Callable[..., Any]:
    kind, value = outcome

    def body(*_: Any) -> Any:
        if kind == "raises":
            raise value
        return value

    return body


# A run's attempts: yields the awaitables of an async function, returns the journaled value.
_Attempts = Generator[Awaitable[Any], Any, Any]


class MockContext(CallShortcuts):
    """A stand-in for every Context kind (service, object, workflow, shared or not).

    Example::

        ctx = MockContext(key="a", state={"count": 1})
        assert await add(ctx, 2) == 3
        assert ctx.state["count"] == 3

    Arguments (all keyword-only):

    ``key``: what ``ctx.key()`` returns. ``state``: the initial state (values as the handler
    would set them, or encoded bytes). ``promises``: a workflow's promises already resolved (a
    ``TerminalError`` value means rejected). ``seed``: seeds ``ctx.random()`` and ``ctx.uuid()``.
    ``invocation_id``, ``headers``, ``attempt_headers``, ``body``: what ``ctx.request()`` reports.
    ``now``: the clock ``ctx.time()`` reads (seconds since the epoch; default: the wall clock
    once); a sleep advances it when its future is awaited. ``strict``: every run, call, send,
    sleep, awakeable, signal, attach, cancel and awakeable/signal completion must match an
    expectation, or ``UnexpectedOperationError`` is raised. ``handler``: the handler under test;
    without it, the mock finds the decorated handler it is running in from the call stack. Either
    way the handler's definition gives its kind, and the mock refuses what that kind cannot do
    (state writes in a shared handler, state in a service, promises outside a workflow) as the
    SDK does. ``block_timeout``: how long (seconds) the handler may wait on
    futures that nothing completes before ``HandlerBlockedError``.

    After the handler ran, inspect ``state``, ``promises``, ``runs``, ``calls``, ``sends``,
    ``sleeps``, ``awakeables``, ``signals``, ``awakeable_completions``, ``signal_completions``,
    ``cancelled_invocations``, ``attached_invocations`` and ``journal`` (every operation, in
    order, as text); ``verify()`` checks the expectations.

    Plain ``def`` handlers take ``ctx.sync()``, the blocking view of the same mock.
    """

    def __init__(
        self,
        *,
        key: str | None = None,
        state: Mapping[str, Any] | None = None,
        seed: int = 0,
        invocation_id: str = "inv_mock",
        headers: Mapping[str, str] | None = None,
        attempt_headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        now: float | None = None,
        promises: Mapping[str, Any] | None = None,
        strict: bool = False,
        handler: Callable[..., Any] | None = None,
        block_timeout: float = 1.0,
    ) -> None:
        self.state: dict[str, Any] = dict(state or {})
        self.promises: dict[str, Any] = dict(promises or {})
        self.now: float = _time.time() if now is None else now
        self.strict = strict
        self.block_timeout = block_timeout
        self.runs: list[RunRecord] = []
        self.calls: list[CallRecord] = []
        self.sends: list[CallRecord] = []
        self.sleeps: list[SleepRecord] = []
        self.awakeables: list[AwakeableRecord] = []
        self.signals: list[SignalRecord] = []
        self.awakeable_completions: list[CompletionRecord] = []
        self.signal_completions: list[CompletionRecord] = []
        self.cancelled_invocations: list[str] = []
        self.attached_invocations: list[str] = []
        self.journal: list[str] = []
        self.failures: list[MockError] = []
        """Failures raised into the handler (which may have swallowed them); ``verify()`` re-raises."""

        self._key = key
        self._seed = seed
        self._invocation_id = invocation_id
        self._headers = dict(headers or {})
        self._attempt_headers = dict(attempt_headers or {})
        self._body = body
        self._given: HandlerInfo | None = handler_info(handler) if handler is not None else None
        self._rng: _random.Random | None = None
        self._expectations: list[Expectation] = []
        self._slots: dict[Handle, Slot] = {}
        self._counter = 0
        self._children = itertools.count(1)
        self._awakeable_numbers = itertools.count(1)
        self._state_serdes: dict[str, Serde[Any]] = {}
        self._awakeable_slots: dict[str, Slot] = {}
        self._signal_slots: dict[str, tuple[Handle, Slot]] = {}
        self._early_signals: dict[str, Any] = {}
        self._promise_waiters: dict[str, list[Slot]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._blocking = 0
        self._sync: _MockSyncContext | None = None

    # ---- the test's side: expectations, verification, the blocking view -------------------------

    def _expect(self, expectation: E) -> E:
        self._expectations.append(expectation)
        return expectation

    def expect_run(self, name: Any = ANY, *args: Any) -> RunExpectation:
        """Expect ``ctx.run(name, fn, *args)`` (``args`` checked only when given).

        Example::

            ctx.expect_run("charge").returns("receipt-1")      # fn does not run
            ctx.expect_run("reserve")                           # fn runs; the step must happen
        """
        return self._expect(RunExpectation("run", {"name": name, "args": args if args else ANY}))

    def expect_call(
        self,
        target: Callable[..., Any] | str,
        arg: Any = ANY,
        *,
        key: Any = ANY,
        idempotency_key: Any = ANY,
        headers: Any = ANY,
        scope: Any = ANY,
        limit_key: Any = ANY,
    ) -> CallExpectation:
        """Expect a call of ``target`` (a handler function, or ``"Service/handler"``).

        Example::

            ctx.expect_call(process, PaymentRequest(amount=3)).returns(Receipt(ok=True))
            ctx.expect_call("Payment/process").raises(TerminalError("declined", status_code=402))
        """
        fields = {
            "target": _target_name(target),
            "arg": arg,
            "key": key,
            "idempotency_key": idempotency_key,
            "headers": headers,
            "scope": scope,
            "limit_key": limit_key,
        }
        return self._expect(CallExpectation("call", fields))

    def expect_send(
        self,
        target: Callable[..., Any] | str,
        arg: Any = ANY,
        *,
        key: Any = ANY,
        delay: Any = ANY,
        idempotency_key: Any = ANY,
        headers: Any = ANY,
        scope: Any = ANY,
        limit_key: Any = ANY,
    ) -> SendExpectation:
        """Expect a one-way send to ``target`` (a handler function, or ``"Service/handler"``).

        Example::

            ctx.expect_send(expire, key="u1", delay=timedelta(minutes=15))
        """
        fields = {
            "target": _target_name(target),
            "arg": arg,
            "key": key,
            "delay": delay,
            "idempotency_key": idempotency_key,
            "headers": headers,
            "scope": scope,
            "limit_key": limit_key,
        }
        return self._expect(SendExpectation("send", fields))

    def expect_sleep(self, delta: Any = ANY, *, name: Any = ANY) -> SleepExpectation:
        """Expect ``ctx.sleep(delta)``; it fires at once unless ``.pending()`` or ``.raises(...)``.

        Example::

            ctx.expect_sleep(timedelta(seconds=30)).pending()
        """
        return self._expect(SleepExpectation("sleep", {"delta": delta, "name": name}))

    def expect_awakeable(self) -> AwakeableExpectation:
        """Expect ``ctx.awakeable()``; ``.returns(v)`` resolves it, ``.raises(e)`` rejects it.

        Example::

            ctx.expect_awakeable().returns("approved")
        """
        return self._expect(AwakeableExpectation("awakeable", {}))

    def expect_signal(self, name: Any = ANY) -> SignalExpectation:
        """Expect ``ctx.signal(name)``; ``.returns(v)`` delivers it.

        Example::

            ctx.expect_signal("approve").returns(True)
        """
        return self._expect(SignalExpectation("signal", {"name": name}))

    def expect_attach(self, invocation_id: Any = ANY) -> AttachExpectation:
        """Expect ``ctx.attach_invocation(invocation_id)``.

        Example::

            ctx.expect_attach("inv_1").returns("done")
        """
        return self._expect(AttachExpectation("attach", {"invocation_id": invocation_id}))

    def expect_cancel(self, invocation_id: Any = ANY) -> Expectation:
        """Expect ``ctx.cancel_invocation(invocation_id)``."""
        return self._expect(Expectation("cancel", {"invocation_id": invocation_id}))

    def expect_resolve_awakeable(self, awakeable_id: Any = ANY, value: Any = ANY) -> Expectation:
        """Expect ``ctx.resolve_awakeable(awakeable_id, value)``."""
        return self._expect(Expectation("resolve_awakeable", {"awakeable_id": awakeable_id, "value": value}))

    def expect_reject_awakeable(
        self, awakeable_id: Any = ANY, reason: Any = ANY, *, code: Any = ANY
    ) -> Expectation:
        """Expect ``ctx.reject_awakeable(awakeable_id, reason, code)``."""
        fields = {"awakeable_id": awakeable_id, "reason": reason, "code": code}
        return self._expect(Expectation("reject_awakeable", fields))

    def expect_resolve_signal(
        self, invocation_id: Any = ANY, name: Any = ANY, value: Any = ANY
    ) -> Expectation:
        """Expect ``ctx.resolve_signal(invocation_id, name, value)``."""
        fields = {"invocation_id": invocation_id, "name": name, "value": value}
        return self._expect(Expectation("resolve_signal", fields))

    def expect_reject_signal(
        self, invocation_id: Any = ANY, name: Any = ANY, reason: Any = ANY, *, code: Any = ANY
    ) -> Expectation:
        """Expect ``ctx.reject_signal(invocation_id, name, reason, code)``."""
        fields = {"invocation_id": invocation_id, "name": name, "reason": reason, "code": code}
        return self._expect(Expectation("reject_signal", fields))

    @property
    def expectations(self) -> list[Expectation]:
        """Every expectation set so far, in order."""
        return list(self._expectations)

    def verify(self) -> None:
        """Fail if a failure was raised into the handler, or an expectation is not met.

        Raises the first of ``failures`` (the handler may have swallowed it), else
        ``UnmetExpectationError`` naming each unmet expectation and everything the handler did.
        """
        if self.failures:
            raise self.failures[0]
        unmet = [e for e in self._expectations if not e.met]
        if unmet:
            raise UnmetExpectationError(unmet_message(unmet, self.journal))

    def __enter__(self) -> MockContext:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.verify()

    def sync(self) -> SyncWorkflowContext:
        """The blocking view of this mock, for plain ``def`` handlers (shares state and records).

        Example::

            ctx = MockContext(key="a")
            assert add_sync(ctx.sync(), 2) == 2
        """
        if self._sync is None:
            self._sync = _MockSyncContext(self)
        return as_sync_context(self._sync)

    # ---- plumbing: futures look their results up here (the SDK's futures call these) ------------

    def _fail(self, error: MockError) -> NoReturn:
        self.failures.append(error)
        raise error

    def _wake(self) -> None:
        """Something completed: let every waiting ``wait`` look again."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            loop = waiter.get_loop()
            if _running_loop() is loop:
                _release(waiter)
            else:  # completed from another thread (a run of a def handler under a running loop)
                loop.call_soon_threadsafe(_release, waiter)

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _new_slot(self, what: str, convert: Callable[[Any], Any] = _identity) -> tuple[Handle, Slot]:
        handle: Handle = (self._next(), 0)
        slot = Slot(what, self._wake, convert)
        self._slots[handle] = slot
        return handle, slot

    def _future(self, handle: Handle) -> RestateFuture[Any]:
        return RestateFuture(self, handle, _identity)

    # the SDK's waiting protocol (restate_sdk._futures.Waiting): what futures and combinators use

    def is_completed(self, handle: Handle) -> bool:
        """Whether the operation behind ``handle`` has completed (used by the SDK's futures)."""
        return self._slots[handle].done

    def take_result(self, handle: Handle) -> Any:
        """The result of a completed operation (used by the SDK's futures)."""
        slot = self._slots[handle]
        if slot.on_take is not None:
            slot.on_take()
            slot.on_take = None
        value = slot.value
        if isinstance(value, MockError) and not any(value is f for f in self.failures):
            self.failures.append(value)
        return value

    def _resolved(self, awaited: Awaited) -> bool:
        if not isinstance(awaited, AwaitNode):
            return self._slots[awaited].done
        watch = Watch(awaited)
        for handle in dict.fromkeys(awaited.leaves()):
            slot = self._slots[handle]
            if slot.done:
                watch.complete(handle, not isinstance(slot.value, BaseException))
        return watch.resolved

    async def wait(self, awaited: Awaited) -> None:
        """Wait until ``awaited`` is resolved: runs finish, or the test completes what it waits for."""
        every = [self._slots[h] for h in dict.fromkeys(leaves(awaited))]
        while not self._resolved(awaited):
            slots = [s for s in every if not s.done]
            if self._blocking:
                self._blocked(slots)
            runs: set[asyncio.Future[Any]] = {
                s.task for s in slots if s.task is not None and not s.task.done()
            }
            progress: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(progress)
            try:
                done, _ = await asyncio.wait(
                    {*runs, progress},
                    timeout=None if runs else self.block_timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                if progress in self._waiters:
                    self._waiters.remove(progress)
            if not done:
                self._blocked(slots)

    async def completions(self, items: Sequence[tuple[Handle, T]]) -> AsyncIterator[T]:
        """Yield each item once its handle completes (those already complete first, in order)."""
        remaining = list(items)
        while remaining:
            done = [item for item in remaining if self._slots[item[0]].done]
            if not done:
                await self.wait(AwaitNode(Combinator.FIRST_COMPLETED, tuple(h for h, _ in remaining)))
                continue
            for item in done:
                remaining.remove(item)
                yield item[1]

    def _blocked(self, slots: list[Slot]) -> NoReturn:
        what = ", ".join(s.what for s in slots)
        waited = "" if self._blocking else f" (waited {self.block_timeout}s)"
        self._fail(
            HandlerBlockedError(
                f"the handler waits for {what}, and nothing completes it{waited}: give it an outcome "
                "(e.g. ctx.expect_awakeable().returns(value), ctx.expect_call(...).returns(value)) or "
                "complete it from the test (e.g. ctx.awakeables[0].resolve(value))"
            )
        )

    @contextlib.contextmanager
    def _blocking_calls(self) -> Generator[None]:
        """While a plain ``def`` handler calls in: runs finish before returning, waits cannot wait."""
        self._blocking += 1
        try:
            yield
        finally:
            self._blocking -= 1

    def _op(self, kind: Kind, fields: dict[str, Any], entry: str | None = None) -> Expectation | None:
        """Journal an operation and find the expectation it meets (strict: there must be one)."""
        self.journal.append(entry or describe(kind, fields))
        for expectation in self._expectations:
            if expectation.kind == kind and expectation._accepts(fields):
                expectation.count += 1
                return expectation
        if self.strict:
            self._fail(UnexpectedOperationError(unexpected_message(kind, fields, self._expectations)))
        return None

    @staticmethod
    def _settle(slot: Slot, outcome: Outcome | None) -> None:
        if outcome is None or outcome[0] == "pending":
            return
        kind, value = outcome
        if kind == "returns":
            slot.resolve(value)
        else:
            slot.settle(value)

    def _info(self) -> HandlerInfo | None:
        """The handler under test: the one given, else the innermost decorated handler on the stack."""
        if self._given is not None:
            return self._given
        frame = sys._getframe(1)
        while frame is not None:
            info = handler_for_code(frame.f_code)
            if info is not None:
                return info
            frame = frame.f_back
        return None

    # ---- identity ---------------------------------------------------------------------------------

    def invocation_id(self) -> str:
        """``invocation_id`` as given to the mock."""
        return self._invocation_id

    def key(self) -> str:
        """``key`` as given to the mock; ``SdkUsageError`` in a service or without one."""
        info = self._info()
        if info is not None and not info.keyed:
            raise SdkUsageError("key() is only available in virtual objects and workflows")
        if self._key is None:
            raise SdkUsageError("this MockContext has no key: create it with MockContext(key=...)")
        return self._key

    def request(self) -> Request:
        """The request made of ``invocation_id``, ``headers``, ``attempt_headers`` and ``body``."""
        return Request(
            id=self._invocation_id,
            headers=dict(self._headers),
            attempt_headers=dict(self._attempt_headers),
            body=self._body,
        )

    def random(self) -> _random.Random:
        """A generator seeded with ``seed``: the same numbers on every test run."""
        if self._rng is None:
            self._rng = _random.Random(self._seed)
        return self._rng

    def uuid(self) -> _uuid.UUID:
        """A UUID (v4 layout) from the seeded generator."""
        return _uuid.UUID(int=self.random().getrandbits(128), version=4)

    async def time(self) -> float:
        """The mock clock: ``now`` (advanced by awaited sleeps)."""
        return self.now

    # ---- state ------------------------------------------------------------------------------------

    def _check_state(self, write: bool) -> None:
        info = self._info()
        if info is None:
            return
        if not info.keyed:
            raise SdkUsageError(
                f"{info.service_name} is a service: state needs a virtual object or a workflow"
            )
        if write and info.kind == "shared":
            raise SdkUsageError(
                f"{info.service_name}.{info.name} is a shared handler: it can only read state"
            )

    async def get(self, name: str, type_hint: Any = None, serde: Serde[Any] | None = None) -> Any:
        """The value in ``state``, through the serde as in production, or None."""
        self._check_state(write=False)
        self.journal.append(f"get {name!r}")
        if name not in self.state:
            return None
        return _roundtrip(self.state[name], self._state_serdes.get(name), _decoder(type_hint, serde))

    async def state_keys(self) -> list[str]:
        """The names in ``state``, sorted."""
        self._check_state(write=False)
        self.journal.append("state_keys")
        return sorted(self.state)

    def set(self, name: str, value: Any, serde: Serde[Any] | None = None) -> None:
        """Store ``value`` in ``state`` (it must encode, as in production)."""
        self._check_state(write=True)
        (serde or serde_for(type(value))).encode(value)  # fails here as it would in production
        self.journal.append(f"set {name!r} = {value!r}")
        self.state[name] = copy.deepcopy(value)
        if serde is not None:
            self._state_serdes[name] = serde
        else:
            self._state_serdes.pop(name, None)

    def clear(self, name: str) -> None:
        """Remove ``name`` from ``state``."""
        self._check_state(write=True)
        self.journal.append(f"clear {name!r}")
        self.state.pop(name, None)
        self._state_serdes.pop(name, None)

    def clear_all(self) -> None:
        """Empty ``state``."""
        self._check_state(write=True)
        self.journal.append("clear_all")
        self.state.clear()
        self._state_serdes.clear()

    # ---- run --------------------------------------------------------------------------------------

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
        """Run ``fn(*args)`` now (an async ``fn`` as a task), or give the expectation's stub.

        The result goes through the run's serde like a journaled one. A ``TerminalError`` fails
        the future; another exception is retried at once up to ``max_attempts`` and then becomes a
        ``TerminalError`` (with only ``max_duration``: after one attempt, since no time passes);
        with neither, it fails the future as is (in production Restate would retry the attempt).
        """
        run_serde = sdk_run_serde(fn, type_hint, serde)
        expectation = self._op("run", {"name": name, "args": args})
        handle, slot = self._new_slot(f"run {name!r}", lambda v: _roundtrip(v, run_serde, run_serde))
        record = RunRecord(name, args, _slot=slot)
        self.runs.append(record)
        outcome = expectation.outcome if isinstance(expectation, RunExpectation) else None
        if outcome is not None and outcome[0] == "pending":
            return self._future(handle)
        limit = max_attempts if max_attempts is not None else (1 if max_duration is not None else None)
        body = fn if outcome is None else _stub_body(outcome)
        attempts = self._attempts(record, body, outcome is None, args, run_serde, limit)
        self._drive(slot, attempts)
        return self._future(handle)

    @staticmethod
    def _attempts(
        record: RunRecord,
        body: Callable[..., Any],
        counted: bool,
        args: tuple[Any, ...],
        serde: Serde[Any],
        limit: int | None,
    ) -> _Attempts:
        attempt = 0
        while True:
            attempt += 1
            if counted:
                record.attempts += 1
            try:
                value = body(*args)
                if inspect.isawaitable(value):
                    value = yield value
                return _roundtrip(value, serde, serde)
            except TerminalError:
                raise
            except Exception as e:
                if limit is None:
                    raise
                if attempt >= limit:
                    raise TerminalError(f"run {record.name!r} failed after {attempt} attempts: {e}") from e

    def _drive(self, slot: Slot, attempts: _Attempts) -> None:
        """Run the attempts up to their first real await; finish them in a task (or block)."""
        try:
            awaitable = next(attempts)
        except StopIteration as stop:
            slot.settle(stop.value)
            return
        except Exception as e:
            slot.settle(e)
            return
        finish = self._finish(slot, attempts, awaitable)
        loop = _running_loop()
        if loop is None or self._blocking:
            _run_blocking(finish)
        else:
            slot.task = loop.create_task(finish)

    @staticmethod
    async def _finish(slot: Slot, attempts: _Attempts, awaitable: Awaitable[Any]) -> None:
        while True:
            try:
                try:
                    value = await awaitable
                except Exception as e:
                    awaitable = attempts.throw(e)
                else:
                    awaitable = attempts.send(value)
            except StopIteration as stop:
                slot.settle(stop.value)
                return
            except Exception as e:
                slot.settle(e)
                return

    # ---- timers -----------------------------------------------------------------------------------

    def sleep(self, delta: timedelta, name: str = "") -> RestateFuture[None]:
        """A timer that fires at once (unless an expectation says otherwise); awaiting it moves ``now``."""
        expectation = self._op("sleep", {"delta": delta, "name": name})
        handle, slot = self._new_slot(describe("sleep", {"delta": delta, "name": name}), lambda _: None)
        wake_up = self.now + delta.total_seconds()

        def advance() -> None:
            self.now = max(self.now, wake_up)

        slot.on_take = advance
        self.sleeps.append(SleepRecord(delta, name, _slot=slot))
        outcome = expectation.outcome if isinstance(expectation, SleepExpectation) else None
        self._settle(slot, outcome or ("returns", None))
        return self._future(handle)

    def timer(self, delta: timedelta) -> RestateFuture[None]:
        """``restate.with_timeout``'s timer: a ``sleep`` like any other (``expect_sleep`` stubs it)."""
        return self.sleep(delta)

    # ---- calls and sends --------------------------------------------------------------------------

    def _child_id(self, stubbed: str | None) -> str:
        return stubbed or f"{self._invocation_id}_{next(self._children)}"

    def _call(
        self,
        service: str,
        handler: str,
        arg: Any,
        key: str,
        output_serde: Serde[Any],
        void: bool,
        options: CallOptions,
    ) -> CallFuture[Any]:
        scope, limit_key = scope_options(options)
        idempotency_key, headers = options.get("idempotency_key"), dict(options.get("headers") or {})
        fields = {
            "target": f"{service}/{handler}",
            "arg": arg,
            "key": key,
            "idempotency_key": idempotency_key,
            "headers": headers,
            "scope": scope,
            "limit_key": limit_key,
        }
        expectation = self._op("call", fields)
        stub = expectation if isinstance(expectation, CallExpectation) else None
        invocation_id = self._child_id(stub.invocation_id if stub is not None else None)
        id_handle, id_slot = self._new_slot(f"invocation id of call {service}/{handler}")
        id_slot.settle(invocation_id)
        what = describe("call", fields)
        handle, slot = self._new_slot(what, lambda v: _roundtrip(v, None, output_serde))
        self.calls.append(
            CallRecord(
                service,
                handler,
                arg,
                key,
                idempotency_key,
                headers,
                None,
                invocation_id,
                scope=scope,
                limit_key=limit_key,
                _slot=slot,
            )
        )
        outcome = stub.outcome if stub is not None else None
        if outcome is None:
            if void:
                outcome = ("returns", None)
            else:
                missing = (
                    f"{what} has no result, and the handler awaits it: use {hint('call')}.returns(value)"
                )
                outcome = ("raises", MissingStubError(missing))
        self._settle(slot, outcome)
        return CallFuture(self, handle, id_handle, _identity)

    def _typed_call(
        self, fn: Callable[..., Any], expected: str, key: str, arg: Any, options: CallOptions
    ) -> CallFuture[Any]:
        info = _target(fn, expected)
        info.input_serde.encode(arg)  # fails here as it would in production
        void = info.output_type is type(None)
        return self._call(info.service_name, info.name, arg, key, info.output_serde, void, options)

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
        """Record a call by names (in ``calls``); its result comes from ``expect_call(...).returns``."""
        _encode_generic(arg, input_serde)
        return self._call(service, handler, arg, key or "", output_serde or _ANY_JSON, False, options)

    def _send(self, service: str, handler: str, arg: Any, key: str, options: SendOptions) -> SendHandle:
        scope, limit_key = scope_options(options)
        delay, idempotency_key = options.get("delay"), options.get("idempotency_key")
        headers = dict(options.get("headers") or {})
        fields = {
            "target": f"{service}/{handler}",
            "arg": arg,
            "key": key,
            "delay": delay,
            "idempotency_key": idempotency_key,
            "headers": headers,
            "scope": scope,
            "limit_key": limit_key,
        }
        expectation = self._op("send", fields)
        stub = expectation if isinstance(expectation, SendExpectation) else None
        invocation_id = self._child_id(stub.invocation_id if stub is not None else None)
        id_handle, id_slot = self._new_slot(f"invocation id of send {service}/{handler}")
        id_slot.settle(invocation_id)
        self.sends.append(
            CallRecord(
                service,
                handler,
                arg,
                key,
                idempotency_key,
                headers,
                delay,
                invocation_id,
                scope=scope,
                limit_key=limit_key,
            )
        )
        return SendHandle(self, id_handle)

    def _typed_send(
        self, fn: Callable[..., Any], expected: str, key: str, arg: Any, options: SendOptions
    ) -> SendHandle:
        info = _target(fn, expected)
        info.input_serde.encode(arg)
        return self._send(info.service_name, info.name, arg, key, options)

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
        """Record a send by names (in ``sends``)."""
        _encode_generic(arg, input_serde)
        return self._send(service, handler, arg, key or "", options)

    # ---- awakeables, signals, promises, other invocations -----------------------------------------

    def awakeable(
        self, type_hint: Any = None, serde: Serde[Any] | None = None
    ) -> tuple[str, RestateFuture[Any]]:
        """A new awakeable; it stays pending unless an expectation or the test completes it."""
        n = next(self._awakeable_numbers)
        expectation = self._op("awakeable", {}, entry=f"awakeable #{n}")
        stub = expectation if isinstance(expectation, AwakeableExpectation) else None
        awakeable_id = (stub.awakeable_id if stub is not None else None) or f"sign_mock_{n}"
        decoder = _decoder(type_hint, serde)
        handle, slot = self._new_slot(f"awakeable {awakeable_id!r}", lambda v: _roundtrip(v, None, decoder))
        self._awakeable_slots[awakeable_id] = slot
        self.awakeables.append(AwakeableRecord(awakeable_id, _slot=slot))
        self._settle(slot, stub.outcome if stub is not None else None)
        return awakeable_id, self._future(handle)

    def resolve_awakeable(self, awakeable_id: str, value: Any, serde: Serde[Any] | None = None) -> None:
        """Record the completion (in ``awakeable_completions``); resolves this mock's own awakeable."""
        (serde or serde_for(type(value))).encode(value)
        self._op("resolve_awakeable", {"awakeable_id": awakeable_id, "value": value})
        self.awakeable_completions.append(CompletionRecord(awakeable_id, None, value))
        own = self._awakeable_slots.get(awakeable_id)
        if own is not None and not own.done:
            own.resolve(value)

    def reject_awakeable(self, awakeable_id: str, reason: str, code: int = 500) -> None:
        """Record the rejection (in ``awakeable_completions``); fails this mock's own awakeable."""
        self._op("reject_awakeable", {"awakeable_id": awakeable_id, "reason": reason, "code": code})
        failure = TerminalError(reason, status_code=code)
        self.awakeable_completions.append(CompletionRecord(awakeable_id, None, None, failure))
        own = self._awakeable_slots.get(awakeable_id)
        if own is not None and not own.done:
            own.settle(failure)

    def signal(self, name: str, type_hint: Any = None, serde: Serde[Any] | None = None) -> RestateFuture[Any]:
        """This invocation's named signal; pending until stubbed, sent to itself, or completed by the test."""
        expectation = self._op("signal", {"name": name})
        if name not in self._signal_slots:
            decoder = _decoder(type_hint, serde)
            self._signal_slots[name] = self._new_slot(
                f"signal {name!r}", lambda v: _roundtrip(v, None, decoder)
            )
            if name in self._early_signals:
                self._deliver(self._signal_slots[name][1], self._early_signals.pop(name))
        handle, slot = self._signal_slots[name]
        self.signals.append(SignalRecord(name, _slot=slot))
        stub = expectation if isinstance(expectation, SignalExpectation) else None
        if stub is not None and not slot.done:
            self._settle(slot, stub.outcome)
        return self._future(handle)

    @staticmethod
    def _deliver(slot: Slot, value: Any) -> None:
        """Complete with a value, or with a TerminalError that stands for a rejection."""
        if isinstance(value, TerminalError):
            slot.settle(value)
        else:
            slot.resolve(value)

    def _signal_self(self, invocation_id: str, name: str, value: Any) -> None:
        if invocation_id != self._invocation_id:
            return
        if name not in self._signal_slots:
            self._early_signals.setdefault(name, value)
        elif not (slot := self._signal_slots[name][1]).done:
            self._deliver(slot, value)

    def resolve_signal(
        self, invocation_id: str, name: str, value: Any, serde: Serde[Any] | None = None
    ) -> None:
        """Record the signal (in ``signal_completions``); delivers it when sent to this invocation."""
        (serde or serde_for(type(value))).encode(value)
        self._op("resolve_signal", {"invocation_id": invocation_id, "name": name, "value": value})
        self.signal_completions.append(CompletionRecord(invocation_id, name, value))
        self._signal_self(invocation_id, name, value)

    def reject_signal(self, invocation_id: str, name: str, reason: str, code: int = 500) -> None:
        """Record the failed signal (in ``signal_completions``); delivers it when sent to this invocation."""
        fields = {"invocation_id": invocation_id, "name": name, "reason": reason, "code": code}
        self._op("reject_signal", fields)
        failure = TerminalError(reason, status_code=code)
        self.signal_completions.append(CompletionRecord(invocation_id, name, None, failure))
        self._signal_self(invocation_id, name, failure)

    def cancel_invocation(self, invocation_id: str) -> None:
        """Record the cancellation (in ``cancelled_invocations``)."""
        self._op("cancel", {"invocation_id": invocation_id})
        self.cancelled_invocations.append(invocation_id)

    def attach_invocation(
        self, invocation_id: str, type_hint: Any = None, serde: Serde[Any] | None = None
    ) -> RestateFuture[Any]:
        """Record the attach (in ``attached_invocations``); its result comes from ``expect_attach(...).returns``."""
        expectation = self._op("attach", {"invocation_id": invocation_id})
        self.attached_invocations.append(invocation_id)
        decoder = _decoder(type_hint, serde)
        what = f"attach {invocation_id!r}"
        handle, slot = self._new_slot(what, lambda v: _roundtrip(v, None, decoder))
        stub = expectation if isinstance(expectation, AttachExpectation) else None
        outcome = stub.outcome if stub is not None else None
        if outcome is None:
            missing = f"{what} has no result, and the handler awaits it: use {hint('attach')}.returns(value)"
            outcome = ("raises", MissingStubError(missing))
        self._settle(slot, outcome)
        return self._future(handle)

    def promise(self, name: str, type_hint: Any = None, serde: Serde[Any] | None = None) -> MockPromise:
        """The workflow's durable promise ``name``, kept in ``promises``."""
        info = self._info()
        if info is not None and info.service_kind != "workflow":
            raise SdkUsageError("durable promises are only available in workflows")
        return MockPromise(self, name, serde or (serde_for(type_hint) if type_hint is not None else None))

    def _complete_promise(self, name: str, value: Any) -> None:
        if name in self.promises:
            raise TerminalError(f"promise {name!r} is already completed", status_code=409)
        self.promises[name] = value
        for slot in self._promise_waiters.pop(name, []):
            if not slot.done:
                self._deliver(slot, value)


class MockPromise:
    """A workflow's durable promise in a MockContext; its value lives in ``ctx.promises``."""

    def __init__(self, ctx: MockContext, name: str, serde: Serde[Any] | None) -> None:
        self._ctx = ctx
        self._name = name
        self._explicit = serde
        self._serde: Serde[Any] = serde or _ANY_JSON

    def value(self) -> RestateFuture[Any]:
        """Completes once the promise is resolved (now, if it already is)."""
        ctx = self._ctx
        ctx.journal.append(f"promise {self._name!r} value")
        handle, slot = ctx._new_slot(f"promise {self._name!r}", lambda v: _roundtrip(v, None, self._serde))
        if self._name in ctx.promises:
            ctx._deliver(slot, ctx.promises[self._name])
        else:
            ctx._promise_waiters.setdefault(self._name, []).append(slot)
        return ctx._future(handle)

    def peek(self) -> RestateFuture[Any]:
        """The value if resolved, else None."""
        ctx = self._ctx
        ctx.journal.append(f"promise {self._name!r} peek")
        handle, slot = ctx._new_slot(
            f"promise {self._name!r} peek", lambda v: _roundtrip(v, None, self._serde)
        )
        if self._name in ctx.promises:
            ctx._deliver(slot, ctx.promises[self._name])
        else:
            slot.settle(None)
        return ctx._future(handle)

    async def resolve(self, value: Any) -> None:
        """Resolve it; a promise completed before raises ``TerminalError`` (409)."""
        (self._explicit or serde_for(type(value))).encode(value)
        self._ctx.journal.append(f"promise {self._name!r} resolve {value!r}")
        self._ctx._complete_promise(self._name, copy.deepcopy(value))

    async def reject(self, message: str, code: int = 500) -> None:
        """Reject it; a promise completed before raises ``TerminalError`` (409)."""
        self._ctx.journal.append(f"promise {self._name!r} reject {message!r}")
        self._ctx._complete_promise(self._name, TerminalError(message, status_code=code))


def _target_name(target: Callable[..., Any] | str) -> str:
    if isinstance(target, str):
        if "/" not in target:
            raise ValueError(f"name a call target as 'Service/handler', not {target!r}")
        return target
    info = handler_info(target)
    return f"{info.service_name}/{info.name}"


class _MockBridge:
    """Stands in for the SDK's thread-to-loop bridge: a mock's operations complete in place."""

    def __init__(self, mock: MockContext) -> None:
        self._mock = mock

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._mock._blocking_calls():
            result = fn(*args, **kwargs)
            if isinstance(result, RestateFuture) or inspect.isawaitable(result):
                steps = cast("Awaitable[Any]", result).__await__()
                try:
                    next(steps)
                except StopIteration as stop:
                    return stop.value
                steps.close()
                raise HandlerBlockedError("the handler waits for something that nothing completes")
            return result

    def close(self) -> None:
        pass


class _MockSyncContext(BlockingContext):
    """The SDK's blocking context for ``def`` handlers, over a MockContext instead of an engine."""

    def __init__(self, mock: MockContext) -> None:  # no super().__init__(): there is no event loop to bind
        self._ctx = cast("InvocationContext", mock)  # SyncContext only forwards Context methods
        self._bridge = cast("_Bridge", _MockBridge(mock))


if TYPE_CHECKING:  # MockContext is every kind of Context (pyright checks this)
    _KINDS: tuple[type[WorkflowContext], type[ObjectContext], type[WorkflowSharedContext]] = (
        MockContext,
        MockContext,
        MockContext,
    )
