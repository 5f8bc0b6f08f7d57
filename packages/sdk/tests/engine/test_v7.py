"""Protocol V7 in the engine (reference/protocol-v7.md): await trees, the run-completion ack, error
behavior, scopes and limit keys, StartMessage fields 10-12; and that V5/V6 bytes stay as they were."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from restate_sdk._engine import messages as m
from restate_sdk._engine.awaiting import (
    MAX_WIRE_DEPTH,
    AwaitNode,
    Combinator,
    flat_leaves,
    leaves,
    to_future_message,
)
from restate_sdk._engine.engine import InvocationEngine, Phase, Step, check_scope, completion
from restate_sdk._engine.errors import JournalMismatch, ProtocolViolation, UnsupportedFeature
from restate_sdk._engine.handles import named_signal, signal
from restate_sdk._engine.messages import ErrorBehavior
from restate_sdk._engine.messages import MessageType as T

from .factory import MessageFactory, engine_for
from .vectors import (
    CALL_GREETER,
    ERROR_500_X,
    ONE_WAY_CALL_GREETER,
    PROPOSE_RUN_X,
    START_FRESH,
    SUSPENSION_MIXED,
    SUSPENSION_ON_2,
    V7_AWAITING_ON_1,
    V7_CALL_GREETER_SCOPED,
    V7_ERROR_FAIL,
    V7_ERROR_PAUSE,
    V7_FUTURE_ALL_COMPLETED_UNKNOWN,
    V7_FUTURE_AWAKEABLE_17,
    V7_FUTURE_NAMED_GO,
    V7_FUTURE_PROTO_EXAMPLE,
    V7_FUTURE_RACE_17_18,
    V7_ONE_WAY_CALL_GREETER_SCOPED,
    V7_PROPOSE_RUN_OK_ACK,
    V7_RUN_ACK_1,
    V7_START_SCOPED,
    V7_SUSPENSION_ON_2,
    V7_SUSPENSION_WAIT_FIRST,
    Vector,
)

f = MessageFactory()
FC, ALL, ANY_OK, ALL_OK = (
    Combinator.FIRST_COMPLETED,
    Combinator.ALL_COMPLETED,
    Combinator.FIRST_SUCCEEDED_OR_ALL_FAILED,
    Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED,
)


def processing(version: int = 7, **start: Any) -> InvocationEngine:
    engine = engine_for(f.fresh(**start), version=version)
    assert engine.phase is Phase.PROCESSING
    return engine


def node(combinator: Combinator, *children: Any) -> AwaitNode:
    return AwaitNode(combinator, tuple(children))


# ---- negotiation ------------------------------------------------------------------------------------


def test_version_7_is_accepted() -> None:
    engine = engine_for(START_FRESH.data + f.input(), version=7)
    assert engine.version == 7
    assert engine.phase is Phase.PROCESSING


# ---- await trees: awaiting.to_future_message (v7 §4.3) -----------------------------------------------


@pytest.mark.parametrize(
    ("awaited", "cancel", "vector"),
    [
        (signal(17), True, V7_FUTURE_AWAKEABLE_17),
        (node(FC, signal(17), signal(18)), True, V7_FUTURE_RACE_17_18),
        (
            node(ALL, completion(1), node(Combinator.UNKNOWN, signal(17))),
            False,
            V7_FUTURE_ALL_COMPLETED_UNKNOWN,
        ),
        (node(ALL_OK, completion(3), node(FC, signal(1), signal(2))), False, V7_FUTURE_PROTO_EXAMPLE),
        (named_signal("go"), True, V7_FUTURE_NAMED_GO),
    ],
    ids=[
        "one-awakeable",
        "race-of-awakeables",
        "all-completed-with-unknown",
        "proto-example",
        "named-signal",
    ],
)
def test_tree_shapes_of_the_reference_table(awaited: Any, cancel: bool, vector: Vector) -> None:
    assert m.encode_message(to_future_message(awaited, cancel=cancel)) == vector.data


def test_a_lone_handle_without_cancel_is_a_first_completed_node_with_one_leaf() -> None:
    assert to_future_message(completion(4), cancel=False) == m.Future(
        waiting_completions=[4], combinator_type=FC
    )


def test_handle_children_are_inlined_by_kind_and_node_children_nested() -> None:
    tree = node(ANY_OK, completion(2), signal(17), named_signal("a"), node(ALL, completion(5)), completion(2))
    assert to_future_message(tree, cancel=False) == m.Future(
        waiting_completions=[2],  # listed once
        waiting_signals=[17],
        waiting_named_signals=["a"],
        nested_futures=[m.Future(waiting_completions=[5], combinator_type=ALL)],
        combinator_type=ANY_OK,
    )


def test_nodes_with_no_leaf_below_them_are_left_out() -> None:
    tree = node(ALL_OK, completion(2), node(ALL), node(FC, node(ALL)))
    assert to_future_message(tree, cancel=False) == m.Future(waiting_completions=[2], combinator_type=ALL_OK)
    # an empty await with the cancel wrapper waits for the cancellation only
    assert to_future_message(node(ALL)) == m.Future(waiting_signals=[1], combinator_type=FC)
    with pytest.raises(ValueError, match="without any handle"):
        to_future_message(node(ALL, node(FC)), cancel=False)


def test_a_same_combinator_child_is_not_flattened_into_its_parent() -> None:
    tree = node(ALL, completion(1), node(ALL, completion(2)))
    assert to_future_message(tree, cancel=False).nested_futures == [
        m.Future(waiting_completions=[2], combinator_type=ALL)
    ]


def test_a_deep_tree_is_flattened_into_an_unknown_node_at_the_depth_limit() -> None:
    tree: Any = completion(0)
    for i in range(1, 3000):  # gather(gather(gather(...)), x): far deeper than Python recurses
        tree = node(ALL_OK, tree, completion(i))
    future = to_future_message(tree)
    depth = 0
    cursor = future
    while cursor.nested_futures:
        (cursor,) = cursor.nested_futures
        depth += 1
    assert depth == MAX_WIRE_DEPTH
    assert cursor.combinator_type == Combinator.UNKNOWN
    assert cursor.nested_futures == []
    assert sorted(cursor.waiting_completions) == list(range(3000 - MAX_WIRE_DEPTH + 1))
    # the whole tree encodes and decodes
    assert m.decode_message(m.Future, m.encode_message(future)) == future


HANDLES = st.one_of(
    st.integers(1, 40).map(completion),
    st.integers(1, 20).map(signal),
    st.sampled_from("abc").map(named_signal),
)
TREES = st.recursive(
    HANDLES,
    lambda children: st.builds(
        AwaitNode, st.sampled_from(list(Combinator)), st.lists(children, max_size=4).map(tuple)
    ),
    max_leaves=12,
)


def _wire_leaves(future: m.Future) -> set[Any]:
    own = {completion(c) for c in future.waiting_completions}
    own |= {signal(i) for i in future.waiting_signals} | {
        named_signal(n) for n in future.waiting_named_signals
    }
    for nested in future.nested_futures:
        own |= _wire_leaves(nested)
    return own


def _no_empty_node(future: m.Future) -> bool:
    has_leaf = bool(future.waiting_completions or future.waiting_signals or future.waiting_named_signals)
    return (has_leaf or bool(future.nested_futures)) and all(_no_empty_node(n) for n in future.nested_futures)


@settings(max_examples=150, deadline=None, database=None)
@given(awaited=TREES)
def test_any_tree_keeps_its_leaves_and_has_no_empty_node(awaited: Any) -> None:
    future = to_future_message(awaited)
    assert _wire_leaves(future) == {*leaves(awaited), signal(1)}
    assert _no_empty_node(future)
    assert future.combinator_type == FC
    assert m.decode_message(m.Future, m.encode_message(future)) == future
    assert _wire_leaves(flat_leaves(awaited)) == {*leaves(awaited), signal(1)}  # what V5/V6 list


# ---- suspension (v7 §5) ------------------------------------------------------------------------------


def closed(version: int = 7) -> InvocationEngine:
    engine = engine_for(f.fresh(), version=version, eof=True)
    assert engine.phase is Phase.PROCESSING
    return engine


def test_v7_suspend_one_completion() -> None:
    engine = closed()
    engine.suspend(completion(2))
    assert engine.data_to_send() == V7_SUSPENSION_ON_2.data
    assert engine.outcome == "suspended"
    assert engine.phase is Phase.CLOSED


def test_v7_suspend_wait_first_of_a_call_and_a_sleep() -> None:
    engine = closed()
    engine.suspend(node(FC, completion(2), completion(3)))
    assert engine.data_to_send() == V7_SUSPENSION_WAIT_FIRST.data


@pytest.mark.parametrize("version", [5, 6])
def test_below_v7_a_suspension_lists_the_leaves_of_the_tree(version: int) -> None:
    engine = closed(version)
    engine.suspend(node(ALL_OK, completion(3), node(FC, named_signal("go"), signal(17), completion(2))))
    assert engine.data_to_send() == SUSPENSION_MIXED.data
    engine = closed(version)
    engine.suspend(completion(2))
    assert engine.data_to_send() == SUSPENSION_ON_2.data


def test_v7_suspension_never_sends_the_v6_fields() -> None:
    engine = closed()
    engine.suspend(node(ALL, completion(2), signal(17), named_signal("go")))
    frame = engine.data_to_send()
    assert frame[:2] == b"\x00\x01"
    msg = m.decode_message(m.SuspensionMessage, frame[8:])
    assert (msg.waiting_completions, msg.waiting_signals, msg.waiting_named_signals) == ([], [], [])
    assert msg.awaiting_on == m.Future(
        waiting_signals=[1],
        nested_futures=[
            m.Future(
                waiting_completions=[2],
                waiting_signals=[17],
                waiting_named_signals=["go"],
                combinator_type=ALL,
            )
        ],
        combinator_type=FC,
    )


# ---- AwaitingOnMessage (v7 §6) --------------------------------------------------------------------


def test_awaiting_on_is_sent_while_processing_with_open_input() -> None:
    engine = processing()
    assert engine.awaiting_on(completion(1)) is True
    assert engine.data_to_send() == V7_AWAITING_ON_1.data
    assert engine.phase is Phase.PROCESSING  # only a hint: the attempt goes on


@pytest.mark.parametrize("version", [5, 6])
def test_awaiting_on_is_not_sent_below_v7(version: int) -> None:
    engine = processing(version)
    assert engine.awaiting_on(completion(1)) is False
    assert engine.data_to_send() == b""


def test_awaiting_on_is_not_sent_while_replaying_or_once_input_closed() -> None:
    engine = engine_for(f.replay(f.sleep(1000, 1)), version=7)
    assert engine.phase is Phase.REPLAYING
    assert engine.awaiting_on(completion(1)) is False
    assert closed().awaiting_on(completion(1)) is False
    engine = processing()
    engine.suspend(completion(1))
    engine.data_to_send()
    assert engine.awaiting_on(completion(1)) is False
    assert engine.data_to_send() == b""


def test_awaiting_on_a_watch_sends_what_is_still_awaited() -> None:
    engine = processing()
    for _ in range(3):
        engine.sleep(1000)
    engine.receive_data(f.completion(T.SLEEP_COMPLETION, 1, void=True))
    watch = engine.watch(node(ALL_OK, node(FC, completion(1), completion(2)), completion(3)))
    engine.data_to_send()
    assert engine.next_step(watch) is Step.READ
    assert engine.awaiting_on(watch) is True
    # the race resolved with completion 1: only 3 is awaited, inside the cancel wrapper
    assert engine.data_to_send() == f.awaiting_on(
        m.Future(
            waiting_signals=[1],
            nested_futures=[m.Future(waiting_completions=[3], combinator_type=ALL_OK)],
            combinator_type=FC,
        )
    )


# ---- run completions and their acks (v7 §3, §7) -------------------------------------------------------


def test_v7_proposal_requests_an_ack_and_the_result_waits_for_it() -> None:
    engine = processing()
    run, _ = engine.run()
    engine.data_to_send()
    engine.propose_run_completion(run, b"ok")
    assert engine.data_to_send() == V7_PROPOSE_RUN_OK_ACK.data
    assert not engine.is_completed(run)
    engine.receive_data(V7_RUN_ACK_1.data)
    assert engine.is_completed(run)
    assert engine.advance(run)
    assert engine.result(run) == m.NotificationMessage(completion_id=1, value=b"ok")


def test_v7_an_acked_failure_is_the_run_result() -> None:
    engine = processing()
    run, _ = engine.run()
    engine.propose_run_completion(run, m.Failure(code=500, message="no"))
    engine.receive_data(f.run_ack(1))
    assert engine.result(run) == m.NotificationMessage(completion_id=1, failure=m.Failure(500, "no"))


@pytest.mark.parametrize("version", [5, 6])
def test_below_v7_proposals_ask_for_no_ack(version: int) -> None:
    engine = processing(version)
    run, _ = engine.run()
    engine.data_to_send()
    engine.propose_run_completion(run, b"x")
    assert engine.data_to_send() == PROPOSE_RUN_X.data
    with pytest.raises(
        ProtocolViolation, match=r"^ProposeRunCompletionAck for completion 1, which was not proposed$"
    ):
        engine.receive_data(f.run_ack(1))


def test_v7_the_full_notification_still_completes_a_run() -> None:
    # a server may echo the result instead of acking it: both complete the run
    engine = processing()
    run, _ = engine.run()
    engine.propose_run_completion(run, b"ok")
    engine.receive_data(f.completion(T.RUN_COMPLETION, 1, value=b"ok"))
    assert engine.advance(run)
    assert engine.result(run).value == b"ok"


def test_an_ack_for_an_id_never_proposed_is_a_protocol_violation() -> None:
    engine = processing()
    run, _ = engine.run()
    engine.propose_run_completion(run, b"ok")
    with pytest.raises(
        ProtocolViolation, match=r"^ProposeRunCompletionAck for completion 7, which was not proposed$"
    ):
        engine.receive_data(f.run_ack(7))
    engine = processing()
    run, _ = engine.run()
    engine.propose_run_completion(run, b"ok")
    engine.receive_data(f.run_ack(1))
    with pytest.raises(ProtocolViolation, match="completion 1, which was not proposed"):
        engine.receive_data(f.run_ack(1))  # acked twice


def test_an_ack_before_the_journal_is_complete_is_a_protocol_violation() -> None:
    engine = InvocationEngine(7)
    with pytest.raises(ProtocolViolation, match="not proposed"):
        engine.receive_data(f.start(known_entries=2) + f.input() + f.run_ack(1))


def test_an_ack_after_the_attempt_ended_is_ignored() -> None:
    engine = processing()
    run, _ = engine.run()
    engine.propose_run_completion(run, b"ok")
    engine.write_output(b"done")
    engine.receive_data(f.run_ack(1))
    assert not engine.is_completed(run)


def _sleep_then_run(engine: InvocationEngine) -> tuple[Any, Any]:
    sleep = engine.sleep(1000)
    run, _ = engine.run()
    return sleep, run


@pytest.mark.parametrize("sleep_first", [True, False])
def test_the_ack_takes_the_notification_s_place_and_replay_resolves_the_same_way(sleep_first: bool) -> None:
    # v7 §7.4: wait_first(sleep, run) in attempt 1 (acks) and in the replay (journaled notifications)
    sleep_done = f.completion(T.SLEEP_COMPLETION, 1, void=True)
    engine = processing()
    sleep, run = _sleep_then_run(engine)
    engine.propose_run_completion(run, b"ok")
    engine.receive_data(sleep_done + f.run_ack(2) if sleep_first else f.run_ack(2) + sleep_done)
    assert engine.advance(engine.watch(AwaitNode(Combinator.FIRST_COMPLETED, (sleep, run))))
    first_attempt = sleep if engine.is_ready(sleep) else run
    assert not (engine.is_ready(sleep) and engine.is_ready(run))

    run_done = f.completion(T.RUN_COMPLETION, 2, value=b"ok")
    journal = [
        f.sleep(1000, 1),
        f.run(2),
        *((sleep_done, run_done) if sleep_first else (run_done, sleep_done)),
    ]
    replay = engine_for(f.replay(*journal), version=7)
    sleep, run = _sleep_then_run(replay)
    assert replay.phase is Phase.PROCESSING
    assert replay.data_to_send() == b""
    assert replay.advance(replay.watch(AwaitNode(Combinator.FIRST_COMPLETED, (sleep, run))))
    assert (sleep if replay.is_ready(sleep) else run) == first_attempt
    assert first_attempt == (sleep if sleep_first else run)
    assert not (replay.is_ready(sleep) and replay.is_ready(run))


def test_a_run_re_executed_during_replay_is_acked_in_arrival_order() -> None:
    # the journal holds the run without its result, then a later command: the run executes again
    # while the handler still replays, and its ack may arrive before the replay ends
    engine = engine_for(f.replay(f.run(1), f.sleep(1000, 2)), version=7)
    run, _ = engine.run()
    assert engine.phase is Phase.REPLAYING
    engine.propose_run_completion(run, b"ok")
    assert engine.data_to_send() == V7_PROPOSE_RUN_OK_ACK.data
    engine.receive_data(f.run_ack(1))
    assert engine.advance(run)
    assert engine.result(run).value == b"ok"


# ---- ErrorMessage.behavior (v7 §8) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behavior", "vector"),
    [
        (ErrorBehavior.PAUSE, V7_ERROR_PAUSE),
        (ErrorBehavior.FAIL, V7_ERROR_FAIL),
        (ErrorBehavior.RETRY, ERROR_500_X),
    ],
)
def test_v7_error_behavior_is_encoded(behavior: ErrorBehavior, vector: Vector) -> None:
    engine = processing()
    engine.fail(500, "x", behavior=behavior)
    assert engine.data_to_send() == vector.data
    assert engine.outcome == "error"


@pytest.mark.parametrize("version", [5, 6])
@pytest.mark.parametrize("behavior", list(ErrorBehavior))
def test_below_v7_error_behavior_is_not_sent(version: int, behavior: ErrorBehavior) -> None:
    # the documented fallback: the server retries, its retry policy decides once attempts run out
    engine = processing(version)
    engine.fail(500, "x", behavior=behavior)
    assert engine.data_to_send() == ERROR_500_X.data


# ---- scope and limit key (v7 §9) ---------------------------------------------------------------------


def test_v7_call_with_scope_and_limit_key() -> None:
    engine = processing()
    handles = engine.call("Greeter", "greet", b'"bob"', key="k", scope="s1", limit_key="t/u")
    assert handles == (completion(1), completion(2))
    assert engine.data_to_send() == V7_CALL_GREETER_SCOPED.data


def test_v7_send_with_scope_and_limit_key() -> None:
    engine = processing()
    engine.send("Greeter", "greet", b"", idempotency_key="ik", invoke_time_ms=5000, scope="s1", limit_key="t")
    assert engine.data_to_send() == V7_ONE_WAY_CALL_GREETER_SCOPED.data


@pytest.mark.parametrize("version", [5, 6, 7])
def test_without_scope_calls_are_unchanged(version: int) -> None:
    engine = processing(version)
    engine.call("Greeter", "greet", b'"bob"', key="k")
    engine.send("Greeter", "greet", b"", idempotency_key="ik", invoke_time_ms=5000)
    assert engine.data_to_send() == CALL_GREETER.data + ONE_WAY_CALL_GREETER.data.replace(
        b"\x50\x01", b"\x50\x03"
    )


def test_scoped_call_and_send_replay_against_the_server_s_journal() -> None:
    # the server journals scope and limit key as sent when they are canonical (v7 §9.4)
    engine = engine_for(
        f.replay(
            f.call("Greeter", "greet", b'"bob"', 1, 2, key="k", scope="s1", limit_key="t/u"),
            f.one_way_call("Greeter", "greet", b"", 3, scope="s1", limit_key="t"),
        ),
        version=7,
    )
    engine.call("Greeter", "greet", b'"bob"', key="k", scope="s1", limit_key="t/u")
    engine.send("Greeter", "greet", b"", scope="s1", limit_key="t")
    assert engine.phase is Phase.PROCESSING
    assert engine.data_to_send() == b""


@pytest.mark.parametrize(
    ("recorded", "now", "diff"),
    [
        ({}, {"scope": "s1"}, "scope: journal has None, handler now has 's1'"),
        ({"scope": "s1"}, {}, "scope: journal has 's1', handler now has None"),
        (
            {"scope": "s1", "limit_key": "a"},
            {"scope": "s1", "limit_key": "a/b"},
            "limit_key: journal has 'a'",
        ),
    ],
)
def test_a_different_scope_on_replay_is_a_journal_mismatch(
    recorded: dict[str, str], now: dict[str, str], diff: str
) -> None:
    engine = engine_for(f.replay(f.call("Greeter", "greet", b"", 1, 2, **recorded)), version=7)
    with pytest.raises(JournalMismatch, match=diff):
        engine.call("Greeter", "greet", b"", **now)


@pytest.mark.parametrize(
    ("scope", "limit_key", "message"),
    [
        ("", None, r"^invalid scope '': use 1 to 36 characters .*, or scope=None for no scope$"),
        ("a" * 37, None, r"^invalid scope 'a{37}': use 1 to 36 characters"),
        ("a b", None, r"^invalid scope 'a b'"),
        ("ü", None, r"^invalid scope 'ü'"),
        ("s\n", None, r"invalid scope"),
        (None, "t", r"^limit_key 't' needs a scope: pass scope= as well$"),
        ("s", "", r"^invalid limit_key '': .*, or limit_key=None for no limit key$"),
        ("s", "a/", r"^invalid limit_key 'a/': use 'level1' or 'level1/level2'"),
        ("s", "a//b", r"^invalid limit_key 'a//b'"),
        ("s", "a/b/c", r"^invalid limit_key 'a/b/c'"),
        ("s", "/a", r"^invalid limit_key '/a'"),
    ],
)
def test_invalid_scopes_and_limit_keys_are_refused_before_anything_is_written(
    scope: str | None, limit_key: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_scope(scope, limit_key)
    engine = processing()
    with pytest.raises(ValueError, match=message):
        engine.call("S", "h", b"", scope=scope, limit_key=limit_key)
    with pytest.raises(ValueError, match=message):
        engine.send("S", "h", b"", scope=scope, limit_key=limit_key)
    assert engine.data_to_send() == b""
    assert engine.call("S", "h", b"") == (completion(1), completion(2))  # no completion id was used


def test_valid_scopes_and_limit_keys() -> None:
    for scope, limit_key in [("a", None), ("A-z_0.9", "l1"), ("x" * 36, "y" * 36 + "/" + "z" * 36)]:
        check_scope(scope, limit_key)


@pytest.mark.parametrize("version", [5, 6])
def test_scopes_need_v7(version: int) -> None:
    engine = processing(version)
    with pytest.raises(
        UnsupportedFeature, match=r"^scope and limit_key need service protocol v7, .* on v\d"
    ) as info:
        engine.call("S", "h", b"", scope="s")
    assert info.value.code == 573
    assert engine.data_to_send() == b""


# ---- StartMessage fields 10-12 (v7 §9.5) ------------------------------------------------------------


def test_v7_start_exposes_scope_limit_key_and_idempotency_key() -> None:
    engine = engine_for(V7_START_SCOPED.data + f.input(), version=7)
    assert (engine.scope, engine.limit_key, engine.idempotency_key) == ("checkout", "tenant1", "k1")


def test_absent_start_fields_are_none() -> None:
    engine = engine_for(START_FRESH.data + f.input(), version=7)
    assert (engine.scope, engine.limit_key, engine.idempotency_key) == (None, None, None)
    assert (InvocationEngine(7).scope, InvocationEngine(7).idempotency_key) == (None, None)


def test_start_fields_are_read_on_v7_only() -> None:
    engine = engine_for(V7_START_SCOPED.data + f.input(), version=6)
    assert (engine.scope, engine.limit_key, engine.idempotency_key) == (None, None, None)
