"""The ASGI endpoint: a thin shell that moves bytes between HTTP and the engine."""
