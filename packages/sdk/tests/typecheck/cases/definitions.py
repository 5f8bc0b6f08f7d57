"""Handler options are typed keywords; a handler reference keeps its kind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, assert_type

import restate_sdk as restate
from handlers import add, greet, run
from restate_sdk import Context, ObjectHandler, RetryPolicy, ServiceHandler, WorkflowHandler

svc = restate.Service("Opts", description="d", inactivity_timeout=timedelta(seconds=5))


@svc.handler(
    documentation="doc",
    idempotency_retention=timedelta(days=1),
    retry_policy=RetryPolicy(max_attempts=3),
    ingress_private=True,
)
async def documented(ctx: Context) -> None:
    return None


@svc.handler(enable_lazy_state=True)  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
async def lazy(ctx: Context) -> None:
    return None


@svc.handler(timeout=timedelta(seconds=1))  # pyright: ignore[reportCallIssue, reportUntypedFunctionDecorator]
async def unknown(ctx: Context) -> None:
    return None


obj = restate.VirtualObject("OptsObj", enable_lazy_state=True)
obj.handler(kind="both")  # pyright: ignore[reportArgumentType]
flow = restate.Workflow("OptsFlow")
flow.main(workflow_retention=timedelta(days=7))
flow.main(idempotency_retention=timedelta(days=7))  # pyright: ignore[reportCallIssue]
restate.Service("Bad", documentation="x")  # pyright: ignore[reportCallIssue]

service_ref: ServiceHandler[..., Any] = greet
object_ref: ObjectHandler[..., Any] = add
workflow_ref: WorkflowHandler[..., Any] = run
wrong_ref: ServiceHandler[..., Any] = add  # pyright: ignore[reportAssignmentType]
assert_type(greet.__name__, str)
