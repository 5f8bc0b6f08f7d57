"""Greeter: the smallest Restate app, a service and a virtual object (the Go SDK's helloworld).

``Greeter.greet`` is a stateless handler; it asks the ``Counter`` object keyed by the name how
often that name was greeted, so each greeting is numbered exactly once, however often Restate
retries. Run it with ``python -m examples.greeter``.
"""
