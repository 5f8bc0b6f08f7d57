"""The endpoint-wide journal read deadline (``_endpoint.deadlines``): one check per loop, not a timer per attempt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

import pytest
from restate_sdk._endpoint.deadlines import JournalDeadlines
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import InvocationEngine
from restate_sdk._engine.errors import JournalReadTimeout
from restate_sdk._engine.framing import encode_header


def _frame(msg: Any) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


JOURNAL = _frame(m.StartMessage(id=b"id", debug_id="inv_1", known_entries=1)) + _frame(
    m.InputCommandMessage()
)


async def _stalled() -> MutableMapping[str, Any]:
    await asyncio.sleep(10)
    return {"type": "http.request", "body": JOURNAL, "more_body": True}


async def _quick() -> MutableMapping[str, Any]:
    await asyncio.sleep(0.01)
    return {"type": "http.request", "body": JOURNAL, "more_body": True}


def _engine() -> InvocationEngine:
    return InvocationEngine(6)


async def test_only_the_late_read_times_out_and_the_watch_ends_with_the_reads() -> None:
    deadlines = JournalDeadlines(0.2)
    started = time.monotonic()
    quick_engine = _engine()
    late, quick = await asyncio.gather(
        deadlines.read(_engine(), _stalled), deadlines.read(quick_engine, _quick), return_exceptions=True
    )
    assert isinstance(late, JournalReadTimeout)
    assert late.message == "the journal did not arrive within 0.2s (journal_read_timeout= on restate.app)"
    assert quick is True and quick_engine.ready
    assert 0.2 <= time.monotonic() - started < 1.0
    await asyncio.sleep(0.1)  # one more check period: nothing is left to watch
    assert deadlines._checks.loops == {}  # pyright: ignore[reportPrivateUsage]


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadlines = JournalDeadlines(5)
    task = asyncio.create_task(deadlines.read(_engine(), _stalled))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_each_event_loop_gets_its_own_check() -> None:
    """An app outlives a loop (tests, a restarted server): a check left on a closed loop must not
    keep the next loop's reads unwatched."""
    deadlines = JournalDeadlines(0.1)

    async def one() -> BaseException | bool:
        results = await asyncio.gather(deadlines.read(_engine(), _stalled), return_exceptions=True)
        return results[0]

    for _ in range(2):
        assert isinstance(asyncio.run(asyncio.wait_for(one(), 2)), JournalReadTimeout)
    assert len(deadlines._checks.loops) == 1  # pyright: ignore[reportPrivateUsage]  # the closed loops' are dropped
