"""The floor: a hand-written endpoint for ``FloorBench.noop`` with no SDK at all.

It answers an invocation with the fewest steps possible: read the request until the StartMessage and
the InputCommand are in, echo the input in an OutputCommand, add an End, respond in one piece. It keeps
no journal, checks nothing and serves nothing else, so no real SDK can be faster. Served by granian
(RSGI) on uvloop, like ``ours``. Its numbers show what restate-server and the HTTP stack alone cost:
with one request in flight, they are most of the round trip (see bench/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from micro import _fields, _frame, _len  # bench's own protobuf helpers (no SDK)

_MANIFEST = (
    b'{"protocolMode":"BIDI_STREAM","minProtocolVersion":5,"maxProtocolVersion":6,'
    b'"services":[{"name":"FloorBench","ty":"SERVICE","handlers":[{"name":"noop"}]}]}'
)
_MANIFEST_CT = "application/vnd.restate.endpointmanifest.v3+json"
_INPUT_COMMAND = 0x0400
_OUTPUT_COMMAND = 0x0401
_END = 0x0003


def _input_value(payload: bytes) -> bytes:
    """The content of an InputCommand's Value (field 14, itself ``{1: bytes}``)."""
    value = _fields(payload).get(14, b"")
    return _fields(value).get(1, b"") if value else b""


class Floor:
    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.path.endswith("/discover"):
            protocol.response_bytes(200, [("content-type", _MANIFEST_CT)], _MANIFEST)
            return
        if not scope.path.endswith("/FloorBench/noop"):
            protocol.response_bytes(404, [], b"")
            return
        buf = b""
        value = None
        async for chunk in protocol:
            buf += chunk
            pos = 0
            while len(buf) - pos >= 8:
                header = int.from_bytes(buf[pos : pos + 8], "big")
                length = header & 0xFFFFFFFF
                if len(buf) - pos - 8 < length:
                    break
                if header >> 48 == _INPUT_COMMAND:
                    value = _input_value(buf[pos + 8 : pos + 8 + length])
                pos += 8 + length
            buf = buf[pos:]
            if value is not None:
                break
        output = _len(14, _len(1, value or b""))  # OutputCommand{14: Value{1: content}}
        body = _frame(_OUTPUT_COMMAND, output) + _frame(_END, b"")
        protocol.response_bytes(200, [("content-type", "application/vnd.restate.invocation.v6")], body)


app = Floor()
