"""Replay (protocol.md §6.1-6.2): every command kind matched against the journal, and mismatches.

While the engine replays, a context call compares its command with the next recorded one and writes no
bytes; once the last recorded command has been consumed it is in processing and writes new commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import InvocationEngine, Phase, Step, completion
from restate_sdk._engine.errors import NONDETERMINISM_HINT, JournalMismatch, ProtocolViolation
from restate_sdk._engine.messages import MessageType as T

from .factory import MessageFactory, engine_for
from .vectors import END_MESSAGE, SLEEP_1000_CID_2

f = MessageFactory()
FAILURE = m.Failure(code=500, message="nope")


def replaying(*entries: bytes, **start: Any) -> InvocationEngine:
    engine = engine_for(f.replay(*entries, **start))
    assert engine.phase is Phase.REPLAYING
    return engine


def replay_last(engine: InvocationEngine, op: Callable[[InvocationEngine], Any]) -> Any:
    """Run ``op``, which replays the last recorded command: no bytes, and processing afterwards."""
    assert engine.phase is Phase.REPLAYING
    result = op(engine)
    assert engine.data_to_send() == b""
    assert engine.phase is Phase.PROCESSING
    return result


def assert_next_completion_id(engine: InvocationEngine, expected: int) -> None:
    """A new command after replay is written, and takes the next completion id."""
    assert engine.sleep(1000) == completion(expected)
    assert engine.data_to_send() == f.sleep(1000, expected)


# ---- state ------------------------------------------------------------------------------------------


def test_get_eager_state_takes_the_value_from_the_journal() -> None:
    # the StartMessage's map says "other": the journal's value wins (§6.2)
    engine = replaying(f.get_eager_state("k", b"v"), state={"k": b"other"})
    assert replay_last(engine, lambda e: e.get_state("k")) == (True, b"v", None)
    assert_next_completion_id(engine, 2)  # a state get consumes a completion id (§5.6)


def test_get_eager_state_void() -> None:
    engine = replaying(f.get_eager_state("k", None), partial_state=True)
    assert replay_last(engine, lambda e: e.get_state("k")) == (True, None, None)
    assert_next_completion_id(engine, 2)


def test_get_eager_state_empty_value_is_present() -> None:
    engine = replaying(f.get_eager_state("k", b""))
    assert replay_last(engine, lambda e: e.get_state("k")) == (True, b"", None)


def test_get_lazy_state() -> None:
    engine = replaying(
        f.get_lazy_state("k", 1),
        f.completion(T.GET_LAZY_STATE_COMPLETION, 1, value=b"lazy"),
        partial_state=True,
    )
    assert replay_last(engine, lambda e: e.get_state("k")) == (False, None, completion(1))
    assert engine.result(completion(1)).value == b"lazy"
    assert_next_completion_id(engine, 2)


def test_get_lazy_state_is_accepted_even_if_the_map_now_has_the_key() -> None:
    # §6.2: a get accepts whichever of eager/lazy the journal recorded, whatever this attempt's map says
    engine = replaying(
        f.get_lazy_state("k", 1),
        f.completion(T.GET_LAZY_STATE_COMPLETION, 1, value=b"then"),
        state={"k": b"now"},
        partial_state=False,
    )
    assert replay_last(engine, lambda e: e.get_state("k")) == (False, None, completion(1))
    assert engine.result(completion(1)).value == b"then"


def test_get_eager_state_keys_come_from_the_journal() -> None:
    engine = replaying(f.get_eager_state_keys(["a", "b"]), state={"z": b"1"})
    assert replay_last(engine, lambda e: e.get_state_keys()) == (True, ["a", "b"], None)
    assert_next_completion_id(engine, 2)


def test_get_lazy_state_keys() -> None:
    engine = replaying(
        f.get_lazy_state_keys(1),
        f.completion(T.GET_LAZY_STATE_KEYS_COMPLETION, 1, state_keys=["x", "y"]),
        partial_state=True,
    )
    assert replay_last(engine, lambda e: e.get_state_keys()) == (False, [], completion(1))
    assert engine.result(completion(1)).state_keys == m.StateKeys([b"x", b"y"])


def test_get_lazy_state_keys_is_accepted_even_if_the_map_is_now_complete() -> None:
    engine = replaying(f.get_lazy_state_keys(1), state={"k": b"v"}, partial_state=False)
    assert replay_last(engine, lambda e: e.get_state_keys()) == (False, [], completion(1))


def test_set_state() -> None:
    engine = replaying(f.set_state("k", b"v"), partial_state=True)
    replay_last(engine, lambda e: e.set_state("k", b"v"))
    # the write updates the local view: a later get of "k" is eager, with the written value
    assert engine.get_state("k") == (True, b"v", None)
    assert engine.data_to_send() == f.get_eager_state("k", b"v")


def test_clear_state() -> None:
    engine = replaying(f.clear_state("k"), state={"k": b"v"}, partial_state=True)
    replay_last(engine, lambda e: e.clear_state("k"))
    assert engine.get_state("k") == (True, None, None)
    assert engine.data_to_send() == f.get_eager_state("k", None)


def test_clear_all_state_makes_the_map_complete() -> None:
    engine = replaying(f.clear_all_state(), state={"k": b"v"}, partial_state=True)
    replay_last(engine, lambda e: e.clear_all_state())
    assert engine.get_state("other") == (True, None, None)
    assert engine.data_to_send() == f.get_eager_state("other", None)


# ---- promises, timers -------------------------------------------------------------------------------


def test_get_promise() -> None:
    engine = replaying(f.get_promise("p", 1), f.completion(T.GET_PROMISE_COMPLETION, 1, value=b"done"))
    assert replay_last(engine, lambda e: e.get_promise("p")) == completion(1)
    assert engine.result(completion(1)).value == b"done"
    assert_next_completion_id(engine, 2)


def test_peek_promise() -> None:
    engine = replaying(f.peek_promise("p", 1), f.completion(T.PEEK_PROMISE_COMPLETION, 1, void=True))
    assert replay_last(engine, lambda e: e.peek_promise("p")) == completion(1)
    assert engine.result(completion(1)).void is True


@pytest.mark.parametrize("result", [b"v", FAILURE], ids=["value", "failure"])
def test_complete_promise(result: bytes | m.Failure) -> None:
    recorded = (
        f.complete_promise("p", 1, failure=result)
        if isinstance(result, m.Failure)
        else f.complete_promise("p", 1, value=result)
    )
    engine = replaying(recorded, f.completion(T.COMPLETE_PROMISE_COMPLETION, 1, void=True))
    assert replay_last(engine, lambda e: e.complete_promise("p", result)) == completion(1)
    assert engine.is_completed(completion(1))


def test_sleep_wake_up_time_is_not_compared() -> None:
    engine = replaying(f.sleep(1000, 1, name="nap"), f.completion(T.SLEEP_COMPLETION, 1, void=True))
    assert replay_last(engine, lambda e: e.sleep(987_654, name="nap")) == completion(1)
    assert engine.is_completed(completion(1))
    assert engine.data_to_send() == b""
    engine.sleep(1000)
    assert engine.data_to_send() == SLEEP_1000_CID_2.data


# ---- calls, signals, awakeables -----------------------------------------------------------------------


def test_call() -> None:
    engine = replaying(
        f.call("Greeter", "greet", b'"bob"', 1, 2, key="k", headers=[("h", "v")], idempotency_key="ik"),
        f.completion(T.CALL_INVOCATION_ID_COMPLETION, 1, invocation_id="inv_1callee"),
        f.completion(T.CALL_COMPLETION, 2, value=b'"hi bob"'),
    )
    handles = replay_last(
        engine,
        lambda e: e.call("Greeter", "greet", b'"bob"', key="k", headers=[("h", "v")], idempotency_key="ik"),
    )
    assert handles == (completion(1), completion(2))
    assert engine.result(completion(1)).invocation_id == "inv_1callee"
    assert engine.result(completion(2)).value == b'"hi bob"'
    assert_next_completion_id(engine, 3)


def test_one_way_call_invoke_time_is_not_compared() -> None:
    engine = replaying(
        f.one_way_call("Greeter", "greet", b"", 1, invoke_time=5000),
        f.completion(T.CALL_INVOCATION_ID_COMPLETION, 1, invocation_id="inv_1callee"),
    )
    handle = replay_last(engine, lambda e: e.send("Greeter", "greet", b"", invoke_time_ms=9000))
    assert handle == completion(1)
    assert engine.result(completion(1)).invocation_id == "inv_1callee"
    assert_next_completion_id(engine, 2)


def test_cancel_invocation_is_send_signal_1() -> None:
    engine = replaying(f.send_signal("inv_1other", idx=1))
    replay_last(engine, lambda e: e.cancel_invocation("inv_1other"))
    assert_next_completion_id(engine, 1)  # signals take no completion id


@pytest.mark.parametrize(
    ("recorded", "kwargs"),
    [
        (f.send_signal("inv_1other", signal_name="go", value=b"v"), {"signal_name": "go", "result": b"v"}),
        (f.send_signal("inv_1other", idx=17, failure=FAILURE), {"idx": 17, "result": FAILURE}),
        (f.send_signal("inv_1other", signal_name="go", name="n"), {"signal_name": "go", "name": "n"}),
    ],
    ids=["named-value", "idx-failure", "named-void"],
)
def test_send_signal(recorded: bytes, kwargs: dict[str, Any]) -> None:
    engine = replaying(recorded)
    replay_last(engine, lambda e: e.send_signal("inv_1other", **kwargs))


@pytest.mark.parametrize("result", [b"v", FAILURE], ids=["value", "failure"])
def test_complete_awakeable(result: bytes | m.Failure) -> None:
    recorded = (
        f.complete_awakeable("sign_1x", failure=result)
        if isinstance(result, m.Failure)
        else f.complete_awakeable("sign_1x", value=result)
    )
    engine = replaying(recorded)
    replay_last(engine, lambda e: e.complete_awakeable("sign_1x", result))


def test_awakeable_writes_nothing_and_keeps_its_signal_id() -> None:
    # §5.6: creating an awakeable is not journaled; its signal arrives as a notification
    engine = replaying(f.sleep(1, 1), f.signal(17, value=b"woken"))
    _, handle = engine.awakeable()
    assert engine.phase is Phase.REPLAYING  # it consumed no recorded command
    assert engine.result(handle).value == b"woken"
    replay_last(engine, lambda e: e.sleep(1))


def test_attach_invocation() -> None:
    engine = replaying(
        f.attach_invocation("inv_1x", 1), f.completion(T.ATTACH_INVOCATION_COMPLETION, 1, failure=FAILURE)
    )
    assert replay_last(engine, lambda e: e.attach_invocation("inv_1x")) == completion(1)
    assert engine.result(completion(1)).failure == FAILURE
    assert_next_completion_id(engine, 2)


def test_get_invocation_output() -> None:
    engine = replaying(
        f.get_invocation_output("inv_1x", 1),
        f.completion(T.GET_INVOCATION_OUTPUT_COMPLETION, 1, void=True),  # not completed yet
    )
    assert replay_last(engine, lambda e: e.get_invocation_output("inv_1x")) == completion(1)
    assert engine.result(completion(1)).void is True


# ---- runs ---------------------------------------------------------------------------------------------


def test_run_with_its_completion_is_not_executed_again() -> None:
    engine = replaying(f.run(1, name="pay"), f.completion(T.RUN_COMPLETION, 1, value=b"receipt"))
    assert replay_last(engine, lambda e: e.run("pay")) == (completion(1), 1)
    assert engine.is_completed(completion(1))
    assert engine.result(completion(1)).value == b"receipt"
    assert_next_completion_id(engine, 2)


def test_run_without_its_completion_is_proposed_again() -> None:
    engine = replaying(f.run(1, name="pay"), retry_count=2, duration_ms=1500)
    handle, index = replay_last(engine, lambda e: e.run("pay"))
    assert not engine.is_completed(handle)
    assert engine.run_retry_info(index) == (2, 1500)  # §6.4: the retried run gets StartMessage fields 7/8
    engine.propose_run_completion(handle, b"x")
    assert engine.data_to_send() == bytes.fromhex("00 05 00 00 00 00 00 05 08 01 72 01 78")


# ---- output -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("result", [b'"ok"', FAILURE], ids=["value", "failure"])
def test_output_is_replayed_and_only_end_is_written(result: bytes | m.Failure) -> None:
    recorded = f.output(failure=result) if isinstance(result, m.Failure) else f.output(value=result)
    engine = replaying(recorded)
    engine.write_output(result)
    assert engine.data_to_send() == END_MESSAGE.data
    assert engine.phase is Phase.CLOSED


# ---- a whole journal -------------------------------------------------------------------------------------

# (recorded entries, the handler's call) in journal order; completion ids follow §5.6 numbering.
EVERY_KIND: list[tuple[list[bytes], Callable[[InvocationEngine], Any]]] = [
    ([f.get_eager_state("a", b"1")], lambda e: e.get_state("a")),  # id 1
    (
        [f.get_lazy_state("b", 2), f.completion(T.GET_LAZY_STATE_COMPLETION, 2, void=True)],
        lambda e: e.get_state("b"),
    ),
    ([f.get_eager_state_keys(["a"])], lambda e: e.get_state_keys()),  # id 3
    ([f.get_lazy_state_keys(4)], lambda e: e.get_state_keys()),
    ([f.set_state("a", b"2")], lambda e: e.set_state("a", b"2")),
    ([f.clear_state("a")], lambda e: e.clear_state("a")),
    ([f.clear_all_state()], lambda e: e.clear_all_state()),
    ([f.get_promise("p", 5)], lambda e: e.get_promise("p")),
    ([f.peek_promise("p", 6)], lambda e: e.peek_promise("p")),
    ([f.complete_promise("p", 7, value=b"v")], lambda e: e.complete_promise("p", b"v")),
    ([f.sleep(10, 8), f.completion(T.SLEEP_COMPLETION, 8, void=True)], lambda e: e.sleep(20)),
    ([f.call("S", "h", b"", 9, 10)], lambda e: e.call("S", "h", b"")),
    ([f.one_way_call("S", "h", b"", 11)], lambda e: e.send("S", "h", b"")),
    ([f.send_signal("inv_1x", idx=1)], lambda e: e.cancel_invocation("inv_1x")),
    ([f.run(12), f.completion(T.RUN_COMPLETION, 12, value=b"r")], lambda e: e.run()),
    ([f.attach_invocation("inv_1x", 13)], lambda e: e.attach_invocation("inv_1x")),
    ([f.get_invocation_output("inv_1x", 14)], lambda e: e.get_invocation_output("inv_1x")),
    ([f.complete_awakeable("sign_1x", value=b"v")], lambda e: e.complete_awakeable("sign_1x", b"v")),
    ([f.output(value=b"done")], lambda e: e.write_output(b"done")),
]


def test_every_command_kind_in_one_journal() -> None:
    engine = replaying(*[entry for entries, _ in EVERY_KIND for entry in entries], partial_state=True)
    assert engine.known_commands == 1 + len(EVERY_KIND)
    for i, (_, op) in enumerate(EVERY_KIND):
        assert engine.phase is Phase.REPLAYING, i
        assert engine.command_index == 1 + i
        op(engine)
        if i < len(EVERY_KIND) - 1:
            assert engine.data_to_send() == b"", i
    assert engine.data_to_send() == END_MESSAGE.data
    assert engine.phase is Phase.CLOSED


def test_every_command_kind_then_processing() -> None:
    entries = [entry for entries, _ in EVERY_KIND[:-1] for entry in entries]
    engine = replaying(*entries, partial_state=True)
    for _, op in EVERY_KIND[:-1]:
        op(engine)
    assert engine.data_to_send() == b""
    assert engine.phase is Phase.PROCESSING
    assert_next_completion_id(engine, 15)


def test_protocol_example_resumed_after_a_timer() -> None:
    # the §6.1 illustration, known_entries = 5
    engine = engine_for(
        f.replay(
            f.get_lazy_state("k", 1),
            f.completion(T.GET_LAZY_STATE_COMPLETION, 1, value=b"x"),
            f.sleep(10_000, 2),
            f.completion(T.SLEEP_COMPLETION, 2, void=True),
            partial_state=True,
        ),
        eof=True,
    )
    assert engine.get_state("k") == (False, None, completion(1))
    assert engine.phase is Phase.REPLAYING
    assert engine.sleep(20_000) == completion(2)
    assert engine.phase is Phase.PROCESSING
    assert engine.is_completed(completion(2))
    assert engine.command_index == 3
    engine.write_output(b"x")
    assert engine.data_to_send() == f.output(value=b"x") + END_MESSAGE.data


# ---- mismatches (§6.2) -------------------------------------------------------------------------------


def test_wrong_command_type() -> None:
    engine = replaying(f.set_state("k", b"v"))
    with pytest.raises(JournalMismatch) as info:
        engine.clear_state("k")
    error = info.value
    assert error.code == 570
    assert error.command_index == 1
    assert error.command_type == 0x0404
    assert error.detail == (
        "command #1: the journal has SetStateCommandMessage(key='k'), "
        "the handler now issues ClearStateCommandMessage(key='k')"
    )
    assert engine.data_to_send() == b""


def test_different_field() -> None:
    engine = replaying(f.set_state("a", b"v"))
    with pytest.raises(JournalMismatch) as info:
        engine.set_state("b", b"v")
    assert info.value.command_index == 1
    assert info.value.command_type == 0x0403
    assert info.value.detail == (
        "command #1 (SetStateCommandMessage) differs from the journal: key: journal has b'a', handler now has b'b'"
    )


def test_several_different_fields_are_all_named() -> None:
    engine = replaying(f.set_state("a", b"1"))
    with pytest.raises(
        JournalMismatch,
        match=r"key: journal has b'a', handler now has b'b'; value: journal has b'1', handler now has b'2'\. The handler is probably not deterministic",
    ):
        engine.set_state("b", b"2")


def test_mismatch_names_the_command_index() -> None:
    engine = replaying(f.sleep(1, 1), f.sleep(1, 2), f.call("A", "h", b"", 3, 4))
    engine.sleep(1)
    engine.sleep(1)
    with pytest.raises(JournalMismatch) as info:
        engine.call("B", "h", b"")
    assert info.value.command_index == 3
    assert info.value.detail == (
        "command #3 (CallCommandMessage) differs from the journal: "
        "service_name: journal has 'A', handler now has 'B'"
    )


def test_mismatch_carries_the_command_name() -> None:
    engine = replaying(f.run(1, name="charge"))
    with pytest.raises(
        JournalMismatch, match=r"name: journal has 'charge', handler now has 'refund'"
    ) as info:
        engine.run("refund")
    assert info.value.command_name == "refund"
    assert info.value.command_type == 0x0411


def test_completion_ids_are_compared() -> None:
    engine = replaying(f.get_promise("p", 5))
    with pytest.raises(JournalMismatch, match=r"result_completion_id: journal has 5, handler now has 1"):
        engine.get_promise("p")


def test_sleep_name_is_compared() -> None:
    engine = replaying(f.sleep(1, 1, name="a"))
    with pytest.raises(JournalMismatch, match=r"name: journal has 'a', handler now has 'b'"):
        engine.sleep(1, name="b")


def test_get_state_key_is_compared_with_an_eager_record() -> None:
    engine = replaying(f.get_eager_state("a", b"1"))
    with pytest.raises(
        JournalMismatch,
        match=r"^command #1 \(GetEagerStateCommandMessage\) differs from the journal: key: journal has b'a', handler now has b'b'\. The handler is probably not deterministic",
    ):
        engine.get_state("b")


def test_get_state_key_is_compared_with_a_lazy_record() -> None:
    engine = replaying(f.get_lazy_state("a", 1), partial_state=True)
    with pytest.raises(JournalMismatch, match=r"key: journal has b'a', handler now has b'b'"):
        engine.get_state("b")


def test_output_value_is_compared_and_nothing_is_written() -> None:
    engine = replaying(f.output(value=b"1"))
    with pytest.raises(JournalMismatch, match=r"value: journal has b'1', handler now has b'2'"):
        engine.write_output(b"2")
    assert engine.data_to_send() == b""


def test_a_command_where_the_journal_has_a_different_kind_of_get() -> None:
    engine = replaying(f.sleep(1, 1))
    with pytest.raises(
        JournalMismatch,
        match=r"^command #1: the journal has SleepCommandMessage, the handler now issues GetEagerStateCommandMessage",
    ):
        engine.get_state("k")  # map complete (partial_state false): an eager get


def test_awaiting_something_the_journal_never_delivered() -> None:
    engine = engine_for(f.replay(f.sleep(1, 1), f.set_state("k", b"v")), eof=True)
    handle = engine.sleep(1)
    with pytest.raises(JournalMismatch) as info:
        engine.next_step(handle)
    assert info.value.command_index == 2
    assert info.value.detail == (
        "command #2: the handler awaits a result the journal never delivered, "
        "while the journal continues with SetStateCommandMessage(key='k')"
    )


def test_waiting_is_fine_once_the_result_was_replayed() -> None:
    engine = engine_for(
        f.replay(f.sleep(1, 1), f.completion(T.SLEEP_COMPLETION, 1, void=True), f.set_state("k", b"v")),
        eof=True,
    )
    assert engine.next_step(engine.sleep(1)) is Step.READY
    assert engine.phase is Phase.REPLAYING


def test_a_mismatch_becomes_error_message_570() -> None:
    engine = replaying(f.set_state("a", b"v"))
    with pytest.raises(JournalMismatch) as info:
        engine.set_state("b", b"v")
    e = info.value
    engine.fail(e.code, e.message, command_index=e.command_index, command_type=e.command_type)
    payload = m.encode_message(
        m.ErrorMessage(code=570, message=e.message, related_command_index=1, related_command_type=0x0403)
    )
    assert engine.data_to_send() == f.raw(0x0002, payload)
    assert engine.phase is Phase.CLOSED
    assert e.message == f"{e.detail}. {NONDETERMINISM_HINT}"
    assert "use ctx.time(), ctx.random() and ctx.uuid()" in e.message


def test_non_utf8_recorded_state_key_is_a_violation() -> None:
    engine = replaying(f.get_eager_state_keys([b"ok", b"\xc3\x28"]))
    with pytest.raises(ProtocolViolation, match=r"^state key b'\\xc3\(' is not valid UTF-8$"):
        engine.get_state_keys()


def test_trace_headers_do_not_count_on_replay() -> None:
    """Tracing middleware switched off between attempts must not turn a replay into a mismatch."""
    from restate_sdk._engine import messages as msgs
    from restate_sdk._engine.engine import InvocationEngine
    from restate_sdk._engine.framing import encode_header

    def frame(msg: msgs.Message) -> bytes:
        payload = msgs.encode_message(msg)
        return encode_header(msg.TYPE, len(payload)) + payload

    recorded = msgs.CallCommandMessage(
        service_name="S",
        handler_name="h",
        headers=[msgs.Header("traceparent", "00-aa-bb-01"), msgs.Header("x-user", "1")],
        invocation_id_notification_idx=1,
        result_completion_id=2,
    )
    engine = InvocationEngine(6)
    engine.receive_data(
        frame(msgs.StartMessage(id=b"\x01" * 24, known_entries=2))
        + frame(msgs.InputCommandMessage())
        + frame(recorded)
    )
    engine.call("S", "h", b"", headers=[("x-user", "1")])
    assert engine.data_to_send() == b""
