"""``as_terminal_error=`` on the app, a service and a handler: the innermost wins, resolved per handler."""

from __future__ import annotations

import pytest
import restate_sdk as restate
from restate_sdk._failures import Retry, Terminal, classify


def by_app(e: Exception) -> restate.TerminalError | None:
    return restate.TerminalError(f"app: {e}")


def by_service(e: Exception) -> restate.TerminalError | None:
    return restate.TerminalError(f"service: {e}", status_code=422) if isinstance(e, ValueError) else None


def by_handler(e: Exception) -> restate.TerminalError | None:
    return restate.TerminalError(f"handler: {e}", status_code=400)


def build() -> tuple[restate.Service, restate.VirtualObject, restate.Workflow]:
    svc = restate.Service("Mapped", as_terminal_error=by_service)

    @svc.handler(as_terminal_error=by_handler)
    async def own(ctx: restate.Context) -> None: ...

    @svc.handler()
    async def inherits(ctx: restate.Context) -> None: ...

    obj = restate.VirtualObject("Plain")

    @obj.handler()
    async def add(ctx: restate.ObjectContext) -> None: ...

    @obj.handler(kind="shared", as_terminal_error=by_handler)
    async def peek(ctx: restate.ObjectSharedContext) -> None: ...

    wf = restate.Workflow("Flow", as_terminal_error=by_service)

    @wf.main(as_terminal_error=by_handler)
    async def run(ctx: restate.WorkflowContext) -> None: ...

    @wf.handler()
    async def signal(ctx: restate.WorkflowSharedContext) -> None: ...

    return svc, obj, wf


def test_the_innermost_wins() -> None:
    app = restate.app(build(), as_terminal_error=by_app)
    effective = {
        (s, h): app._lookup(s, h).as_terminal_error  # type: ignore[union-attr]
        for s, h in [
            ("Mapped", "own"),
            ("Mapped", "inherits"),
            ("Plain", "add"),
            ("Plain", "peek"),
            ("Flow", "run"),
            ("Flow", "signal"),
        ]
    }
    assert effective == {
        ("Mapped", "own"): by_handler,
        ("Mapped", "inherits"): by_service,
        ("Plain", "add"): by_app,
        ("Plain", "peek"): by_handler,
        ("Flow", "run"): by_handler,
        ("Flow", "signal"): by_service,
    }


def test_without_any_mapper_nothing_is_set() -> None:
    obj = restate.VirtualObject("Bare")

    @obj.handler()
    async def add(ctx: restate.ObjectContext) -> None: ...

    info = restate.app([obj])._lookup("Bare", "add")
    assert info is not None
    assert info.as_terminal_error is None
    assert info is restate.handler_info(add)  # nothing to resolve: the definition's own info


def test_two_apps_over_one_service_resolve_apart() -> None:
    services = build()
    first = restate.app(services, as_terminal_error=by_app)
    second = restate.app(services)
    a, b = first._lookup("Plain", "add"), second._lookup("Plain", "add")
    assert a is not None and b is not None
    assert (a.as_terminal_error, b.as_terminal_error) == (by_app, None)
    # the definition keeps what was set on the handler itself
    assert services[1].handlers["add"].as_terminal_error is None


def test_the_resolved_mapper_drives_the_verdict() -> None:
    app = restate.app(build(), as_terminal_error=by_app)
    inherits = app._lookup("Mapped", "inherits")
    assert inherits is not None
    verdict = classify(
        ValueError("x"), handler="Mapped.inherits", as_terminal_error=inherits.as_terminal_error
    )
    assert isinstance(verdict, Terminal)
    assert (verdict.error.message, verdict.error.status_code) == ("service: x", 422)
    # the service's mapper keeps retrying an OSError: the app's is not consulted (innermost wins)
    assert isinstance(
        classify(OSError("y"), handler="Mapped.inherits", as_terminal_error=inherits.as_terminal_error), Retry
    )


def test_a_handler_added_after_the_app_is_resolved_when_first_looked_up() -> None:
    svc = restate.Service("Late")
    app = restate.app([svc], as_terminal_error=by_app)

    @svc.handler()
    async def later(ctx: restate.Context) -> None: ...

    info = app._lookup("Late", "later")
    assert info is not None
    assert info.as_terminal_error is by_app
    assert app._lookup("Late", "missing") is None
    assert app._lookup("Nope", "later") is None


def test_a_mapper_that_is_not_a_function_fails_at_definition() -> None:
    with pytest.raises(restate.SdkUsageError, match=r"^as_terminal_error= of service Bad must be a function"):
        restate.Service("Bad", as_terminal_error="ValueError")  # type: ignore[arg-type]
    svc = restate.Service("Good")
    with pytest.raises(restate.SdkUsageError, match=r"of handler Good.go must be a function .* got int$"):

        @svc.handler(as_terminal_error=400)  # type: ignore[arg-type]
        async def go(ctx: restate.Context) -> None: ...

    with pytest.raises(restate.SdkUsageError, match=r"of restate.app must be a function"):
        restate.app([svc], as_terminal_error=restate.TerminalError("x"))  # type: ignore[arg-type]
