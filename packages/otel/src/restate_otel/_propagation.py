"""Reading and writing trace context headers."""

from __future__ import annotations

from collections.abc import MutableMapping

from opentelemetry import propagate
from opentelemetry.propagators.textmap import Setter, TextMapPropagator

__all__ = ["SET_DEFAULT", "compatible_traceparent", "textmap", "trace_headers"]


class _SetDefault(Setter[MutableMapping[str, str]]):
    """Writes a header unless the carrier has it already: headers set explicitly win.

    A ``traceparent`` goes out with only the sampled flag: restate-server 1.7 (opentelemetry-rust)
    rejects version-00 trace flags above 0x02, so the W3C level-2 "random" flag (0x02, which
    opentelemetry-python sets) next to "sampled" would make it drop the caller's trace and start a new one.
    """

    def set(self, carrier: MutableMapping[str, str], key: str, value: str) -> None:
        if key == "traceparent":
            value = compatible_traceparent(value)
        carrier.setdefault(key, value)


def compatible_traceparent(value: str) -> str:
    """``value`` with its trace flags reduced to the sampled bit (see ``_SetDefault``)."""
    if len(value) == 55 and value.startswith("00-"):
        try:
            flags = int(value[53:], 16)
        except ValueError:
            return value
        return f"{value[:53]}{flags & 0x01:02x}"
    return value


SET_DEFAULT = _SetDefault()


def textmap(propagator: TextMapPropagator | None) -> TextMapPropagator:
    """``propagator``, or the global one (looked up at each use, so a later ``set_global_textmap`` counts)."""
    return propagator or propagate.get_global_textmap()


def trace_headers(propagator: TextMapPropagator | None = None) -> dict[str, str]:
    """The current trace context as request headers (``traceparent``, ``tracestate``, ``baggage``).

    For clients this package does not instrument: ``client.call(..., headers=trace_headers())``.
    """
    carrier: dict[str, str] = {}
    textmap(propagator).inject(carrier, setter=SET_DEFAULT)
    return carrier
