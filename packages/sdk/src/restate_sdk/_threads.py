"""The worker threads: plain ``def`` handlers and plain ``ctx.run`` functions run here, off the loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["call_blocking_aware", "executor", "run_executor"]

# Sync handlers block a thread while they wait on durable results, so allow many. Run functions get
# a pool of their own: a handler thread waiting on its run must never wait for that run's thread.
executor = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="restate-handler")
run_executor = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="restate-run")


async def call_blocking_aware(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Call a ``ctx.run`` function: coroutines on the loop, plain functions on a worker thread.

    A plain function may block (I/O, ``time.sleep``), and on the loop it would stall every other
    invocation the endpoint serves; contextvars (a tracing span, say) follow it to the thread.
    """
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    context = contextvars.copy_context()
    value = await asyncio.get_running_loop().run_in_executor(run_executor, lambda: context.run(fn, *args))
    if inspect.isawaitable(value):
        value = await value
    return value
