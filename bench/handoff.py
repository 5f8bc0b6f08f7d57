"""CPU per hand-off of a trivial plain function to a worker thread and back, by mechanism.

Usage::

    uv run python bench/handoff.py [--uvloop]

What a ``def`` step function costs on top of an ``async def`` one is mostly this hand-off (see
docs/decisions.md, 2026-12). Compares ``loop.run_in_executor`` on a ``ThreadPoolExecutor`` (with the
context copy the SDK makes) against a long-lived worker fed by a ``SimpleQueue`` that answers with one
``call_soon_threadsafe``, and against calling the function on the loop (the floor; not allowed for
user code that may block). Best of three runs of 5000 sequential hand-offs each.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import queue
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

N = 5000


def step(i: int) -> int:
    return i


async def inline() -> None:
    for i in range(N):
        await asyncio.sleep(0)  # one loop iteration, as a real hand-off costs at least that
        step(i)


async def via_executor(executor: concurrent.futures.ThreadPoolExecutor) -> None:
    loop = asyncio.get_running_loop()
    for i in range(N):
        context = contextvars.copy_context()  # what the SDK hands over: the step in a context copy

        def job(context: contextvars.Context = context, arg: int = i) -> int:
            return context.run(step, arg)

        await loop.run_in_executor(executor, job)


class Worker:
    """One long-lived thread: a job in through a SimpleQueue, the result back by call_soon_threadsafe."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.jobs: queue.SimpleQueue[tuple[asyncio.Future[int], int]] = queue.SimpleQueue()
        self.loop = loop
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            future, arg = self.jobs.get()
            try:
                self.loop.call_soon_threadsafe(future.set_result, step(arg))
            except BaseException as e:
                self.loop.call_soon_threadsafe(future.set_exception, e)


async def via_worker() -> None:
    loop = asyncio.get_running_loop()
    worker = Worker(loop)
    for i in range(N):
        future: asyncio.Future[int] = loop.create_future()
        worker.jobs.put((future, i))
        await future


async def main() -> None:
    executor = concurrent.futures.ThreadPoolExecutor(64)
    cases: list[tuple[str, Callable[[], Coroutine[Any, Any, None]]]] = [
        ("on the loop (floor)", inline),
        ("run_in_executor", lambda: via_executor(executor)),
        ("SimpleQueue worker", via_worker),
    ]
    for name, case in cases:
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            await case()
            best = min(best, (time.process_time() - started) / N * 1e6)
        print(f"{name:22} {best:6.1f} µs CPU per hand-off")


if __name__ == "__main__":
    if "--uvloop" in sys.argv:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
