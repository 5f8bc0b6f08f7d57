"""The floor: a hand-written endpoint for ``FloorBench.noop`` and ``FloorBench.steps`` with no SDK at all.

``noop`` answers with the fewest steps possible: read the request until the StartMessage and the
InputCommand are in, echo the input in an OutputCommand, add an End, respond in one piece.
``steps`` (input N) does what an SDK does for N ``ctx.run`` steps that return at once, and nothing
more: per step one write of a ready-made RunCommand + ProposeRunCompletion, then read until the
server's RunCompletion for it arrives; then OutputCommand + End. It keeps no journal, checks nothing
and serves nothing else, so no real SDK can be faster. Served by granian (RSGI) on uvloop, like
``ours``. Its numbers show what restate-server and the HTTP stack alone cost: with one request in
flight, they are most of the round trip, and per run step they are what any SDK on granian pays
before its own code (see bench/README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from micro import _fields, _frame, _len, _uint  # bench's own protobuf helpers (no SDK)

_SERVICE = os.environ.get("BENCH_PREFIX", "Floor") + "Bench"  # a floor per server, side by side
_MANIFEST = (
    b'{"protocolMode":"BIDI_STREAM","minProtocolVersion":5,"maxProtocolVersion":6,'
    b'"services":[{"name":"'
    + _SERVICE.encode()
    + b'","ty":"SERVICE","handlers":[{"name":"noop"},{"name":"steps"}]}]}'
)
_MANIFEST_CT = "application/vnd.restate.endpointmanifest.v3+json"
_INPUT_COMMAND = 0x0400
_OUTPUT_COMMAND = 0x0401
_END = 0x0003
_PROPOSE_RUN_COMPLETION = 0x0005
_RUN_COMMAND = 0x0411
_RUN_COMPLETION = 0x8011
_CONTENT_TYPE = "application/vnd.restate.invocation.v6"


def _input_value(payload: bytes) -> bytes:
    """The content of an InputCommand's Value (field 14, itself ``{1: bytes}``)."""
    value = _fields(payload).get(14, b"")
    return _fields(value).get(1, b"") if value else b""


class Floor:
    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.path.endswith("/discover"):
            protocol.response_bytes(200, [("content-type", _MANIFEST_CT)], _MANIFEST)
            return
        if scope.path.endswith(f"/{_SERVICE}/steps"):
            await _steps(protocol)
            return
        if not scope.path.endswith(f"/{_SERVICE}/noop"):
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
        protocol.response_bytes(200, [("content-type", _CONTENT_TYPE)], body)


async def _steps(protocol: Any) -> None:
    chunks = protocol.__aiter__()
    buf = b""

    async def next_message() -> tuple[int, bytes]:
        nonlocal buf
        while True:
            if len(buf) >= 8:
                header = int.from_bytes(buf[:8], "big")
                end = 8 + (header & 0xFFFFFFFF)
                if len(buf) >= end:
                    payload, buf = buf[8:end], buf[end:]
                    return header >> 48, payload
            buf += await chunks.__anext__()

    value = None
    while value is None:
        type_id, payload = await next_message()
        if type_id == _INPUT_COMMAND:
            value = _input_value(payload)
    stream = protocol.response_stream(200, [("content-type", _CONTENT_TYPE)])
    total = 0
    for i in range(int(value)):
        cid = i + 1
        command = _frame(_RUN_COMMAND, _uint(11, cid) + _len(12, b"step"))
        proposal = _frame(_PROPOSE_RUN_COMPLETION, _uint(1, cid) + _len(14, str(i).encode()))
        await stream.send_bytes(command + proposal)
        while True:  # the server's RunCompletion for this step (the result is the one proposed)
            type_id, payload = await next_message()
            if type_id == _RUN_COMPLETION and _fields(payload).get(1) == cid:
                break
        total += i
    output = _len(14, _len(1, str(total).encode()))
    await stream.send_bytes(_frame(_OUTPUT_COMMAND, output) + _frame(_END, b""))
    # the response ends when granian frees the transport, the request stream is reset (as ours does)


app = Floor()
