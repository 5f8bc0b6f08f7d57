"""Named signals: an invocation awaits a signal that another invocation resolves or rejects."""

from __future__ import annotations

from typing import Any

import pytest
from harness import Restate, wait_until
from restate_ingress import IngressError

pytestmark = pytest.mark.integration


def _await_signal(restate: Restate, key: str, *commands: dict[str, Any]) -> str:
    sent = restate.client.object("VirtualObjectCommandInterpreter", key).send(
        "interpretCommands", {"commands": list(commands)}
    )
    wait_until(lambda: restate.status(sent.invocation_id) in ("running", "suspended"), what="the handler")
    return sent.invocation_id


def test_resolve_signal(restate: Restate, key: str) -> None:
    invocation_id = _await_signal(
        restate, key, {"type": "awaitOne", "command": {"type": "createSignal", "signalName": "sig"}}
    )
    restate.client.service("TestUtilsService").call(
        "resolveSignal", {"invocationId": invocation_id, "signalName": "sig", "value": "hello"}
    )
    assert restate.client.invocation(invocation_id).attach() == "hello"


def test_reject_signal(restate: Restate, key: str) -> None:
    invocation_id = _await_signal(
        restate, key, {"type": "awaitOne", "command": {"type": "createSignal", "signalName": "sig"}}
    )
    restate.client.service("TestUtilsService").call(
        "rejectSignal", {"invocationId": invocation_id, "signalName": "sig", "reason": "nope"}
    )
    with pytest.raises(IngressError, match="nope"):
        restate.client.invocation(invocation_id).attach()


def test_signals_in_combinators(restate: Restate, key: str) -> None:
    signals = [{"type": "createSignal", "signalName": name} for name in ("s1", "s2")]
    invocation_id = _await_signal(
        restate,
        key,
        {"type": "awaitAllCompleted", "commands": signals},
        {"type": "awaitAny", "commands": [{"type": "createSignal", "signalName": "s3"}, signals[0]]},
    )
    utils = restate.client.service("TestUtilsService")
    utils.call("rejectSignal", {"invocationId": invocation_id, "signalName": "s2", "reason": "r2"})
    utils.call("resolveSignal", {"invocationId": invocation_id, "signalName": "s1", "value": "v1"})
    # The second command sees s1 again (already completed): awaitAny returns it at once.
    assert restate.client.invocation(invocation_id).attach() == "v1"
    results = restate.client.object("VirtualObjectCommandInterpreter", key).call("getResults")
    assert results == ["ok:v1|err:r2", "v1"]


def test_signal_sent_before_it_is_awaited(restate: Restate, key: str) -> None:
    invocation_id = _await_signal(
        restate,
        key,
        {"type": "awaitOne", "command": {"type": "sleep", "timeoutMillis": 300}},
        {"type": "awaitOne", "command": {"type": "createSignal", "signalName": "early"}},
    )
    restate.client.service("TestUtilsService").call(
        "resolveSignal", {"invocationId": invocation_id, "signalName": "early", "value": "was waiting"}
    )
    assert restate.client.invocation(invocation_id).attach() == "was waiting"
    results = restate.client.object("VirtualObjectCommandInterpreter", key).call("getResults")
    assert results == ["sleep", "was waiting"]
