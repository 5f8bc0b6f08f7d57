"""The worker threads: plain ``def`` handlers and plain ``ctx.run`` functions run here, off the loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import inspect
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["call_blocking_aware", "executor", "submit_blocking"]

# Sync handlers block a thread while they wait on durable results, so allow many. Run functions get
# threads of their own (_RunWorkers): a handler thread waiting on its run must never wait for that
# run's thread.
executor = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="restate-handler")
_MAX_RUN_WORKERS = 64  # beyond that many runs at once (blocked ones, say), the others queue

Deliver = Callable[[Any, "BaseException | None"], None]
"""Called on the loop with what a function run on a worker returned (value, None) or raised (None, error)."""

_Job = tuple[asyncio.AbstractEventLoop, Deliver, contextvars.Context, Callable[..., Any], tuple[Any, ...]]


def _deliver(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the run was cancelled meanwhile (its attempt ended)
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)


class _RunWorkers:
    """Long-lived threads for run functions, fed through one queue, answering on the loop.

    A ``run_in_executor`` hand-off (an executor work item, a concurrent Future chained to an asyncio
    one) costs about twice this one: one ``SimpleQueue.put`` in, one ``call_soon_threadsafe`` out
    (docs/decisions.md, issue 20). Like an executor, a job never waits behind a run that blocks:
    while no worker is free a new one starts (up to ``limit``), and a worker that finishes takes
    the next job without sleeping when several are queued (many invocations in flight).
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._free = 0  # workers waiting for a job, minus jobs queued for them (< 0: a backlog)
        self._started = 0

    def submit(self, job: _Job) -> None:
        with self._lock:
            self._free -= 1
            start = self._free < 0 and self._started < self._limit
            if start:
                self._started += 1
                self._free += 1
        self._jobs.put(job)
        if start:
            threading.Thread(target=self._work, name=f"restate-run-{self._started}", daemon=True).start()

    def _work(self) -> None:
        jobs, lock = self._jobs, self._lock
        while True:
            loop, deliver, context, fn, args = jobs.get()
            try:
                value, error = context.run(fn, *args), None
            except BaseException as e:  # handed to the awaiting run, which decides (retry, fail)
                value, error = None, e
            with lock:  # free again before the result is out: the run's next step may come at once
                self._free += 1
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this any more
                loop.call_soon_threadsafe(deliver, value, error)
            del loop, deliver, context, fn, args, value, error


_workers = _RunWorkers(_MAX_RUN_WORKERS)


def _reset_after_fork() -> None:
    # A forked worker process (serve(workers=N)) has none of its parent's threads.
    global _workers
    _workers = _RunWorkers(_MAX_RUN_WORKERS)


os.register_at_fork(after_in_child=_reset_after_fork)


def submit_blocking(
    loop: asyncio.AbstractEventLoop,
    deliver: Deliver,
    context: contextvars.Context,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
) -> None:
    """Run ``fn(*args)`` in ``context`` on a run worker; ``deliver`` gets the outcome on ``loop``."""
    _workers.submit((loop, deliver, context, fn, args))


async def call_blocking_aware(
    fn: Callable[..., Any], args: tuple[Any, ...], loop: asyncio.AbstractEventLoop | None = None
) -> Any:
    """Call a ``ctx.run`` function: coroutines on the loop, plain functions on a worker thread.

    A plain function may block (I/O, ``time.sleep``), and on the loop it would stall every other
    invocation the endpoint serves; contextvars (a tracing span, say) follow it to the thread.
    """
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    context = contextvars.copy_context()
    if loop is None:
        loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    _workers.submit((loop, functools.partial(_deliver, future), context, fn, args))
    value = await future
    if inspect.isawaitable(value):
        value = await value
    return value
