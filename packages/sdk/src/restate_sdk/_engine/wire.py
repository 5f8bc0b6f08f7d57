"""A small proto3 codec driven by field tables (see messages.py).

Each message class lists its fields as ``(number, attribute, kind, nested class)``; ``encode`` and
``decode`` read that table, so no message has hand-written serialisation.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from .errors import ProtocolViolation

__all__ = ["Kind", "decode_fields", "encode_varint"]


class Kind(IntEnum):
    UINT32 = 0
    UINT64 = 1
    BOOL = 2
    STRING = 3
    BYTES = 4
    MESSAGE = 5  # a nested message class
    VALUE = 6  # restate's Value{1: bytes content}, flattened to ``bytes``
    VOID = 7  # an empty nested message whose presence is the information: ``True``
    REPEATED_UINT32 = 8
    REPEATED_STRING = 9
    REPEATED_BYTES = 10
    REPEATED_MESSAGE = 11


VARINT_KINDS = frozenset({Kind.UINT32, Kind.UINT64, Kind.BOOL})
_MAX_UINT64 = (1 << 64) - 1


def encode_varint(value: int) -> bytes:
    if value < 0 or value > _MAX_UINT64:
        raise ValueError(f"varint out of range: {value}")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ProtocolViolation("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            if result > _MAX_UINT64:
                raise ProtocolViolation("varint larger than 64 bits")
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtocolViolation("varint longer than 10 bytes")


def decode_fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """Split a protobuf payload into ``(field number, wire type, raw value)`` triples.

    Varints come back as ints, length-delimited fields as bytes; fixed32/64 as ints.
    """
    out: list[tuple[int, int, Any]] = []
    pos = 0
    end = len(buf)
    while pos < end:
        tag, pos = read_varint(buf, pos)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise ProtocolViolation("field number 0")
        if wire_type == 0:
            value, pos = read_varint(buf, pos)
        elif wire_type == 2:
            length, pos = read_varint(buf, pos)
            if pos + length > end:
                raise ProtocolViolation(f"field {number} claims {length} bytes, {end - pos} left")
            value = buf[pos : pos + length]
            pos += length
        elif wire_type == 1:
            if pos + 8 > end:
                raise ProtocolViolation("truncated fixed64")
            value = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wire_type == 5:
            if pos + 4 > end:
                raise ProtocolViolation("truncated fixed32")
            value = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise ProtocolViolation(f"unsupported wire type {wire_type} for field {number}")
        out.append((number, wire_type, value))
    return out


def decode_packed_varints(buf: bytes) -> list[int]:
    values: list[int] = []
    pos = 0
    while pos < len(buf):
        v, pos = read_varint(buf, pos)
        values.append(v)
    return values
