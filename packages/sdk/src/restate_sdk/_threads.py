"""The worker threads: plain ``def`` handlers and plain ``ctx.run`` functions run here, off the loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["call_blocking_aware", "executor", "run_executor"]

# Sync handlers block a thread while they wait on durable results, so allow many. Run functions get
# threads of their own: a handler thread waiting on its run must never wait for that run's thread.
executor = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="restate-handler")
# Runs beyond the run workers' limit queue here (a burst of blocked runs; rare).
run_executor = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="restate-run")

_MAX_RUN_WORKERS = 64

_Job = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[..., Any], tuple[Any, ...]
]


def _deliver(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the run was cancelled meanwhile (its attempt ended)
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)


class _RunWorker:
    """A long-lived thread for run functions: one job at a time, handed over through its own queue.

    A ``run_in_executor`` hand-off (an executor work item, a concurrent Future chained to an asyncio
    one, the executor's idle-thread semaphore) costs about twice this one: one ``SimpleQueue.put``
    in, one ``call_soon_threadsafe`` out (docs/decisions.md, issue 20). A worker takes one job at a
    time, so a blocked run holds only its own thread; the others keep serving.
    """

    __slots__ = ("jobs",)

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()

    def loop(self) -> None:
        jobs = self.jobs
        while True:
            loop, future, context, fn, args = jobs.get()
            try:
                value, error = context.run(fn, *args), None
            except BaseException as e:  # handed to the awaiting run, which decides (retry, fail)
                value, error = None, e
            # Idle again before the result is out: the run's next step, started as soon as the loop
            # sees this result, finds this thread (warm) on top of the stack instead of a new one.
            _idle.append(self)
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this any more
                loop.call_soon_threadsafe(_deliver, future, value, error)
            del loop, future, context, fn, args, value, error


_idle: list[_RunWorker] = []  # list.append/pop are atomic: no lock between the loop and the workers
_started = 0
_start_lock = threading.Lock()


def _reset_after_fork() -> None:
    # A forked worker process (serve(workers=N)) has none of its parent's threads.
    global _started
    _idle.clear()
    _started = 0


os.register_at_fork(after_in_child=_reset_after_fork)


def _take_worker() -> _RunWorker | None:
    """An idle run worker, or a new one; None at the limit (every worker busy)."""
    global _started
    try:
        return _idle.pop()
    except IndexError:
        pass
    with _start_lock:
        if _started >= _MAX_RUN_WORKERS:
            return None
        _started += 1
    worker = _RunWorker()
    threading.Thread(target=worker.loop, name=f"restate-run-{_started}", daemon=True).start()
    return worker


async def call_blocking_aware(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Call a ``ctx.run`` function: coroutines on the loop, plain functions on a worker thread.

    A plain function may block (I/O, ``time.sleep``), and on the loop it would stall every other
    invocation the endpoint serves; contextvars (a tracing span, say) follow it to the thread.
    """
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    context = contextvars.copy_context()
    loop = asyncio.get_running_loop()
    worker = _take_worker()
    if worker is None:
        value = await loop.run_in_executor(run_executor, lambda: context.run(fn, *args))
    else:
        future: asyncio.Future[Any] = loop.create_future()
        worker.jobs.put((loop, future, context, fn, args))
        value = await future
    if inspect.isawaitable(value):
        value = await value
    return value
