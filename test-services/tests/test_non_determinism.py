"""Non-determinism: a handler that takes another path on replay fails with a journal mismatch.

Each NonDeterministic handler takes its "left" path on the first execution and its "right" path on the
replay that follows its suspension; the SDK must refuse to go on, so the invocation keeps failing
(restate-server shows the mismatch as its last failure) and the final send to Counter never happens.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import Restate, wait_until

pytestmark = pytest.mark.integration

JOURNAL_MISMATCH = "[570 Journal mismatch]"


@pytest.mark.parametrize(
    ("handler", "command"),
    [
        ("eitherSleepOrCall", "Call"),
        ("callDifferentMethod", "Call"),
        ("backgroundInvokeWithDifferentTargets", "OneWayCall"),
        ("setDifferentKey", "SetState"),
    ],
)
def test_replay_mismatch_is_detected(restate: Restate, key: str, handler: str, command: str) -> None:
    sent = restate.client.object("NonDeterministic", key).send(handler)

    def failed_with_mismatch() -> dict[str, Any] | None:
        row = restate.invocation(sent.invocation_id)
        if row is None or not str(row.get("last_failure") or "").startswith(JOURNAL_MISMATCH):
            return None
        return row

    row = wait_until(failed_with_mismatch, what=f"{handler} to fail with a journal mismatch", poll=0.01)
    assert row["last_failure_related_command_type"] == command
    restate.admin.kill_invocation(sent.invocation_id)
    assert restate.client.object("Counter", key).call("get") == 0
