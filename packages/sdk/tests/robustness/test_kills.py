"""SIGKILL the endpoint 20 times at random points of 50-step invocations.

Each step (a ``ctx.run``) appends its number to a log when it starts, so the log is the order of
step executions. At each kill the last line is the step in flight (or the last one started, if the
kill fell between steps). Expected: every invocation completes with the right result; a step whose
result was journaled never runs again (the log never goes back), and a step runs more than once
only if it was the one in flight at a kill, at most once more per such kill. The endpoint comes
back on granian or hypercorn at random.
"""

from __future__ import annotations

import collections
import itertools
import os
import random
import time
import uuid
from pathlib import Path

import httpx
import pytest
from restate_testing import RestateServer

from .support import EndpointProcess, crash_lines, register

pytestmark = pytest.mark.integration

KILLS = 20
STEPS = 50
STEP_SECONDS = 0.03
BUDGET = 150.0


def _started(log: Path) -> list[int]:
    return [int(x) for x in log.read_text().split()] if log.exists() else []


def test_twenty_sigkills_at_random_points_of_fifty_step_invocations(
    server: RestateServer, tmp_path: Path
) -> None:
    seed = int(os.environ.get("KILL_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    print(f"\nkill seed {seed} (KILL_SEED={seed} reproduces the schedule)")
    endpoint = EndpointProcess(tmp_path / "endpoint.log")
    endpoint.start()
    deadline = time.monotonic() + BUDGET
    invocations: list[tuple[str, Path]] = []
    in_flight_at_kill: dict[Path, list[int]] = collections.defaultdict(list)
    try:
        register(server, endpoint.url)
        with httpx.Client(base_url=server.ingress_url, timeout=60) as ingress:

            def done(invocation_id: str) -> bool:
                return ingress.get(f"/restate/invocation/{invocation_id}/output").status_code == 200

            kills = 0
            while kills < KILLS:
                assert time.monotonic() < deadline, f"only {kills} kills within {BUDGET}s"
                if not invocations or done(invocations[-1][0]):
                    log = tmp_path / f"steps-{len(invocations)}.log"
                    r = ingress.post(
                        "/Steps/run_steps/send",
                        json={"count": STEPS, "log": str(log), "step_seconds": STEP_SECONDS},
                        headers={"idempotency-key": uuid.uuid4().hex},
                    )
                    assert r.status_code == 202, r.text
                    invocations.append((r.json()["invocationId"], log))
                invocation_id, log = invocations[-1]
                # let 0..3 more steps start (less if the invocation ends first), then a random moment more
                target = len(_started(log)) + rng.randint(0, 3)
                wait_until = time.monotonic() + 10
                while (
                    len(_started(log)) < target
                    and time.monotonic() < wait_until
                    and not (len(set(_started(log))) == STEPS and done(invocation_id))
                ):
                    time.sleep(0.005)
                time.sleep(rng.uniform(0, 2 * STEP_SECONDS))
                endpoint.kill()
                kills += 1
                started = _started(log)
                if started:
                    in_flight_at_kill[log].append(started[-1])
                time.sleep(rng.uniform(0, 0.2))  # down for a random while; restate-server keeps retrying
                endpoint.server = rng.choice(["builtin", "granian", "hypercorn"])  # either comes back
                endpoint.start()

            results = {
                invocation_id: ingress.get(f"/restate/invocation/{invocation_id}/attach")
                for invocation_id, _ in invocations
            }
        for invocation_id, r in results.items():
            assert r.status_code == 200, (invocation_id, r.text)
            assert r.json() == sum(range(STEPS)), invocation_id

        reruns = 0
        for _, log in invocations:
            order = _started(log)
            runs = collections.Counter(order)
            assert sorted(runs) == list(range(STEPS)), f"{log.name}: not every step ran"
            # journaled steps never run again: each start is the same step again or the next one
            assert all(b in (a, a + 1) for a, b in itertools.pairwise(order)), (log.name, order)
            kills_in_flight = collections.Counter(in_flight_at_kill[log])
            for step, n in runs.items():
                assert n <= 1 + kills_in_flight[step], (
                    f"{log.name}: step {step} ran {n} times, in flight at {kills_in_flight[step]} kill(s)"
                )
            reruns += sum(n - 1 for n in runs.values())
        print(
            f"{KILLS} SIGKILLs over {len(invocations)} invocation(s) of {STEPS} steps: all completed correctly; "
            f"{reruns} step re-execution(s), each of a step in flight at a kill "
            f"(in flight at the kills: {[s for log in in_flight_at_kill for s in in_flight_at_kill[log]]})"
        )
    finally:
        endpoint.stop()
    assert not crash_lines(endpoint.log_text()), endpoint.log_text()[-3000:]
