"""ctx.run: retry policies, terminal failures, and journaled results that replays do not re-execute."""

from __future__ import annotations

import pytest
from harness import Restate
from restate_ingress import Client, IngressError

pytestmark = pytest.mark.integration


def test_side_effect_succeeds_after_given_attempts(client: Client, key: str) -> None:
    assert client.object("Failing", key).call("sideEffectSucceedsAfterGivenAttempts", 3) >= 3


@pytest.mark.parametrize("attempts", [1, 3])
def test_side_effect_fails_after_given_attempts(client: Client, key: str, attempts: int) -> None:
    assert client.object("Failing", key).call("sideEffectFailsAfterGivenAttempts", attempts) >= attempts


@pytest.mark.parametrize("metadata", [None, {"k1": "v1", "k2": "v2"}], ids=["plain", "metadata"])
def test_terminally_failing_side_effect(client: Client, key: str, metadata: dict[str, str] | None) -> None:
    failure = {"errorMessage": "side effect failed"} | ({"metadata": metadata} if metadata else {})
    with pytest.raises(IngressError) as error:
        client.object("Failing", key).call("terminallyFailingSideEffect", failure)
    assert error.value.message == "side effect failed"
    assert (error.value.metadata or {}) == (metadata or {})


def test_count_executed_side_effects(restate: Restate) -> None:
    # Run results are flushed as they happen; when every await suspends, the final attempt replays
    # every run from the journal and executes none of them.
    expected = 0 if restate.always_suspending else 3
    assert restate.client.service("TestUtilsService").call("countExecutedSideEffects", 3) == expected
