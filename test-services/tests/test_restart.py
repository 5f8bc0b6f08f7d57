"""restate-server restarts (SIGKILL and SIGTERM): state and in-flight invocations survive."""

from __future__ import annotations

import pytest
from harness import Restate, wait_until

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kill", [True, False], ids=["sigkill", "sigterm"])
def test_server_restart_mid_invocation(restate: Restate, key: str, kill: bool) -> None:
    restate.client.object("Counter", key).call("add", 2)
    interpreter = restate.client.object("VirtualObjectCommandInterpreter", key)
    sent = interpreter.send(
        "interpretCommands",
        {"commands": [{"type": "awaitOne", "command": {"type": "createAwakeable", "awakeableKey": "r"}}]},
    )
    wait_until(lambda: interpreter.call("hasAwakeable", "r"), what="the awakeable")

    restate.restart_server(kill=kill)

    client = restate.client
    assert client.object("Counter", key).call("add", 3) == {"oldValue": 2, "newValue": 5}
    client.object("VirtualObjectCommandInterpreter", key).call(
        "resolveAwakeable", {"awakeableKey": "r", "value": "after restart"}
    )
    assert client.invocation(sent.invocation_id).attach() == "after restart"
