"""Replay cost: journals of N ``ctx.run`` entries replayed through the engine alone.

For each N we frame a StartMessage, the InputCommand and N RunCommands each followed by its
RunCompletion notification (what restate-server sends when it resumes an invocation), feed the
bytes to ``InvocationEngine`` in 16 KiB chunks (like HTTP/2 DATA frames), then replay the N runs the
way the context does (``engine.run`` -> completed -> ``engine.result``) and write the output.

The figure of merit is time per entry, which must stay flat as the journal grows. A second column
runs the same journal through an ``Attempt``'s ``InvocationContext`` (``await ctx.run(...)``) to
include the context layer. Usage::

    uv run python bench/replay.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from restate_sdk._definitions import HandlerInfo
from restate_sdk._endpoint.attempt import Attempt
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import InvocationEngine
from restate_sdk._engine.framing import encode_header

SIZES = (10, 100, 1000)
CHUNK = 16 * 1024


def _frame(msg: Any, type_id: int | None = None) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(int(type_id if type_id is not None else msg.TYPE), len(payload)) + payload


def build_journal(n: int) -> bytes:
    """Start + Input + n x (RunCommand, RunCompletion): 1 + 2n journal messages."""
    parts = [
        _frame(
            m.StartMessage(
                id=bytes(range(24)),
                debug_id="inv_1benchmarkreplay",
                known_entries=1 + 2 * n,
                random_seed=42,
            )
        ),
        _frame(m.InputCommandMessage(value=b"0")),
    ]
    for i in range(n):
        parts.append(_frame(m.RunCommandMessage(result_completion_id=i + 1, name="step")))
        parts.append(
            _frame(
                m.NotificationMessage(completion_id=i + 1, value=str(i).encode()),
                m.MessageType.RUN_COMPLETION,
            )
        )
    return b"".join(parts)


def replay_engine(journal: bytes, n: int) -> None:
    engine = InvocationEngine(6)
    for i in range(0, len(journal), CHUNK):
        engine.receive_data(journal[i : i + CHUNK])
    engine.receive_eof()
    assert engine.replaying
    total = 0
    for _ in range(n):
        handle, _index = engine.run("step")
        assert engine.is_completed(handle)
        total += int(engine.result(handle).value or b"0")
    engine.write_output(str(total).encode())
    assert engine.closed and engine.data_to_send()


async def _step(i: int) -> int:
    return i


async def _handler(ctx: Any, n: int) -> int:
    total = 0
    for i in range(n):
        total += await ctx.run("step", _step, i)
    return total


def _info() -> HandlerInfo:
    import restate_sdk as restate

    svc = restate.Service("ReplayBench")

    @svc.handler()
    async def steps(ctx: restate.Context, n: int) -> int:
        return await _handler(ctx, n)

    return restate.handler_info(steps)


_INFO: HandlerInfo | None = None


async def _noread() -> None:
    return None


async def _nowrite(data: bytes, end: bool) -> None:
    return None


def replay_context(journal: bytes, n: int) -> None:
    global _INFO
    _INFO = _INFO or _info()
    engine = InvocationEngine(6)
    for i in range(0, len(journal), CHUNK):
        engine.receive_data(journal[i : i + CHUNK])
    engine.receive_eof()
    ctx = Attempt(engine, _INFO, _noread, _nowrite, {}).context
    coro = _handler(ctx, n)
    try:  # every result is already in the journal: the coroutine never really waits
        coro.send(None)
    except StopIteration as stop:
        engine.write_output(str(stop.value).encode())
    else:  # pragma: no cover - would mean a run was not replayed
        coro.close()
        raise AssertionError("the handler blocked during replay")
    assert engine.closed


def _time_per_entry(fn: Any, n: int, budget: float, repeats: int) -> float:
    journal = build_journal(n)
    fn(journal, n)  # warm up (and check)
    loops = 1
    while True:  # grow the loop count until one sample takes a measurable time
        t0 = time.perf_counter()
        for _ in range(loops):
            fn(journal, n)
        if time.perf_counter() - t0 >= budget / repeats / 4 or loops >= 1 << 16:
            break
        loops *= 2
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn(journal, n)
        best = min(best, (time.perf_counter() - t0) / loops)
    return best / n * 1e6


def measure_all(quick: bool = False) -> list[dict[str, float]]:
    """µs per entry for each journal size (best of several repeats)."""
    # an Attempt belongs to the running event loop, as on an endpoint: time it inside one
    return asyncio.run(_measure_all(quick))


async def _measure_all(quick: bool) -> list[dict[str, float]]:
    budget, repeats = (0.3, 3) if quick else (1.5, 7)
    out = []
    for n in SIZES:
        out.append(
            {
                "entries": n,
                "us_per_entry": _time_per_entry(replay_engine, n, budget, repeats),
                "us_per_entry_context": _time_per_entry(replay_context, n, budget, repeats),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="replay cost per journal entry")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = measure_all(quick=args.quick)
    base = rows[0]
    print(f"{'entries':>8} {'engine µs/entry':>16} {'vs 10':>6} {'context µs/entry':>17} {'vs 10':>6}")
    for r in rows:
        print(
            f"{r['entries']:>8} {r['us_per_entry']:>16.2f} {r['us_per_entry'] / base['us_per_entry']:>5.2f}x "
            f"{r['us_per_entry_context']:>17.2f} {r['us_per_entry_context'] / base['us_per_entry_context']:>5.2f}x"
        )


if __name__ == "__main__":
    main()
