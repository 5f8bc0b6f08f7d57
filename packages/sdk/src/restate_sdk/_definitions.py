"""Service, VirtualObject and Workflow definitions, and the handler decorator.

A decorated handler stays the plain function the user wrote (so it can be called directly in
unit tests); its Restate description hangs off it as ``HandlerInfo``. For the type checker the
decorators turn it into a handler reference (``ServiceHandler``, ``ObjectHandler``,
``WorkflowHandler``) that keeps its signature and adds its target kind, so that a call through
the Context or the ingress client can check the kind, the key and the input.

Every option is declared once, in the TypedDicts below; the decorators take them as keywords.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import CodeType
from typing import Any, Literal, ParamSpec, Protocol, TypedDict, TypeVar, Unpack, cast

from ._codecs import Serde, serde_for
from ._errors import SdkUsageError
from ._failures import AsTerminalError, check_as_terminal_error

__all__ = [
    "DefinitionOptions",
    "HandlerInfo",
    "ObjectHandler",
    "ObjectHandlerOptions",
    "RetryPolicy",
    "Service",
    "ServiceHandler",
    "ServiceHandlerOptions",
    "ServiceOptions",
    "VirtualObject",
    "Workflow",
    "WorkflowHandler",
    "WorkflowMainOptions",
    "handler_for_code",
    "handler_info",
]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
ServiceKind = Literal["service", "object", "workflow"]
HandlerKind = Literal["exclusive", "shared", "workflow"]

_ATTR = "__restate_handler__"
_TARGET = "__restate_target__"


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


# ---- options: each one declared once; None (or absent) means the server's default ----------------


class _CommonOptions(TypedDict, total=False):
    metadata: Mapping[str, str] | None
    """Key/value pairs shown in the admin API and UI."""
    inactivity_timeout: timedelta | None
    """How long an invocation may make no progress before the server suspends or retries it."""
    abort_timeout: timedelta | None
    """How long after the inactivity timeout the server aborts the attempt."""
    journal_retention: timedelta | None
    """How long the server keeps the journal after the invocation ended."""
    ingress_private: bool | None
    """True: callable only from other handlers, not through the ingress."""
    retry_policy: RetryPolicy | None
    """The server's retry policy for failed attempts."""


class _IdempotencyOption(TypedDict, total=False):
    idempotency_retention: timedelta | None
    """How long the server remembers an idempotency key's result."""


class _LazyStateOption(TypedDict, total=False):
    enable_lazy_state: bool | None
    """True: state is fetched when read instead of sent with every invocation."""


class _DocumentationOption(TypedDict, total=False):
    documentation: str | None
    """A description of the handler, shown in discovery."""


class _CodecOptions(TypedDict, total=False):
    accept: str | None
    """The content type the handler accepts (default: its input serde's)."""
    input_serde: Serde[Any] | None
    """How the input is decoded (default: chosen from the input's type hint)."""
    output_serde: Serde[Any] | None
    """How the output is encoded (default: chosen from the return type hint)."""


class _FailureOption(TypedDict, total=False):
    as_terminal_error: AsTerminalError | None
    """Maps an exception to a ``TerminalError`` (or None: keep retrying); the innermost one wins."""


class _WorkflowRetentionOption(TypedDict, total=False):
    workflow_retention: timedelta | None
    """How long the server keeps a finished workflow's result and state."""


class DefinitionOptions(_CommonOptions, _IdempotencyOption, _LazyStateOption, _FailureOption, total=False):
    """Options of ``Service(...)``, ``VirtualObject(...)`` and ``Workflow(...)`` themselves."""

    description: str | None
    """A description of the service, shown in discovery."""


class ServiceHandlerOptions(
    _CommonOptions, _IdempotencyOption, _DocumentationOption, _CodecOptions, _FailureOption, total=False
):
    """Options of ``Service.handler()``."""


class ObjectHandlerOptions(ServiceHandlerOptions, _LazyStateOption, total=False):
    """Options of ``VirtualObject.handler()`` and ``Workflow.handler()``."""


class WorkflowMainOptions(
    _CommonOptions,
    _LazyStateOption,
    _DocumentationOption,
    _CodecOptions,
    _FailureOption,
    _WorkflowRetentionOption,
    total=False,
):
    """Options of ``Workflow.main()``."""


class ServiceOptions(
    _CommonOptions,
    _IdempotencyOption,
    _LazyStateOption,
    _DocumentationOption,
    _WorkflowRetentionOption,
    total=False,
):
    """The options a service or handler was defined with, as discovery reads them."""


def _check_options(given: Mapping[str, Any], allowed: type[Any], where: str) -> None:
    keys: frozenset[str] = allowed.__optional_keys__
    unknown = sorted(set(given) - keys)
    if unknown:
        raise SdkUsageError(
            f"{where} got unknown option(s) {', '.join(map(repr, unknown))}; "
            f"the options are: {', '.join(sorted(keys))}"
        )


def _stored(options: Mapping[str, Any]) -> ServiceOptions:
    return cast(
        "ServiceOptions", {k: v for k, v in options.items() if k not in _CodecOptions.__optional_keys__}
    )


# ---- handler references: what the decorators give back, for the type checker ---------------------


class ServiceHandler(Protocol[P, R_co]):
    """A service's handler as its decorator returns it: the function, plus its target kind.

    ``ctx.service_call``, ``ctx.service_send`` and ``Client.call`` (without a key) accept it.
    """

    @property
    def __restate_target__(self) -> Literal["service"]: ...
    @property
    def __restate_handler__(self) -> HandlerInfo: ...
    @property
    def __name__(self) -> str: ...
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


class ObjectHandler(Protocol[P, R_co]):
    """A virtual object's handler (exclusive or shared): called with a key.

    ``ctx.object_call``, ``ctx.object_send`` and ``Client.call(..., key=)`` accept it.
    """

    @property
    def __restate_target__(self) -> Literal["object"]: ...
    @property
    def __restate_handler__(self) -> HandlerInfo: ...
    @property
    def __name__(self) -> str: ...
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


class WorkflowHandler(Protocol[P, R_co]):
    """A workflow's handler (its main handler or a shared one): called with the workflow key.

    ``ctx.workflow_call``, ``ctx.workflow_send``, ``Client.call(..., key=)`` and
    ``Client.workflow`` (its main handler) accept it.
    """

    @property
    def __restate_target__(self) -> Literal["workflow"]: ...
    @property
    def __restate_handler__(self) -> HandlerInfo: ...
    @property
    def __name__(self) -> str: ...
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


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
    options: ServiceOptions = field(default_factory=lambda: ServiceOptions())
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


# Every decorated handler by its code object: lets restate_mocks find the handler a MockContext is
# running in (and so its kind) from the call stack.
_BY_CODE: dict[CodeType, HandlerInfo] = {}


def handler_for_code(code: CodeType) -> HandlerInfo | None:
    """The handler whose function body is ``code``, if one was decorated."""
    return _BY_CODE.get(code)


class _Definition:
    _service_kind: ServiceKind

    def __init__(self, name: str, **options: Unpack[DefinitionOptions]) -> None:
        if not name or name.lower().startswith("restate") or name == "openapi":
            raise SdkUsageError(f"invalid service name {name!r}")
        _check_options(options, DefinitionOptions, f"{type(self).__name__}({name!r})")
        self.name = name
        stored: dict[str, Any] = dict(options)
        if "description" in stored:
            stored["documentation"] = stored.pop("description")
        self.options: ServiceOptions = _stored(stored)
        self.handlers: dict[str, HandlerInfo] = {}
        self.as_terminal_error = check_as_terminal_error(options.get("as_terminal_error"), f"service {name}")

    @property
    def kind(self) -> ServiceKind:
        return self._service_kind

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, handlers={sorted(self.handlers)})"

    def _register(
        self, fn: Callable[..., Any], name: str | None, kind: HandlerKind | None, options: Mapping[str, Any]
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
        input_serde: Serde[Any] | None = options.get("input_serde")
        output_serde: Serde[Any] | None = options.get("output_serde")
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
            accept=options.get("accept") or in_serde.content_type,
            is_async=inspect.iscoroutinefunction(fn),
            options=_stored(options),
            as_terminal_error=check_as_terminal_error(
                options.get("as_terminal_error"), f"handler {self.name}.{handler_name}"
            ),
        )
        self.handlers[handler_name] = info
        setattr(fn, _ATTR, info)
        setattr(fn, _TARGET, self._service_kind)
        code = getattr(fn, "__code__", None)
        if isinstance(code, CodeType):
            _BY_CODE[code] = info

    def _decorator(
        self, name: str | None, kind: HandlerKind | None, options: Mapping[str, Any], allowed: type[Any]
    ) -> Callable[[Callable[..., Any]], Any]:
        where = "main()" if kind == "workflow" else "handler()"
        _check_options(options, allowed, f"{self.name}.{where}")

        def decorate(fn: Callable[..., Any]) -> Any:
            self._register(fn, name, kind, options)
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
        self, name: str | None = None, **options: Unpack[ServiceHandlerOptions]
    ) -> Callable[[Callable[P, R]], ServiceHandler[P, R]]:
        """Register a handler of this service (``async def`` or plain ``def``)."""
        return self._decorator(name, None, options, ServiceHandlerOptions)


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
        **options: Unpack[ObjectHandlerOptions],
    ) -> Callable[[Callable[P, R]], ObjectHandler[P, R]]:
        """Register a handler; ``kind="shared"`` for a concurrent, read-only one."""
        if kind not in ("exclusive", "shared"):
            raise SdkUsageError(f"a virtual object handler is 'exclusive' or 'shared', not {kind!r}")
        return self._decorator(name, kind, options, ObjectHandlerOptions)


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
        self, name: str | None = None, **options: Unpack[WorkflowMainOptions]
    ) -> Callable[[Callable[P, R]], WorkflowHandler[P, R]]:
        """Register the workflow's main handler (runs exactly once per workflow key)."""
        if any(h.kind == "workflow" for h in self.handlers.values()):
            raise SdkUsageError(f"workflow {self.name} already has a main handler")
        return self._decorator(name, "workflow", options, WorkflowMainOptions)

    def handler(
        self, name: str | None = None, **options: Unpack[ObjectHandlerOptions]
    ) -> Callable[[Callable[P, R]], WorkflowHandler[P, R]]:
        """Register a shared handler (signals, queries) of the workflow."""
        return self._decorator(name, "shared", options, ObjectHandlerOptions)
