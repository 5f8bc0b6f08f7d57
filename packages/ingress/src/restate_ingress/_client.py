"""What ``Client`` and ``AsyncClient`` share: request building and response parsing, no I/O.

All of it lives in ``BaseClient`` (it returns ``Operation`` values); the clients only differ in
``_run``, the one call that does I/O. ``AsyncClient`` and its targets and handles are written
once, in ``_async_client.py``; ``_sync_client.py`` is generated from it (``scripts/unasync.py``).

Paths used (they work on restate-server 1.0 to 1.7):

- call ``POST /{service}[/{key}]/{handler}``, send ``POST .../{handler}/send[?delay=5000ms]``;
  with a scope (restate-server 1.7 with vqueues) ``POST /restate/scope/{scope}/call|send/{service}[/{key}]/{handler}``
  and the limit key in the ``x-restate-limit-key`` header
- attach/output ``GET /restate/invocation/{id}/attach|output``,
  ``GET /restate/invocation/{service}[/{key}]/{handler}/{idempotency_key}/attach|output``,
  ``GET /restate/workflow/{name}/{key}/attach|output``
- awakeables ``POST /restate/awakeables/{id}/resolve|reject``
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, ParamSpec, TypeAlias, TypeVar

import httpx
from restate_sdk import ObjectHandler, Serde, ServiceHandler, WorkflowHandler, handler_info, serde_for
from restate_sdk._engine.engine import check_scope

from ._errors import check_response
from ._http import DEFAULT, HTTPBase
from ._models import (
    DEFAULT_ATTACH_TIMEOUT,
    DEFAULT_TIMEOUT,
    NO_INPUT,
    Operation,
    SendResponse,
    Timeout,
    decode_output,
    delay_param,
    encode_body,
    merge_headers,
    output_serde_for,
    parse_send_response,
    segment,
)

__all__ = ["AnyHandler", "BaseClient", "Handler", "resolve_target", "workflow_main"]

P = ParamSpec("P")
R = TypeVar("R")

AnyHandler: TypeAlias = ServiceHandler[P, R] | ObjectHandler[P, R] | WorkflowHandler[P, R]
"""A decorated handler of any kind (``AnyHandler[[Any, I], O]``: one that takes an ``I``)."""

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


def resolve_target(
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


def workflow_main(workflow: str | Handler, handler: str | Handler | None) -> tuple[str, str | Handler]:
    """The workflow name and its main handler (``"run"`` unless told otherwise)."""
    if isinstance(workflow, str):
        return workflow, handler if handler is not None else "run"
    info = handler_info(workflow)
    if info.service_kind != "workflow" or info.kind != "workflow":
        raise ValueError(f"{info.service_name}.{info.name} is not a workflow's main handler")
    return info.service_name, handler if handler is not None else workflow


class BaseClient(HTTPBase):
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
        scope: str | None,
        limit_key: str | None,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
    ) -> httpx.Request:
        try:
            check_scope(scope, limit_key)  # as restate-server takes them (protocol-v7.md §9.2)
        except ValueError as e:
            raise ValueError(f"{e} (scopes need restate-server 1.7 with vqueues enabled)") from None
        if target.has_input is False:
            arg = NO_INPUT  # the handler takes no input: send no body
        elif target.has_input and arg is NO_INPUT:
            arg = None  # a typed handler that takes an input: send what None encodes to
        content, content_headers = encode_body(arg, target.input_serde)
        extra: dict[str, str] = {}
        if idempotency_key is not None:
            extra["idempotency-key"] = idempotency_key
        if limit_key is not None:
            extra["x-restate-limit-key"] = limit_key
        params = {"delay": delay_param(delay)} if send and delay is not None else None
        if scope is not None:  # scoped: POST /restate/scope/{scope}/call|send/{service}[/{key}]/{handler}
            path = f"/restate/scope/{segment(scope)}/{'send' if send else 'call'}{target.path()}"
        else:
            path = target.path() + ("/send" if send else "")
        return self._request(
            "POST",
            path,
            content=content,
            headers=merge_headers(content_headers, headers, extra or None),
            params=params,
            timeout=timeout,
        )

    def _op_call(
        self,
        target: _Resolved,
        arg: Any,
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Operation[Any]:
        request = self._invoke(
            target,
            arg,
            send=False,
            delay=None,
            idempotency_key=idempotency_key,
            scope=scope,
            limit_key=limit_key,
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
        scope: str | None = None,
        limit_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Operation[SendResponse]:
        request = self._invoke(
            target,
            arg,
            send=True,
            delay=delay,
            idempotency_key=idempotency_key,
            scope=scope,
            limit_key=limit_key,
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
