"""Killing an invocation: the whole call tree stops, and the objects it locked are free again."""

from __future__ import annotations

import pytest
from harness import Restate, wait_until
from restate_ingress import IngressError

pytestmark = pytest.mark.integration


def test_kill_call_tree(restate: Restate, key: str) -> None:
    client = restate.client
    sent = client.object("KillTestRunner", key).send("startCallTree")
    holder = client.object("AwakeableHolder", key)
    wait_until(lambda: holder.call("hasAwakeable"), what="the singleton to hold its awakeable")

    restate.admin.kill_invocation(sent.invocation_id)

    with pytest.raises(IngressError) as killed:
        client.invocation(sent.invocation_id).attach()
    assert killed.value.status == 409
    client.object("KillTestSingleton", key).call("isUnlocked")  # the killed child released the key
