"""Call Restate handlers from outside: a sync and an async httpx client, and an admin client.

Example::

    from restate_ingress import Client

    with Client("http://127.0.0.1:8080") as client:
        client.service("Greeter").call("greet", "Ann")        # 'Hello Ann!'
        client.call(greet, "Ann")                             # typed by the handler function
        sent = client.service("Greeter").send("greet", "Ann", idempotency_key="k")
        client.invocation(sent.invocation_id).attach()

Failures raise ``IngressError`` or one of its subclasses (see ``restate_ingress._errors``).
"""

from __future__ import annotations

from ._admin import AdminClient, AsyncAdminClient
from ._async_client import AsyncClient, AsyncInvocationHandle, AsyncTarget, AsyncWorkflowTarget
from ._errors import (
    BadRequest,
    Conflict,
    Gone,
    IngressError,
    IngressTimeout,
    IngressTransportError,
    NotFound,
    NotReady,
    ResponseDecodeError,
    ServerError,
    Unauthorized,
)
from ._models import SendResponse, SendStatus
from ._sync_client import Client, InvocationHandle, Target, WorkflowTarget

__all__ = [
    "AdminClient",
    "AsyncAdminClient",
    "AsyncClient",
    "AsyncInvocationHandle",
    "AsyncTarget",
    "AsyncWorkflowTarget",
    "BadRequest",
    "Client",
    "Conflict",
    "Gone",
    "IngressError",
    "IngressTimeout",
    "IngressTransportError",
    "InvocationHandle",
    "NotFound",
    "NotReady",
    "ResponseDecodeError",
    "SendResponse",
    "SendStatus",
    "ServerError",
    "Target",
    "Unauthorized",
    "WorkflowTarget",
]


def _rewrite_module() -> None:
    """Public names say they live here, not in the private module that defines them."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type):
            obj.__module__ = __name__


_rewrite_module()
