"""A reminder service for AWS Lambda: ``handler`` is the function's entry point (``app.handler``).

``Reminders.remind`` sleeps durably before it answers. On Lambda that sleep costs nothing: the
invocation suspends, the function returns, and restate-server invokes the function again when the
timer fires. ``Inbox`` (a virtual object) keeps each person's reminders.
"""

from __future__ import annotations

from datetime import timedelta

import restate_sdk as restate

__all__ = ["app", "handler", "inbox", "remind", "reminders", "sent"]

reminders = restate.Service("Reminders")
inbox = restate.VirtualObject("Inbox")


@inbox.handler()
async def add(ctx: restate.ObjectContext, text: str) -> int:
    """Keep ``text`` in this person's inbox; returns how many reminders it holds."""
    items = await ctx.get("items", type_hint=list[str]) or []
    items.append(text)
    ctx.set("items", items)
    return len(items)


@inbox.handler(kind="shared")
async def sent(ctx: restate.ObjectSharedContext) -> list[str]:
    """Every reminder this person got, oldest first."""
    return await ctx.get("items", type_hint=list[str]) or []


@reminders.handler()
async def remind(ctx: restate.Context, request: dict[str, str]) -> str:
    """Wait ``request["after_ms"]`` milliseconds (durably), then drop the text into the inbox."""
    await ctx.sleep(timedelta(milliseconds=int(request.get("after_ms", "0"))))
    n = await ctx.object_call(add, request["to"], request["text"])
    return f"reminded {request['to']} ({n} so far)"


app = restate.app([reminders, inbox])
handler = restate.lambda_handler(app)
