"""BlockAndWaitWorkflow: the main handler waits on a durable promise another handler resolves."""

from __future__ import annotations

import restate_sdk as restate
from restate_sdk import WorkflowContext, WorkflowSharedContext

__all__ = ["block_and_wait_workflow"]

block_and_wait_workflow = restate.Workflow("BlockAndWaitWorkflow")

PROMISE = "durable-promise"
STATE_KEY = "my-state"


@block_and_wait_workflow.main(name="run")
async def run(ctx: WorkflowContext, value: str) -> str:
    ctx.set(STATE_KEY, value)
    output = await ctx.promise(PROMISE, type_hint=str).value()
    if await ctx.promise(PROMISE, type_hint=str).peek() is None:
        raise restate.TerminalError("Durable promise should be completed")
    return output


@block_and_wait_workflow.handler(name="unblock")
async def unblock(ctx: WorkflowSharedContext, output: str) -> None:
    await ctx.promise(PROMISE, type_hint=str).resolve(output)


@block_and_wait_workflow.handler(name="getState")
async def get_state(ctx: WorkflowSharedContext) -> str | None:
    return await ctx.get(STATE_KEY, type_hint=str)
