"""Benchmark this SDK against the official ``restate-sdk`` and the TypeScript SDK; writes bench/RESULTS.md.

Usage (from the repository root)::

    uv run python bench/run.py            # full run, about 13 minutes
    uv run python bench/run.py --quick    # smoke run, about 3 minutes

One restate-server, one endpoint process per variant (ours from the workspace venv, the official SDK
from bench/.venv-official, the TypeScript SDK on node from bench/ts; each a single process with one
event loop), one load generator. Each workload is measured in rounds; in every round each variant
runs for the same bounded time, in an order that rotates from round to round, so that background
load on the machine hits all variants alike. Around every run we read the endpoint process's CPU time (/proc/<pid>/stat) and peak RSS
(VmHWM, reset first). See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _infra import (
    HERE,
    ROOT,
    SERVER_VERSION,
    Process,
    RestateServer,
    cpu_seconds,
    log,
    official_python,
    official_versions,
    register,
    reset_hwm,
    start_endpoint,
    start_restate,
    ts_node,
    ts_versions,
    vm_hwm_kib,
)
from loadgen import LoadResult, RequestFactory, run_load


@dataclass(frozen=True)
class Variant:
    """One SDK endpoint under test: which app, served how."""

    name: str
    app: str  # bench/apps/<app>.py ("ours", "official", "floor") or "ts" (bench/ts/app.cjs)
    server: str  # "auto" (restate_sdk.serve's choice), "builtin", "hypercorn", "granian"; ts: "node:http2"
    loop: str  # "auto" (restate_sdk.serve's choice: uvloop but on hypercorn), "asyncio", "uvloop" or "node"
    prefix: str  # service-name prefix, so that every variant has services of its own
    workloads: tuple[str, ...] = ()  # the workloads it can serve; empty: all
    env: tuple[tuple[str, str], ...] = ()  # set for the endpoint process

    @property
    def label(self) -> str:
        loop = (
            "uvloop"
            if self.loop == "uvloop" or (self.loop == "auto" and self.server != "hypercorn")
            else "asyncio"
        )
        if self.app == "ts":
            quiet = ", RESTATE_LOGGING=WARN: no INFO line per invocation" if self.env else ""
            return f"TypeScript SDK (@restatedev/restate-sdk on Node, node:http2{quiet})"
        if self.name == "baseline":
            return (
                f"ours SDK at the baseline (BENCH_BASELINE_PYTHON={os.environ.get('BENCH_BASELINE_PYTHON')})"
            )
        if self.app == "floor":
            return f"no SDK, a hand-written endpoint for noop and run steps ({self.server} RSGI, {loop})"
        how = "restate_sdk.serve: " if self.app == "ours" else ""
        server = {"auto": "builtin h2c (the default)", "granian": "granian RSGI"}.get(
            self.server, self.server
        )
        if self.app != "ours":
            server = self.server
        return f"{self.app} SDK ({how}{server}, {loop})"

    def serves(self, workload: str) -> bool:
        return not self.workloads or family(workload) in self.workloads


VARIANTS = {
    v.name: v
    for v in (
        # each SDK as its users run it: restate_sdk.serve() (granian), the official SDK on hypercorn
        Variant("ours", "ours", "auto", "auto", "Ours"),
        Variant("official", "official", "hypercorn", "asyncio", "Official"),
        Variant("ts", "ts", "node:http2", "node", "Ts"),
        # the TypeScript SDK logs two INFO lines per invocation by default; here it does not
        Variant("ts-warn", "ts", "node:http2", "node", "TsWarn", env=(("RESTATE_LOGGING", "WARN"),)),
        # the same server and loop for both: what the SDK code alone is worth
        Variant("ours-hypercorn", "ours", "hypercorn", "asyncio", "OursHypercorn"),
        Variant("official-granian", "official", "granian", "asyncio", "OfficialGranian"),
        Variant("official-granian-uvloop", "official", "granian", "uvloop", "OfficialGranianUvloop"),
        Variant("ours-granian", "ours", "granian", "auto", "OursGranian"),
        Variant("ours-granian-asyncio", "ours", "granian", "asyncio", "OursGranianAsyncio"),
        Variant("ours-builtin-asyncio", "ours", "builtin", "asyncio", "OursBuiltinAsyncio"),
        Variant("ours-hypercorn-uvloop", "ours", "hypercorn", "uvloop", "OursUvloop"),
        # ours from another checkout (BENCH_BASELINE_PYTHON: its venv's python), served like "ours":
        # a regression check side by side in one run, e.g. --variants ours baseline
        Variant("baseline", "ours", "auto", "auto", "Baseline"),
        # the lower bound of any SDK's round trip: restate-server and the HTTP server alone (noop and
        # run steps), on granian and on our builtin server
        Variant("floor", "floor", "granian", "uvloop", "Floor", ("noop-c1", "noop-c32", "run10", "run50")),
        Variant(
            "floor-builtin",
            "floor",
            "builtin",
            "uvloop",
            "FloorBuiltin",
            ("noop-c1", "noop-c32", "run10", "run50"),
        ),
    )
}
DEFAULT_VARIANTS = (
    "ours",
    "official",
    "ts",
    "ours-granian",
    "official-granian-uvloop",
    "floor",
    "floor-builtin",
)
RATIO_PAIRS = [  # (ours, theirs, what the comparison says), reported when both ran
    ("ours", "official", "Each SDK as its users run it (the headline)."),
    (
        "ours-hypercorn",
        "official",
        "Both on hypercorn and asyncio: the SDK code alone, behind a costly server.",
    ),
    (
        "ours-granian",
        "official-granian-uvloop",
        "Both on granian and uvloop: the SDK code alone, behind the same server.",
    ),
    (
        "ours",
        "ours-granian",
        "Ours on its builtin HTTP server (the default) and on granian: the server alone.",
    ),
    ("ours-granian-asyncio", "official-granian", "Both on granian and asyncio."),
]


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    concurrency: int
    request: Callable[[str], RequestFactory]  # service-name prefix -> request factory
    expect: bytes


def family(workload: str) -> str:
    """The workload a copy at another number in flight (``run10@c8``, ``--in-flight``) was made from."""
    return workload.split("@", 1)[0]


def at_in_flight(workload: Workload, n: int) -> Workload:
    """``workload`` with ``n`` requests in flight: ``--in-flight``'s copies, named ``<workload>@c<n>``."""
    description = workload.description.replace(f"{workload.concurrency} in flight", f"{n} in flight")
    if description == workload.description:
        description += f"; {n} in flight"
    return replace(workload, name=f"{workload.name}@c{n}", description=description, concurrency=n)


def select_workloads(only: list[str] | None, in_flight: list[int] | None) -> list[Workload]:
    selected = [w for w in WORKLOADS if not only or w.name in only]
    if in_flight:
        selected = [at_in_flight(w, n) for w in selected for n in in_flight]
    return selected


def _fixed(path: str, body: bytes) -> Callable[[str], RequestFactory]:
    return lambda prefix: lambda worker, seq: (path.format(p=prefix), body)


def _counter(prefix: str) -> RequestFactory:
    return lambda worker, seq: (f"/{prefix}Counter/key-{worker % 16}/add", b"1")


WORKLOADS = [
    Workload(
        "noop-c1",
        "noop handler, 1 request in flight (latency)",
        1,
        _fixed("/{p}Bench/noop", b'"hi"'),
        b'"hi"',
    ),
    Workload(
        "noop-c32", "noop handler, 32 in flight (throughput)", 32, _fixed("/{p}Bench/noop", b'"hi"'), b'"hi"'
    ),
    Workload(
        "run10",
        "10 `ctx.run` steps (`async def` functions), 32 in flight",
        32,
        _fixed("/{p}Bench/steps", b"10"),
        b"45",
    ),
    Workload(
        "run10-def",
        "10 `ctx.run` steps (plain `def` functions; TypeScript: synchronous closures), 32 in flight",
        32,
        _fixed("/{p}Bench/steps_def", b"10"),
        b"45",
    ),
    Workload(
        "run50",
        "50 `ctx.run` steps (`async def` functions), 32 in flight",
        32,
        _fixed("/{p}Bench/steps", b"50"),
        b"1225",
    ),
    Workload(
        "run50-def",
        "50 `ctx.run` steps (plain `def` functions), 32 in flight",
        32,
        _fixed("/{p}Bench/steps_def", b"50"),
        b"1225",
    ),
    Workload(
        "counter16", "virtual object get+set on 16 keys, one request in flight per key", 16, _counter, b""
    ),
    Workload(
        "call",
        "service -> service call (2 invocations per request), 32 in flight",
        32,
        _fixed("/{p}Bench/call", b'"hi"'),
        b'"hi"',
    ),
    Workload("sleep10ms", "`ctx.sleep(10 ms)`, 32 in flight", 32, _fixed("/{p}Bench/sleep", b"10"), b"10"),
]


@dataclass
class Measurement:
    workload: str
    variant: str
    load: LoadResult = field(default_factory=LoadResult)
    sdk_cpu: float = 0.0  # seconds
    server_cpu: float = 0.0
    peak_rss_kib: int = 0
    round_throughput: list[float] = field(default_factory=list[float])  # req/s of each round, in order
    round_sdk_ms: list[float] = field(default_factory=list[float])  # SDK CPU per request, each round
    round_server_ms: list[float] = field(default_factory=list[float])  # restate-server CPU per request

    @property
    def ok(self) -> int:
        return self.load.requests - self.load.errors

    def per_request_ms(self, cpu: float) -> float:
        return 1000 * cpu / self.ok if self.ok else float("nan")

    def add(self, load: LoadResult, sdk_cpu: float, server_cpu: float, peak_rss_kib: int) -> None:
        self.round_throughput.append(load.throughput)
        ok = load.requests - load.errors
        self.round_sdk_ms.append(1000 * sdk_cpu / ok if ok else float("nan"))
        self.round_server_ms.append(1000 * server_cpu / ok if ok else float("nan"))
        self.load.requests += load.requests
        self.load.errors += load.errors
        self.load.elapsed += load.elapsed
        self.load.latencies += load.latencies
        self.load.first_error = self.load.first_error or load.first_error
        self.sdk_cpu += sdk_cpu
        self.server_cpu += server_cpu
        self.peak_rss_kib = max(self.peak_rss_kib, peak_rss_kib)

    def as_dict(self) -> dict[str, object]:
        return {
            "workload": self.workload,
            "variant": self.variant,
            "requests": self.load.requests,
            "errors": self.load.errors,
            "elapsed_s": round(self.load.elapsed, 3),
            "throughput_rps": round(self.load.throughput, 1),
            "p50_ms": round(1000 * self.load.percentile(0.50), 3),
            "p99_ms": round(1000 * self.load.percentile(0.99), 3),
            "sdk_cpu_ms_per_req": round(self.per_request_ms(self.sdk_cpu), 4),
            "server_cpu_ms_per_req": round(self.per_request_ms(self.server_cpu), 4),
            "peak_rss_mib": round(self.peak_rss_kib / 1024, 1),
            "round_throughput_rps": [round(t, 1) for t in self.round_throughput],
            "round_sdk_cpu_ms_per_req": [round(t, 4) for t in self.round_sdk_ms],
            "round_server_cpu_ms_per_req": [round(t, 4) for t in self.round_server_ms],
            "first_error": self.load.first_error,
        }


async def run_once(
    workload: Workload, variant: Variant, endpoint: Process, server: RestateServer, duration: float
) -> tuple[LoadResult, float, float, int]:
    factory = workload.request(variant.prefix)
    await asyncio.sleep(0.2)  # let the previous run's stragglers finish outside the window
    reset_hwm(endpoint.pid)
    sdk0, srv0 = cpu_seconds(endpoint.pid), cpu_seconds(server.process.pid)
    load = await run_load(
        server.ingress, factory, concurrency=workload.concurrency, duration=duration, max_requests=200_000
    )
    await asyncio.sleep(0.2)  # stream teardown after the last response belongs to this window
    sdk1, srv1 = cpu_seconds(endpoint.pid), cpu_seconds(server.process.pid)
    if workload.expect and load.sample and load.sample != workload.expect:
        raise RuntimeError(
            f"{variant.name} {workload.name}: expected {workload.expect!r}, got {load.sample!r}"
        )
    return load, sdk1 - sdk0, srv1 - srv0, vm_hwm_kib(endpoint.pid)


async def measure(
    selected: list[Workload],
    variants: list[Variant],
    endpoints: dict[str, Process],
    server: RestateServer,
    *,
    rounds: int,
    duration: float,
    warmup: float,
) -> list[Measurement]:
    """Every workload on every variant that serves it: warmed up, then measured in ``rounds`` rounds.

    A round goes over every workload in turn (rather than all rounds of one workload, then the
    next), and in each the variants run one after another, the first one rotating. So a ratio
    between workloads (the `def` / `async def` step) compares runs no further apart than a ratio
    between variants does, and a slow stretch of the machine falls on every cell alike.
    """
    for workload in selected:  # first invocations of each handler/key: cache-cold paths
        for v in variants:
            if v.serves(workload.name):
                await run_load(
                    server.ingress,
                    workload.request(v.prefix),
                    concurrency=workload.concurrency,
                    duration=warmup,
                    max_requests=10**6,
                )
    by = {
        (w.name, v.name): Measurement(w.name, v.name) for w in selected for v in variants if v.serves(w.name)
    }
    for r in range(rounds):
        for i, workload in enumerate(selected):
            cells = [v for v in variants if v.serves(workload.name)]
            k = (i + r) % len(cells) if cells else 0
            for v in cells[k:] + cells[:k]:
                by[workload.name, v.name].add(
                    *await run_once(workload, v, endpoints[v.name], server, duration)
                )
        log(f"round {r + 1} of {rounds} done")
    for m in by.values():
        d = m.as_dict()
        log(
            f"{m.workload:10} {m.variant:16} {d['throughput_rps']:8.1f} req/s  p50 {d['p50_ms']:7.2f} ms  "
            f"p99 {d['p99_ms']:7.2f} ms  sdk {d['sdk_cpu_ms_per_req']:.3f} ms/req  "
            f"server {d['server_cpu_ms_per_req']:.3f} ms/req  rss {d['peak_rss_mib']} MiB"
            + (f"  ERRORS {d['errors']}: {d['first_error']}" if d["errors"] else "")
        )
    return list(by.values())


def baseline_python() -> Path:
    """The interpreter of the "baseline" variant: a venv of another checkout of this repo."""
    value = os.environ.get("BENCH_BASELINE_PYTHON")
    if not value or not Path(value).exists():
        raise SystemExit(
            "the baseline variant needs BENCH_BASELINE_PYTHON=<checkout>/.venv/bin/python "
            "(git worktree add ../base <commit> && cd ../base && uv sync --all-packages)"
        )
    return Path(value)


def run_micro(quick: bool) -> dict[str, dict[str, float]]:
    """bench/micro.py for both SDKs, alternating, best of a few runs: {sdk: {case: µs/invocation}}."""
    pythons = {
        "ours": Path(os.environ.get("BENCH_OURS_PYTHON", sys.executable)),
        "official": official_python(),
    }
    best: dict[str, dict[str, float]] = {}
    for r in range(1 if quick else 3):
        for sdk in ("ours", "official") if r % 2 == 0 else ("official", "ours"):
            argv = [str(pythons[sdk]), str(HERE / "micro.py"), sdk] + (["--quick"] if quick else [])
            out = subprocess.run(argv, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise RuntimeError(f"micro.py {sdk} failed:\n{out.stderr[-2000:]}")
            for case, us in json.loads(out.stdout).items():
                best.setdefault(sdk, {})[case] = min(us, best.get(sdk, {}).get(case, float("inf")))
    return best


# ---- the report --------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def _round_range(a: Measurement, b: Measurement, metric: str = "round_throughput") -> str:
    """The lowest and highest ratio of a metric over single rounds (each pair ran in the same round)."""
    xs: list[float] = getattr(a, metric)
    ys: list[float] = getattr(b, metric)
    ratios = [x / y for x, y in zip(xs, ys, strict=False) if y]
    if len(ratios) < 2:
        return "-"
    return f"{min(ratios):.2f}-{max(ratios):.2f}x"


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _three_way(by: dict[tuple[str, str], Measurement], workloads: list[Workload]) -> list[str]:
    """Tables ours / official / ts for throughput, SDK CPU and restate-server CPU, with the targets."""
    names = ("ours", "official", "ts")
    metrics: list[tuple[str, Callable[[Measurement], float], str, str]] = [
        (
            "Throughput (req/s)",
            lambda m: m.load.throughput,
            "{:.1f}",
            "Targets: ours >= 1.2x official, >= 1.0x ts.",
        ),
        (
            "SDK CPU per request (ms)",
            lambda m: m.per_request_ms(m.sdk_cpu),
            "{:.3f}",
            "The endpoint process's user+system time. Targets: ours <= 0.8x official, <= 1.0x ts.",
        ),
        (
            "restate-server CPU per request (ms)",
            lambda m: m.per_request_ms(m.server_cpu),
            "{:.3f}",
            "What each endpoint makes restate-server do. Target: ours <= 1.0x ts.",
        ),
    ]
    lines: list[str] = []
    for i, (title, get, fmt, what) in enumerate(metrics):
        lines += [
            "",
            f"## {title}: ours / official / ts",
            "",
            what,
            "",
            "| workload | ours | official | ts | ours / official | ours / ts | target met |",
            "|---|---:|---:|---:|---:|---:|:-:|",
        ]
        for w in workloads:
            ms = [by.get((w.name, n)) for n in names]
            if any(m is None for m in ms):
                continue
            ours, official, ts = (get(m) for m in ms if m is not None)
            vs_official, vs_ts = (ours / official if official else 0.0), (ours / ts if ts else 0.0)
            if i == 0:
                ok = vs_official >= 1.2 and vs_ts >= 1.0
            elif i == 1:
                ok = vs_official <= 0.8 and vs_ts <= 1.0
            else:
                ok = vs_ts <= 1.0
            lines.append(
                f"| {w.name} | {fmt.format(ours)} | {fmt.format(official)} | {fmt.format(ts)} "
                f"| {vs_official:.2f}x | {vs_ts:.2f}x | {_mark(ok)} |"
            )
    return lines


def _step_costs(by: dict[tuple[str, str], Measurement], name: str) -> list[tuple[float, float]]:
    """(`def` step, `async def` step) SDK CPU in ms: of all rounds, then of each round alone."""
    ms = [by.get((w, name)) for w in ("run10", "run50", "run10-def", "run50-def")]
    if any(m is None for m in ms):
        return []
    r10, r50, d10, d50 = (m for m in ms if m is not None)
    # per step: (run50 - run10) / 40 cancels what an invocation costs besides its steps
    out = [
        (
            (d50.per_request_ms(d50.sdk_cpu) - d10.per_request_ms(d10.sdk_cpu)) / 40,
            (r50.per_request_ms(r50.sdk_cpu) - r10.per_request_ms(r10.sdk_cpu)) / 40,
        )
    ]
    for a10, a50, b10, b50 in zip(
        r10.round_sdk_ms, r50.round_sdk_ms, d10.round_sdk_ms, d50.round_sdk_ms, strict=False
    ):
        out.append(((b50 - b10) / 40, (a50 - a10) / 40))
    return out


def _def_vs_async(by: dict[tuple[str, str], Measurement], names: list[str]) -> list[str]:
    """SDK CPU with `def` step functions over `async def` ones, per request and per step."""
    names = [n for n in names if _step_costs(by, n)]
    if not names:
        return []

    def cpu(workload: str, name: str) -> float | None:
        m = by.get((workload, name))
        return m.per_request_ms(m.sdk_cpu) if m is not None else None

    rows: list[str] = []
    for label, (d, a) in (("10 steps", ("run10-def", "run10")), ("50 steps", ("run50-def", "run50"))):
        cells = [(cpu(d, n), cpu(a, n)) for n in names]
        rows.append(
            f"| per request, {label} | "
            + " | ".join(_ratio(x, y) if x is not None and y is not None else "n/a" for x, y in cells)
            + " |"
        )
    step_cells: list[str] = []
    round_cells: list[str] = []
    for n in names:
        (def_step, async_step), *rounds = _step_costs(by, n)
        step_cells.append(
            f"{_ratio(def_step, async_step)} ({1000 * def_step:.0f} / {1000 * async_step:.0f} µs)"
        )
        ratios = [d / a for d, a in rounds if a > 0]
        round_cells.append(f"{min(ratios):.2f}-{max(ratios):.2f}x" if len(ratios) > 1 else "-")
    rows.append("| per step: (run50 - run10) / 40, `def` / `async def` | " + " | ".join(step_cells) + " |")
    rows.append("| per step, single rounds (lowest-highest) | " + " | ".join(round_cells) + " |")
    return [
        "",
        "## Plain `def` against `async def` step functions",
        "",
        "SDK CPU with `def` step functions over the same with `async def` ones (target for ours: a `def` "
        "step at most 1.2x an `async def` step). Per step, the difference of run50 and run10 over 40 "
        "steps leaves out what an invocation costs besides its steps; the four workloads run in the "
        "same rounds, so a single round's ratio is also shown, a measure of the noise.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
        *rows,
    ]


def _vs_ts(by: dict[tuple[str, str], Measurement], workloads: list[Workload], ts: str = "ts") -> list[str]:
    """ours / ``ts`` (a TypeScript variant) on each of issue 20's targets, with the range over single rounds."""
    rows: list[str] = []
    for w in workloads:
        a, b = by.get((w.name, "ours")), by.get((w.name, ts))
        if a is None or b is None:
            continue
        tput = a.load.throughput / b.load.throughput if b.load.throughput else 0.0
        sdk = a.per_request_ms(a.sdk_cpu) / b.per_request_ms(b.sdk_cpu)
        server = a.per_request_ms(a.server_cpu) / b.per_request_ms(b.server_cpu)
        rows.append(
            f"| {w.name} | {tput:.2f}x | {_round_range(a, b)} | {sdk:.2f}x "
            f"| {_round_range(a, b, 'round_sdk_ms')} | {server:.2f}x "
            f"| {_round_range(a, b, 'round_server_ms')} | {_mark(tput >= 1.0 and sdk <= 1.0 and server <= 1.0)} |"
        )
    if not rows:
        return []
    return [
        "",
        f"## ours / {ts}, with single rounds",
        "",
        "Targets (issue 20): throughput >= 1.0x, SDK CPU per request <= 1.0x, restate-server CPU per "
        "request <= 1.0x. Each ratio is of all rounds together; beside it, the lowest and highest ratio "
        f"of single rounds (ours and {ts} ran back to back in each), a measure of the noise.",
        "",
        "| workload | throughput | per round | SDK CPU/req | per round | restate-server CPU/req "
        "| per round | targets met |",
        "|---|---:|---:|---:|---:|---:|---:|:-:|",
        *rows,
    ]


def _at_rate(points: list[tuple[float, float]], rate: float) -> float | None:
    """Linear interpolation of (req/s, value) points at ``rate``; None outside the measured rates."""
    points = sorted(points)
    for (r0, v0), (r1, v1) in itertools.pairwise(points):
        if r0 <= rate <= r1:
            return v0 if r1 == r0 else v0 + (v1 - v0) * (rate - r0) / (r1 - r0)
    return None


def _same_rate(results: list[Measurement]) -> list[str]:
    """ours against each other variant at ours' request rate, from --in-flight's series.

    restate-server's CPU per request falls as the request rate rises (it batches more), so at a fixed
    number in flight a slower endpoint also costs the server more per request; comparing at the same
    rate separates what the endpoint makes the server do from how fast it is.
    """
    series: dict[tuple[str, str], list[Measurement]] = {}
    for r in results:
        if "@" in r.workload and r.ok:
            series.setdefault((family(r.workload), r.variant), []).append(r)
    rows: list[str] = []
    for (fam, variant), theirs in series.items():
        ours = series.get((fam, "ours"))
        if variant == "ours" or ours is None or len(theirs) < 2:
            continue
        server = [(m.load.throughput, m.per_request_ms(m.server_cpu)) for m in theirs]
        sdk = [(m.load.throughput, m.per_request_ms(m.sdk_cpu)) for m in theirs]
        for o in sorted(ours, key=lambda m: m.load.throughput):
            rate = o.load.throughput
            their_server, their_sdk = _at_rate(server, rate), _at_rate(sdk, rate)
            our_server, our_sdk = o.per_request_ms(o.server_cpu), o.per_request_ms(o.sdk_cpu)
            if their_server is None or their_sdk is None:
                rows.append(
                    f"| {o.workload} | {variant} | {rate:.1f} | {our_server:.3f} | outside {variant}'s rates | | {our_sdk:.3f} | | |"
                )
                continue
            rows.append(
                f"| {o.workload} | {variant} | {rate:.1f} | {our_server:.3f} | {their_server:.3f} "
                f"| {our_server / their_server:.2f}x | {our_sdk:.3f} | {their_sdk:.3f} | {our_sdk / their_sdk:.2f}x |"
            )
    if not rows:
        return []
    return [
        "",
        "## At the same request rate (`--in-flight`)",
        "",
        "restate-server's CPU per request falls as the request rate rises (it batches more), so at a "
        "fixed number in flight a slower endpoint also costs the server more per request. Here each of "
        "ours' points is set against the other variant's CPU per request at ours' request rate, "
        "interpolated between that variant's two nearest points (each variant ran at every number in flight).",
        "",
        "| workload | vs | ours req/s | ours restate-server CPU/req ms | theirs at that rate | ratio "
        "| ours SDK CPU/req ms | theirs at that rate | ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]


def write_results(
    path: Path,
    selected: list[Workload],
    results: list[Measurement],
    variants: list[Variant],
    micro: dict[str, dict[str, float]] | None,
    replay: list[dict[str, float]] | None,
    meta: dict[str, str],
) -> None:
    by = {(r.workload, r.variant): r for r in results}
    workloads = [w for w in selected if any(r.workload == w.name for r in results)]
    lines = [
        "# Benchmark: restate_sdk (ours) vs the official restate-sdk and the TypeScript SDK",
        "",
        f"Generated by `{meta['command']}` "
        f"on {meta['date']}; see bench/README.md for the method. Variants: "
        + "; ".join(f"`{v.name}` = {v.label}" for v in variants)
        + ".",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in meta.items() if k not in ("date", "command")]
    names = {v.name for v in variants}
    if {"ours", "official", "ts"} <= names:
        lines += _three_way(by, workloads)
    lines += _vs_ts(by, workloads)
    lines += _vs_ts(by, workloads, "ts-warn")
    lines += _def_vs_async(by, [n for n in ("ours", "official", "ts") if n in names])
    for mine, theirs, what in RATIO_PAIRS:
        if mine not in names or theirs not in names:
            continue
        lines += [
            "",
            f"## Ratios: {mine} / {theirs}",
            "",
            what + " Targets: throughput >= 1.20x on every workload; SDK CPU per request <= 0.80x. "
            "For latency, CPU and memory, lower is better. *per round*: the range of the throughput "
            "ratio over single rounds, a measure of the noise.",
            "",
            "| workload | throughput | per round | SDK CPU/req | p50 | p99 | peak RSS | throughput >= 1.2x | CPU <= 0.8x |",
            "|---|---:|---:|---:|---:|---:|---:|:-:|:-:|",
        ]
        for w in workloads:
            a, b = by.get((w.name, mine)), by.get((w.name, theirs))
            if a is None or b is None:
                continue
            tput = a.load.throughput / b.load.throughput if b.load.throughput else 0.0
            cpu_a, cpu_b = a.per_request_ms(a.sdk_cpu), b.per_request_ms(b.sdk_cpu)
            cpu = cpu_a / cpu_b if cpu_b else float("inf")
            lines.append(
                f"| {w.name} | {tput:.2f}x | {_round_range(a, b)} | {cpu:.2f}x "
                f"| {_ratio(a.load.percentile(0.5), b.load.percentile(0.5))} "
                f"| {_ratio(a.load.percentile(0.99), b.load.percentile(0.99))} "
                f"| {_ratio(a.peak_rss_kib, b.peak_rss_kib)} | {_mark(tput >= 1.2)} | {_mark(cpu <= 0.8)} |"
            )
    if {"ours", "baseline"} <= names:
        lines += [
            "",
            "## Regression check: ours / baseline",
            "",
            "Ours against another checkout of ours (`BENCH_BASELINE_PYTHON`), served the same way. "
            "Target (issue 14): SDK CPU per request at most 5% over the baseline.",
            "",
            "| workload | throughput | per round | ours SDK CPU/req ms | baseline SDK CPU/req ms "
            "| SDK CPU/req | CPU <= 1.05x |",
            "|---|---:|---:|---:|---:|---:|:-:|",
        ]
        for w in workloads:
            a, b = by.get((w.name, "ours")), by.get((w.name, "baseline"))
            if a is None or b is None:
                continue
            cpu_a, cpu_b = a.per_request_ms(a.sdk_cpu), b.per_request_ms(b.sdk_cpu)
            cpu = cpu_a / cpu_b if cpu_b else float("inf")
            lines.append(
                f"| {w.name} | {_ratio(a.load.throughput, b.load.throughput)} | {_round_range(a, b)} "
                f"| {cpu_a:.3f} | {cpu_b:.3f} | {cpu:.2f}x | {_mark(cpu <= 1.05)} |"
            )
    lines += _same_rate(results)
    if "floor" in names and "official" in names:
        lines += [
            "",
            "## The floor: restate-server and the HTTP stack alone",
            "",
            "`floor` answers `noop` and the run steps with no SDK at all (bench/apps/floor.py): no SDK can beat it. "
            "`floor / official` is the most any SDK could reach against the official one here; "
            "`ours / floor` is how close ours comes to that limit.",
            "",
            "| workload | floor / official throughput | ours / floor throughput | ours / official throughput "
            "| floor SDK CPU/req ms | ours SDK CPU/req ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for w in workloads:
            f, o, b = by.get((w.name, "floor")), by.get((w.name, "ours")), by.get((w.name, "official"))
            if f is None or b is None:
                continue
            ours_vs_floor = _ratio(o.load.throughput, f.load.throughput) if o else "n/a"
            ours_vs_official = _ratio(o.load.throughput, b.load.throughput) if o else "n/a"
            ours_cpu = f"{o.per_request_ms(o.sdk_cpu):.3f}" if o else "n/a"
            lines.append(
                f"| {w.name} | {_ratio(f.load.throughput, b.load.throughput)} | {ours_vs_floor} "
                f"| {ours_vs_official} | {f.per_request_ms(f.sdk_cpu):.3f} | {ours_cpu} |"
            )
    lines += [
        "",
        "## Raw numbers",
        "",
        "CPU is the user+system time of a process per successful ingress request, in milliseconds "
        "(a `call` request is two invocations). Peak RSS is the endpoint's VmHWM, reset before each run.",
        "",
        "| workload | in flight | variant | requests | errors | req/s | p50 ms | p99 ms | SDK CPU ms/req "
        "| restate-server CPU ms/req | peak RSS MiB |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for w in workloads:
        for v in variants:
            r = by.get((w.name, v.name))
            if r is None:
                continue
            d = r.as_dict()
            lines.append(
                f"| {w.name} | {w.concurrency} | {v.name} | {d['requests']} | {d['errors']} | {d['throughput_rps']} "
                f"| {d['p50_ms']:.2f} | {d['p99_ms']:.2f} | {d['sdk_cpu_ms_per_req']:.3f} "
                f"| {d['server_cpu_ms_per_req']:.3f} | {d['peak_rss_mib']} |"
            )
    lines += ["", "Workloads:", ""]
    lines += [f"- `{w.name}`: {w.description}." for w in workloads]
    errors = [r for r in results if r.load.errors]
    if errors:
        lines += ["", "First errors:", ""]
        lines += [f"- {r.workload}/{r.variant}: `{r.load.first_error}`" for r in errors]
    if micro:
        lines += [
            "",
            "## In-process cost per invocation (bench/micro.py, no HTTP server, no restate-server)",
            "",
            "Each SDK's ASGI app driven by the same small restate-server emulator (request bytes as "
            "restate-server 1.7 sends them; completions answered at once), best of several runs. This is "
            "what the SDK code itself costs, whatever server it sits behind; the emulator's own share is "
            "included in both columns.",
            "",
            "| workload | ours µs | official µs | ours / official |",
            "|---|---:|---:|---:|",
        ]
        for case, ours_us in micro["ours"].items():
            official_us = micro["official"][case]
            lines.append(f"| {case} | {ours_us:.0f} | {official_us:.0f} | {ours_us / official_us:.2f}x |")
    if replay:
        base = replay[0]
        lines += [
            "",
            "## Replay cost (bench/replay.py, our engine only)",
            "",
            "A journal of N `ctx.run` entries (RunCommand + RunCompletion each) fed to `InvocationEngine` "
            "in 16 KiB chunks and replayed as the context does. Per-entry time must stay flat "
            "(target: N=1000 within 1.5x of N=10). The last columns replay through `InvocationContext`.",
            "",
            "| entries | engine µs/entry | vs N=10 | context µs/entry | vs N=10 |",
            "|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['entries']} | {r['us_per_entry']:.2f} | {r['us_per_entry'] / base['us_per_entry']:.2f}x "
            f"| {r['us_per_entry_context']:.2f} | {r['us_per_entry_context'] / base['us_per_entry_context']:.2f}x |"
            for r in replay
        ]
    lines.append("")
    path.write_text("\n".join(lines))


def _git_rev() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "packages/sdk/src"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return out.stdout.strip() + (" (with uncommitted changes in packages/sdk/src)" if dirty else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


async def bench(
    selected: list[Workload], args: argparse.Namespace, variants: list[Variant], workdir: Path
) -> list[Measurement]:
    server = start_restate(workdir)
    endpoints: dict[str, Process] = {}
    try:
        for v in variants:
            if v.app == "ts":
                python = ts_node()
            elif v.app == "official":
                python = official_python()
            elif v.name == "baseline":
                python = baseline_python()
            else:  # the floor imports no SDK: any interpreter with granian does
                python = Path(os.environ.get("BENCH_OURS_PYTHON", sys.executable))
            process, url = start_endpoint(
                v.name,
                v.app,
                python,
                workdir,
                server=v.server,
                loop=v.loop,
                extra_env={"BENCH_PREFIX": v.prefix, **dict(v.env)},
            )
            endpoints[v.name] = process
            register(server, url)
            log(f"{v.name}: {v.label}, pid {process.pid}, {url}")
        await asyncio.sleep(1.0)
        results = await measure(
            selected,
            variants,
            endpoints,
            server,
            rounds=args.rounds,
            duration=args.duration,
            warmup=args.warmup,
        )
        for name, process in endpoints.items():
            if not process.alive():
                raise RuntimeError(f"endpoint {name} died:\n{process.tail()}")
        return results
    finally:
        for process in endpoints.values():
            process.stop()
        server.process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (about 3 minutes in all)")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default 3, quick 1)")
    parser.add_argument("--duration", type=float, help="seconds per variant per round (default 4, quick 1.5)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up per variant per workload")
    parser.add_argument("--only", nargs="*", help="run only these workloads")
    parser.add_argument(
        "--variants",
        nargs="*",
        default=list(DEFAULT_VARIANTS),
        choices=sorted(VARIANTS),
        help=f"endpoints to compare (default: {' '.join(DEFAULT_VARIANTS)})",
    )
    parser.add_argument(
        "--in-flight",
        nargs="+",
        type=int,
        metavar="N",
        help="run each selected workload at each of these numbers of requests in flight (named "
        "<workload>@c<N>), and compare the variants at the same request rate",
    )
    parser.add_argument("--no-replay", action="store_true", help="skip the replay benchmark")
    parser.add_argument("--no-micro", action="store_true", help="skip the in-process benchmark")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the measurements as JSON")
    args = parser.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.duration = args.duration or (1.5 if args.quick else 4.0)
    args.warmup = args.warmup if args.warmup is not None else (0.4 if args.quick else 1.0)
    variants = [VARIANTS[name] for name in dict.fromkeys(args.variants)]

    full = (args.rounds, args.duration, args.warmup, args.only, args.variants, args.in_flight) == (
        3,
        4.0,
        1.0,
        None,
        list(DEFAULT_VARIANTS),
        None,
    )
    selected = select_workloads(args.only, args.in_flight)
    started = time.monotonic()
    load_before = _load_average()
    versions = official_versions(official_python())
    with tempfile.TemporaryDirectory(prefix="restate-bench-") as tmp:
        results = asyncio.run(bench(selected, args, variants, Path(tmp)))

    micro = None
    if not args.no_micro:
        micro = run_micro(args.quick)
        for case, us in micro["ours"].items():
            log(f"micro {case:8} ours {us:8.1f} µs  official {micro['official'][case]:8.1f} µs")

    replay = None
    if not args.no_replay:
        import replay as replay_bench

        replay = replay_bench.measure_all(quick=args.quick)
        for r in replay:
            log(
                f"replay {r['entries']:5} entries: {r['us_per_entry']:.2f} µs/entry (engine), "
                f"{r['us_per_entry_context']:.2f} µs/entry (context)"
            )

    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["uv run python bench/run.py", *sys.argv[1:]]),
        "mode": "quick" if args.quick else ("full" if full else "partial (not the full run)"),
        "measurement": f"{args.rounds} round(s) x {args.duration:g} s per variant per workload, "
        f"after {args.warmup:g} s of warm-up",
        "machine": f"{os.cpu_count()} cores, {_cpu_model()}, Linux {platform.release()}; "
        f"load average {load_before} before, {_load_average()} after",
        "python": platform.python_version(),
        "ours": f"restate_sdk at {_git_rev()}",
        "official": f"restate-sdk {versions['restate-sdk']} (hypercorn {versions['hypercorn']}, h2 {versions['h2']})",
        "restate-server": SERVER_VERSION,
    }
    if any(v.app == "ts" for v in variants):
        ts = ts_versions(ts_node())
        meta["ts"] = f"@restatedev/restate-sdk {ts['restate-sdk']} on Node {ts['node']} (node:http2)"
    write_results(args.output, selected, results, variants, micro, replay, meta)
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in results], indent=2))
    log(f"wrote {args.output} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
