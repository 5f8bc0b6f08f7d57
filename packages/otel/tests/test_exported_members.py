from __future__ import annotations

import restate_otel


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(restate_otel) if not name.startswith("_")} - {"annotations"}
    assert restate_otel.__all__ == sorted(restate_otel.__all__)
    assert set(restate_otel.__all__) == public | {"__version__"}


def test_public_names_say_they_live_in_the_package() -> None:
    assert restate_otel.TracingMiddleware.__module__ == "restate_otel"
    assert restate_otel.instrument_ingress.__module__ == "restate_otel"
    assert restate_otel.trace_headers.__module__ == "restate_otel"


def test_tracing_middleware_is_a_restate_middleware() -> None:
    import restate_sdk

    middleware: restate_sdk.Middleware = restate_otel.TracingMiddleware()
    assert repr(middleware) == "TracingMiddleware(propagate=True)"
