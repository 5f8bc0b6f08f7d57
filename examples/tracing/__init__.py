"""Tracing: an order flow traced end to end with OpenTelemetry through ``restate_otel``.

``restate.app(..., middleware=[TracingMiddleware(tracer_provider=provider)])`` gives every
invocation attempt a span, parented on the caller's trace context, with child spans for its
``ctx.run`` steps, calls, sends and sleeps. Steps replayed from the journal get no second span.
The ingress client carries the caller's context, so one trace runs from the caller's span through
``Orders/place`` into ``Payments/charge`` and ``Shipping/ship``. Run it with
``python -m examples.tracing``; it prints the trace as a tree.
"""
