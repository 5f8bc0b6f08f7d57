"""A small closed-loop load generator for restate's HTTP ingress.

``concurrency`` workers, each on its own keep-alive HTTP/1.1 connection, send one request after the
other until ``duration`` seconds have passed or ``max_requests`` were sent (both bounded). It speaks
just enough HTTP/1.1 (Content-Length or chunked responses) to stay cheap: the same client drives both
SDKs, and on a 2-core machine every millisecond it spends is taken from restate-server and the SDK.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class IngressConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            await self._connect()
        assert self._reader is not None and self._writer is not None
        self._writer.write(
            b"POST %s HTTP/1.1\r\nhost: %s:%d\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
            % (path.encode(), self.host.encode(), self.port, len(body), body)
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = -1
        chunked = close = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self._reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            payload = b"".join(parts)
        elif length >= 0:
            payload = await self._reader.readexactly(length)
        else:
            payload = await self._reader.read()
            close = True
        if close:
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with _suppress():
                await self._writer.wait_closed()
        self._reader = self._writer = None


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


# A request is (path, body); a factory gets the worker index and the request sequence number.
RequestFactory = Callable[[int, int], tuple[str, bytes]]


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    first_error: str = ""
    sample: bytes = b""

    @property
    def throughput(self) -> float:
        return (self.requests - self.errors) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_load(
    ingress: str,
    make_request: RequestFactory,
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    timeout: float = 60.0,
) -> LoadResult:
    """Closed loop: ``concurrency`` workers until ``duration`` s or ``max_requests`` in total."""
    host, port = ingress.removeprefix("http://").rsplit(":", 1)
    result = LoadResult()
    deadline = time.perf_counter() + duration
    issued = 0

    async def worker(index: int) -> None:
        nonlocal issued
        conn = IngressConnection(host, int(port))
        seq = 0
        try:
            while issued < max_requests and time.perf_counter() < deadline:
                issued += 1
                path, body = make_request(index, seq)
                seq += 1
                started = time.perf_counter()
                try:
                    status, payload = await asyncio.wait_for(conn.post(path, body), timeout)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as e:
                    status, payload = 0, repr(e).encode()
                    await conn.close()
                result.requests += 1
                if status == 200:
                    result.latencies.append(time.perf_counter() - started)
                    if not result.sample:
                        result.sample = payload
                else:
                    result.errors += 1
                    if not result.first_error:
                        result.first_error = f"{status}: {payload[:300]!r}"
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    return result
