"""The distribution's version, reported as the instrumentation scope's version."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
