"""Handlers of every kind, written as users would; the tests run them unchanged on MockContext."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import restate_sdk as restate
from restate_sdk import (
    Context,
    ObjectContext,
    ObjectSharedContext,
    TerminalError,
    WorkflowContext,
    WorkflowSharedContext,
)


@dataclass
class Charge:
    user: str
    amount: int


@dataclass
class Receipt:
    id: str
    amount: int


# ---- a service ----------------------------------------------------------------------------------

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: Context, name: str) -> str:
    return f"Hello {name}!"


payments = restate.Service("Payments")


@payments.handler()
async def charge(ctx: Context, req: Charge) -> Receipt:
    receipt_id = await ctx.run("charge card", lambda: f"r-{req.user}")
    return Receipt(receipt_id, req.amount)


@payments.handler()
async def audit(ctx: Context, note: str) -> None:
    return None


# ---- a virtual object ---------------------------------------------------------------------------

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


@counter.handler(name="addSync")
def add_sync(ctx: Any, delta: int) -> int:  # a plain def handler: the same calls, blocking
    value = ctx.get("count", type_hint=int) or 0
    total = ctx.run("sum", lambda: value + delta)
    ctx.sleep(timedelta(seconds=1))
    ctx.set("count", total)
    ctx.object_send(add, "audit", delta)
    return total


# ---- a service that calls, races and sends ------------------------------------------------------

checkout = restate.Service("Checkout")


@checkout.handler()
async def pay(ctx: Context, req: Charge) -> str:
    call = ctx.service_call(charge, req)
    timeout = ctx.sleep(timedelta(seconds=30))
    first = await restate.wait_first(call, timeout)
    if first is timeout:
        raise TerminalError("payment timed out", status_code=408)
    receipt: Receipt = await call
    ctx.object_send(add, req.user, receipt.amount, delay=timedelta(minutes=5))
    return receipt.id


# ---- a workflow ---------------------------------------------------------------------------------

signup = restate.Workflow("Signup")


def send_mail(address: str, secret: str) -> bool:
    return "@" in address


@signup.main()
async def run(ctx: WorkflowContext, email: str) -> str:
    secret = str(ctx.uuid())
    ctx.set("status", "waiting")
    await ctx.run("send mail", send_mail, email, secret)
    link = await ctx.promise("link", type_hint=str).value()
    outcome = "verified" if link == secret else "rejected"
    ctx.set("status", outcome)
    return outcome


@signup.handler()
async def click(ctx: WorkflowSharedContext, secret: str) -> None:
    await ctx.promise("link", type_hint=str).resolve(secret)


@signup.handler()
async def status(ctx: WorkflowSharedContext) -> str:
    return (await ctx.get("status", type_hint=str)) or "unknown"
