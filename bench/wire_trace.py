"""Count what each SDK's endpoint makes restate-server do on the wire: HTTP/2 frames, writes, messages.

Usage (from the repository root)::

    uv run python bench/wire_trace.py                          # ours and ts, every workload, 1 in flight
    uv run python bench/wire_trace.py --variants ours ts official --only run10 -n 200 -c 8
    uv run python bench/wire_trace.py --timeline               # also one invocation frame by frame

Unlike throughput and CPU, these counts do not depend on how busy the machine is (only the grouping
of frames into socket reads can, a little, under load): they show the work per invocation that
restate-server is given. One restate-server; each endpoint (started as bench/run.py starts it) sits
behind a small TCP relay in this process that passes the bytes through untouched and parses the
HTTP/2 frames (RFC 9113 section 4.1) of both directions on the side, and, inside DATA frames, the
Restate protocol's messages (8-byte header: type, flags, length). Per invocation it reports:

- *reads*: socket reads of the relay from that side. restate-server and granian/node write whole
  frame batches; when the relay keeps up, each read is one flush of the sender (TCP may merge
  back-to-back flushes, never split a small one), so this approximates the writes a side makes;
- frames by type (HEADERS, DATA, WINDOW_UPDATE, PING, RST_STREAM, SETTINGS, ...), empty DATA frames
  (a bare END_STREAM), bytes;
- *streams*: HTTP/2 requests restate-server opened, i.e. invocation attempts (more than one per
  invocation means the endpoint suspended and restate-server re-invoked it);
- Restate messages by type, in each direction;
- restate-server's and the endpoint's context switches (all threads: their wake-ups, mostly) and
  read/write syscalls (``/proc/<pid>/io``; socket recv/send calls do not show there). These move
  with the machine's load more than the frame counts do, but much less than CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _infra import (
    Process,
    free_port,
    log,
    official_python,
    register,
    start_endpoint,
    start_restate,
    ts_node,
    wakeups_and_syscalls,
)
from loadgen import run_load
from run import VARIANTS, WORKLOADS, Variant

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_TYPES = {
    0: "DATA",
    1: "HEADERS",
    2: "PRIORITY",
    3: "RST_STREAM",
    4: "SETTINGS",
    5: "PUSH_PROMISE",
    6: "PING",
    7: "GOAWAY",
    8: "WINDOW_UPDATE",
    9: "CONTINUATION",
}
END_STREAM = 0x1
ACK = 0x1  # SETTINGS and PING
MESSAGE_TYPES = {
    0x0000: "Start",
    0x0001: "Suspension",
    0x0002: "Error",
    0x0003: "End",
    0x0004: "CommandAck",
    0x0005: "ProposeRunCompletion",
    0x0400: "InputCommand",
    0x0401: "OutputCommand",
    0x0402: "GetLazyStateCommand",
    0x0403: "SetStateCommand",
    0x0407: "GetEagerStateCommand",
    0x040C: "SleepCommand",
    0x040D: "CallCommand",
    0x040E: "OneWayCallCommand",
    0x0411: "RunCommand",
    0x8002: "GetLazyStateCompletion",
    0x800C: "SleepCompletion",
    0x800D: "CallCompletion",
    0x800E: "CallInvocationIdCompletion",
    0x8011: "RunCompletion",
    0xFBFF: "SignalNotification",
}


@dataclass
class Event:
    """One frame, for the timeline."""

    at: float
    direction: str
    read: int  # which socket read of that direction it arrived in
    kind: str
    stream: int
    flags: int
    length: int
    messages: list[str]


@dataclass
class Direction:
    """One direction of the relayed connection: a passive HTTP/2 frame parser with counters."""

    name: str  # "server->endpoint" or "endpoint->server"
    preface: bool  # this side starts with the client connection preface
    counts: Counter[str] = field(default_factory=Counter[str])
    timeline: list[Event] | None = None
    _buf: bytearray = field(default_factory=bytearray)
    _streams: dict[int, bytearray] = field(default_factory=dict[int, bytearray])

    def feed(self, chunk: bytes) -> None:
        self.counts["reads"] += 1
        self.counts["bytes"] += len(chunk)
        self._buf += chunk
        if self.preface:
            if len(self._buf) < len(PREFACE):
                return
            del self._buf[: len(PREFACE)]
            self.preface = False
        pos = 0
        while len(self._buf) - pos >= 9:
            length = int.from_bytes(self._buf[pos : pos + 3], "big")
            if len(self._buf) - pos - 9 < length:
                break
            kind = FRAME_TYPES.get(self._buf[pos + 3], f"type{self._buf[pos + 3]}")
            flags = self._buf[pos + 4]
            stream = int.from_bytes(self._buf[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
            payload = bytes(self._buf[pos + 9 : pos + 9 + length])
            pos += 9 + length
            self._frame(kind, flags, stream, payload)
        del self._buf[:pos]

    def _frame(self, kind: str, flags: int, stream: int, payload: bytes) -> None:
        c = self.counts
        c[f"frame {kind}"] += 1
        messages: list[str] = []
        if kind in ("SETTINGS", "PING") and flags & ACK:
            c[f"frame {kind} (ACK)"] += 1
        if kind == "WINDOW_UPDATE" and stream == 0:
            c["frame WINDOW_UPDATE (connection)"] += 1
        if kind == "HEADERS" and self.name == "server->endpoint":
            c["streams opened"] += 1
            self._streams[stream] = bytearray()
        if kind in ("HEADERS", "DATA") and flags & END_STREAM:
            c[f"{kind} with END_STREAM"] += 1
        if kind == "DATA":
            if not payload:
                c["DATA empty"] += 1
            if flags & 0x8:  # PADDED
                payload = payload[1 : len(payload) - payload[0]]
            messages = self._messages(stream, payload)
            c[f"DATA carrying {min(len(messages), 3)}{'+' if len(messages) >= 3 else ''} message(s)"] += 1
        if kind == "RST_STREAM":
            self._streams.pop(stream, None)
        if self.timeline is not None:
            self.timeline.append(
                Event(time.perf_counter(), self.name, c["reads"], kind, stream, flags, len(payload), messages)
            )

    def _messages(self, stream: int, payload: bytes) -> list[str]:
        buf = self._streams.setdefault(stream, bytearray())
        buf += payload
        names: list[str] = []
        pos = 0
        while len(buf) - pos >= 8:
            header = int.from_bytes(buf[pos : pos + 8], "big")
            length = header & 0xFFFFFFFF
            if len(buf) - pos - 8 < length:
                break
            name = MESSAGE_TYPES.get(header >> 48, f"0x{header >> 48:04x}")
            names.append(name)
            self.counts[f"message {name}"] += 1
            pos += 8 + length
        del buf[:pos]
        return names


class Relay:
    """A TCP relay in front of one endpoint that parses both directions (one Direction pair per run)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.reset()
        self._server: asyncio.Server | None = None

    def reset(self, timeline: bool = False) -> None:
        # a fresh parser pair for the connections to come; live connections keep their own state
        # but count into whatever self.up/self.down are at the time of each read
        self.up_counts: Counter[str] = Counter()
        self.down_counts: Counter[str] = Counter()
        self.events: list[Event] | None = [] if timeline else None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        target_r, target_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        down = Direction("server->endpoint", preface=True)
        up = Direction("endpoint->server", preface=False)
        with contextlib.suppress(asyncio.CancelledError):  # the trace is over: the loop is closing
            await asyncio.gather(
                self._pipe(client_r, target_w, down, lambda: self.down_counts),
                self._pipe(target_r, client_w, up, lambda: self.up_counts),
            )

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: Direction,
        counts: Callable[[], Counter[str]],
    ) -> None:
        try:
            while chunk := await reader.read(1 << 20):
                direction.counts = counts()  # count into the current window
                direction.timeline = self.events
                direction.feed(chunk)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


class Strace:
    """``strace -c -f`` attached to a process for one window: syscalls by name (stopped by its pid).

    Tracing slows the traced process a lot, so wall-clock numbers mean nothing meanwhile, and a slower
    server batches a little more; the counts still compare endpoints run the same way.
    """

    def __init__(self, pid: int, output: Path) -> None:
        self.output = output
        self.process = subprocess.Popen(
            ["strace", "-c", "-f", "-q", "-o", str(output), "-p", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)  # attaching to every thread takes a moment

    def stop(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        calls: dict[str, int] = {}
        for line in self.output.read_text().splitlines():
            parts = line.split()
            # "% time  seconds  usecs/call  calls  [errors]  syscall"
            if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                calls[parts[-1]] = int(parts[3])
        return calls


def _python_for(v: Variant) -> Path:
    if v.app == "ts":
        return ts_node()
    return official_python() if v.app == "official" else Path(sys.executable)


def _per_invocation(counts: Counter[str], invocations: int) -> dict[str, float]:
    return {k: round(n / invocations, 2) for k, n in sorted(counts.items())}


def _timeline_lines(events: list[Event]) -> list[str]:
    if not events:
        return []
    t0 = events[0].at
    out = [
        "| ms | direction | read | frame | stream | flags | bytes | messages |",
        "|---:|---|---:|---|---:|---|---:|---|",
    ]
    for e in events:
        flags = ",".join(
            name
            for bit, name in (
                (END_STREAM, "END_STREAM" if e.kind in ("DATA", "HEADERS") else "ACK"),
                (0x4, "END_HEADERS"),
            )
            if e.flags & bit and not (bit == 0x4 and e.kind not in ("HEADERS", "CONTINUATION"))
        )
        arrow = "srv -> ep" if e.direction == "server->endpoint" else "ep -> srv"
        out.append(
            f"| {1000 * (e.at - t0):.2f} | {arrow} | {e.read} | {e.kind} | {e.stream} | {flags} | {e.length} "
            f"| {' '.join(e.messages)} |"
        )
    return out


async def trace(
    args: argparse.Namespace, workdir: Path
) -> tuple[dict[str, dict[str, dict[str, float]]], list[str]]:
    variants = [VARIANTS[name] for name in args.variants]
    workloads = [w for w in WORKLOADS if not args.only or w.name in args.only]
    server = start_restate(workdir)
    processes: list[Process] = []
    relays: dict[str, Relay] = {}
    results: dict[str, dict[str, dict[str, float]]] = {}
    timelines: list[str] = []
    try:
        for v in variants:
            process, url = start_endpoint(
                v.name,
                v.app,
                _python_for(v),
                workdir,
                server=v.server,
                loop=v.loop,
                extra_env={"BENCH_PREFIX": v.prefix},
            )
            processes.append(process)
            relay = Relay(int(url.rsplit(":", 1)[1]))
            await relay.start()
            relays[v.name] = relay
            await asyncio.to_thread(register, server, f"http://127.0.0.1:{relay.port}")
            log(f"{v.name}: {v.label}, pid {process.pid}, behind relay :{relay.port}")
        for w in workloads:
            for v in variants:
                if not v.serves(w.name):
                    continue
                relay = relays[v.name]
                factory = w.request(v.prefix)
                concurrency = min(args.concurrency, w.concurrency)
                await run_load(server.ingress, factory, concurrency=concurrency, duration=5, max_requests=20)
                await asyncio.sleep(0.3)
                relay.reset()
                endpoint = processes[variants.index(v)]
                before = {
                    who: wakeups_and_syscalls(p.pid)
                    for who, p in (("restate-server", server.process), ("endpoint", endpoint))
                }
                traced = {"restate-server": server.process, "endpoint": endpoint}.get(args.strace or "")
                tracer = Strace(traced.pid, workdir / "strace.txt") if traced is not None else None
                load = await run_load(
                    server.ingress, factory, concurrency=concurrency, duration=120, max_requests=args.n
                )
                await asyncio.sleep(0.5)  # stream teardown after the last response
                syscalls = tracer.stop() if tracer is not None else {}
                after = {
                    who: wakeups_and_syscalls(p.pid)
                    for who, p in (("restate-server", server.process), ("endpoint", endpoint))
                }
                ok = load.requests - load.errors
                if load.errors:
                    log(f"{w.name} {v.name}: {load.errors} errors, first {load.first_error}")
                per = {
                    "server->endpoint": _per_invocation(relay.down_counts, ok),
                    "endpoint->server": _per_invocation(relay.up_counts, ok),
                }
                for who in before:
                    per[who] = {k: round((after[who][k] - before[who][k]) / ok, 2) for k in before[who]}
                if syscalls:
                    per[f"{args.strace} syscall"] = _per_invocation(Counter(syscalls), ok)
                results.setdefault(w.name, {})[v.name] = {
                    f"{d} {k}": n for d, c in per.items() for k, n in c.items()
                }
                if args.timeline:
                    relay.reset(timeline=True)
                    await run_load(server.ingress, factory, concurrency=1, duration=30, max_requests=1)
                    await asyncio.sleep(0.3)
                    timelines += [
                        "",
                        f"### {w.name}, {v.name}: one invocation",
                        "",
                        *_timeline_lines(relay.events or []),
                    ]
                log(f"{w.name:10} {v.name:10} traced {ok} invocations")
        return results, timelines
    finally:
        for relay in relays.values():
            relay.close()
        for process in processes:
            process.stop()
        server.process.stop()


def report(
    results: dict[str, dict[str, dict[str, float]]], variants: list[str], args: argparse.Namespace
) -> str:
    lines = [
        "# Wire trace: per invocation, between restate-server and each endpoint",
        "",
        f"`uv run python bench/wire_trace.py {' '.join(sys.argv[1:])}`: {args.n} invocations per workload "
        f"and variant, {args.concurrency} in flight at most. Counts per invocation (a `call` request is two).",
    ]
    for workload, by_variant in results.items():
        keys = sorted({k for counts in by_variant.values() for k in counts})
        present = [v for v in variants if v in by_variant]
        lines += [
            "",
            f"## {workload}",
            "",
            "| | " + " | ".join(present) + " |",
            "|---|" + "---:|" * len(present),
        ]
        for k in keys:
            if k.endswith(" bytes"):
                continue
            lines.append(f"| {k} | " + " | ".join(f"{by_variant[v].get(k, 0):g}" for v in present) + " |")
        for k in keys:
            if k.endswith(" bytes"):
                lines.append(
                    f"| {k} | " + " | ".join(f"{by_variant[v].get(k, 0):.0f}" for v in present) + " |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--variants", nargs="*", default=["ours", "ts"], choices=sorted(VARIANTS))
    parser.add_argument("--only", nargs="*", help="only these workloads")
    parser.add_argument("-n", type=int, default=100, help="invocations per workload and variant")
    parser.add_argument("-c", "--concurrency", type=int, default=1, help="requests in flight (at most)")
    parser.add_argument(
        "--strace",
        choices=("restate-server", "endpoint"),
        help="also count this process's syscalls by name (strace -c -f; slows it down a lot)",
    )
    parser.add_argument("--timeline", action="store_true", help="also list one invocation frame by frame")
    parser.add_argument("--output", type=Path, help="write the report here (default: stdout)")
    parser.add_argument("--json", type=Path, help="also write the counts as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="restate-wire-") as tmp:
        results, timelines = asyncio.run(trace(args, Path(tmp)))
    text = report(results, args.variants, args)
    if timelines:
        text += "\n## Timelines\n" + "\n".join(timelines) + "\n"
    if args.output:
        args.output.write_text(text)
        log(f"wrote {args.output}")
    else:
        print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
