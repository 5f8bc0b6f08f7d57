"""Plain ``ctx.run`` functions on the run workers: off the loop, concurrent, with their context."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest
from restate_sdk._threads import call_blocking_aware

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
