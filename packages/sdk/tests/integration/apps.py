"""Services the SDK's integration tests drive through a real restate-server.

Also importable as a hypercorn app (``apps:app``) so a test can run the endpoint in its own
process and SIGKILL it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import timedelta

import restate_sdk as restate
from restate_sdk import Context, ObjectContext, ObjectSharedContext, WorkflowContext, WorkflowSharedContext

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name}!"


counter = restate.VirtualObject("Counter")


@counter.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    value = (await ctx.get("count", type_hint=int)) or 0
    ctx.set("count", value + delta)
    return value + delta


@counter.handler(kind="shared")
async def current(ctx: ObjectSharedContext) -> int:
    return (await ctx.get("count", type_hint=int)) or 0


@counter.handler()
async def reset(ctx: ObjectContext) -> list[str]:
    keys = await ctx.state_keys()
    ctx.clear_all()
    return keys


@dataclass
class Order:
    id: str
    items: list[str]


orders = restate.Workflow("OrderFlow")


@orders.main()
async def process(ctx: WorkflowContext, order: Order) -> str:
    ctx.set("status", "reserving")
    reserved = await ctx.run("reserve", lambda: [f"r-{i}" for i in order.items])
    ctx.set("status", "waiting-payment")
    paid = await ctx.promise("payment", type_hint=str).value()
    ctx.set("status", "done")
    return f"{order.id}: {','.join(reserved)} paid by {paid}"


@orders.handler()
async def pay(ctx: WorkflowSharedContext, who: str) -> None:
    await ctx.promise("payment").resolve(who)


@orders.handler()
async def status(ctx: WorkflowSharedContext) -> str | None:
    return await ctx.get("status", type_hint=str)


steps = restate.Service("Steps")


@dataclass
class StepsRequest:
    count: int
    log: str  # a file each step appends its number to, so tests can count executions
    step_seconds: float = 0.0


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


@steps.handler()
async def nap(ctx: Context, millis: int) -> str:
    await ctx.sleep(timedelta(milliseconds=millis))
    return "rested"


@steps.handler()
async def chain(ctx: Context, key: str) -> str:
    """service -> object -> service"""
    n = await ctx.object_call(add, key, 1)
    greeting = await ctx.service_call(greet, f"#{n}")
    return greeting


@steps.handler()
async def delayed_add(ctx: Context, key: str) -> str:
    handle = ctx.object_send(add, key, 10, delay=timedelta(seconds=1))
    return await handle.invocation_id()


@steps.handler()
async def send_twice(ctx: Context, key: str) -> list[str]:
    a = ctx.object_send(add, key, 1, idempotency_key=f"once-{key}")
    b = ctx.object_send(add, key, 1, idempotency_key=f"once-{key}")
    return [await a.invocation_id(), await b.invocation_id()]


@steps.handler()
async def fail(ctx: Context, message: str) -> str:
    raise restate.TerminalError(message, status_code=422, metadata={"why": "asked to"})


@steps.handler()
def sync_steps(ctx: Context, name: str) -> str:  # a plain def handler
    upper = ctx.run("upper", lambda: name.upper())
    ctx.sleep(timedelta(milliseconds=10))
    n = ctx.object_call(add, f"sync-{name}", 5)
    return f"{upper}:{n}"


SERVICES = [greeter, counter, orders, steps]
app = restate.app(SERVICES)

if __name__ == "__main__":  # pragma: no cover - used by the kill test
    restate.serve(app, port=int(os.environ["PORT"]), host="127.0.0.1")
