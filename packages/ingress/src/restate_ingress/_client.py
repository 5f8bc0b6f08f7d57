"""``Client`` and ``AsyncClient``: call, send, attach and resolve from outside Restate.

All request building and response parsing lives in ``_BaseClient`` (it returns ``Operation``
values); ``Client`` and ``AsyncClient`` only differ in ``_run``, the one call that does I/O.
Targets and handles are thin twins that build an operation and hand it to their client.

Paths used (they work on restate-server 1.0 to 1.7):

- call ``POST /{service}[/{key}]/{handler}``, send ``POST .../{handler}/send[?delay=5000ms]``
- attach/output ``GET /restate/invocation/{id}/attach|output``,
  ``GET /restate/invocation/{service}[/{key}]/{handler}/{idempotency_key}/attach|output``,
  ``GET /restate/workflow/{name}/{key}/attach|output``
- awakeables ``POST /restate/awakeables/{id}/resolve|reject``
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Literal, TypeVar, overload

import httpx
from restate_sdk import Serde, handler_info, serde_for

from ._errors import check_response
from ._http import DEFAULT, AsyncIO, HTTPBase, SyncIO
from ._models import (
    DEFAULT_ATTACH_TIMEOUT,
    DEFAULT_TIMEOUT,
    NO_INPUT,
    Operation,
    SendResponse,
    SendStatus,
    Timeout,
    decode_output,
    delay_param,
    encode_body,
    merge_headers,
    output_serde_for,
    parse_send_response,
    segment,
)

__all__ = [
    "AsyncClient",
    "AsyncInvocationHandle",
    "AsyncTarget",
    "AsyncWorkflowTarget",
    "Client",
    "InvocationHandle",
    "Target",
    "WorkflowTarget",
]

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - a handler's input type
O = TypeVar("O")  # noqa: E741 - a handler's output type

Handler = Callable[..., Any]
"""A function decorated with ``@service.handler()`` (or ``@workflow.main()``)."""


@dataclass(frozen=True, slots=True)
class _Resolved:
    """Where a call goes and how its input and output are coded."""

    service: str
    key: str | None
    handler: str
    input_serde: Serde[Any] | None
    output_serde: Serde[Any] | None
    has_input: bool | None = None
    """Whether the handler takes an input; None when it is given by name (unknown)."""

    def path(self) -> str:
        key = f"/{segment(self.key)}" if self.key is not None else ""
        return f"/{segment(self.service)}{key}/{segment(self.handler)}"


def _resolve(
    service: str | None,
    key: str | None,
    handler: str | Handler,
    *,
    input_serde: Serde[Any] | None = None,
    output_serde: Serde[Any] | None = None,
    output_type: Any = None,
) -> _Resolved:
    """By name: the given serdes (or the defaults). By handler function: its service, name and serdes."""
    if isinstance(handler, str):
        if service is None:
            raise ValueError("a handler given by name needs a service; use client.service(name).call(...)")
        return _Resolved(service, key, handler, input_serde, output_serde_for(output_type, output_serde))
    info = handler_info(handler)
    if service is not None and info.service_name != service:
        raise ValueError(f"handler {info.service_name}.{info.name} does not belong to {service!r}")
    if info.service_kind == "service" and key is not None:
        raise ValueError(f"{info.service_name} is a service: it takes no key")
    if info.service_kind != "service" and key is None:
        raise ValueError(
            f"{info.service_name} is a {'virtual object' if info.service_kind == 'object' else 'workflow'}: it needs a key"
        )
    return _Resolved(
        info.service_name,
        key,
        info.name,
        input_serde or info.input_serde,
        output_serde or (serde_for(output_type) if output_type is not None else info.output_serde),
        info.has_input,
    )


def _expect_success(response: httpx.Response) -> None:
    check_response(response)


def _workflow_main(workflow: str | Handler, handler: str | Handler | None) -> tuple[str, str | Handler]:
    """The workflow name and its main handler (``"run"`` unless told otherwise)."""
    if isinstance(workflow, str):
        return workflow, handler if handler is not None else "run"
    info = handler_info(workflow)
    if info.service_kind != "workflow" or info.kind != "workflow":
        raise ValueError(f"{info.service_name}.{info.name} is not a workflow's main handler")
    return info.service_name, handler if handler is not None else workflow


class _BaseClient(HTTPBase):
    """Ingress request building and response parsing; no I/O."""

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        token: str | None,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
    ) -> None:
        super().__init__(
            base_url,
            token=token,
            headers=headers,
            timeout=timeout,
            default_timeout=DEFAULT_TIMEOUT,
            wait_timeout=DEFAULT_ATTACH_TIMEOUT,
        )

    # -- request building ----------------------------------------------------------------

    def _invoke(
        self,
        target: _Resolved,
        arg: Any,
        *,
        send: bool,
        delay: timedelta | None,
        idempotency_key: str | None,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
    ) -> httpx.Request:
        if target.has_input is False:
            arg = NO_INPUT  # the handler takes no input: send no body
        elif target.has_input and arg is NO_INPUT:
            arg = None  # a typed handler that takes an input: send what None encodes to
        content, content_headers = encode_body(arg, target.input_serde)
        extra = {"idempotency-key": idempotency_key} if idempotency_key is not None else None
        params = {"delay": delay_param(delay)} if send and delay is not None else None
        return self._request(
            "POST",
            target.path() + ("/send" if send else ""),
            content=content,
            headers=merge_headers(content_headers, headers, extra),
            params=params,
            timeout=timeout,
        )

    def _op_call(
        self,
        target: _Resolved,
        arg: Any,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Operation[Any]:
        request = self._invoke(
            target,
            arg,
            send=False,
            delay=None,
            idempotency_key=idempotency_key,
            headers=headers,
            timeout=timeout,
        )
        return Operation(request, lambda r: decode_output(check_response(r), target.output_serde))

    def _op_send(
        self,
        target: _Resolved,
        arg: Any,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Operation[SendResponse]:
        request = self._invoke(
            target,
            arg,
            send=True,
            delay=delay,
            idempotency_key=idempotency_key,
            headers=headers,
            timeout=timeout,
        )
        return Operation(request, parse_send_response)

    def _op_result(
        self,
        lookup: str,
        which: Literal["attach", "output"],
        serde: Serde[Any] | None,
        invocation_id: str | None,
        timeout: Timeout,
    ) -> Operation[Any]:
        request = self._request("GET", f"{lookup}/{which}", timeout=timeout, waits=which == "attach")
        return Operation(
            request,
            lambda r: decode_output(check_response(r, invocation_id=invocation_id), serde),
        )

    def _op_awakeable(
        self,
        awakeable_id: str,
        outcome: Literal["resolve", "reject"],
        content: bytes,
        headers: dict[str, str],
    ) -> Operation[None]:
        request = self._request(
            "POST", f"/restate/awakeables/{segment(awakeable_id)}/{outcome}", content=content, headers=headers
        )
        return Operation(request, _expect_success)

    def _op_resolve_awakeable(
        self, awakeable_id: str, value: Any, serde: Serde[Any] | None
    ) -> Operation[None]:
        content, headers = encode_body(value, serde)
        return self._op_awakeable(awakeable_id, "resolve", content, headers)

    def _op_reject_awakeable(self, awakeable_id: str, reason: str) -> Operation[None]:
        return self._op_awakeable(
            awakeable_id, "reject", reason.encode(), {"content-type": "text/plain; charset=utf-8"}
        )

    # -- lookups for handles --------------------------------------------------------------

    @staticmethod
    def _by_id(invocation_id: str) -> str:
        return f"/restate/invocation/{segment(invocation_id)}"

    @staticmethod
    def _by_idempotency_key(target: _Resolved, idempotency_key: str) -> str:
        return f"/restate/invocation{target.path()}/{segment(idempotency_key)}"

    @staticmethod
    def _by_workflow(name: str, key: str) -> str:
        return f"/restate/workflow/{segment(name)}/{segment(key)}"


# ======================================================================================
# sync
# ======================================================================================


class Client(SyncIO, _BaseClient):
    """A blocking client for restate-server's ingress; reuses connections (one ``httpx.Client``).

    Example::

        from restate_ingress import Client

        with Client("http://127.0.0.1:8080") as client:
            client.service("Greeter").call("greet", "Ann")          # 'Hello Ann!'
            client.call(greet, "Ann")                               # typed by the handler
            client.object("Counter", "a").call(add, 1)
            sent = client.service("Greeter").send("greet", "Ann", idempotency_key="k")
            client.invocation(sent.invocation_id).attach()
            wf = client.workflow("Signup", "wf-1").submit("ann@example.com")
            wf.attach()

    Args:
        base_url: the ingress URL, e.g. ``http://127.0.0.1:8080``.
        token: sent as ``Authorization: Bearer <token>``.
        headers: sent with every request.
        timeout: seconds, a timedelta or an ``httpx.Timeout``, for every request. By default a call
            or send waits up to 5 minutes for its answer (``attach()`` up to an hour), connecting up
            to 10 s; with ``http_client`` and no ``timeout``, that client's own settings apply.
            Every method takes ``timeout=`` too.
        transport: an httpx transport (``httpx.MockTransport`` in tests).
        http_client: an ``httpx.Client`` of your own (e.g. instrumented); it is not closed by
            ``close()``. If it follows redirects, a redirect to another origin keeps only content
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
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url, token=token, headers=headers, timeout=timeout)
        self._open(transport, http_client)

    # -- targets ---------------------------------------------------------------------------

    def service(self, name: str) -> Target:
        """A service, by name: ``client.service("Greeter").call("greet", "Ann")``."""
        return Target(self, name, None)

    def object(self, name: str, key: str) -> Target:
        """One virtual object: ``client.object("Counter", "a").call("add", 1)``."""
        return Target(self, name, key)

    @overload
    def workflow(self, workflow: Callable[[Any, I], Awaitable[O]], key: str) -> WorkflowTarget[I, O]: ...
    @overload
    def workflow(self, workflow: Callable[[Any], Awaitable[O]], key: str) -> WorkflowTarget[None, O]: ...
    @overload
    def workflow(self, workflow: Callable[[Any, I], O], key: str) -> WorkflowTarget[I, O]: ...
    @overload
    def workflow(self, workflow: Callable[[Any], O], key: str) -> WorkflowTarget[None, O]: ...
    @overload
    def workflow(self, workflow: str, key: str, *, main: str | None = None) -> WorkflowTarget[Any, Any]: ...
    def workflow(
        self, workflow: str | Handler, key: str, *, main: str | None = None
    ) -> WorkflowTarget[Any, Any]:
        """One workflow run, by name (main handler ``"run"`` unless ``main=`` says otherwise) or by
        its main handler function (then ``submit``/``attach``/``output`` are typed)."""
        name, main_handler = _workflow_main(workflow, main)
        return WorkflowTarget(self, name, key, main_handler)

    # -- typed by the handler function -----------------------------------------------------

    @overload
    def call(
        self,
        handler: Callable[[Any, I], Awaitable[O]],
        arg: I,
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    def call(
        self,
        handler: Callable[[Any, I], O],
        arg: I,
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    def call(
        self,
        handler: Callable[[Any], Awaitable[O]],
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    def call(
        self,
        handler: Callable[[Any], O],
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    def call(
        self,
        handler: Handler,
        arg: Any = NO_INPUT,
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Any:
        """Call a handler given as its function and wait for the result, typed by it.

        Example: ``client.call(greet, "Ann")``, ``client.call(add, 1, key="a")``.
        """
        target = _resolve(None, key, handler)
        return self._run(
            self._op_call(target, arg, idempotency_key=idempotency_key, headers=headers, timeout=timeout)
        )

    def send(
        self,
        handler: Handler,
        arg: Any = NO_INPUT,
        /,
        *,
        key: str | None = None,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> SendResponse:
        """Send to a handler given as its function without waiting (``delay=`` to start later)."""
        target = _resolve(None, key, handler)
        return self._run(
            self._op_send(
                target, arg, delay=delay, idempotency_key=idempotency_key, headers=headers, timeout=timeout
            )
        )

    # -- handles -----------------------------------------------------------------------------

    @overload
    def invocation(
        self, invocation_id: str, *, output_type: type[O], output_serde: Serde[Any] | None = None
    ) -> InvocationHandle[O]: ...
    @overload
    def invocation(
        self, invocation_id: str, *, output_type: None = None, output_serde: Serde[Any] | None = None
    ) -> InvocationHandle[Any]: ...
    def invocation(
        self, invocation_id: str, *, output_type: Any = None, output_serde: Serde[Any] | None = None
    ) -> InvocationHandle[Any]:
        """A handle on an invocation by its id (``inv_...``): ``.attach()`` waits, ``.output()`` does not."""
        serde = output_serde_for(output_type, output_serde)
        return InvocationHandle(self, self._by_id(invocation_id), serde, invocation_id)

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
    ) -> InvocationHandle[O]: ...
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
    ) -> InvocationHandle[Any]: ...
    def idempotent_invocation(
        self,
        service: str,
        handler: str,
        idempotency_key: str,
        *,
        key: str | None = None,
        output_type: Any = None,
        output_serde: Serde[Any] | None = None,
    ) -> InvocationHandle[Any]:
        """A handle on the invocation a call or send with ``idempotency_key`` created."""
        target = _resolve(service, key, handler, output_serde=output_serde, output_type=output_type)
        return InvocationHandle(self, self._by_idempotency_key(target, idempotency_key), target.output_serde)

    # -- awakeables ----------------------------------------------------------------------------

    def resolve_awakeable(
        self, awakeable_id: str, value: Any = None, *, serde: Serde[Any] | None = None
    ) -> None:
        """Complete an awakeable with ``value`` (JSON by default; bytes as is)."""
        self._run(self._op_resolve_awakeable(awakeable_id, value, serde))

    def reject_awakeable(self, awakeable_id: str, reason: str) -> None:
        """Fail an awakeable: the waiting handler sees a TerminalError with ``reason``."""
        self._run(self._op_reject_awakeable(awakeable_id, reason))


class Target:
    """A service, or one virtual object or workflow (with its key), from ``Client``.

    Handlers are given by name (``call("greet", "Ann")``; the output is any JSON unless
    ``output_type=`` or ``output_serde=`` says otherwise) or as the function itself
    (``call(greet, "Ann")``: input and output are coded and typed as the handler declares).
    """

    def __init__(self, client: Client, service: str, key: str | None) -> None:
        self._client = client
        self.service = service
        self.key = key

    def __repr__(self) -> str:
        key = f", {self.key!r}" if self.key is not None else ""
        return f"{type(self).__name__}({self.service!r}{key})"

    @overload
    def call(
        self,
        handler: Callable[[Any, I], Awaitable[O]],
        arg: I,
        /,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    def call(
        self,
        handler: Callable[[Any, I], O],
        arg: I,
        /,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    def call(
        self,
        handler: Callable[[Any], Awaitable[O]],
        /,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    def call(
        self,
        handler: Callable[[Any], O],
        /,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    def call(
        self,
        handler: str,
        arg: Any = ...,
        /,
        *,
        output_type: type[O],
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    def call(
        self,
        handler: str,
        arg: Any = ...,
        /,
        *,
        output_type: None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> Any: ...
    def call(
        self,
        handler: str | Handler,
        arg: Any = NO_INPUT,
        /,
        *,
        output_type: Any = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> Any:
        """Call a handler and wait for its result; a failure raises ``IngressError``."""
        target = _resolve(
            self.service,
            self.key,
            handler,
            input_serde=input_serde,
            output_serde=output_serde,
            output_type=output_type,
        )
        return self._client._run(
            self._client._op_call(
                target, arg, idempotency_key=idempotency_key, headers=headers, timeout=timeout
            )
        )

    def send(
        self,
        handler: str | Handler,
        arg: Any = NO_INPUT,
        /,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        input_serde: Serde[Any] | None = None,
    ) -> SendResponse:
        """Start a handler without waiting; ``delay=`` starts it later. Returns the invocation id."""
        target = _resolve(self.service, self.key, handler, input_serde=input_serde)
        return self._client._run(
            self._client._op_send(
                target, arg, delay=delay, idempotency_key=idempotency_key, headers=headers, timeout=timeout
            )
        )

    @overload
    def invocation(
        self,
        handler: Callable[..., Awaitable[O]],
        idempotency_key: str,
        *,
        output_serde: Serde[Any] | None = None,
    ) -> InvocationHandle[O]: ...
    @overload
    def invocation(
        self,
        handler: Callable[..., O],
        idempotency_key: str,
        *,
        output_serde: Serde[Any] | None = None,
    ) -> InvocationHandle[O]: ...
    @overload
    def invocation(
        self,
        handler: str,
        idempotency_key: str,
        *,
        output_type: type[O],
        output_serde: Serde[Any] | None = None,
    ) -> InvocationHandle[O]: ...
    @overload
    def invocation(
        self,
        handler: str,
        idempotency_key: str,
        *,
        output_type: None = None,
        output_serde: Serde[Any] | None = None,
    ) -> InvocationHandle[Any]: ...
    def invocation(
        self,
        handler: str | Handler,
        idempotency_key: str,
        *,
        output_type: Any = None,
        output_serde: Serde[Any] | None = None,
    ) -> InvocationHandle[Any]:
        """A handle on the invocation of ``handler`` made with ``idempotency_key``."""
        target = _resolve(self.service, self.key, handler, output_serde=output_serde, output_type=output_type)
        return InvocationHandle(
            self._client, self._client._by_idempotency_key(target, idempotency_key), target.output_serde
        )


class WorkflowTarget(Target, Generic[I, O]):
    """One workflow run (a workflow name and key): ``submit`` its main handler, then ``attach``
    or ``output``; ``call``/``send`` reach its shared handlers.

    Example::

        wf = client.workflow("Signup", "wf-1")
        wf.submit("ann@example.com")             # status "Accepted", or "PreviouslyAccepted"
        wf.call("click", "secret")
        wf.attach()                              # the main handler's result
    """

    def __init__(self, client: Client, service: str, key: str, main: str | Handler) -> None:
        super().__init__(client, service, key)
        self._main = _resolve(service, key, main)
        self._lookup = client._by_workflow(service, key)

    def submit(
        self,
        arg: I = NO_INPUT,
        /,
        *,
        delay: timedelta | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> InvocationHandle[O]:
        """Start the workflow's main handler (once per key; a second submit is ``PreviouslyAccepted``)."""
        sent = self._client._run(
            self._client._op_send(self._main, arg, delay=delay, headers=headers, timeout=timeout)
        )
        return InvocationHandle(
            self._client, self._lookup, self._main.output_serde, sent.invocation_id, sent.status
        )

    def handle(self) -> InvocationHandle[O]:
        """A handle on this workflow run's main invocation, without starting it."""
        return InvocationHandle(self._client, self._lookup, self._main.output_serde)

    def attach(self, *, timeout: Timeout = DEFAULT) -> O:
        """Wait for the workflow's result."""
        return self.handle().attach(timeout=timeout)

    def output(self, *, timeout: Timeout = DEFAULT) -> O:
        """The workflow's result if it has finished; ``NotReady`` otherwise."""
        return self.handle().output(timeout=timeout)


class InvocationHandle(Generic[O]):
    """An invocation found by id, idempotency key or workflow key.

    ``attach()`` waits for the result; ``output()`` returns it only if the invocation has
    completed and raises ``NotReady`` otherwise. A terminal failure raises ``IngressError``.
    ``invocation_id`` and ``status`` are known when the handle came from a send or submit.
    """

    def __init__(
        self,
        client: Client,
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

    def attach(self, *, timeout: Timeout = DEFAULT) -> O:
        """Wait for the invocation to finish and return its output."""
        return self._client._run(
            self._client._op_result(self._lookup, "attach", self._serde, self.invocation_id, timeout)
        )

    def output(self, *, timeout: Timeout = DEFAULT) -> O:
        """The output of a finished invocation; ``NotReady`` if it is still running."""
        return self._client._run(
            self._client._op_result(self._lookup, "output", self._serde, self.invocation_id, timeout)
        )


# ======================================================================================
# async: the same surface, awaited
# ======================================================================================


class AsyncClient(AsyncIO, _BaseClient):
    """The asyncio twin of ``Client`` (one ``httpx.AsyncClient``; never blocks the event loop).

    Example::

        async with AsyncClient("http://127.0.0.1:8080") as client:
            await client.service("Greeter").call("greet", "Ann")
            await client.call(greet, "Ann")
            wf = await client.workflow("Signup", "wf-1").submit("ann@example.com")
            await wf.attach()
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

    def service(self, name: str) -> AsyncTarget:
        """A service, by name: ``await client.service("Greeter").call("greet", "Ann")``."""
        return AsyncTarget(self, name, None)

    def object(self, name: str, key: str) -> AsyncTarget:
        """One virtual object: ``await client.object("Counter", "a").call("add", 1)``."""
        return AsyncTarget(self, name, key)

    @overload
    def workflow(self, workflow: Callable[[Any, I], Awaitable[O]], key: str) -> AsyncWorkflowTarget[I, O]: ...
    @overload
    def workflow(self, workflow: Callable[[Any], Awaitable[O]], key: str) -> AsyncWorkflowTarget[None, O]: ...
    @overload
    def workflow(self, workflow: Callable[[Any, I], O], key: str) -> AsyncWorkflowTarget[I, O]: ...
    @overload
    def workflow(self, workflow: Callable[[Any], O], key: str) -> AsyncWorkflowTarget[None, O]: ...
    @overload
    def workflow(
        self, workflow: str, key: str, *, main: str | None = None
    ) -> AsyncWorkflowTarget[Any, Any]: ...
    def workflow(
        self, workflow: str | Handler, key: str, *, main: str | None = None
    ) -> AsyncWorkflowTarget[Any, Any]:
        """One workflow run, by name or by its main handler function (see ``Client.workflow``)."""
        name, main_handler = _workflow_main(workflow, main)
        return AsyncWorkflowTarget(self, name, key, main_handler)

    @overload
    async def call(
        self,
        handler: Callable[[Any, I], Awaitable[O]],
        arg: I,
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: Callable[[Any, I], O],
        arg: I,
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: Callable[[Any], Awaitable[O]],
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: Callable[[Any], O],
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
    ) -> O: ...
    async def call(
        self,
        handler: Handler,
        arg: Any = NO_INPUT,
        /,
        *,
        key: str | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Any:
        """Call a handler given as its function and wait for the result, typed by it."""
        target = _resolve(None, key, handler)
        return await self._run(
            self._op_call(target, arg, idempotency_key=idempotency_key, headers=headers, timeout=timeout)
        )

    async def send(
        self,
        handler: Handler,
        arg: Any = NO_INPUT,
        /,
        *,
        key: str | None = None,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> SendResponse:
        """Send to a handler given as its function without waiting (``delay=`` to start later)."""
        target = _resolve(None, key, handler)
        return await self._run(
            self._op_send(
                target, arg, delay=delay, idempotency_key=idempotency_key, headers=headers, timeout=timeout
            )
        )

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
        """A handle on an invocation by its id: ``await .attach()`` waits, ``await .output()`` does not."""
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
        target = _resolve(service, key, handler, output_serde=output_serde, output_type=output_type)
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
    """The asyncio twin of ``Target``."""

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
        handler: Callable[[Any, I], Awaitable[O]],
        arg: I,
        /,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: Callable[[Any, I], O],
        arg: I,
        /,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: Callable[[Any], Awaitable[O]],
        /,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        output_serde: Serde[Any] | None = None,
    ) -> O: ...
    @overload
    async def call(
        self,
        handler: Callable[[Any], O],
        /,
        *,
        idempotency_key: str | None = None,
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
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = ...,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> Any: ...
    async def call(
        self,
        handler: str | Handler,
        arg: Any = NO_INPUT,
        /,
        *,
        output_type: Any = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
    ) -> Any:
        """Call a handler and wait for its result; a failure raises ``IngressError``."""
        target = _resolve(
            self.service,
            self.key,
            handler,
            input_serde=input_serde,
            output_serde=output_serde,
            output_type=output_type,
        )
        return await self._client._run(
            self._client._op_call(
                target, arg, idempotency_key=idempotency_key, headers=headers, timeout=timeout
            )
        )

    async def send(
        self,
        handler: str | Handler,
        arg: Any = NO_INPUT,
        /,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        input_serde: Serde[Any] | None = None,
    ) -> SendResponse:
        """Start a handler without waiting; ``delay=`` starts it later. Returns the invocation id."""
        target = _resolve(self.service, self.key, handler, input_serde=input_serde)
        return await self._client._run(
            self._client._op_send(
                target, arg, delay=delay, idempotency_key=idempotency_key, headers=headers, timeout=timeout
            )
        )

    @overload
    def invocation(
        self,
        handler: Callable[..., Awaitable[O]],
        idempotency_key: str,
        *,
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[O]: ...
    @overload
    def invocation(
        self,
        handler: Callable[..., O],
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
        handler: str | Handler,
        idempotency_key: str,
        *,
        output_type: Any = None,
        output_serde: Serde[Any] | None = None,
    ) -> AsyncInvocationHandle[Any]:
        """A handle on the invocation of ``handler`` made with ``idempotency_key``."""
        target = _resolve(self.service, self.key, handler, output_serde=output_serde, output_type=output_type)
        return AsyncInvocationHandle(
            self._client, self._client._by_idempotency_key(target, idempotency_key), target.output_serde
        )


class AsyncWorkflowTarget(AsyncTarget, Generic[I, O]):
    """The asyncio twin of ``WorkflowTarget``."""

    def __init__(self, client: AsyncClient, service: str, key: str, main: str | Handler) -> None:
        super().__init__(client, service, key)
        self._main = _resolve(service, key, main)
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
    """The asyncio twin of ``InvocationHandle``."""

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
