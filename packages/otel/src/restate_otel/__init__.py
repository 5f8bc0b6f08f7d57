"""OpenTelemetry tracing for the Restate Python SDK.

Example::

    import restate_sdk as restate
    from restate_otel import TracingMiddleware

    app = restate.app([greeter], middleware=[TracingMiddleware(tracer_provider=provider)])

    with tracer.start_as_current_span("signup"):          # restate_ingress sends the trace context
        client.service("Greeter").call("greet", "Ann")     # one trace: signup -> Greeter/greet -> ...

One span per invocation attempt, parented on the trace context restate-server sends (or, when the
server does not trace, on the one the caller sent); child spans for runs, calls, sends, sleeps and
awakeables; nothing is emitted twice when the journal is replayed.
"""

from __future__ import annotations

import contextlib as _contextlib

from ._ingress import instrument_ingress
from ._middleware import AttemptHook, OperationHook, TracingMiddleware
from ._propagation import trace_headers
from ._version import __version__

__all__ = [
    "AttemptHook",
    "OperationHook",
    "TracingMiddleware",
    "__version__",
    "instrument_ingress",
    "trace_headers",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("restate_otel."):
        with _contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = "restate_otel"
