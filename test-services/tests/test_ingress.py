"""Ingress: attach to and read the output of invocations; headers and raw bodies reach handlers."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from harness import Restate, wait_until
from restate_ingress import Client, NotReady
from restate_sdk import BytesSerde

pytestmark = pytest.mark.integration


def test_echo_handlers(client: Client) -> None:
    utils = client.service("TestUtilsService")
    assert utils.call("echo", "hi there") == "hi there"
    assert utils.call("uppercaseEcho", "hi there") == "HI THERE"


def test_raw_echo(client: Client) -> None:
    data = bytes(range(256))
    raw = BytesSerde()
    assert client.service("TestUtilsService").call("rawEcho", data, input_serde=raw, output_serde=raw) == data


def test_echo_headers(client: Client) -> None:
    headers = client.service("TestUtilsService").call(
        "echoHeaders", headers={"x-my-custom-header": "my-value"}
    )
    assert headers["x-my-custom-header"] == "my-value"


def test_attach_with_idempotency_key(restate: Restate, key: str) -> None:
    counter = restate.client.object("Counter", key)
    sent = counter.send("add", 5, idempotency_key="idem")
    again = counter.send("add", 5, idempotency_key="idem")
    assert again.invocation_id == sent.invocation_id
    assert again.previously_accepted
    expected = {"oldValue": 0, "newValue": 5}
    assert counter.invocation("add", "idem").attach() == expected
    assert restate.client.invocation(sent.invocation_id).attach() == expected
    assert restate.client.invocation(sent.invocation_id).output() == expected
    assert counter.call("add", 5, idempotency_key="idem") == expected  # deduplicated
    assert counter.call("get") == 5


def test_output_is_not_ready_until_completed(restate: Restate, key: str) -> None:
    interpreter = restate.client.object("VirtualObjectCommandInterpreter", key)
    sent = interpreter.send(
        "interpretCommands",
        {"commands": [{"type": "awaitOne", "command": {"type": "createAwakeable", "awakeableKey": "o"}}]},
    )
    wait_until(lambda: interpreter.call("hasAwakeable", "o"), what="the awakeable")
    handle = restate.client.invocation(sent.invocation_id)
    with pytest.raises(NotReady):
        handle.output()
    interpreter.call("resolveAwakeable", {"awakeableKey": "o", "value": "done"})
    assert handle.attach() == "done"
    assert handle.output() == "done"


def test_delayed_send(restate: Restate, key: str) -> None:
    started = time.monotonic()
    sent = restate.client.object("Counter", key).send("add", 1, delay=timedelta(milliseconds=500))
    assert restate.client.invocation(sent.invocation_id).attach() == {"oldValue": 0, "newValue": 1}
    assert time.monotonic() - started >= 0.5
