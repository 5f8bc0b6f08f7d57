"""Bytes for the endpoint tests: HTTP/2 frames by hand, and restate's invocation messages."""

from __future__ import annotations

from typing import Any, NamedTuple

from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import encode_header

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    range(10)
)
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20


class Frame(NamedTuple):
    kind: int
    flags: int
    stream_id: int
    payload: bytes


def raw(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    """One HTTP/2 frame, built by hand (RFC 9113 4.1)."""
    return len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream_id.to_bytes(4, "big") + payload


def message(msg: Any) -> bytes:
    """One invocation-protocol message with its 8-byte header."""
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


def invocation(value: bytes, *, known: int = 1) -> bytes:
    """The start of an attempt: StartMessage and the InputCommand carrying ``value``."""
    start = m.StartMessage(id=b"\x01" * 24, debug_id="inv_1", known_entries=known)
    return message(start) + message(m.InputCommandMessage(value=value))


def messages(data: bytes) -> list[Any]:
    """The invocation-protocol messages in ``data`` (whole messages only)."""
    out: list[Any] = []
    while data:
        header = int.from_bytes(data[:8], "big")
        length = header & 0xFFFFFFFF
        out.append(m.decode_message(m.MESSAGES[header >> 48], data[8 : 8 + length]))
        data = data[8 + length :]
    return out
