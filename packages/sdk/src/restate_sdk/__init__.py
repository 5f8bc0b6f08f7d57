"""Restate SDK for Python: durable services, virtual objects and workflows.

Example::

    import restate_sdk as restate

    greeter = restate.Service("Greeter")

    @greeter.handler()
    async def greet(ctx: restate.Context, name: str) -> str:
        return f"Hello {name}!"

    app = restate.app([greeter])   # serve with hypercorn, or restate.serve(app, port=9080)
"""

from __future__ import annotations

import contextlib

from ._codecs import BytesSerde, JsonSerde, PydanticSerde, Serde, serde_for
from ._context import (
    CallOptions,
    Context,
    DurablePromise,
    ObjectContext,
    ObjectSharedContext,
    Request,
    SendOptions,
    WorkflowContext,
    WorkflowSharedContext,
)
from ._definitions import (
    DefinitionOptions,
    HandlerInfo,
    ObjectHandler,
    ObjectHandlerOptions,
    RetryPolicy,
    Service,
    ServiceHandler,
    ServiceHandlerOptions,
    VirtualObject,
    Workflow,
    WorkflowHandler,
    WorkflowMainOptions,
    handler_info,
)
from ._endpoint.app import Endpoint, app
from ._endpoint.lambda_ import lambda_handler
from ._endpoint.serve import serve
from ._errors import PauseError, RestateError, RetryableError, SdkUsageError, TerminalError, TimeoutError
from ._futures import CallFuture, RestateFuture, SendHandle, as_completed, gather, wait_first, with_timeout
from ._logging import getLogger
from ._middleware import AttemptInfo, AttemptOutcome, Middleware, OperationInfo, OperationKind
from ._sync_api import (
    SyncContext,
    SyncObjectContext,
    SyncObjectSharedContext,
    SyncWorkflowContext,
    SyncWorkflowSharedContext,
)
from ._sync_types import SyncDurablePromise, SyncFuture, SyncSendHandle
from ._unawaited import UnawaitedFutureWarning

__version__ = "0.1.0"

__all__ = [
    "AttemptInfo",
    "AttemptOutcome",
    "BytesSerde",
    "CallFuture",
    "CallOptions",
    "Context",
    "DefinitionOptions",
    "DurablePromise",
    "Endpoint",
    "HandlerInfo",
    "JsonSerde",
    "Middleware",
    "ObjectContext",
    "ObjectHandler",
    "ObjectHandlerOptions",
    "ObjectSharedContext",
    "OperationInfo",
    "OperationKind",
    "PauseError",
    "PydanticSerde",
    "Request",
    "RestateError",
    "RestateFuture",
    "RetryPolicy",
    "RetryableError",
    "SdkUsageError",
    "SendHandle",
    "SendOptions",
    "Serde",
    "Service",
    "ServiceHandler",
    "ServiceHandlerOptions",
    "SyncContext",
    "SyncDurablePromise",
    "SyncFuture",
    "SyncObjectContext",
    "SyncObjectSharedContext",
    "SyncSendHandle",
    "SyncWorkflowContext",
    "SyncWorkflowSharedContext",
    "TerminalError",
    "TimeoutError",
    "UnawaitedFutureWarning",
    "VirtualObject",
    "Workflow",
    "WorkflowContext",
    "WorkflowHandler",
    "WorkflowMainOptions",
    "WorkflowSharedContext",
    "app",
    "as_completed",
    "gather",
    "getLogger",
    "handler_info",
    "lambda_handler",
    "serde_for",
    "serve",
    "wait_first",
    "with_timeout",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("restate_sdk."):
        with contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = "restate_sdk"
