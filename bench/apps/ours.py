"""The benchmark services, written with this repository's SDK (``restate_sdk``).

Functionally identical to ``official.py``; only the SDK differs. Service names carry a prefix
(``BENCH_PREFIX``, default ``Ours``) so both deployments can live on one restate-server.
"""

from __future__ import annotations

import os
from datetime import timedelta

import restate_sdk as restate

PREFIX = os.environ.get("BENCH_PREFIX", "Ours")

bench = restate.Service(f"{PREFIX}Bench")
counter = restate.VirtualObject(f"{PREFIX}Counter")


async def step(i: int) -> int:
    return i


def step_def(i: int) -> int:  # a plain function: the SDK runs it off the event loop
    return i


@bench.handler()
async def noop(ctx: restate.Context, x: str) -> str:
    return x


@bench.handler()
async def steps(ctx: restate.Context, n: int) -> int:
    total = 0
    for i in range(n):
        total += await ctx.run("step", step, i)
    return total


@bench.handler()
async def steps_def(ctx: restate.Context, n: int) -> int:
    total = 0
    for i in range(n):
        total += await ctx.run("step", step_def, i)
    return total


@bench.handler()
async def call(ctx: restate.Context, x: str) -> str:
    return await ctx.service_call(noop, x)


@bench.handler()
async def sleep(ctx: restate.Context, ms: int) -> int:
    await ctx.sleep(timedelta(milliseconds=ms))
    return ms


@counter.handler()
async def add(ctx: restate.ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", int) or 0) + delta
    ctx.set("count", value)
    return value


app = restate.app([bench, counter])
