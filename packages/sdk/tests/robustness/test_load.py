"""2,000 concurrent invocations (sleeps, runs, calls) through restate-server, endpoint memory bounded.

The endpoint runs in its own process (``restate.serve``), so its peak resident memory (VmHWM) is its
own. All 2,000 invocations are sent first (so they are in flight together), then attached to.
"""

from __future__ import annotations

import asyncio
import collections
import time
from pathlib import Path

import httpx
import pytest
from restate_testing import RestateServer

from .apps import TALLY_KEYS, expected_mix
from .support import EndpointProcess, crash_lines, register

pytestmark = pytest.mark.integration

INVOCATIONS = 2000
SEND_CONCURRENCY = 100
ATTACH_CONCURRENCY = 200
BUDGET = 150.0  # seconds, for sending and collecting all of them
RSS_BOUND_MB = 500
# Every invocation first sleeps until this many seconds after the first send, so that (sends
# permitting) all 2,000 are in flight at once, then does its work in one burst.
RELEASE_AFTER = 12.0


async def _in_flight(admin_url: str, peak: list[int]) -> None:
    """Samples how many Work invocations restate-server has not completed yet; keeps the maximum."""
    sql = "SELECT count(*) AS n FROM sys_invocation WHERE target_service_name = 'Work' AND status <> 'completed'"
    async with httpx.AsyncClient(timeout=10) as admin:
        while True:
            r = await admin.post(
                f"{admin_url}/query", json={"query": sql}, headers={"accept": "application/json"}
            )
            if r.status_code == 200:
                peak[0] = max(peak[0], int(r.json()["rows"][0]["n"]))
            await asyncio.sleep(0.5)


async def _load(ingress_url: str, admin_url: str, peak: list[int]) -> tuple[dict[int, str], float, float]:
    limits = httpx.Limits(max_connections=ATTACH_CONCURRENCY, max_keepalive_connections=ATTACH_CONCURRENCY)
    sampler = asyncio.get_running_loop().create_task(_in_flight(admin_url, peak))
    # h2c: one connection, many streams; restate's ingress takes sends ~5x faster than over many HTTP/1.1 ones
    async with httpx.AsyncClient(
        base_url=ingress_url, timeout=120, limits=limits, http1=False, http2=True
    ) as client:
        sem = asyncio.Semaphore(SEND_CONCURRENCY)
        release_at = int((time.time() + RELEASE_AFTER) * 1000)

        async def send(i: int) -> str:
            async with sem:
                r = await client.post("/Work/mix/send", json={"i": i, "release_at_ms": release_at})
                assert r.status_code == 202, r.text
                return str(r.json()["invocationId"])

        started = time.monotonic()
        ids = await asyncio.gather(*(send(i) for i in range(INVOCATIONS)))
        sent_in = time.monotonic() - started

        attach_sem = asyncio.Semaphore(ATTACH_CONCURRENCY)

        async def attach(i: int, invocation_id: str) -> tuple[int, str]:
            async with attach_sem:
                r = await client.get(f"/restate/invocation/{invocation_id}/attach")
                assert r.status_code == 200, f"{i}: {r.status_code} {r.text}"
                return i, r.json()

        results = dict(await asyncio.gather(*(attach(i, x) for i, x in enumerate(ids))))
        sampler.cancel()
        return results, sent_in, time.monotonic() - started


@pytest.mark.parametrize("http_server", ["builtin", "granian", "hypercorn"])
def test_two_thousand_concurrent_invocations(server: RestateServer, tmp_path: Path, http_server: str) -> None:
    endpoint = EndpointProcess(tmp_path / "endpoint.log", server=http_server)
    endpoint.start()
    try:
        register(server, endpoint.url)
        with httpx.Client(base_url=server.ingress_url, timeout=60) as ingress:
            before = {k: ingress.post(f"/Tally/k{k}/total").json() for k in range(TALLY_KEYS)}
            rss_idle = endpoint.peak_rss_mb()
            cpu_before = endpoint.cpu_seconds()
            peak = [0]
            results, sent_in, took = asyncio.run(
                asyncio.wait_for(_load(server.ingress_url, server.admin_url, peak), BUDGET)
            )
            cpu = endpoint.cpu_seconds() - cpu_before
            rss_peak = endpoint.peak_rss_mb()
            after = {k: ingress.post(f"/Tally/k{k}/total").json() for k in range(TALLY_KEYS)}
        wrong = {i: r for i, r in results.items() if r != expected_mix(i)}
        assert not wrong, list(wrong.items())[:10]
        assert len(results) == INVOCATIONS
        # every call that bumped a Tally did so exactly once
        bumps = collections.Counter(f"k{i % TALLY_KEYS}" for i in range(INVOCATIONS) if i % 4 == 2)
        assert {k: after[k] - before[k] for k in range(TALLY_KEYS)} == {
            k: bumps[f"k{k}"] for k in range(TALLY_KEYS)
        }
        print(
            f"\n{http_server}: {INVOCATIONS} invocations: sent in {sent_in:.1f}s, all done in {took:.1f}s "
            f"({INVOCATIONS / took:.0f}/s); endpoint CPU {cpu:.1f}s; "
            f"at most {peak[0]} in flight at once; "
            f"endpoint peak RSS {rss_peak:.0f} MiB (idle {rss_idle:.0f} MiB)"
        )
        assert rss_peak < RSS_BOUND_MB, f"endpoint peak RSS {rss_peak:.0f} MiB"
        assert endpoint.alive()
        assert not crash_lines(endpoint.log_text()), endpoint.log_text()[-3000:]
    finally:
        endpoint.stop()
