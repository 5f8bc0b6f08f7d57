"""The WordCount and Worker services."""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from types import TracebackType

import restate_sdk as restate

__all__ = [
    "WORK_SECONDS",
    "app",
    "count",
    "count_here",
    "count_words",
    "in_flight",
    "tally",
    "word_count",
    "worker",
]

WORK_SECONDS = 0.2
"""Pretend work per document, so that overlapping steps show."""


class _Gauge:
    """How many tallies run at once, and the most there ever were (for the demo and the tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        with self._lock:
            self.now -= 1


in_flight = _Gauge()


async def tally(text: str) -> dict[str, int]:
    """The work itself: count the words of one document."""
    with in_flight:
        await asyncio.sleep(WORK_SECONDS)
        return dict(Counter(re.findall(r"[a-z']+", text.lower())))


def merge(partials: list[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for partial in partials:
        total.update(partial)
    return dict(total.most_common())  # most frequent first


worker = restate.Service("Worker")
word_count = restate.Service("WordCount")


@worker.handler()
async def count_words(ctx: restate.Context, text: str) -> dict[str, int]:
    """Count the words of one document."""
    return await ctx.run("tally", tally, text)


@word_count.handler()
async def count(ctx: restate.Context, documents: list[str]) -> dict[str, int]:
    """Word counts over ``documents``, one ``Worker`` invocation per document."""
    calls = [ctx.service_call(count_words, text) for text in documents]  # fan out: all start now
    return merge(await restate.gather(*calls))  # fan in: wait for all, in order


@word_count.handler()
async def count_here(ctx: restate.Context, documents: list[str]) -> dict[str, int]:
    """The same with concurrent ``ctx.run`` steps in this one invocation."""
    steps = [ctx.run(f"tally document {i}", tally, text) for i, text in enumerate(documents)]
    return merge(await restate.gather(*steps))


app = restate.app([word_count, worker])
