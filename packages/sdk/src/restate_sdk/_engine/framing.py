"""The 8-byte message header and a buffer that yields whole frames (protocol.md §4).

Header, big-endian u64: bits 63..48 message type, bit 47 requested-ack, bits 31..0 payload length.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import ProtocolViolation

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "Frame", "FrameBuffer", "decode_header", "encode_header"]

HEADER_SIZE = 8
ACK_FLAG = 0x0000_8000_0000_0000
_RESERVED = 0x0000_7FFF_0000_0000
DEFAULT_MAX_MESSAGE_SIZE = 32 * 1024 * 1024 + 1024  # restate-server's message limit, plus framing slack


class Frame(NamedTuple):
    type: int
    ack: bool
    payload: bytes


def encode_header(message_type: int, length: int, *, ack: bool = False) -> bytes:
    if length > 0xFFFF_FFFF:
        raise ValueError(f"message of {length} bytes does not fit the 32-bit length field")
    value = (message_type << 48) | (ACK_FLAG if ack else 0) | length
    return value.to_bytes(8, "big")


def decode_header(header: bytes) -> tuple[int, bool, int]:
    value = int.from_bytes(header, "big")
    return value >> 48, bool(value & ACK_FLAG), value & 0xFFFF_FFFF


class FrameBuffer:
    """Accumulates bytes and hands out complete frames; partial frames wait for more data."""

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._buf: bytearray = bytearray()
        self._pos = 0
        self._max = max_message_size

    def feed(self, data: bytes) -> None:
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        self._buf += data

    @property
    def pending(self) -> int:
        """Bytes received that are not yet part of a returned frame."""
        return len(self._buf) - self._pos

    def next_frame(self) -> Frame | None:
        if len(self._buf) - self._pos < HEADER_SIZE:
            return None
        start = self._pos
        value = int.from_bytes(self._buf[start : start + HEADER_SIZE], "big")
        if value & _RESERVED:
            raise ProtocolViolation(f"reserved header bits set in {value:016x}")
        length = value & 0xFFFF_FFFF
        if length > self._max:
            raise ProtocolViolation(f"message of {length} bytes exceeds the limit of {self._max} bytes")
        end = start + HEADER_SIZE + length
        if len(self._buf) < end:
            return None
        payload = bytes(self._buf[start + HEADER_SIZE : end])
        self._pos = end
        if self._pos > 65536 and self._pos * 2 > len(self._buf):
            del self._buf[: self._pos]  # compact now and then so the buffer does not grow forever
            self._pos = 0
        return Frame(value >> 48, bool(value & ACK_FLAG), payload)
