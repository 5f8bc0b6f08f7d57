"""Reading the recorded spans back: one trace, ids, and a printable tree (for the demo and the tests)."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

from examples._runner import eventually

from .app import exporter

__all__ = ["parent_id", "render", "span_id", "trace"]


def span_id(span: ReadableSpan) -> int:
    context = span.get_span_context()
    assert context is not None
    return context.span_id


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def trace(trace_id: int, *, until: str = "Shipping/ship") -> list[ReadableSpan]:
    """The finished spans of one trace, once a span named ``until`` is among them.

    Spans of a one-way send's target finish after the call that made the send has returned.
    """

    def spans() -> list[ReadableSpan]:
        found = exporter.get_finished_spans()
        return [s for s in found if (c := s.get_span_context()) is not None and c.trace_id == trace_id]

    return eventually(spans, lambda found: any(s.name == until for s in found))


def render(spans: Sequence[ReadableSpan]) -> list[str]:
    """One line per span, indented under its parent, in start order; attempts show their outcome."""
    ids = {span_id(s) for s in spans}
    children: dict[int | None, list[ReadableSpan]] = {}
    for s in sorted(spans, key=lambda s: s.start_time or 0):
        parent = parent_id(s)
        children.setdefault(parent if parent in ids else None, []).append(s)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for s in children.get(parent, []):
            outcome = s.attributes.get("restate.attempt.outcome") if s.attributes else None
            lines.append("  " * depth + s.name + (f"  [{outcome}]" if outcome else ""))
            walk(span_id(s), depth + 1)

    walk(None, 0)
    return lines
