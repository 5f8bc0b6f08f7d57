"""``AsyncClient``, its targets and handles: the one definition of the ingress client's surface.

``_sync_client.py`` (``Client``, ``Target``, ``WorkflowTarget``, ``InvocationHandle``) is generated
from this file by ``scripts/unasync.py``; edit this one, then run ``uv run python scripts/unasync.py``
(``packages/ingress/tests/unit/test_unasync.py`` fails while the two differ). Request building and
response parsing live in ``_client.BaseClient``; here only the I/O is awaited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import timedelta
from typing import Any, Generic, TypeVar, overload

import httpx
from restate_sdk import ObjectHandler, Serde, ServiceHandler, WorkflowHandler

from ._client import AnyHandler, BaseClient, Handler, resolve_target, workflow_main
from ._http import DEFAULT, AsyncIO
from ._models import NO_INPUT, SendResponse, SendStatus, Timeout, output_serde_for

__all__ = ["AsyncClient", "AsyncInvocationHandle", "AsyncTarget", "AsyncWorkflowTarget"]

I = TypeVar("I")  # noqa: E741 - a handler's input type
O = TypeVar("O")  # noqa: E741 - a handler's output type


class AsyncClient(AsyncIO, BaseClient):
    """A client for restate-server's ingress; reuses connections (one ``httpx.AsyncClient``).

    Example::

        async with AsyncClient("http://127.0.0.1:8080") as client:
            await client.service("Greeter").call("greet", "Ann")    # 'Hello Ann!'
            await client.call(greet, "Ann")                         # typed by the handler
            await client.object("Counter", "a").call(add, 1)
            sent = await client.service("Greeter").send("greet", "Ann", idempotency_key="k")
            await client.invocation(sent.invocation_id).attach()
            wf = await client.workflow("Signup", "wf-1").submit("ann@example.com")
            await wf.attach()

    Args:
        base_url: the ingress URL, e.g. ``http://127.0.0.1:8080``.
        token: sent as ``Authorization: Bearer <token>``.
        headers: sent with every request.
        timeout: seconds, a timedelta or an ``httpx.Timeout``, for every request. By default a call
            or send waits up to 5 minutes for its answer (``attach()`` up to an hour), connecting up
            to 10 s; with ``http_client`` and no ``timeout``, that client's own settings apply.
            Every method takes ``timeout=`` too.
        transport: an httpx transport (``httpx.MockTransport`` in tests).
        http_client: an ``httpx.AsyncClient`` of your own (e.g. instrumented); it is not closed by
            ``aclose()``. If it follows redirects, a redirect to another origin keeps only content
            and tracing headers: the token and custom headers stay behind.

    A token (or key header, or URL password) sent over plain ``http://`` to a host other than this
    machine raises a warning; error messages and reprs never show them.
    """

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, token=token, headers=headers, timeout=timeout)
        self._open(transport, http_client)

    # -- targets ---------------------------------------------------------------------------

    def service(self, name: str) -> AsyncTarget:
        """A service, by name: ``await client.service("Greeter").call("greet", "Ann")``."""
        return AsyncTarget(self, name, None)

    def object(self, name: str, key: str) -> AsyncTarget:
        """One virtual object: ``await client.object("Counter", "a").call("add", 1)``."""
        return AsyncTarget(self, name, key)

    @overload
    def workflow(
        self, workflow: WorkflowHandler[[Any, I], Awaitable[O]], key: str
    ) -> AsyncWorkflowTarget[I, O]: ...
    @overload
    def workflow(
        self, workflow: WorkflowHandler[[Any], Awaitable[O]], key: str
    ) -> AsyncWorkflowTarget[None, O]: ...
    @overload
    def workflow(self, workflow: WorkflowHandler[[Any, I], O], key: str) -> AsyncWorkflowTarget[I, O]: ...
    @overload
    def workflow(self, workflow: WorkflowHandler[[Any], O], key: str) -> AsyncWorkflowTarget[None, O]: ...
    @overload
    def workflow(
        self, workflow: str, key: str, *, main: str | None = None
    ) -> AsyncWorkflowTarget[Any, Any]: ...
    def workflow(
        self, workflow: str | WorkflowHandler[..., Any], key: str, *, main: str | None = None
    ) -> AsyncWorkflowTarget[Any, Any]:
        """One workflow run, by name (main handler ``"run"`` unless ``main=`` says otherwise) or by
        its main handler function (then ``submit``/``attach``/``output`` are typed)."""
        name, main_handler = workflow_main(workflow, main)
        return AsyncWorkflowTarget(self, name, key, main_handler)

    # -- typed by the handler function: a service's without a key, an object's or workflow's with one

    @overload
    async def call(
        self,
        handler: ServiceHandler[[Any, I], Awaitable[O]],
        arg: I,
        /,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: ServiceHandler[[Any], Awaitable[O]],
        /,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: ServiceHandler[[Any, I], O],
        arg: I,
        /,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: ServiceHandler[[Any], O],
        /,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: ObjectHandler[[Any, I], Awaitable[O]] | WorkflowHandler[[Any, I], Awaitable[O]],
        arg: I,
        /,
        *,
        key: str,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: ObjectHandler[[Any], Awaitable[O]] | WorkflowHandler[[Any], Awaitable[O]],
        /,
        *,
        key: str,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: ObjectHandler[[Any, I], O] | WorkflowHandler[[Any, I], O],
        arg: I,
        /,
        *,
        key: str,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: ObjectHandler[[Any], O] | WorkflowHandler[[Any], O],
        /,
        *,
        key: str,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    async def call(
        self,
        handler: AnyHandler[..., Any],
        arg: Any = NO_INPUT,
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Any:
        """Call a handler given as its function and wait for the result, typed by it.

        Example: ``await client.call(greet, "Ann")``, ``await client.call(add, 1, key="a")``.
        ``scope=`` runs the invocation in a scope and ``limit_key=`` (``"l1"`` or ``"l1/l2"``, needs
        a scope) picks its concurrency limit key: restate-server 1.7 with
        ``RESTATE_EXPERIMENTAL_ENABLE_VQUEUES=true`` (a scoped virtual object also needs
        ``RESTATE_EXPERIMENTAL_ENABLE_SCOPED_VIRTUAL_OBJECTS=true``). Every call and send takes them.
        """
        target = resolve_target(None, key, handler)
        return await self._run(
            self._op_call(
                target,
                arg,
                idempotency_key=idempotency_key,
                scope=scope,
                limit_key=limit_key,
                headers=headers,
                timeout=timeout,
            )
        )

    @overload
    async def send(
        self,
        handler: ServiceHandler[[Any, I], Any],
        arg: I,
        /,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> SendResponse: ...
    @overload
    async def send(
        self,
        handler: ServiceHandler[[Any], Any],
        /,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> SendResponse: ...
    @overload
    async def send(
        self,
        handler: ObjectHandler[[Any, I], Any] | WorkflowHandler[[Any, I], Any],
        arg: I,
        /,
        *,
        key: str,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> SendResponse: ...
    @overload
    async def send(
        self,
        handler: ObjectHandler[[Any], Any] | WorkflowHandler[[Any], Any],
        /,
        *,
        key: str,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> SendResponse: ...
    async def send(
        self,
        handler: AnyHandler[..., Any],
        arg: Any = NO_INPUT,
        /,
        *,
        key: str | None = None,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> SendResponse:
        """Send to a handler given as its function without waiting (``delay=`` to start later)."""
        target = resolve_target(None, key, handler)
        return await self._run(
            self._op_send(
                target,
                arg,
                delay=delay,
                idempotency_key=idempotency_key,
                scope=scope,
                limit_key=limit_key,
                headers=headers,
                timeout=timeout,
            )
        )

    # -- handles -----------------------------------------------------------------------------
    @overload
    def invocation(
        self, invocation_id: str, *, output_type: type[O], output_serde: Serde[Any] | None = None
    ) -> AsyncInvocationHandle[O]: ...
    @overload
    def invocation(
        self, invocation_id: str, *, output_type: None = None, output_serde: Serde[Any] | None = None
    ) -> AsyncInvocationHandle[Any]: ...
    def invocation(
        self, invocation_id: str, *, output_type: Any = None, output_serde: Serde[Any] | None = None
    ) -> AsyncInvocationHandle[Any]:
        """A handle on an invocation by its id (``inv_...``): ``.attach()`` waits, ``.output()`` does not."""
        serde = output_serde_for(output_type, output_serde)
        return AsyncInvocationHandle(self, self._by_id(invocation_id), serde, invocation_id)

    @overload
    def idempotent_invocation(
        self,
        service: str,
        handler: str,
        idempotency_key: str,
        *,
        key: str | None = None,
        output_type: type[O],
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[O]: ...
    @overload
    def idempotent_invocation(
        self,
        service: str,
        handler: str,
        idempotency_key: str,
        *,
        key: str | None = None,
        output_type: None = None,
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[Any]: ...
    def idempotent_invocation(
        self,
        service: str,
        handler: str,
        idempotency_key: str,
        *,
        key: str | None = None,
        output_type: Any = None,
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[Any]:
        """A handle on the invocation a call or send with ``idempotency_key`` created."""
        target = resolve_target(service, key, handler, output_serde=output_serde, output_type=output_type)
        return AsyncInvocationHandle(
            self, self._by_idempotency_key(target, idempotency_key), target.output_serde
        )

    async def resolve_awakeable(
        self, awakeable_id: str, value: Any = None, *, serde: Serde[Any] | None = None
    ) -> None:
        """Complete an awakeable with ``value`` (JSON by default; bytes as is)."""
        await self._run(self._op_resolve_awakeable(awakeable_id, value, serde))

    async def reject_awakeable(self, awakeable_id: str, reason: str) -> None:
        """Fail an awakeable: the waiting handler sees a TerminalError with ``reason``."""
        await self._run(self._op_reject_awakeable(awakeable_id, reason))


class AsyncTarget:
    """A service, or one virtual object or workflow (with its key), from ``AsyncClient``.

    Handlers are given by name (``call("greet", "Ann")``; the output is any JSON unless
    ``output_type=`` or ``output_serde=`` says otherwise) or as the function itself
    (``call(greet, "Ann")``: input and output are coded and typed as the handler declares).
    """

    def __init__(self, client: AsyncClient, service: str, key: str | None) -> None:
        self._client = client
        self.service = service
        self.key = key

    def __repr__(self) -> str:
        key = f", {self.key!r}" if self.key is not None else ""
        return f"{type(self).__name__}({self.service!r}{key})"

    @overload
    async def call(
        self,
        handler: AnyHandler[[Any, I], Awaitable[O]],
        arg: I,
        /,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: AnyHandler[[Any, I], O],
        arg: I,
        /,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: AnyHandler[[Any], Awaitable[O]],
        /,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: AnyHandler[[Any], O],
        /,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: str,
        arg: Any = ...,
        /,
        *,
        output_type: type[O],
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: str,
        arg: Any = ...,
        /,
        *,
        output_type: None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> Any: ...
    async def call(
        self,
        handler: str | AnyHandler[..., Any],
        arg: Any = NO_INPUT,
        /,
        *,
        output_type: Any = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> Any:
        """Call a handler and wait for its result; a failure raises ``IngressError``."""
        target = resolve_target(
            self.service,
            self.key,
            handler,
            input_serde=input_serde,
            output_serde=output_serde,
            output_type=output_type,
        )
        return await self._client._run(
            self._client._op_call(
                target,
                arg,
                idempotency_key=idempotency_key,
                scope=scope,
                limit_key=limit_key,
                headers=headers,
                timeout=timeout,
            )
        )

    async def send(
        self,
        handler: str | AnyHandler[..., Any],
        arg: Any = NO_INPUT,
        /,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        input_serde: Serde[Any] | None = None,
    ) -> SendResponse:
        """Start a handler without waiting; ``delay=`` starts it later. Returns the invocation id."""
        target = resolve_target(self.service, self.key, handler, input_serde=input_serde)
        return await self._client._run(
            self._client._op_send(
                target,
                arg,
                delay=delay,
                idempotency_key=idempotency_key,
                scope=scope,
                limit_key=limit_key,
                headers=headers,
                timeout=timeout,
            )
        )

    @overload
    def invocation(
        self,
        handler: AnyHandler[..., Awaitable[O]],
        idempotency_key: str,
        *,
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[O]: ...
    @overload
    def invocation(
        self,
        handler: AnyHandler[..., O],
        idempotency_key: str,
        *,
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[O]: ...
    @overload
    def invocation(
        self,
        handler: str,
        idempotency_key: str,
        *,
        output_type: type[O],
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[O]: ...
    @overload
    def invocation(
        self,
        handler: str,
        idempotency_key: str,
        *,
        output_type: None = None,
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[Any]: ...
    def invocation(
        self,
        handler: str | AnyHandler[..., Any],
        idempotency_key: str,
        *,
        output_type: Any = None,
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[Any]:
        """A handle on the invocation of ``handler`` made with ``idempotency_key``."""
        target = resolve_target(
            self.service, self.key, handler, output_serde=output_serde, output_type=output_type
        )
        return AsyncInvocationHandle(
            self._client, self._client._by_idempotency_key(target, idempotency_key), target.output_serde
        )


class AsyncWorkflowTarget(AsyncTarget, Generic[I, O]):
    """One workflow run (a workflow name and key): ``submit`` its main handler, then ``attach``
    or ``output``; ``call``/``send`` reach its shared handlers.

    Example::

        wf = client.workflow("Signup", "wf-1")
        await wf.submit("ann@example.com")       # status "Accepted", or "PreviouslyAccepted"
        await wf.call("click", "secret")
        await wf.attach()                        # the main handler's result
    """

    def __init__(self, client: AsyncClient, service: str, key: str, main: str | Handler) -> None:
        super().__init__(client, service, key)
        self._main = resolve_target(service, key, main)
        self._lookup = client._by_workflow(service, key)

    async def submit(
        self,
        arg: I = NO_INPUT,
        /,
        *,
        delay: timedelta | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> AsyncInvocationHandle[O]:
        """Start the workflow's main handler (once per key; a second submit is ``PreviouslyAccepted``)."""
        sent = await self._client._run(
            self._client._op_send(self._main, arg, delay=delay, headers=headers, timeout=timeout)
        )
        return AsyncInvocationHandle(
            self._client, self._lookup, self._main.output_serde, sent.invocation_id, sent.status
        )

    def handle(self) -> AsyncInvocationHandle[O]:
        """A handle on this workflow run's main invocation, without starting it."""
        return AsyncInvocationHandle(self._client, self._lookup, self._main.output_serde)

    async def attach(self, *, timeout: Timeout = DEFAULT) -> O:
        """Wait for the workflow's result."""
        return await self.handle().attach(timeout=timeout)

    async def output(self, *, timeout: Timeout = DEFAULT) -> O:
        """The workflow's result if it has finished; ``NotReady`` otherwise."""
        return await self.handle().output(timeout=timeout)


class AsyncInvocationHandle(Generic[O]):
    """An invocation found by id, idempotency key or workflow key.

    ``attach()`` waits for the result; ``output()`` returns it only if the invocation has
    completed and raises ``NotReady`` otherwise. A terminal failure raises ``IngressError``.
    ``invocation_id`` and ``status`` are known when the handle came from a send or submit.
    """

    def __init__(
        self,
        client: AsyncClient,
        lookup: str,
        serde: Serde[Any] | None,
        invocation_id: str | None = None,
        status: SendStatus | None = None,
    ) -> None:
        self._client = client
        self._lookup = lookup
        self._serde = serde
        self.invocation_id = invocation_id
        self.status: SendStatus | None = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._lookup!r}, invocation_id={self.invocation_id!r})"

    async def attach(self, *, timeout: Timeout = DEFAULT) -> O:
        """Wait for the invocation to finish and return its output."""
        return await self._client._run(
            self._client._op_result(self._lookup, "attach", self._serde, self.invocation_id, timeout)
        )

    async def output(self, *, timeout: Timeout = DEFAULT) -> O:
        """The output of a finished invocation; ``NotReady`` if it is still running."""
        return await self._client._run(
            self._client._op_result(self._lookup, "output", self._serde, self.invocation_id, timeout)
        )
