"""Service, VirtualObject and Workflow definitions, and the handler decorator.

A decorated handler stays the plain function the user wrote (so it can be called directly in
unit tests); its Restate description hangs off it as ``HandlerInfo``.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, TypeVar

from ._codecs import Serde, serde_for
from ._errors import SdkUsageError
from ._failures import AsTerminalError, check_as_terminal_error

__all__ = [
    "HandlerInfo",
    "RetryPolicy",
    "Service",
    "ServiceOptions",
    "VirtualObject",
    "Workflow",
    "handler_info",
]

F = TypeVar("F", bound=Callable[..., Any])
ServiceKind = Literal["service", "object", "workflow"]
HandlerKind = Literal["exclusive", "shared", "workflow"]

_ATTR = "__restate_handler__"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """The server's retry policy for a service or handler (discovery manifest v4).

    ``on_max_attempts`` says what happens when attempts run out: ``"pause"`` (resume by hand)
    or ``"kill"``.
    """

    initial_interval: timedelta | None = None
    max_interval: timedelta | None = None
    max_attempts: int | None = None
    exponentiation_factor: float | None = None
    on_max_attempts: Literal["pause", "kill"] | None = None


@dataclass(frozen=True, kw_only=True)
class ServiceOptions:
    """Options shared by services and handlers; None means the server's default."""

    documentation: str | None = None
    metadata: Mapping[str, str] | None = None
    inactivity_timeout: timedelta | None = None
    abort_timeout: timedelta | None = None
    journal_retention: timedelta | None = None
    idempotency_retention: timedelta | None = None
    workflow_retention: timedelta | None = None
    ingress_private: bool | None = None
    enable_lazy_state: bool | None = None
    retry_policy: RetryPolicy | None = None


@dataclass(frozen=True, kw_only=True)
class HandlerInfo:
    """What Restate knows of one handler."""

    service_name: str
    service_kind: ServiceKind
    name: str
    kind: HandlerKind | None
    fn: Callable[..., Any]
    has_input: bool
    input_type: Any
    output_type: Any
    input_serde: Serde[Any]
    output_serde: Serde[Any]
    accept: str
    is_async: bool
    options: ServiceOptions = field(default_factory=ServiceOptions)
    as_terminal_error: AsTerminalError | None = None
    """Maps an exception to a TerminalError (None: keep retrying). In the endpoint's copy (from
    ``restate.app``) it is the effective one: the handler's, else the service's, else the app's."""

    @property
    def keyed(self) -> bool:
        return self.service_kind != "service"


def handler_info(fn: Callable[..., Any]) -> HandlerInfo:
    """The Restate description of a decorated handler; ``SdkUsageError`` if ``fn`` is not one."""
    info = getattr(fn, _ATTR, None)
    if not isinstance(info, HandlerInfo):
        raise SdkUsageError(f"{fn!r} is not a Restate handler (decorate it with @service.handler())")
    return info


class _Definition:
    _service_kind: ServiceKind

    def __init__(
        self,
        name: str,
        *,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        inactivity_timeout: timedelta | None = None,
        abort_timeout: timedelta | None = None,
        journal_retention: timedelta | None = None,
        idempotency_retention: timedelta | None = None,
        ingress_private: bool | None = None,
        enable_lazy_state: bool | None = None,
        retry_policy: RetryPolicy | None = None,
        as_terminal_error: AsTerminalError | None = None,
    ) -> None:
        if not name or name.lower().startswith("restate") or name == "openapi":
            raise SdkUsageError(f"invalid service name {name!r}")
        self.name = name
        self.options = ServiceOptions(
            documentation=description,
            metadata=metadata,
            inactivity_timeout=inactivity_timeout,
            abort_timeout=abort_timeout,
            journal_retention=journal_retention,
            idempotency_retention=idempotency_retention,
            ingress_private=ingress_private,
            enable_lazy_state=enable_lazy_state,
            retry_policy=retry_policy,
        )
        self.handlers: dict[str, HandlerInfo] = {}
        self.as_terminal_error = check_as_terminal_error(as_terminal_error, f"service {name}")

    @property
    def kind(self) -> ServiceKind:
        return self._service_kind

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, handlers={sorted(self.handlers)})"

    def _register(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None,
        kind: HandlerKind | None,
        accept: str | None,
        input_serde: Serde[Any] | None,
        output_serde: Serde[Any] | None,
        options: ServiceOptions,
        as_terminal_error: AsTerminalError | None = None,
    ) -> None:
        handler_name = name or fn.__name__
        if handler_name in self.handlers:
            raise SdkUsageError(f"{self.name} already has a handler named {handler_name!r}")
        params = list(inspect.signature(fn).parameters.values())
        if not params or len(params) > 2:
            raise SdkUsageError(
                f"handler {self.name}.{handler_name} must take (ctx) or (ctx, input), got {len(params)} parameters"
            )
        try:
            hints = typing.get_type_hints(fn)
        except Exception:  # unresolvable forward references: fall back to "any JSON"
            hints = {}
        has_input = len(params) == 2
        input_type = hints.get(params[1].name, Any) if has_input else type(None)
        output_type = hints.get("return", Any)
        if output_type is None:
            output_type = type(None)
        in_serde = input_serde or serde_for(input_type)
        info = HandlerInfo(
            service_name=self.name,
            service_kind=self._service_kind,
            name=handler_name,
            kind=kind,
            fn=fn,
            has_input=has_input,
            input_type=input_type,
            output_type=output_type,
            input_serde=in_serde,
            output_serde=output_serde or serde_for(output_type),
            accept=accept or in_serde.content_type,
            is_async=inspect.iscoroutinefunction(fn),
            options=options,
            as_terminal_error=check_as_terminal_error(
                as_terminal_error, f"handler {self.name}.{handler_name}"
            ),
        )
        self.handlers[handler_name] = info
        setattr(fn, _ATTR, info)

    def _decorator(
        self,
        name: str | None,
        kind: HandlerKind | None,
        *,
        accept: str | None,
        input_serde: Serde[Any] | None,
        output_serde: Serde[Any] | None,
        as_terminal_error: AsTerminalError | None = None,
        **options: Any,
    ) -> Callable[[F], F]:
        handler_options = ServiceOptions(**options)

        def decorate(fn: F) -> F:
            self._register(
                fn,
                name=name,
                kind=kind,
                accept=accept,
                input_serde=input_serde,
                output_serde=output_serde,
                options=handler_options,
                as_terminal_error=as_terminal_error,
            )
            return fn

        return decorate


class Service(_Definition):
    """A stateless service: a group of handlers that can run concurrently.

    Example::

        greeter = restate.Service("Greeter")

        @greeter.handler()
        async def greet(ctx: restate.Context, name: str) -> str:
            return f"Hello {name}!"
    """

    _service_kind: ServiceKind = "service"

    def handler(
        self,
        name: str | None = None,
        *,
        documentation: str | None = None,
        metadata: Mapping[str, str] | None = None,
        inactivity_timeout: timedelta | None = None,
        abort_timeout: timedelta | None = None,
        journal_retention: timedelta | None = None,
        idempotency_retention: timedelta | None = None,
        ingress_private: bool | None = None,
        retry_policy: RetryPolicy | None = None,
        accept: str | None = None,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
        as_terminal_error: AsTerminalError | None = None,
    ) -> Callable[[F], F]:
        """Register a handler of this service."""
        return self._decorator(
            name,
            None,
            documentation=documentation,
            metadata=metadata,
            inactivity_timeout=inactivity_timeout,
            abort_timeout=abort_timeout,
            journal_retention=journal_retention,
            idempotency_retention=idempotency_retention,
            ingress_private=ingress_private,
            retry_policy=retry_policy,
            accept=accept,
            input_serde=input_serde,
            output_serde=output_serde,
            as_terminal_error=as_terminal_error,
        )


class VirtualObject(_Definition):
    """A keyed object with durable state; exclusive handlers of one key run one at a time.

    Example::

        counter = restate.VirtualObject("Counter")

        @counter.handler()                      # exclusive
        async def add(ctx: restate.ObjectContext, delta: int) -> int: ...

        @counter.handler(kind="shared")         # concurrent, read-only state
        async def current(ctx: restate.ObjectSharedContext) -> int: ...
    """

    _service_kind: ServiceKind = "object"

    def handler(
        self,
        name: str | None = None,
        *,
        kind: Literal["exclusive", "shared"] = "exclusive",
        documentation: str | None = None,
        metadata: Mapping[str, str] | None = None,
        inactivity_timeout: timedelta | None = None,
        abort_timeout: timedelta | None = None,
        journal_retention: timedelta | None = None,
        idempotency_retention: timedelta | None = None,
        ingress_private: bool | None = None,
        enable_lazy_state: bool | None = None,
        retry_policy: RetryPolicy | None = None,
        accept: str | None = None,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
        as_terminal_error: AsTerminalError | None = None,
    ) -> Callable[[F], F]:
        """Register a handler; ``kind="shared"`` for a concurrent, read-only one."""
        if kind not in ("exclusive", "shared"):
            raise SdkUsageError(f"a virtual object handler is 'exclusive' or 'shared', not {kind!r}")
        return self._decorator(
            name,
            kind,
            documentation=documentation,
            metadata=metadata,
            inactivity_timeout=inactivity_timeout,
            abort_timeout=abort_timeout,
            journal_retention=journal_retention,
            idempotency_retention=idempotency_retention,
            ingress_private=ingress_private,
            enable_lazy_state=enable_lazy_state,
            retry_policy=retry_policy,
            accept=accept,
            input_serde=input_serde,
            output_serde=output_serde,
            as_terminal_error=as_terminal_error,
        )


class Workflow(_Definition):
    """A workflow: one ``main`` handler that runs once per key, plus shared handlers.

    Example::

        signup = restate.Workflow("Signup")

        @signup.main()
        async def run(ctx: restate.WorkflowContext, email: str) -> str: ...

        @signup.handler()
        async def click(ctx: restate.WorkflowSharedContext, secret: str) -> None: ...
    """

    _service_kind: ServiceKind = "workflow"

    def main(
        self,
        name: str | None = None,
        *,
        documentation: str | None = None,
        metadata: Mapping[str, str] | None = None,
        inactivity_timeout: timedelta | None = None,
        abort_timeout: timedelta | None = None,
        journal_retention: timedelta | None = None,
        workflow_retention: timedelta | None = None,
        ingress_private: bool | None = None,
        enable_lazy_state: bool | None = None,
        retry_policy: RetryPolicy | None = None,
        accept: str | None = None,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
        as_terminal_error: AsTerminalError | None = None,
    ) -> Callable[[F], F]:
        """Register the workflow's main handler (runs exactly once per workflow key)."""
        if any(h.kind == "workflow" for h in self.handlers.values()):
            raise SdkUsageError(f"workflow {self.name} already has a main handler")
        return self._decorator(
            name,
            "workflow",
            documentation=documentation,
            metadata=metadata,
            inactivity_timeout=inactivity_timeout,
            abort_timeout=abort_timeout,
            journal_retention=journal_retention,
            workflow_retention=workflow_retention,
            ingress_private=ingress_private,
            enable_lazy_state=enable_lazy_state,
            retry_policy=retry_policy,
            accept=accept,
            input_serde=input_serde,
            output_serde=output_serde,
            as_terminal_error=as_terminal_error,
        )

    def handler(
        self,
        name: str | None = None,
        *,
        documentation: str | None = None,
        metadata: Mapping[str, str] | None = None,
        inactivity_timeout: timedelta | None = None,
        abort_timeout: timedelta | None = None,
        journal_retention: timedelta | None = None,
        idempotency_retention: timedelta | None = None,
        ingress_private: bool | None = None,
        enable_lazy_state: bool | None = None,
        retry_policy: RetryPolicy | None = None,
        accept: str | None = None,
        input_serde: Serde[Any] | None = None,
        output_serde: Serde[Any] | None = None,
        as_terminal_error: AsTerminalError | None = None,
    ) -> Callable[[F], F]:
        """Register a shared handler (signals, queries) of the workflow."""
        return self._decorator(
            name,
            "shared",
            documentation=documentation,
            metadata=metadata,
            inactivity_timeout=inactivity_timeout,
            abort_timeout=abort_timeout,
            journal_retention=journal_retention,
            idempotency_retention=idempotency_retention,
            ingress_private=ingress_private,
            enable_lazy_state=enable_lazy_state,
            retry_policy=retry_policy,
            accept=accept,
            input_serde=input_serde,
            output_serde=output_serde,
            as_terminal_error=as_terminal_error,
        )
