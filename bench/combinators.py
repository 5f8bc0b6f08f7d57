"""Combinator cost: gather, as_completed and wait_first over N completed futures, against N awaits.

In-process, through the real attempt runtime (``Attempt`` and its ``InvocationContext``) with the
engine fed a replayed journal: StartMessage, Input, N SleepCommands, then the N sleeps' completions
in a shuffled order (what restate-server sends when it resumes an invocation whose timers all fired).
The handler re-issues the N sleeps, then waits for them one of four ways:

- ``sequential``: ``for f in futures: await f``
- ``gather``: ``await restate.gather(*futures)``
- ``as_completed``: ``async for f in restate.as_completed(*futures): await f``
- ``wait_first``: ``await restate.wait_first(*futures)`` (one call over all N)

Every result is already in the journal, so the handler never really blocks: the coroutine is driven
to its end with one ``send``. Target: each combinator's attempt costs at most 3x the ``sequential``
one (``ratio``). ``setup`` is the same handler that only creates the futures (and replays the
journal); ``net`` takes it out of both sides, the waiting alone, a stricter and noisier figure.
Usage::

    uv run python bench/combinators.py [--quick] [--n 10000]
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import restate_sdk as restate
from restate_sdk._endpoint.attempt import Attempt
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import InvocationEngine
from restate_sdk._engine.framing import encode_header

CHUNK = 16 * 1024


def _frame(msg: Any, type_id: int | None = None) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(int(type_id if type_id is not None else msg.TYPE), len(payload)) + payload


def build_journal(n: int) -> bytes:
    """Start + Input + n SleepCommands + their n completions, in a shuffled (but fixed) order."""
    order = list(range(1, n + 1))
    random.Random(7).shuffle(order)
    parts = [
        _frame(
            m.StartMessage(id=bytes(range(24)), debug_id="inv_1benchcombinators", known_entries=1 + 2 * n)
        ),
        _frame(m.InputCommandMessage(value=b"0")),
    ]
    parts += [_frame(m.SleepCommandMessage(wake_up_time=1, result_completion_id=i)) for i in range(1, n + 1)]
    parts += [
        _frame(m.NotificationMessage(completion_id=i, void=True), m.MessageType.SLEEP_COMPLETION)
        for i in order
    ]
    return b"".join(parts)


Futures = list[restate.RestateFuture[Any]]


async def _setup(futures: Futures) -> None:
    return None


async def _sequential(futures: Futures) -> None:
    for f in futures:
        await f


async def _gather(futures: Futures) -> None:
    await restate.gather(*futures)


async def _as_completed(futures: Futures) -> None:
    async for f in restate.as_completed(*futures):
        await f


async def _wait_first(futures: Futures) -> None:
    await restate.wait_first(*futures)


VARIANTS: dict[str, Callable[[Futures], Coroutine[Any, Any, None]]] = {
    "setup": _setup,
    "sequential": _sequential,
    "gather": _gather,
    "as_completed": _as_completed,
    "wait_first": _wait_first,
}


def _info() -> restate.HandlerInfo:
    svc = restate.Service("CombinatorBench")

    @svc.handler()
    async def wait(ctx: restate.Context, n: int) -> None:
        return None

    return restate.handler_info(wait)


_INFO = _info()


async def _noread() -> None:
    return None


async def _nowrite(data: bytes, end: bool) -> None:
    return None


def run_once(journal: bytes, n: int, variant: Callable[[Futures], Coroutine[Any, Any, None]]) -> None:
    engine = InvocationEngine(6)
    for i in range(0, len(journal), CHUNK):
        engine.receive_data(journal[i : i + CHUNK])
    engine.receive_eof()
    ctx = Attempt(engine, _INFO, _noread, _nowrite, {}).context

    async def handler() -> None:
        futures: Futures = [ctx.sleep(timedelta(0)) for _ in range(n)]
        await variant(futures)

    coro = handler()
    try:  # every result is already in the journal: the coroutine never really waits
        coro.send(None)
    except StopIteration:
        engine.write_output(b"null")
    else:  # pragma: no cover - would mean a wait blocked
        coro.close()
        raise AssertionError("the handler blocked")
    assert engine.closed


def measure(n: int, repeats: int) -> dict[str, float]:
    journal = build_journal(n)
    best = dict.fromkeys(VARIANTS, float("inf"))
    for fn in VARIANTS.values():
        run_once(journal, n, fn)  # warm up (and check)
    for _ in range(repeats):  # interleaved, so background load falls on every variant alike
        for name, fn in VARIANTS.items():
            gc.collect()
            t0 = time.process_time()
            run_once(journal, n, fn)
            best[name] = min(best[name], time.process_time() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    best = measure(args.n, 3 if args.quick else 7)
    setup, sequential = best["setup"], best["sequential"]
    print(f"N={args.n} completed futures, CPU seconds (best of runs); ratios against sequential")
    print(f"{'variant':<14}{'total s':>10}{'ratio':>8}{'net ratio':>11}")
    ok = True
    for name, t in best.items():
        ratio = t / sequential
        net = (t - setup) / (sequential - setup) if name != "setup" else float("nan")
        if name in ("gather", "as_completed", "wait_first"):
            ok = ok and ratio <= 3.0
        print(f"{name:<14}{t:>10.4f}{ratio:>8.2f}{net:>11.2f}")
    print("target (ratio <= 3x): " + ("met" if ok else "NOT met"))


if __name__ == "__main__":
    main()
