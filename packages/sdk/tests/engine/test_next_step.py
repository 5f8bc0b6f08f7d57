"""``next_step``: what an attempt does for an await, decided by the engine from bytes alone.

Each test feeds the request body, issues the handler's commands, asks ``next_step`` about what the
handler awaits (a handle, or a watched combinator tree), and checks the answer and the bytes out.
"""

from __future__ import annotations

import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.awaiting import AwaitNode, Combinator, Watch
from restate_sdk._engine.engine import CANCEL_HANDLE, InvocationEngine, Phase, Step, completion, signal
from restate_sdk._engine.errors import JournalMismatch
from restate_sdk._engine.messages import MessageType as T

from .factory import MessageFactory, engine_for
from .vectors import CANCEL_SIGNAL, SUSPENSION_ON_2

f = MessageFactory()
FAILED = m.Failure(code=500, message="boom")


def processing(*, eof: bool = False) -> InvocationEngine:
    engine = engine_for(f.fresh(), eof=eof)
    assert engine.phase is Phase.PROCESSING
    return engine


def sleeps(engine: InvocationEngine, n: int) -> list[tuple[int, int | str]]:
    handles = [engine.sleep(1000) for _ in range(n)]
    engine.data_to_send()  # the commands; each test looks at what comes after
    return handles


def done(completion_id: int, *, failure: m.Failure | None = None) -> bytes:
    if failure is not None:
        return f.completion(T.CALL_COMPLETION, completion_id, failure=failure)
    return f.completion(T.SLEEP_COMPLETION, completion_id, void=True)


def tree(combinator: Combinator, *handles: tuple[int, int | str]) -> AwaitNode:
    return AwaitNode(combinator, handles)


# ---- suspension -------------------------------------------------------------------------------------------


def test_closed_input_suspends_on_the_awaited_handle_and_the_cancel_signal() -> None:
    engine = processing(eof=True)
    _, second = sleeps(engine, 2)
    assert engine.next_step(second) is Step.SUSPENDED
    assert engine.data_to_send() == SUSPENSION_ON_2.data
    assert engine.outcome == "suspended" and engine.closed
    assert engine.next_step(second) is Step.CLOSED


def test_a_tree_suspends_on_its_pending_leaves_only() -> None:
    engine = processing()
    first, second = sleeps(engine, 2)
    engine.receive_data(done(1))
    engine.receive_eof()
    watch = engine.watch(tree(Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED, first, second))
    assert engine.next_step(watch) is Step.SUSPENDED
    assert engine.data_to_send() == SUSPENSION_ON_2.data  # completion 1 is in: only 2 is awaited


def test_a_resolved_nested_node_is_dropped_from_the_suspension() -> None:
    # gather(wait_first(1, 2), 3): 1 resolved the race, only 3 is awaited; keeping 2 would make the
    # server wait for it too
    engine = processing()
    first, second, third = sleeps(engine, 3)
    engine.receive_data(done(1))
    engine.receive_eof()
    race = tree(Combinator.FIRST_COMPLETED, first, second)
    watch = engine.watch(AwaitNode(Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED, (race, third)))
    assert engine.next_step(watch) is Step.SUSPENDED
    assert engine.data_to_send() == f.suspension(completions=[3], signals=[1])


def test_a_pending_nested_node_keeps_only_its_open_leaves() -> None:
    # gather(gather(1, 2), 3) on V7: 1 succeeded, the inner node still waits for 2
    engine = engine_for(f.fresh(), version=7)
    first, second, third = sleeps(engine, 3)
    engine.receive_data(done(1))
    engine.receive_eof()
    all_ok = Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED
    watch = engine.watch(AwaitNode(all_ok, (tree(all_ok, first, second), third)))
    assert engine.next_step(watch) is Step.SUSPENDED
    assert engine.data_to_send() == f.suspension_on(
        m.Future(
            waiting_signals=[1],
            nested_futures=[
                m.Future(
                    waiting_completions=[3],
                    nested_futures=[m.Future(waiting_completions=[2], combinator_type=all_ok)],
                    combinator_type=all_ok,
                )
            ],
            combinator_type=Combinator.FIRST_COMPLETED,
        )
    )


def test_open_input_reads_more_and_draining_suspends() -> None:
    engine = processing()
    (handle,) = sleeps(engine, 1)
    assert engine.next_step(handle) is Step.READ
    assert engine.data_to_send() == b""
    assert engine.next_step(handle, draining=True) is Step.SUSPENDED
    assert engine.data_to_send() == f.suspension(completions=[1], signals=[1])


def test_a_run_in_flight_is_waited_for_then_the_attempt_suspends() -> None:
    engine = processing(eof=True)
    handle, _ = engine.run("pay")
    engine.data_to_send()
    assert engine.next_step(handle) is Step.WAIT_RUN
    engine.propose_run_completion(handle, b"1")
    assert engine.next_step(handle) is Step.SUSPENDED
    assert engine.data_to_send() == f.propose_run(1, value=b"1") + f.suspension(completions=[1], signals=[1])


def test_a_replayed_run_without_its_result_is_in_flight() -> None:
    engine = engine_for(f.replay(f.run(1, "pay")), eof=True)
    handle, _ = engine.run("pay")
    assert engine.next_step(handle) is Step.WAIT_RUN


def test_a_replay_that_never_delivers_the_awaited_results_is_a_mismatch() -> None:
    engine = engine_for(f.replay(f.sleep(1, 1), f.sleep(1, 2), f.set_state("k", b"v")), eof=True)
    watch = engine.watch(tree(Combinator.FIRST_COMPLETED, engine.sleep(1), engine.sleep(1)))
    with pytest.raises(JournalMismatch, match=r"^command #3: the handler awaits a result the journal never"):
        engine.next_step(watch)


# ---- cancellation -----------------------------------------------------------------------------------------


def test_the_cancel_signal_is_answered_once_then_waits_go_on() -> None:
    engine = processing()
    (handle,) = sleeps(engine, 1)
    engine.receive_data(CANCEL_SIGNAL.data)
    assert engine.next_step(handle) is Step.CANCELLED
    assert engine.is_ready(CANCEL_HANDLE) and engine.cancel_delivered
    assert engine.next_step(handle) is Step.READ  # e.g. cancelling the child calls waits on
    engine.receive_eof()
    assert engine.next_step(handle) is Step.SUSPENDED
    assert engine.data_to_send() == f.suspension(completions=[1], signals=[1])


def test_a_result_that_arrived_before_the_cancellation_wins() -> None:
    engine = processing()
    (handle,) = sleeps(engine, 1)
    engine.receive_data(done(1) + CANCEL_SIGNAL.data)
    assert engine.next_step(handle) is Step.READY
    assert engine.next_step(engine.sleep(1)) is Step.CANCELLED


def test_a_tree_is_cancelled_too() -> None:
    engine = processing()
    first, second = sleeps(engine, 2)
    engine.receive_data(done(1) + CANCEL_SIGNAL.data + done(2))
    watch = engine.watch(tree(Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED, first, second))
    assert engine.next_step(watch) is Step.CANCELLED
    assert not engine.is_ready(second)  # nothing past the cancellation is shown
    assert engine.next_step(watch) is Step.READY


# ---- combinators ------------------------------------------------------------------------------------------


def test_gather_resolves_at_the_first_failure() -> None:
    engine = processing()
    first, second, third = sleeps(engine, 3)
    watch = engine.watch(tree(Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED, first, second, third))
    engine.receive_data(done(1))
    assert engine.next_step(watch) is Step.READ
    engine.receive_data(done(3, failure=FAILED) + done(2))
    assert engine.next_step(watch) is Step.READY
    assert engine.is_ready(third) and not engine.is_ready(second)


def test_gather_resolves_once_all_succeeded() -> None:
    engine = processing()
    handles = sleeps(engine, 3)
    engine.receive_data(done(3) + done(1) + done(2))
    watch = engine.watch(tree(Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED, *handles))
    assert engine.next_step(watch) is Step.READY
    assert all(engine.is_ready(h) for h in handles)


def test_each_completion_in_arrival_order() -> None:
    engine = processing()
    handles = sleeps(engine, 3)
    engine.receive_data(done(3) + done(1))
    watch = engine.watch(tree(Combinator.FIRST_COMPLETED, *handles), each=True)
    order: list[tuple[int, int | str]] = []
    for _ in range(2):
        assert engine.next_step(watch) is Step.READY
        order.append(watch.take())
    assert order == [completion(3), completion(1)]
    engine.receive_eof()
    assert engine.next_step(watch) is Step.SUSPENDED  # on what has not completed yet: completion 2
    assert engine.data_to_send() == SUSPENSION_ON_2.data


def test_leaves_already_shown_count_in_tree_order() -> None:
    engine = processing()
    handles = sleeps(engine, 3)
    engine.receive_data(done(2) + done(3))
    assert engine.next_step(handles[2]) is Step.READY  # shows 2 then 3
    watch = engine.watch(tree(Combinator.FIRST_COMPLETED, *handles), each=True)
    assert engine.next_step(watch) is Step.READY
    assert [watch.take(), watch.take()] == [completion(2), completion(3)]


def test_nested_trees_and_the_other_combinators() -> None:
    a, b, c = completion(1), completion(2), signal(17)
    node = AwaitNode(
        Combinator.ALL_COMPLETED,
        (AwaitNode(Combinator.FIRST_SUCCEEDED_OR_ALL_FAILED, (a, b)), c),
    )
    watch = Watch(node)
    watch.complete(a, False)
    watch.complete(c, True)
    assert not watch.resolved  # the inner node waits for b: one failure is not all failed
    watch.complete(b, False)
    assert watch.resolved
    assert Watch(AwaitNode(Combinator.ALL_COMPLETED, ())).resolved  # nothing to wait for
