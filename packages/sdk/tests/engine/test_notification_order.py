"""Notifications reach the handler in the order they arrived, one at a time (``next_step``).

A replay knows every recorded notification up front; revealing them in journal order makes each
await and race resolve as in the first execution (see test-services' test_replay_keeps_the_race_winner).
"""

from __future__ import annotations

from restate_sdk._engine.awaiting import AwaitNode, Combinator
from restate_sdk._engine.engine import CANCEL_HANDLE, Step, completion, signal
from restate_sdk._engine.messages import MessageType as T

from .factory import MessageFactory, engine_for

f = MessageFactory()


def _sleep_done(completion_id: int) -> bytes:
    return f.completion(T.SLEEP_COMPLETION, completion_id, void=True)


def test_a_race_sees_the_result_that_arrived_first() -> None:
    engine = engine_for(f.replay(f.sleep(1, 1), f.sleep(1, 2), _sleep_done(2), _sleep_done(1)))
    first, second = engine.sleep(1), engine.sleep(1)
    assert engine.is_completed(first) and engine.is_completed(second)  # both arrived ...
    assert not engine.is_ready(first) and not engine.is_ready(second)  # ... neither shown yet
    race = engine.watch(AwaitNode(Combinator.FIRST_COMPLETED, (first, second)))
    assert engine.next_step(race) is Step.READY
    assert engine.is_ready(second) and not engine.is_ready(first)
    assert engine.next_step(first) is Step.READY
    assert engine.is_ready(first)


def test_awaiting_shows_nothing_past_the_awaited_result() -> None:
    engine = engine_for(f.replay(f.sleep(1, 1), _sleep_done(1), f.signal(1), f.signal(17, value=b"1")))
    handle = engine.sleep(1)
    assert engine.next_step(handle) is Step.READY
    assert not engine.is_ready(CANCEL_HANDLE)  # cancelled after the sleep ended: the sleep wins
    assert engine.next_step(signal(17)) is Step.CANCELLED  # the cancellation came before signal 17
    assert not engine.is_ready(signal(17))
    assert engine.next_step(signal(17)) is Step.READY  # told once: the next wait goes on


def test_nothing_arrived_yet_means_read_more() -> None:
    engine = engine_for(f.fresh())
    handle = engine.sleep(1)
    assert handle == completion(1)
    assert engine.next_step(handle) is Step.READ
    engine.receive_data(_sleep_done(1))
    assert engine.next_step(handle) is Step.READY
