"""One invocation attempt: the engine, the handler task, its waits, its runs, its input and output.

``Attempt`` owns everything an attempt has: the engine, flushing its output, the input pump, the
handler task, the ``ctx.run`` closures, draining and the errors that end it. The handler's context
(``InvocationContext``) and its futures reach it only through the ``Runtime``/``Waiting`` protocols.
Every await goes through ``wait``, which asks the engine what to do next (``next_step``) and
does it: resume the handler, read input, wait for a run, suspend, or raise the cancellation.

The HTTP side (``invoke.py``) gives it two functions: ``read`` (the next request body chunk) and
``write`` (response body bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import sys
import time as _time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import timedelta
from inspect import CO_COROUTINE
from types import FunctionType
from typing import Any, Literal, TypeVar

from .._codecs import decode_input
from .._context_impl import (
    AttemptEnded,
    InvocationContext,
    RunClosure,
    Suspended,
    from_failure,
    running_run,
    to_failure,
)
from .._definitions import HandlerInfo
from .._engine import messages as m
from .._engine.awaiting import Awaited, AwaitNode, Combinator, Watch
from .._engine.engine import InvocationEngine, Step
from .._engine.errors import JournalMismatch, ProtocolError
from .._engine.handles import Handle
from .._errors import TerminalError
from .._failures import Pause, Retry, Terminal, Verdict, classify, encode_checked
from .._futures import RestateFuture
from .._logging import current_invocation, log_attempt_failure
from .._middleware import AttemptInfo, AttemptOutcome, Middleware, open_attempt
from .._sync_context import BlockingContext
from .._threads import executor, submit_blocking
from .._unawaited import AwaitScope
from .deadlines import LoopDeadlines

__all__ = ["Attempt", "JournalMismatchOption", "Read", "Write"]

log = logging.getLogger("restate_sdk")
T = TypeVar("T")

Read = Callable[[], Awaitable[tuple[bytes, bool] | None]]
"""The next request body chunk and whether it is the last; None once the client went away."""
Write = Callable[[bytes, bool], Awaitable[None]]
"""Send response body bytes; True ends the response."""
Listen = Callable[[Callable[[tuple[bytes, bool] | None], None]], Callable[[], None]]
"""Have every further chunk (as ``Read`` gives them) handed to a function, from the loop, as it
arrives; returns the function that stops it. Where the server offers it (the builtin server), the
attempt reads its input so instead of with a reader Task."""

_DRAIN_TIMEOUT = 5.0
# How long the RunCommand of a run still executing may wait for the flush of the run's result
# (at least; the check runs every half of it, so a command goes out within 1.5 times this).
_RUN_COMMAND_HOLD = 0.05


class Attempt:
    """One invocation attempt, from the replayed journal to the end of the response."""

    def __init__(
        self,
        engine: InvocationEngine,
        info: HandlerInfo,
        read: Read,
        write: Write,
        attempt_headers: Mapping[str, str],
        middleware: Sequence[Middleware] = (),
        on_journal_mismatch: JournalMismatchOption = "retry",
        sender: Callable[[], Callable[[bytes], object] | None] | None = None,
        listen: Listen | None = None,
    ) -> None:
        self._engine = engine
        self._listen = listen
        self._unlisten: Callable[[], None] | None = None
        # where the server takes bytes at once (granian RSGI), the function that sends them so
        self._sender = sender
        self._on_journal_mismatch: JournalMismatchOption = on_journal_mismatch
        self._info = info
        self._read = read
        self._write = write
        self._middleware = middleware
        self._loop = asyncio.get_running_loop()
        self._lock = asyncio.Lock()
        # Unsent output that is only the RunCommands of runs still executing is held back: each
        # run's own flush carries it with the result, one DATA frame per step instead of two.
        self._flushed_at: int = 0  # engine.messages_written when the buffer was last taken
        self._held_runs: int = 0  # RunCommands written since then
        self._holding = False  # registered with _HELD (RunCommands held back)
        self._starting = False  # in start_run: a run Task taking its first step there (Python 3.12+)
        self._progress = _Progress(self._loop)
        self._pump: asyncio.Task[None] | None = None
        self._handler: asyncio.Task[None] | None = None
        self._runs: set[asyncio.Task[None] | _ThreadedRun] = set()  # runs executing, and flush tasks
        self._child_calls: list[tuple[Handle, Handle]] = []  # (invocation id, result) of each call
        self._draining = False
        self.protocol_error: ProtocolError | None = None
        """A protocol error that ends the attempt, even if user code swallowed it."""
        self.error: BaseException | None = None
        """The exception that ended the attempt (the handler's, or a run's the server retries)."""
        self._ended = False
        self.await_scope = AwaitScope()
        """The durable futures of this attempt, for ``UnawaitedFutureWarning``."""
        self.context = InvocationContext(self, info, attempt_headers, middleware)

    @property
    def engine(self) -> InvocationEngine:
        return self._engine

    @property
    def ended(self) -> bool:
        """The handler returned (or the attempt is over): its context refuses every further use."""
        return self._ended or (self._handler is not None and self._handler.done())

    # ---- the waiting protocol (futures and combinators) ------------------------------------------

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

    def timer(self, delta: timedelta) -> RestateFuture[None]:
        """A durable timer (``with_timeout``'s side of the race)."""
        return self.context.sleep(delta)

    async def wait(self, awaited: Awaited | Watch) -> None:
        """Block until ``awaited`` is resolved; suspend, or raise the cancellation, when the engine says so."""
        self.context.check_use()
        engine = self._engine
        if isinstance(awaited, AwaitNode):
            awaited = engine.watch(awaited)
        hinted = False
        while True:
            try:
                step = engine.next_step(awaited, draining=self._draining)
            except ProtocolError as e:
                self.protocol_error = e
                raise
            if step is Step.READY:
                return
            if step is Step.CANCELLED:
                await self._cancel_children()
                raise TerminalError("cancelled", status_code=409)
            if step is Step.CLOSED:
                raise AttemptEnded()
            if step is Step.SUSPENDED:
                await self.flush()
                raise Suspended()
            if step is Step.READ and not hinted and not self._runs:
                # V7: the handler blocks with input open and no run closure executing: tell the
                # server once per wait what it waits for (protocol-v7.md §6; a no-op below V7)
                hinted = engine.awaiting_on(awaited)
            # READ or WAIT_RUN. Whatever changes the answer (input, a run's end, draining) sets
            # _progress, also while the flush below awaits: then the wait returns at once.
            self._progress.clear()
            if self._held_runs and engine.messages_written - self._flushed_at == self._held_runs:
                self._hold_run_commands()
            else:
                await self.flush()
            self._start_input()
            await self._progress.wait()

    async def completions(self, items: Sequence[tuple[Handle, T]]) -> AsyncIterator[T]:
        engine = self._engine
        by_handle: dict[Handle, list[T]] = {}
        for handle, item in items:
            by_handle.setdefault(handle, []).append(item)
        watch = engine.watch(AwaitNode(Combinator.FIRST_COMPLETED, tuple(h for h, _ in items)), each=True)
        for _ in items:
            if not engine.advance(watch):  # the usual case once results are in: no wait at all
                await self.wait(watch)
            yield by_handle[watch.take()].pop(0)

    async def _cancel_children(self) -> None:
        """Cancel every call still running; a call's invocation id may have to be awaited first."""
        engine = self._engine
        for id_handle, result_handle in self._child_calls:
            if engine.is_ready(result_handle):
                continue
            if not engine.is_ready(id_handle):
                await self.wait(id_handle)  # the engine no longer answers CANCELLED
            engine.cancel_invocation(self.take_result(id_handle))

    # ---- the rest of the runtime the context uses ------------------------------------------------

    def broken(self, error: ProtocolError) -> None:
        self.protocol_error = error

    def call_started(self, id_handle: Handle, result_handle: Handle) -> None:
        self._child_calls.append((id_handle, result_handle))

    def start_run(self, run: RunClosure) -> None:
        self._held_runs += 1  # its RunCommand was just written
        started = _time.monotonic()
        context = contextvars.copy_context()  # the run's own, as a Task would have: nothing leaks out
        context.run(running_run.set, self.context)  # ... and the context refuses use inside the run
        if not _is_async(run.fn):
            # A plain function may block: it runs on a worker thread, whose answer comes back as a
            # callback on the loop (no Task, unless it failed or returned an awaitable).
            job = _ThreadedRun(self, run, started, context)
            self._runs.add(job)
            submit_blocking(self._loop, job.deliver, context, run.fn, run.args)
            return
        # An ``async def`` function runs in a Task of its own (which asyncio.timeout, TaskGroup and
        # anyio's cancel scopes bind to). On Python 3.12+ the Task takes its first step at once, and
        # most step functions finish there: proposed with no loop iteration, and no flush of their
        # own (the handler's next wait, or its end, sends it).
        self._starting = True
        try:
            task = _run_task(self._loop, self._execute_run(run, started), context)
        finally:
            self._starting = False
        if not task.done():
            self._runs.add(task)

    def threaded_run_done(self, job: _ThreadedRun, value: Any, error: BaseException | None) -> None:
        """A plain run function returned (or raised) on its worker thread; this is on the loop."""
        self._runs.discard(job)
        if job.cancelled:
            return
        if error is not None:
            rest: Awaitable[Any] = _raised(error)
        elif inspect.isawaitable(value):  # e.g. a lambda that returns a coroutine: awaited on the loop
            rest = value
        elif self._propose_now(job.run, value):
            return
        else:
            rest = _returned(value)
        self._continue_run(job.run, job.started, job.context, rest)

    def _continue_run(
        self, run: RunClosure, started: float, context: contextvars.Context, rest: Awaitable[Any]
    ) -> None:
        self._runs.add(self._loop.create_task(self._execute_run(run, started, rest), context=context))

    def _propose_now(self, run: RunClosure, value: Any) -> bool:
        """Propose a plain run's result from the loop callback; False if it cannot go as is.

        It goes out at once where the server allows (granian RSGI), else with the next flush: that
        of a waiting handler (woken here), or that of a Task started for it (the handler is busy
        with something else).
        """
        try:
            self._engine.propose_run_completion(run.handle, run.serde.encode(value))
        except Exception:
            return False
        if self._flush_now():
            if self._run_end_matters():
                self._progress.set()
        elif self._progress.waiting:
            self._progress.set()
        elif not self._ended:
            self._runs.add(self._loop.create_task(self._flush_soon()))
        return True

    def _run_end_matters(self) -> bool:
        # Whether a waiting handler may have to act on a run's end: suspend (no input is coming), or
        # send the V7 AwaitingOn hint (it blocks with no run executing). Otherwise the result counts
        # once the server's answer comes in, and the input wakes it then.
        engine = self._engine
        return engine.input_closed or self._draining or engine.version >= 7

    async def _execute_run(self, run: RunClosure, started: float, rest: Awaitable[Any] | None = None) -> None:
        # runs in the run's own context (start_run): running_run is set there
        handle, index, name, policy = run.handle, run.index, run.name, run.policy
        engine = self._engine
        try:
            try:
                value = await (run.fn(*run.args) if rest is None else rest)
                result: bytes | m.Failure | None = encode_checked(
                    run.serde,
                    value,
                    f"the result of ctx.run {name!r}",
                    "return a value of a type the codec supports, or pass type_hint= or serde= to ctx.run",
                )
                # A result over the message size limit raises here (nothing is written) and fails
                # the run like any other error: retried, or given up on, by the run's policy.
                engine.propose_run_completion(handle, result)
                result = None
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # SystemExit too: it must not take the endpoint down
                verdict = self._classify(e)
                if isinstance(verdict, Retry):
                    retries, spent_ms = engine.run_retry_info(index)
                    spent_ms += int((_time.monotonic() - started) * 1000)
                    if policy.exhausted(retries + 1, spent_ms):
                        log.warning("run %r failed after %d attempts, giving up: %s", name, retries + 1, e)
                        verdict = Terminal(
                            TerminalError(
                                f"run {name!r} failed after {retries + 1} attempts: {verdict.message}",
                                verdict.code,
                            )
                        )
                    elif verdict.retry_after is None and (delay := policy.delay_ms(retries)) is not None:
                        verdict = Retry(
                            verdict.code, verdict.message, verdict.stacktrace, timedelta(milliseconds=delay)
                        )
                if isinstance(verdict, Terminal):
                    result = to_failure(verdict.error)
                else:
                    self.error = e
                    self._end_attempt(
                        verdict,
                        e,
                        command_index=index,
                        command_type=int(m.MessageType.RUN_COMMAND),
                        command_name=name or None,
                    )
                    await self.flush()
                    self._stop_handler()
                    return
            if result is not None:
                try:
                    engine.propose_run_completion(handle, result)
                except ProtocolError as e:  # a failure too big to send: this attempt cannot go on
                    self.protocol_error = e
                    self._stop_handler()
                    return
            if not self._starting:  # else still inside ctx.run: the handler's next wait sends it
                await self.flush()
        finally:
            self._runs.discard(asyncio.current_task())  # type: ignore[arg-type]
            if self._run_end_matters():  # else no wake-up: one task switch per step less
                self._progress.set()

    # ---- input and output ------------------------------------------------------------------------

    async def flush(self) -> None:
        """Send what the engine wrote so far."""
        if self._engine.messages_written == self._flushed_at and not self._lock.locked():
            return  # all of it is out already (the usual case for a wait right after a run's flush)
        if self._flush_now():
            return
        async with self._lock:
            data = self._take_output()
            if data:
                await self._write(data, False)

    def _take_output(self) -> bytes:
        """What the engine wrote since the last flush; nothing is held back any more."""
        engine = self._engine
        self._flushed_at, self._held_runs = engine.messages_written, 0
        self._release_held()
        return engine.data_to_send()

    def _flush_now(self) -> bool:
        """Send what the engine wrote without awaiting, where the server takes bytes at once.

        False if it cannot (another server, the response not streaming yet, a write in progress):
        then nothing was taken, and the caller flushes the usual way.
        """
        if self._sender is None or self._lock.locked():
            return False
        send = self._sender()
        if send is None:
            return False
        if self._engine.messages_written != self._flushed_at:
            send(self._take_output())
        return True

    def _hold_run_commands(self) -> None:
        # A run that takes long (a blocking call, a retry's backoff in user code) still shows up in
        # the journal soon: one check per event loop sends what was held for _RUN_COMMAND_HOLD (a
        # timer per attempt and step cost ~3 µs of a ~40 µs step).
        if not self._holding:
            self._holding = True
            _HELD.add(self._loop, self, self._loop.time() + _RUN_COMMAND_HOLD)

    def _release_held(self) -> None:
        # Also at the attempt's end: a held attempt left registered stays alive until the check.
        if self._holding:
            self._holding = False
            _HELD.discard(self._loop, self)

    def flush_held(self) -> None:
        """The check found this attempt's RunCommands held too long: send them (that releases it)."""
        handler = self._handler
        unsent = self._engine.messages_written != self._flushed_at
        if unsent and handler is not None and not handler.done() and not self._flush_now():
            self._runs.add(self._loop.create_task(self._flush_soon()))

    async def _flush_soon(self) -> None:
        try:
            await self.flush()
        finally:
            self._runs.discard(asyncio.current_task())  # type: ignore[arg-type]

    def _start_input(self) -> None:
        # Notifications are read only once the handler waits for one: a handler that never blocks
        # costs no reader task.
        if self._pump is None and self._unlisten is None and not self._engine.input_closed:
            if self._listen is not None:
                self._unlisten = self._listen(self._on_input)
            else:
                self._pump = self._loop.create_task(self._pump_input())

    def _on_input(self, chunk: tuple[bytes, bool] | None) -> None:
        """One chunk of the request body (as ``Read`` gives it) into the engine: from the pump, or
        handed over by the server as it arrived (``Listen``)."""
        engine = self._engine
        if engine.input_closed:
            return
        try:
            if chunk is None:
                engine.close_input()
            else:
                engine.receive_data(chunk[0])
                if chunk[1]:
                    engine.receive_eof()
        except ProtocolError as e:
            self.protocol_error = e
            engine.close_input()
            self._stop_handler()
        self._progress.set()

    def _stop_input(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
        if self._unlisten is not None:
            self._unlisten()

    async def _pump_input(self) -> None:
        """Feed the rest of the request body (notifications, in BIDI mode) to the engine."""
        while not self._engine.input_closed:
            self._on_input(await self._read())

    def drain(self) -> None:
        """The endpoint is shutting down: suspend at the next wait instead of waiting for input."""
        self._draining = True
        self._progress.set()

    def _stop_handler(self) -> None:
        if self._handler is not None:
            self._handler.cancel()

    # ---- the attempt's life ----------------------------------------------------------------------

    async def run(self) -> None:
        """Run the handler to the attempt's end: the engine is closed afterwards."""
        engine = self._engine
        task = self._loop.create_task(
            self._run_with_middleware() if self._middleware else self._run_handler()
        )
        self._handler = task
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not task.cancelled() or (current is not None and current.cancelling()):
                # This attempt itself is being cancelled (the server dropped the connection, or is
                # stopping): nothing more can go out, and a send could wait forever for a dead writer.
                self._stop_input()
                raise
            # cancelled on purpose: a run ended the attempt, or the input stream broke
            if self.protocol_error is not None and not engine.closed:
                self._fail_protocol(self.protocol_error)
        finally:
            self.await_scope.close()
            self._ended = True
            self._release_held()
            for run in list(self._runs):
                run.cancel()
        if not engine.closed:
            engine.fail(571, "the handler stopped without producing a result")

    async def finish(self, ends_early: bool) -> None:
        """Send the last bytes and end the response (see ``invoke._ends_early``)."""
        engine = self._engine
        pump = self._pump
        if ends_early:
            # The last bytes go out with the end of the response, without waiting for restate-server to
            # close its side first: it answers the ingress request once our response has ended, so that
            # wait is on every invocation's latency (noop, one in flight: 4.9 -> 4.3 ms).
            self._stop_input()
            async with self._lock:
                await self._write(engine.data_to_send(), True)
            return
        await self.flush()
        if self._unlisten is not None:
            self._unlisten()  # the rest is read below
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
                        chunk = await self._read()
                        if chunk is None or chunk[1]:
                            break
        async with self._lock:
            await self._write(engine.data_to_send(), True)

    async def _run_handler(self) -> None:
        info, engine, ctx = self._info, self._engine, self.context
        current_invocation.set(ctx)  # this task's context: seen by its runs, threads and log filters
        try:
            assert engine.input is not None
            args: tuple[Any, ...] = ()
            if info.has_input:
                args = (decode_input(info.input_serde, engine.input.value or b"", "input"),)
            if info.is_async:
                result = await info.fn(ctx, *args)
            else:
                result = await self._run_sync(args)
            self.await_scope.check()  # a forgotten await that a warnings filter made an error
            if self.protocol_error is not None:
                raise self.protocol_error  # user code swallowed it; the attempt is still broken
            engine.write_output(
                encode_checked(
                    info.output_serde,
                    result,
                    f"the output of {info.service_name}.{info.name}",
                    "return a value of the handler's declared return type, or set output_serde= on the handler",
                )
            )
        except (Suspended, AttemptEnded):
            self.await_scope.close()
        except ProtocolError as e:
            self.await_scope.close()
            self.error = e
            self._fail_protocol(e)
        except asyncio.CancelledError:
            self.await_scope.close()
            raise
        except BaseException as e:  # SystemExit, KeyboardInterrupt too: the endpoint goes on
            self.await_scope.close()  # the futures the handler never reached are not forgotten awaits
            self.error = e
            if self.protocol_error is not None:
                self._fail_protocol(self.protocol_error)
            elif not engine.closed:
                self._end_attempt(self._classify(e), e)

    def _classify(self, e: BaseException) -> Verdict:
        info = self._info
        return classify(
            e, handler=f"{info.service_name}.{info.name}", as_terminal_error=info.as_terminal_error
        )

    def _end_attempt(
        self,
        verdict: Verdict,
        e: BaseException,
        *,
        command_index: int | None = None,
        command_type: int | None = None,
        command_name: str | None = None,
    ) -> None:
        """End the attempt as ``verdict`` says: the invocation's failure, a retry, or a pause."""
        engine, info = self._engine, self._info
        if engine.closed:  # another run ended this attempt first
            return
        if isinstance(verdict, Pause) and engine.version < 7:
            verdict = verdict.fallback()
        start = engine.start
        log_attempt_failure(
            verdict,
            invocation_id=engine.invocation_id,
            handler=f"{info.service_name}.{info.name}"
            + (f", ctx.run {command_name!r}" if command_name else ""),
            attempt=(start.retry_count_since_last_stored_entry if start is not None else 0) + 1,
            exc=e,
        )
        if isinstance(verdict, Terminal):
            engine.write_output(to_failure(verdict.error))
            return
        engine.fail(
            verdict.code,
            verdict.message,
            stacktrace=verdict.stacktrace,
            command_index=command_index,
            command_type=command_type,
            command_name=command_name,
            next_retry_delay_ms=verdict.next_retry_delay_ms if isinstance(verdict, Retry) else None,
            behavior=m.ErrorBehavior.PAUSE if isinstance(verdict, Pause) else m.ErrorBehavior.RETRY,
        )

    async def _run_sync(self, args: tuple[Any, ...]) -> Any:
        """A plain ``def`` handler runs on a worker thread with the blocking context."""
        loop = asyncio.get_running_loop()
        sync_ctx = BlockingContext(self.context, loop)
        context = contextvars.copy_context()
        fn = self._info.fn
        try:
            return await loop.run_in_executor(executor, lambda: context.run(fn, sync_ctx, *args))
        finally:
            sync_ctx.close()

    async def _run_with_middleware(self) -> None:
        """``_run_handler`` inside the middleware's attempt contexts, entered in the handler's own task."""
        engine, info = self._engine, self._info
        assert engine.start is not None and engine.input is not None
        attempt = AttemptInfo(
            service=info.service_name,
            handler=info.name,
            service_kind=info.service_kind,
            invocation_id=engine.invocation_id,
            key=engine.key,
            retry_count=engine.start.retry_count_since_last_stored_entry,
            journal_length=engine.known_commands,
            attempt_headers=self.context._attempt_headers,
            request_headers={h.key: h.value for h in engine.input.headers},
        )
        stack = open_attempt(self._middleware, attempt)
        try:
            await self._run_handler()
        finally:
            # An attempt the engine has not closed yet is failed by run(): the server retries it.
            attempt.outcome = _OUTCOMES.get(engine.outcome, "retry")
            attempt.error = self.protocol_error or self.error
            stack.close()

    def _fail_protocol(self, e: ProtocolError) -> None:
        engine = self._engine
        if engine.closed:
            return
        log.error("invocation %s: %s", engine.invocation_id, e.message)
        behavior = m.ErrorBehavior.RETRY
        if isinstance(e, JournalMismatch):
            # the app's on_journal_mismatch; the engine sends it on V7 only (V5/V6: the server retries)
            behavior = _MISMATCH_BEHAVIOR[self._on_journal_mismatch]
        engine.fail(
            e.code,
            e.message,
            command_index=e.command_index,
            command_type=e.command_type,
            command_name=e.command_name,
            behavior=behavior,
        )


# Attempts holding RunCommands back: one check per loop sends what was held _RUN_COMMAND_HOLD.
_HELD = LoopDeadlines["Attempt"](_RUN_COMMAND_HOLD / 2, lambda attempt: attempt.flush_held())


class _Progress:
    """Wakes the attempt's waits when something that may change their answer happened.

    ``asyncio.Event`` with less to do per wait (it runs a few times per step): set, clear, wait.
    """

    __slots__ = ("_loop", "_set", "_waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._set = False
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def waiting(self) -> bool:
        """Some wait is blocked here (and not woken yet)."""
        return bool(self._waiters)

    def set(self) -> None:
        self._set = True
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if not self._set:
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise


class _ThreadedRun:
    """A plain run function on a worker thread: ``deliver`` brings its outcome back to the attempt."""

    __slots__ = ("_attempt", "cancelled", "context", "run", "started")

    def __init__(
        self, attempt: Attempt, run: RunClosure, started: float, context: contextvars.Context
    ) -> None:
        self._attempt = attempt
        self.run = run
        self.started = started
        self.context = context
        self.cancelled = False

    def deliver(self, value: Any, error: BaseException | None) -> None:
        self._attempt.threaded_run_done(self, value, error)

    def cancel(self) -> None:
        """The attempt ended: the function runs on (a thread cannot be stopped), its outcome is dropped."""
        self.cancelled = True


def _is_async(fn: Callable[..., Any]) -> bool:
    # a plain `async def` function from its code flags, per step; anything else as inspect says
    if type(fn) is FunctionType and fn.__code__.co_flags & CO_COROUTINE:
        return True
    return inspect.iscoroutinefunction(fn)


async def _returned(value: Any) -> Any:
    return value


async def _raised(error: BaseException) -> Any:
    raise error


if sys.version_info >= (3, 12):

    def _run_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None], context: contextvars.Context
    ) -> asyncio.Task[None]:
        return asyncio.Task(coro, loop=loop, context=context, eager_start=True)

else:

    def _run_task(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None], context: contextvars.Context
    ) -> asyncio.Task[None]:
        return loop.create_task(coro, context=context)


JournalMismatchOption = Literal["retry", "pause", "fail"]
"""What a journal mismatch (570) does: see ``restate_sdk.app(on_journal_mismatch=)``."""

_MISMATCH_BEHAVIOR: dict[JournalMismatchOption, m.ErrorBehavior] = {
    "retry": m.ErrorBehavior.RETRY,
    "pause": m.ErrorBehavior.PAUSE,
    "fail": m.ErrorBehavior.FAIL,
}

_OUTCOMES: dict[str | None, AttemptOutcome] = {
    "success": "success",
    "failure": "failure",
    "suspended": "suspended",
}
