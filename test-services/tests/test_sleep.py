"""Durable timers: sleeps complete on time, also when the services endpoint restarts meanwhile."""

from __future__ import annotations

import random
import signal
import time

import pytest
from harness import Restate, wait_until

pytestmark = pytest.mark.integration


def test_sleep_concurrently(restate: Restate) -> None:
    started = time.monotonic()
    restate.client.service("TestUtilsService").call("sleepConcurrently", [300, 100, 200, 300])
    assert time.monotonic() - started >= 0.3


def test_many_sleeps(restate: Restate) -> None:
    rng = random.Random(7)
    utils = restate.client.service("TestUtilsService")
    sends = [utils.send("sleepConcurrently", [rng.randint(1, 100) for _ in range(10)]) for _ in range(20)]
    for sent in sends:
        assert restate.client.invocation(sent.invocation_id).attach() is None


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_sleep_survives_endpoint_restart(restate: Restate, key: str, sig: signal.Signals) -> None:
    timers = [1500, 500, 1000, 1500]
    started = time.monotonic()
    sent = restate.client.service("TestUtilsService").send("sleepConcurrently", timers)
    wait_until(lambda: restate.status(sent.invocation_id) in ("running", "suspended"), what="the sleeps")
    restate.services.restart(sig)
    assert restate.client.invocation(sent.invocation_id).attach() is None
    assert time.monotonic() - started >= 1.5


def test_interpreter_sleep_with_endpoint_restart(restate: Restate, key: str) -> None:
    interpreter = restate.client.object("VirtualObjectCommandInterpreter", key)
    sent = interpreter.send(
        "interpretCommands",
        {"commands": [{"type": "awaitOne", "command": {"type": "sleep", "timeoutMillis": 1000}}]},
    )
    wait_until(lambda: restate.status(sent.invocation_id) in ("running", "suspended"), what="the sleep")
    restate.services.restart(signal.SIGKILL)
    assert restate.client.invocation(sent.invocation_id).attach() == "sleep"
