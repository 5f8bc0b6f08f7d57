"""In-process cost of one invocation: an SDK's ASGI app driven by a tiny restate-server emulator.

No HTTP server and no restate-server: ``receive``/``send`` are plain coroutines, the emulator frames
the messages restate-server 1.7 sends (bytes captured from a real run) and answers the SDK's
commands the way the server would (a RunCompletion for each ProposeRunCompletion, the callee's
result for a Call, the timer for a Sleep). This isolates what the SDK itself costs per invocation,
on any interpreter: the emulator has its own minimal protobuf code and imports neither SDK.

Usage (prints one JSON object)::

    python bench/micro.py ours|official [--quick] [--uvloop] [--count=N] [CASE ...]

``--uvloop`` runs the loop on uvloop (what ``restate_sdk.serve`` picks with granian) instead of asyncio.
``--count=N`` runs exactly N invocations per case (after 20 of warm-up; N a multiple of 50), e.g. to
count syscalls under ``strace -c -f``.

Run it with the interpreter of the SDK under test (bench/run.py does that for both).
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# ---- a minimal protobuf writer/reader ----------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _len(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _uint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _frame(type_id: int, payload: bytes) -> bytes:
    return (type_id << 48 | len(payload)).to_bytes(8, "big") + payload


def _fields(buf: bytes) -> dict[int, Any]:
    out: dict[int, Any] = {}
    pos = 0
    while pos < len(buf):
        tag, pos = _read_varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            out[number], pos = _read_varint(buf, pos)
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            out[number] = buf[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return out


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


# ---- what restate-server 1.7 sends ------------------------------------------------------------

START, SUSPENSION, ERROR, END, PROPOSE_RUN = 0x0000, 0x0001, 0x0002, 0x0003, 0x0005
INPUT, CALL, SLEEP = 0x0400, 0x040D, 0x040C
SLEEP_DONE, CALL_DONE, CALL_ID_DONE, RUN_DONE = 0x800C, 0x800D, 0x800E, 0x8011

_HEADERS = [  # the InputCommand headers restate-server forwards for an ingress request
    ("x-restate-ingress-path", "/Svc/handler"),
    ("accept-encoding", "identity"),
    ("content-length", "4"),
    ("user-agent", "Python-urllib/3.11"),
    ("content-type", "application/json"),
]


def start_frame(n: int, key: str = "", state: dict[bytes, bytes] | None = None) -> bytes:
    debug_id = f"inv_1{n:033d}"
    payload = _len(1, n.to_bytes(24, "big")) + _len(2, debug_id.encode()) + _uint(3, 1)
    for k, v in (state or {}).items():
        payload += _len(4, _len(1, k) + _len(2, v))
    if key:
        payload += _len(6, key.encode())
    payload += _uint(8, 2) + _uint(9, 0x1234_5678_9ABC_DEF0 ^ n)
    return _frame(START, payload)


def input_frame(body: bytes) -> bytes:
    payload = b"".join(_len(1, _len(1, k.encode()) + _len(2, v.encode())) for k, v in _HEADERS)
    return _frame(INPUT, payload + _len(14, _len(1, body)))


def request_headers(service: str, handler: str, key: str) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"host", b"127.0.0.1:9080"),
        (b"content-type", b"application/vnd.restate.invocation.v6"),
        (b"accept", b"application/vnd.restate.invocation.v6"),
        (b"x-restate-invocation-id", b"inv_1abcdefghijklmnopqrstuvwxyz012345"),
    ]
    if key:
        headers.append((b"x-restate-service-key", key.encode()))
    return [*headers, (b"x-restate-cluster-name", b"localcluster")]


class Emulator:
    """One invocation: feeds the request body and answers commands as restate-server would."""

    def __init__(self, first: bytes, callee: Callable[[bytes], bytes]) -> None:
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._inbox.put_nowait({"type": "http.request", "body": first, "more_body": True})
        self._buf = b""
        self._callee = callee
        self.ended: int | None = None
        self.output: bytes | None = None

    async def receive(self) -> dict[str, Any]:
        return await self._inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            if message["type"] == "http.response.start" and message["status"] != 200:
                raise RuntimeError(f"status {message['status']}")
            return
        self._buf += message.get("body", b"")
        while len(self._buf) >= 8:
            header = int.from_bytes(self._buf[:8], "big")
            length = header & 0xFFFF_FFFF
            if len(self._buf) < 8 + length:
                break
            payload, self._buf = self._buf[8 : 8 + length], self._buf[8 + length :]
            self._on_message(header >> 48, payload)
        if not message.get("more_body", False) and self.ended is None:
            self.ended = -1

    def _push(self, type_id: int, payload: bytes) -> None:
        self._inbox.put_nowait({"type": "http.request", "body": _frame(type_id, payload), "more_body": True})

    def _on_message(self, type_id: int, payload: bytes) -> None:
        f = _fields(payload)
        if type_id == PROPOSE_RUN:
            self._push(RUN_DONE, _uint(1, f[1]) + _len(5, _len(1, f.get(14, b""))))
        elif type_id == CALL:
            self._push(CALL_ID_DONE, _uint(1, f[10]) + _len(16, b"inv_1calleecalleecalleecalleecallee1"))
            self._push(CALL_DONE, _uint(1, f[11]) + _len(5, _len(1, self._callee(f.get(3, b"")))))
        elif type_id == SLEEP:
            self._push(SLEEP_DONE, _uint(1, f[11]) + _len(4, b""))
        elif type_id == 0x0401:  # OutputCommand
            self.output = _fields(f[14]).get(1, b"") if 14 in f else None
        elif type_id in (END, SUSPENSION, ERROR):
            self.ended = type_id
            if type_id == ERROR:
                raise RuntimeError(f"the SDK failed the invocation: {f}")
            self._inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})


# ---- workloads --------------------------------------------------------------------------------


class Case:
    def __init__(
        self,
        name: str,
        service: str,
        handler: str,
        body: bytes,
        expect: bytes,
        key: str = "",
        state: bool = False,
    ) -> None:
        self.name, self.service, self.handler = name, service, handler
        self.body, self.expect, self.key, self.state = body, expect, key, state


CASES = [
    Case("noop", "Bench", "noop", b'"hi"', b'"hi"'),
    Case("run10", "Bench", "steps", b"10", b"45"),
    Case("run50", "Bench", "steps", b"50", b"1225"),
    Case("run10-def", "Bench", "steps_def", b"10", b"45"),  # plain `def` step functions
    Case("run50-def", "Bench", "steps_def", b"50", b"1225"),
    Case("counter", "Counter", "add", b"1", b"42", key="k", state=True),
    Case("call", "Bench", "call", b'"hi"', b'"hi"'),
    Case("sleep", "Bench", "sleep", b"10", b"10"),
]


_FIRST: dict[str, bytes] = {}


def _echo(parameter: bytes) -> bytes:
    return parameter


async def invoke(app: Any, prefix: str, case: Case, n: int) -> None:
    first = _FIRST.get(case.name)
    if first is None:  # the same request bytes every time: the emulator's own cost stays small
        state = {b"count": b"41"} if case.state else None
        first = _FIRST[case.name] = start_frame(7, case.key, state) + input_frame(case.body)
    emulator = Emulator(first, _echo)
    service = prefix + case.service
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "2",
        "method": "POST",
        "scheme": "http",
        "path": f"/invoke/{service}/{case.handler}",
        "raw_path": f"/invoke/{service}/{case.handler}".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": request_headers(service, case.handler, case.key),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 9080),
    }
    await app(scope, emulator.receive, emulator.send)
    if emulator.ended != END or emulator.output != case.expect:
        raise RuntimeError(f"{case.name}: ended with {emulator.ended}, output {emulator.output!r}")


async def measure(app: Any, prefix: str, budget: float, only: list[str], exact: int = 0) -> dict[str, float]:
    """µs of CPU per invocation of each case, over ``budget`` seconds or exactly ``exact`` invocations."""
    out: dict[str, float] = {}
    for case in CASES:
        if only and case.name not in only:
            continue
        for i in range(20):  # warm up and check
            await invoke(app, prefix, case, i)
        gc.collect()
        count, elapsed, cpu = 0, 0.0, 0.0
        while (count < exact) if exact else (elapsed < budget):
            batch = 50
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(batch):
                await invoke(app, prefix, case, count + i)
            elapsed += time.perf_counter() - t0
            cpu += time.process_time() - c0
            count += batch
        out[case.name] = 1e6 * cpu / count
    return out


def load_app(which: str) -> Any:
    os.environ["BENCH_PREFIX"] = "Micro"
    spec = importlib.util.spec_from_file_location(f"bench_micro_{which}", HERE / "apps" / f"{which}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def main() -> None:
    which = sys.argv[1]
    quick = "--quick" in sys.argv
    only = [a for a in sys.argv[2:] if not a.startswith("--")]
    app = load_app(which)
    exact = next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith("--count=")), 0)
    main = measure(app, "Micro", 0.3 if quick else 1.0, only, exact)
    if "--uvloop" in sys.argv:
        import uvloop

        result = uvloop.run(main)
    else:
        result = asyncio.run(main)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
