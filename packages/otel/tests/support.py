"""Drive an endpoint in-process: framed request bodies in, decoded response messages out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import FrameBuffer, encode_header

__all__ = [
    "INVOCATION_ID",
    "by_name",
    "decode",
    "frame",
    "invoke",
    "notification",
    "request_body",
    "span_id",
    "traceparent",
]

INVOCATION_ID = bytes(range(24))
DEBUG_ID = "inv_1testinvocation"


def frame(msg: Any, type_id: int | None = None) -> bytes:
    """One framed message (``type_id`` names the notification type for NotificationMessage)."""
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE if type_id is None else type_id, len(payload)) + payload


def notification(type_id: m.MessageType, **fields: Any) -> bytes:
    return frame(m.NotificationMessage(**fields), int(type_id))


def request_body(
    value: bytes,
    *journal: bytes,
    headers: Mapping[str, str] | None = None,
    key: str = "",
    retry_count: int = 0,
) -> bytes:
    """Start + Input (with the invocation's request ``headers``) + the recorded ``journal`` frames."""
    start = m.StartMessage(
        id=INVOCATION_ID,
        debug_id=DEBUG_ID,
        known_entries=1 + len(journal),
        key=key,
        retry_count_since_last_stored_entry=retry_count,
        random_seed=7,
    )
    inp = m.InputCommandMessage(headers=[m.Header(k, v) for k, v in (headers or {}).items()], value=value)
    return frame(start) + frame(inp) + b"".join(journal)


def decode(body: bytes) -> list[Any]:
    buf = FrameBuffer()
    buf.feed(body)
    out: list[Any] = []
    while (f := buf.next_frame()) is not None:
        out.append(m.decode_message(m.MESSAGES[f.type], f.payload))
    return out


async def invoke(
    app: Any, service: str, handler: str, body: bytes, attempt_headers: Mapping[str, str] | None = None
) -> list[Any]:
    """One attempt, request-response style (the whole body, then end of input); the messages sent back."""
    sent: list[MutableMapping[str, Any]] = []
    chunks: list[MutableMapping[str, Any]] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    headers = {"content-type": "application/vnd.restate.invocation.v5", **(attempt_headers or {})}
    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/invoke/{service}/{handler}",
        "http_version": "1.1",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 200, sent
    return decode(b"".join(x.get("body", b"") for x in sent[1:]))


def traceparent(trace_id: int, span: int, flags: int = 1) -> str:
    return f"00-{trace_id:032x}-{span:016x}-{flags:02x}"


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def by_name(spans: Iterable[ReadableSpan]) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for s in spans:
        out.setdefault(s.name, []).append(s)
    return out


def kinds(messages: Sequence[Any]) -> list[str]:
    return [type(x).__name__ for x in messages]
