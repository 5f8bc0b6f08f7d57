"""Cancellation: a cancelled call tree unwinds with TerminalError 409 and releases its locks."""

from __future__ import annotations

import pytest
from harness import Restate, wait_until

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("via", ["admin", "context"])
@pytest.mark.parametrize("op", ["CALL", "SLEEP", "AWAKEABLE"])
def test_cancel_blocked_call_tree(restate: Restate, key: str, op: str, via: str) -> None:
    client = restate.client
    sent = client.object("CancelTestRunner", key).send("startTest", op)
    holder = client.object("AwakeableHolder", key)
    wait_until(lambda: holder.call("hasAwakeable"), what="the blocking service to hold its awakeable")
    holder.call("unlock", "let it block")

    if via == "admin":
        restate.admin.cancel_invocation(sent.invocation_id)
    else:
        client.service("TestUtilsService").call("cancelInvocation", sent.invocation_id)

    assert client.invocation(sent.invocation_id).attach() is None  # the runner caught the 409
    assert client.object("CancelTestRunner", key).call("verifyTest") is True
    # The blocking service's invocations were cancelled too: its lock is free again.
    client.object("CancelTestBlockingService", key).call("isUnlocked")


def test_verify_is_false_without_cancellation(restate: Restate, key: str) -> None:
    assert restate.client.object("CancelTestRunner", key).call("verifyTest") is False


def test_unlock_without_awakeable_fails(restate: Restate, key: str) -> None:
    holder = restate.client.object("AwakeableHolder", key)
    assert holder.call("hasAwakeable") is False
    with pytest.raises(Exception, match="No awakeable"):
        holder.call("unlock", "nobody waits")
