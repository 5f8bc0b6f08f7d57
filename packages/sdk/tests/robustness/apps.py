"""Services the robustness tests drive.

Run as a script, it serves them with ``restate.serve`` on ``$PORT`` (127.0.0.1; ``$SERVE_WITH``
picks granian or hypercorn, default auto), so a test can
SIGKILL or SIGTERM the endpoint and measure its memory. ``apps:app`` is the plain ASGI app for
``hypercorn apps:app``.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import timedelta

import restate_sdk as restate
from restate_sdk import Context, ObjectContext

# ---- a trivial service: the "does a normal invocation still work" probe ---------------------------

echo = restate.Service("Echo")


@echo.handler()
async def say(ctx: Context, value: str) -> str:
    return value


# ---- payload limits -------------------------------------------------------------------------------

big = restate.Service("Big")
# Two attempts, then the invocation fails: a test sees the error instead of minutes of retries.
TWO_ATTEMPTS = restate.RetryPolicy(
    max_attempts=2, on_max_attempts="kill", initial_interval=timedelta(milliseconds=50)
)


@big.handler()
async def size(ctx: Context, data: bytes) -> int:
    """The length of a raw (application/octet-stream) input."""
    return len(data)


@big.handler(retry_policy=TWO_ATTEMPTS)
async def blob(ctx: Context, n: int) -> bytes:
    """A raw output of ``n`` bytes."""
    return b"x" * n


@big.handler()
async def run_blob(ctx: Context, n: int) -> int:
    """A ``ctx.run`` result of ``n`` bytes; two attempts, then the run fails for good."""
    data = await ctx.run("big", lambda: b"y" * n, max_attempts=2)
    return len(data)


# ---- load: sleeps, runs and calls -----------------------------------------------------------------

counter = restate.VirtualObject("Tally")


@counter.handler()
async def bump(ctx: ObjectContext, by: int) -> int:
    value = (await ctx.get("n", type_hint=int) or 0) + by
    ctx.set("n", value)
    return value


@counter.handler(kind="shared")
async def total(ctx: restate.ObjectSharedContext) -> int:
    return await ctx.get("n", type_hint=int) or 0


work = restate.Service("Work")
TALLY_KEYS = 20


def expected_mix(i: int) -> str:
    """What ``Work.mix(i)`` returns."""
    kind = i % 4
    if kind == 0:
        return f"slept-{i}"
    if kind == 1:
        return f"ran-{i * 2 + 1}"
    if kind == 2:
        return f"called-{i}"
    return f"all-{i}-{i * 3}"


@dataclass
class MixRequest:
    i: int
    release_at_ms: int = 0  # first sleep until then (epoch ms), so that all are in flight together


@work.handler()
async def mix(ctx: Context, req: MixRequest) -> str:
    """One of four shapes by ``i % 4``: a sleep, two runs, calls (one bumps a Tally), or all of them."""
    i = req.i
    if req.release_at_ms:  # always this sleep, even of 0 ms: a replay must issue the same commands
        await ctx.sleep(timedelta(milliseconds=max(0, req.release_at_ms - int(time.time() * 1000))))
    kind = i % 4
    if kind == 0:
        await ctx.sleep(timedelta(milliseconds=200 + (i * 37) % 800))
        return f"slept-{i}"
    if kind == 1:
        a = await ctx.run("double", lambda: i * 2)
        b = await ctx.run("inc", lambda: a + 1)
        return f"ran-{b}"
    if kind == 2:
        value = await ctx.service_call(say, str(i))
        await ctx.object_call(bump, f"k{i % TALLY_KEYS}", 1)
        return f"called-{value}"
    await ctx.sleep(timedelta(milliseconds=100 + i % 300))
    tripled = await ctx.run("triple", lambda: i * 3)
    value = await ctx.service_call(say, str(i))
    return f"all-{value}-{tripled}"


# ---- crashes and shutdown: steps that log each execution ---------------------------------------------


@dataclass
class StepsRequest:
    count: int
    log: str  # each step appends "<step>\n" when it starts, so a test can count executions
    step_seconds: float = 0.0


steps = restate.Service("Steps")


@steps.handler()
async def run_steps(ctx: Context, req: StepsRequest) -> int:
    total = 0
    for i in range(req.count):

        async def step(i: int = i) -> int:
            with open(req.log, "a") as f:
                f.write(f"{i}\n")
            if req.step_seconds:
                await asyncio.sleep(req.step_seconds)
            return i

        total += await ctx.run(f"step-{i}", step)
    return total


@dataclass
class SlowRequest:
    seconds: float
    log: str  # "start <tag>" when the closure begins, "end <tag>" when it returns
    tag: str


@steps.handler()
async def slow_run(ctx: Context, req: SlowRequest) -> str:
    """One ``ctx.run`` that takes ``seconds`` (asleep, not busy), then a short sleep."""

    async def work() -> str:
        with open(req.log, "a") as f:
            f.write(f"start {req.tag} {time.time()}\n")
        await asyncio.sleep(req.seconds)
        with open(req.log, "a") as f:
            f.write(f"end {req.tag} {time.time()}\n")
        return req.tag

    tag = await ctx.run("slow", work)
    await ctx.sleep(timedelta(milliseconds=50))
    return f"done-{tag}"


@steps.handler()
async def nap(ctx: Context, millis: int) -> str:
    await ctx.sleep(timedelta(milliseconds=millis))
    return "rested"


# ---- limits: a journal that outgrows the endpoint's max_journal_size on its second attempt ----------

grow = restate.Service("Grow")
_grown: set[str] = set()


@grow.handler()
async def outgrow(ctx: Context, runs: int) -> int:
    """``runs`` results of 300 KB each, then one retryable failure: the retry replays them all."""
    total = 0
    for i in range(runs):
        total += len(await ctx.run(f"part-{i}", lambda: "g" * 300_000))
    if ctx.request().id not in _grown:
        _grown.add(ctx.request().id)
        raise RuntimeError("fail once, so that the next attempt replays the whole journal")
    return total


SERVICES = [echo, big, counter, work, steps, grow]


def _options() -> dict[str, object]:
    """Identity keys and limits from the environment (``IDENTITY_KEYS``, comma-separated;
    ``MAX_JOURNAL_SIZE``; ``JOURNAL_READ_TIMEOUT``), so a test can serve the app with them."""
    options: dict[str, object] = {}
    if keys := os.environ.get("IDENTITY_KEYS"):
        options["identity_keys"] = keys.split(",")
    if size := os.environ.get("MAX_JOURNAL_SIZE"):
        options["max_journal_size"] = int(size)
    if timeout := os.environ.get("JOURNAL_READ_TIMEOUT"):
        options["journal_read_timeout"] = float(timeout)
    return options


app = restate.app(SERVICES, **_options())  # type: ignore[arg-type]

if __name__ == "__main__":  # pragma: no cover - run as the endpoint process
    server = os.environ.get("SERVE_WITH", "auto")
    restate.serve(app, port=int(os.environ["PORT"]), host="127.0.0.1", server=server)  # type: ignore[arg-type]
