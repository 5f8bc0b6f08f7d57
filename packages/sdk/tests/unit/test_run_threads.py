"""Plain ``ctx.run`` functions on the run workers: off the loop, concurrent, with their context."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from restate_sdk._threads import _deliver, _RunWorkers, call_blocking_aware

_var: contextvars.ContextVar[str] = contextvars.ContextVar("_var", default="unset")


async def test_a_blocked_run_does_not_hold_up_another() -> None:
    release = threading.Event()

    def blocked() -> str:
        assert release.wait(10), "the second run never ran while the first one blocked"
        return "first"

    def releases() -> str:
        release.set()
        return "second"

    first = asyncio.ensure_future(call_blocking_aware(blocked, ()))
    await asyncio.sleep(0.01)  # the first run is blocked on its worker by now
    assert await call_blocking_aware(releases, ()) == "second"
    assert await first == "first"


async def test_runs_happen_off_the_loop_thread_with_the_callers_context() -> None:
    _var.set("caller")
    loop_thread = threading.get_ident()

    def where(x: int) -> tuple[int, str, int]:
        return threading.get_ident(), _var.get(), x

    seen = await call_blocking_aware(where, (7,))
    assert seen[0] != loop_thread
    assert seen[1:] == ("caller", 7)


async def test_errors_reach_the_awaiting_task() -> None:
    def fails() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await call_blocking_aware(fails, ())


async def test_a_result_for_a_cancelled_wait_is_dropped_quietly() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    release = threading.Event()
    task = asyncio.ensure_future(call_blocking_aware(release.wait, (10,)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    assert await call_blocking_aware(lambda: "next", ()) == "next"  # the workers still serve
    await asyncio.sleep(0.05)
    assert errors == []


def _submit(workers: _RunWorkers, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    workers.submit((loop, functools.partial(_deliver, future), contextvars.copy_context(), fn, args))
    return future


async def test_runs_that_block_together_each_get_a_worker() -> None:
    # Each waits for all the others: they finish only if every one runs at the same time.
    workers = _RunWorkers(64)
    barrier = threading.Barrier(12, timeout=10)
    futures: list[asyncio.Future[Any]] = []
    for i in range(12):
        futures.append(_submit(workers, barrier.wait))
        if i % 4 == 3:
            await asyncio.sleep(0.005)  # some arrive while the first ones already block
    assert sorted(await asyncio.wait_for(asyncio.gather(*futures), 15)) == list(range(12))


async def test_at_the_limit_jobs_wait_for_a_free_worker() -> None:
    workers = _RunWorkers(2)
    release = threading.Event()
    names: list[str] = []

    def blocks() -> None:
        names.append(threading.current_thread().name)
        release.wait(10)

    futures = [_submit(workers, blocks) for _ in range(5)]
    await asyncio.sleep(0.2)
    assert len(names) == 2 and not any(f.done() for f in futures)  # two workers, both blocked
    release.set()
    await asyncio.wait_for(asyncio.gather(*futures), 5)
    assert len(names) == 5 and len(set(names)) == 2
