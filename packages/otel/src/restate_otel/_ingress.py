"""``instrument_ingress``: make an ingress client carry the caller's trace context into invocations."""

from __future__ import annotations

from typing import Any

from opentelemetry.propagators.textmap import TextMapPropagator

from ._propagation import SET_DEFAULT, textmap

__all__ = ["instrument_ingress"]

_MARK = "__restate_otel_hook__"


def instrument_ingress(client: Any, *, propagator: TextMapPropagator | None = None) -> Any:
    """Inject the current trace context into every request ``client`` sends; returns ``client``.

    ``client`` is an ``httpx.Client`` or ``httpx.AsyncClient`` you call restate's ingress with (or a
    ``restate_ingress`` client, which already sends the global propagator's headers by itself: this
    adds ``propagator``'s). The invocation is then parented on the span current at the call::

        http = instrument_ingress(httpx.Client(base_url="http://127.0.0.1:8080"))
        with tracer.start_as_current_span("checkout"):
            http.post("/Cart/checkout", json=cart)     # one trace: checkout -> Cart/checkout -> ...

    Headers set explicitly on a request win. Instrumenting twice is harmless.
    """
    import httpx

    http = getattr(client, "_http", client)  # restate_ingress clients keep their httpx client there
    if not isinstance(http, httpx.Client | httpx.AsyncClient):
        raise TypeError(f"cannot instrument {client!r}: expected a restate_ingress or httpx client")
    hooks: dict[str, list[Any]] = {k: list(v) for k, v in http.event_hooks.items()}
    requests = hooks.setdefault("request", [])
    if any(getattr(hook, _MARK, False) for hook in requests):
        return client

    def inject(request: httpx.Request) -> None:
        textmap(propagator).inject(request.headers, setter=SET_DEFAULT)

    if isinstance(http, httpx.AsyncClient):

        async def async_hook(request: httpx.Request) -> None:
            inject(request)

        hook: Any = async_hook
    else:
        hook = inject
    setattr(hook, _MARK, True)
    requests.append(hook)
    http.event_hooks = hooks
    return client
