"""The three-layer object interpreter (used by Restate's verification runner, not by sdk-tests)."""

from __future__ import annotations

import pytest
from harness import Restate, wait_until

pytestmark = pytest.mark.integration

(
    SET_STATE,
    GET_STATE,
    CLEAR_STATE,
    INCREMENT_STATE_COUNTER,
    INCREMENT_STATE_COUNTER_INDIRECTLY,
    SLEEP,
    CALL_SERVICE,
    CALL_SLOW_SERVICE,
    INCREMENT_VIA_DELAYED_CALL,
    SIDE_EFFECT,
    THROWING_SIDE_EFFECT,
    SLOW_SIDE_EFFECT,
    RECOVER_TERMINAL_CALL,
    RECOVER_TERMINAL_MAYBE_UN_AWAITED,
    AWAIT_PROMISE,
    RESOLVE_AWAKEABLE,
    REJECT_AWAKEABLE,
    INCREMENT_STATE_COUNTER_VIA_AWAKEABLE,
    CALL_NEXT_LAYER_OBJECT,
) = range(1, 20)


def test_every_command_kind(restate: Restate, key: str) -> None:
    leaf = {"commands": [{"kind": INCREMENT_STATE_COUNTER}, {"kind": CALL_SERVICE}]}
    middle = {
        "commands": [
            {"kind": INCREMENT_STATE_COUNTER_INDIRECTLY},
            {"kind": CALL_NEXT_LAYER_OBJECT, "key": 7, "program": leaf},
        ]
    }
    program = {
        "commands": [
            {"kind": SET_STATE, "key": 1},
            {"kind": GET_STATE, "key": 1},
            {"kind": CLEAR_STATE, "key": 1},
            {"kind": INCREMENT_STATE_COUNTER},
            {"kind": INCREMENT_STATE_COUNTER_INDIRECTLY},
            {"kind": SLEEP, "duration": 10},
            {"kind": CALL_SERVICE},
            {"kind": CALL_SLOW_SERVICE, "sleep": 10},
            {"kind": INCREMENT_VIA_DELAYED_CALL, "duration": 50},
            {"kind": SIDE_EFFECT},
            {"kind": THROWING_SIDE_EFFECT},
            {"kind": SLOW_SIDE_EFFECT},
            {"kind": RECOVER_TERMINAL_CALL},
            {"kind": RECOVER_TERMINAL_MAYBE_UN_AWAITED},
            {"kind": AWAIT_PROMISE, "index": 6},
            {"kind": RESOLVE_AWAKEABLE},
            {"kind": REJECT_AWAKEABLE},
            {"kind": INCREMENT_STATE_COUNTER_VIA_AWAKEABLE},
            {"kind": CALL_NEXT_LAYER_OBJECT, "key": 3, "program": middle},
        ]
    }
    client = restate.client
    client.object("ObjectInterpreterL0", key).call("interpret", program)

    def counters() -> tuple[int, int, int]:
        return (
            client.object("ObjectInterpreterL0", key).call("counter"),
            client.object("ObjectInterpreterL1", "3").call("counter"),
            client.object("ObjectInterpreterL2", "7").call("counter"),
        )

    # L0: direct, indirect, delayed, via awakeable; L1: indirect; L2: direct (L1/L2 keys are shared
    # by the configurations' runs only within one server, so each starts at 0).
    assert wait_until(lambda: counters() == (4, 1, 1), what="the counters") is True


def test_helper_service(restate: Restate) -> None:
    helper = restate.client.service("ServiceInterpreterHelper")
    assert helper.call("ping") is None
    assert helper.call("echo", "hi") == "hi"
    assert helper.call("echoLater", {"sleep": 10, "parameter": "later"}) == "later"
    with pytest.raises(Exception, match="bye"):
        helper.call("terminalFailure")
