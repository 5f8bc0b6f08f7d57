"""restate_sdk.serve(workers=N): CPU per request and throughput with 1 and 2 worker processes.

Usage (from the repository root)::

    uv run python bench/workers.py            # all workloads of run.py, about 3 minutes
    uv run python bench/workers.py --only noop-c32 run10 --duration 2

One restate-server, two endpoints of bench/apps/ours.py served by ``restate_sdk.serve`` (granian on
uvloop): ``w1`` with one process, ``w2`` with ``workers=2``. restate-server carries a deployment's
invocations over one HTTP/2 connection, which one worker serves; so that both workers get work, it
runs with ``RESTATE_WORKER__INVOKER__HTTP2_STREAMS_PER_CONNECTION_LIMIT`` (default 4 here: 32
requests in flight open about 8 connections), for both endpoints alike. CPU is that of the whole
process tree (the supervisor and its workers). Rounds rotate as in run.py. Writes
bench/RESULTS-workers.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run
from _infra import (
    HERE,
    SERVER_VERSION,
    Process,
    _tcp_open,
    free_port,
    log,
    register,
    start_restate,
    wait_until,
)
from _infra import cpu_seconds as _cpu_seconds
from run import WORKLOADS, Measurement, Variant, _git_rev, _load_average

LAUNCH = """
import sys
sys.path.insert(0, sys.argv[1])
from serve_app import load_app
import restate_sdk
restate_sdk.serve(load_app("ours"), int(sys.argv[2]), host="127.0.0.1", workers=int(sys.argv[3]))
"""

VARIANTS = {
    "w1": (Variant("w1", "ours", "granian", "auto", "OursW1"), 1),
    "w2": (Variant("w2", "ours", "granian", "auto", "OursW2"), 2),
}


class TreeProcess(Process):
    """A served endpoint whose CPU is summed over its process tree (``pid`` stays the supervisor's)."""

    def tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo += [int(c) for c in f.read().split()]
            except OSError:
                continue
        return pids


def _tree_cpu(pid: int) -> float:
    process = _ENDPOINTS.get(pid)
    if process is None:
        return _cpu_seconds(pid)
    total = 0.0
    for p in process.tree():
        with contextlib.suppress(OSError):  # a worker that just exited
            total += _cpu_seconds(p)
    return total


_ENDPOINTS: dict[int, TreeProcess] = {}


def start(name: str, workers: int, prefix: str, workdir: Path) -> tuple[TreeProcess, str]:
    port = free_port()
    env = dict(os.environ, BENCH_PREFIX=prefix)
    process = TreeProcess(
        name,
        [sys.executable, "-c", LAUNCH, str(HERE), str(port), str(workers)],
        workdir / f"endpoint-{name}.log",
        env,
    )
    wait_until(lambda: _tcp_open(port), f"the {name} endpoint to listen", timeout=30)
    _ENDPOINTS[process.pid] = process
    return process, f"http://127.0.0.1:{port}"


async def bench(args: argparse.Namespace, workdir: Path) -> list[Measurement]:
    run.cpu_seconds = _tree_cpu  # run_once reads CPU through this name: make it the tree's
    server = start_restate(
        workdir, {"RESTATE_WORKER__INVOKER__HTTP2_STREAMS_PER_CONNECTION_LIMIT": str(args.streams)}
    )
    endpoints: dict[str, Process] = {}
    try:
        for name, (variant, workers) in VARIANTS.items():
            process, url = start(name, workers, variant.prefix, workdir)
            endpoints[name] = process
            register(server, url)
            log(f"{name}: restate_sdk.serve(workers={workers}), pid {process.pid}, {url}")
        await asyncio.sleep(1.0)
        selected = [w for w in WORKLOADS if not args.only or w.name in args.only]
        results = await run.measure(
            selected,
            [v for v, _ in VARIANTS.values()],
            endpoints,
            server,
            rounds=args.rounds,
            duration=args.duration,
            warmup=args.warmup,
        )
        for name, process in endpoints.items():
            if not process.alive():
                raise RuntimeError(f"endpoint {name} died:\n{process.tail()}")
        w2 = _ENDPOINTS[endpoints["w2"].pid]
        split = [f"{_cpu_seconds(p):.1f} s" for p in w2.tree() if p != w2.pid]
        args.split = f"w2's workers used {', '.join(split)} of CPU in all (the supervisor {_cpu_seconds(w2.pid):.1f} s)"
        log(args.split)
        return results
    finally:
        for process in endpoints.values():
            process.stop(timeout=40)
        server.process.stop()


def write(path: Path, results: list[Measurement], meta: dict[str, str]) -> None:
    by = {(r.workload, r.variant): r for r in results}
    lines = [
        "# Benchmark: restate_sdk.serve with 1 and 2 worker processes",
        "",
        f"Generated by `uv run python bench/workers.py` on {meta.pop('date')}; see the module docstring.",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in meta.items()],
        "",
        "CPU: user+system time per successful request, of the endpoint's whole process tree and of "
        "restate-server. w2/w1 > 1 for throughput is a gain; for CPU per request, a cost.",
        "",
        "| workload | w1 req/s | w2 req/s | w2/w1 throughput | w1 SDK CPU ms/req | w2 SDK CPU ms/req "
        "| w2/w1 CPU | w1 p50 ms | w2 p50 ms | server CPU ms/req w1 / w2 | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for w in WORKLOADS:
        a, b = by.get((w.name, "w1")), by.get((w.name, "w2"))
        if a is None or b is None:
            continue
        ca, cb = a.per_request_ms(a.sdk_cpu), b.per_request_ms(b.sdk_cpu)
        lines.append(
            f"| {w.name} | {a.load.throughput:.0f} | {b.load.throughput:.0f} "
            f"| {b.load.throughput / a.load.throughput:.2f}x | {ca:.3f} | {cb:.3f} | {cb / ca:.2f}x "
            f"| {1000 * a.load.percentile(0.5):.2f} | {1000 * b.load.percentile(0.5):.2f} "
            f"| {a.per_request_ms(a.server_cpu):.3f} / {b.per_request_ms(b.server_cpu):.3f} "
            f"| {a.load.errors + b.load.errors} |"
        )
    lines.append("")
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per variant per round")
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--streams", type=int, default=4, help="restate-server's h2 streams per connection")
    parser.add_argument("--only", nargs="*", help="run only these workloads")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS-workers.md")
    args = parser.parse_args()
    started = time.monotonic()
    load_before = _load_average()
    with tempfile.TemporaryDirectory(prefix="restate-bench-workers-") as tmp:
        results = asyncio.run(bench(args, Path(tmp)))
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "measurement": f"{args.rounds} round(s) x {args.duration:g} s per variant per workload, after "
        f"{args.warmup:g} s of warm-up; restate-server with {args.streams} h2 streams per connection",
        "machine": f"{os.cpu_count()} cores, Linux {platform.release()}, shared with other jobs; "
        f"load average {load_before} before, {_load_average()} after",
        "w2 split": args.split,
        "python": platform.python_version(),
        "ours": f"restate_sdk at {_git_rev()}",
        "restate-server": SERVER_VERSION,
    }
    write(args.output, results, meta)
    log(f"wrote {args.output} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
