"""The phase table (engine.TRANSITIONS, protocol.md §6.1): listed pairs move, every other pair is a violation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import TRANSITIONS, Input, InvocationEngine, Phase, completion
from restate_sdk._engine.errors import ProtocolViolation

from .factory import MessageFactory
from .vectors import END_MESSAGE

f = MessageFactory()

EXPECTED_TABLE = {
    (Phase.WAITING_START, Input.RECV_START): Phase.WAITING_ENTRIES,
    (Phase.WAITING_ENTRIES, Input.JOURNAL_RECEIVED): Phase.REPLAYING,
    (Phase.REPLAYING, Input.JOURNAL_CONSUMED): Phase.PROCESSING,
    (Phase.WAITING_START, Input.SEND_TERMINAL): Phase.CLOSED,
    (Phase.WAITING_ENTRIES, Input.SEND_TERMINAL): Phase.CLOSED,
    (Phase.REPLAYING, Input.SEND_TERMINAL): Phase.CLOSED,
    (Phase.PROCESSING, Input.SEND_TERMINAL): Phase.CLOSED,
}


def engine_in(phase: Phase) -> InvocationEngine:
    engine = InvocationEngine()
    engine.phase = phase
    return engine


def test_table_is_exactly_the_documented_one() -> None:
    assert TRANSITIONS == EXPECTED_TABLE


def test_closed_is_final() -> None:
    assert not [pair for pair in TRANSITIONS if pair[0] is Phase.CLOSED]


@settings(max_examples=100, deadline=None, database=None)
@given(phase=st.sampled_from(Phase), event=st.sampled_from(Input))
def test_every_pair(phase: Phase, event: Input) -> None:
    engine = engine_in(phase)
    target = TRANSITIONS.get((phase, event))
    if target is not None:
        engine._move(event)
        assert engine.phase is target
    else:
        with pytest.raises(
            ProtocolViolation, match=rf"^{event.value} is not allowed while {phase.value}$"
        ) as info:
            engine._move(event)
        assert info.value.code == 571
        assert engine.phase is phase  # a refused move changes nothing


@settings(max_examples=150, deadline=None, database=None)
@given(events=st.lists(st.sampled_from(Input), max_size=8))
def test_random_walks_follow_the_table(events: list[Input]) -> None:
    engine = InvocationEngine()
    phase = Phase.WAITING_START
    for event in events:
        if (phase, event) in TRANSITIONS:
            phase = TRANSITIONS[(phase, event)]
            engine._move(event)
        else:
            with pytest.raises(ProtocolViolation):
                engine._move(event)
        assert engine.phase is phase


# ---- the same moves, driven by bytes and calls -------------------------------------------------------


def test_phases_of_a_replayed_invocation() -> None:
    engine = InvocationEngine()
    assert engine.phase is Phase.WAITING_START and not engine.ready
    engine.receive_data(f.start(known_entries=3))
    assert engine.phase is Phase.WAITING_ENTRIES and not engine.ready
    engine.receive_data(f.input() + f.sleep(1000, 1))
    assert engine.phase is Phase.WAITING_ENTRIES
    engine.receive_data(f.completion(m.MessageType.SLEEP_COMPLETION, 1, void=True))
    assert engine.phase is Phase.REPLAYING and engine.ready and engine.replaying
    engine.sleep(2000)
    assert engine.phase is Phase.PROCESSING and engine.ready and not engine.replaying
    engine.write_output(b"")
    assert engine.phase is Phase.CLOSED and engine.closed and not engine.ready


def test_input_only_journal_goes_straight_to_processing() -> None:
    engine = InvocationEngine()
    engine.receive_data(f.fresh())
    assert engine.phase is Phase.PROCESSING


@pytest.mark.parametrize(
    "phase", [Phase.WAITING_START, Phase.WAITING_ENTRIES, Phase.REPLAYING, Phase.PROCESSING]
)
def test_every_open_phase_may_fail(phase: Phase) -> None:
    engine = engine_in(phase)
    engine.fail(571, "x")
    assert engine.phase is Phase.CLOSED
    assert engine.data_to_send() == bytes.fromhex("00 02 00 00 00 00 00 06 08 bb 04 12 01 78")


def test_nothing_after_closed() -> None:
    engine = InvocationEngine()
    engine.receive_data(f.fresh())
    engine.write_output(b"")
    engine.data_to_send()
    engine.fail(500, "late")  # ignored: the attempt is over
    assert engine.data_to_send() == b""
    with pytest.raises(ProtocolViolation, match=r"^send-terminal is not allowed while closed$"):
        engine.suspend(completion(1))
    with pytest.raises(ProtocolViolation, match=r"^cannot write SleepCommandMessage while closed$"):
        engine.sleep(1)
    assert engine.data_to_send() == b""


def test_commands_before_the_journal_is_complete_are_refused() -> None:
    engine = InvocationEngine()
    engine.receive_data(f.start(known_entries=2) + f.input())
    with pytest.raises(
        ProtocolViolation, match=r"^cannot write SetStateCommandMessage while waiting-entries$"
    ):
        engine.set_state("k", b"v")


def test_terminal_message_bytes_after_output() -> None:
    engine = InvocationEngine()
    engine.receive_data(f.fresh())
    engine.write_output(b"")
    assert engine.data_to_send() == bytes.fromhex("04 01 00 00 00 00 00 02 72 00") + END_MESSAGE.data
