"""InvocationEngine driven with byte-level message sequences (protocol.md §4-§7).

Covers: a fresh start, commands written as exact bytes, state (§7), ids (§5.6, §6.7, §6.8), suspension,
notifications out of order, frames split across reads and several frames per read, and malformed input.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.awaiting import AwaitNode, Combinator
from restate_sdk._engine.engine import (
    CANCEL_HANDLE,
    InvocationEngine,
    Phase,
    completion,
    named_signal,
    signal,
)
from restate_sdk._engine.errors import JournalMismatch, ProtocolError, ProtocolViolation, UnsupportedFeature
from restate_sdk._engine.messages import MessageType as T
from restate_sdk._engine.wire import encode_varint

from .factory import MessageFactory, chunks, engine_for
from .vectors import (
    AWAKEABLE_ID_17,
    AWAKEABLE_ID_18,
    CALL_COMPLETION_3,
    CALL_GREETER,
    CALL_INVOCATION_ID_2,
    CANCEL_SIGNAL,
    COMPLETE_AWAKEABLE_V,
    DEBUG_ID,
    END_MESSAGE,
    ERROR_MESSAGE,
    GET_EAGER_STATE_EMPTY,
    GET_EAGER_STATE_VOID,
    GET_LAZY_STATE,
    INPUT_HI,
    INVOCATION_ID,
    ONE_WAY_CALL_GREETER,
    OUTPUT_FAILURE_V5,
    OUTPUT_FAILURE_V6,
    OUTPUT_OK,
    PROPOSE_RUN_X,
    RUN_PAY,
    SEND_SIGNAL_CANCEL,
    SET_STATE_COUNT,
    SLEEP_1000_CID_2,
    SLEEP_COMPLETION_1,
    START_FRESH,
    SUSPENSION_MIXED,
    SUSPENSION_ON_2,
    V5_SEED,
)

f = MessageFactory()
FAILURE_WITH_METADATA = m.Failure(code=409, message="cancelled", metadata=[m.FailureMetadata("k", "v")])


def processing(version: int = 6, **start: Any) -> InvocationEngine:
    engine = engine_for(f.fresh(**start), version=version)
    assert engine.phase is Phase.PROCESSING
    return engine


# ---- a fresh start ------------------------------------------------------------------------------------


def test_fresh_start_from_vectors() -> None:
    engine = InvocationEngine()
    engine.receive_data(START_FRESH.data + INPUT_HI.data)
    assert engine.phase is Phase.PROCESSING
    assert engine.ready and not engine.replaying
    assert engine.input == m.InputCommandMessage(value=b'"hi"')
    assert engine.invocation_id == DEBUG_ID
    assert engine.key == ""
    assert engine.start is not None and engine.start.id == INVOCATION_ID
    assert engine.known_commands == 1
    assert engine.command_index == 1  # Input is command 0 (§5.6)
    assert engine.data_to_send() == b""  # nothing is written until the handler acts


def test_factory_builds_the_same_bytes_as_the_vectors() -> None:
    assert (
        f.fresh(input_value=b'"hi"', partial_state=True, random_seed=42) == START_FRESH.data + INPUT_HI.data
    )


def test_fresh_start_then_commands_as_exact_bytes() -> None:
    engine = engine_for(START_FRESH.data + INPUT_HI.data)
    engine.set_state("count", b'{"n": 1234}')
    assert engine.data_to_send() == SET_STATE_COUNT.data
    engine.write_output(b'"ok"')
    assert engine.data_to_send() == OUTPUT_OK.data + END_MESSAGE.data
    assert engine.phase is Phase.CLOSED
    assert engine.outcome == "success"


def test_keyed_start_and_input_headers() -> None:
    engine = engine_for(f.start(key="alice") + f.frame(m.InputCommandMessage(headers=[m.Header("a", "b")])))
    assert engine.key == "alice"
    assert engine.input is not None and engine.input.headers == [m.Header("a", "b")]


def test_data_to_send_drains() -> None:
    engine = processing()
    engine.sleep(1000)
    engine.sleep(1000)
    assert engine.data_to_send() == f.sleep(1000, 1) + SLEEP_1000_CID_2.data
    assert engine.data_to_send() == b""


# ---- every command as exact bytes (processing) ----------------------------------------------------

FAILURE = m.Failure(code=500, message="nope")

WRITES: list[tuple[str, Any, bytes]] = [
    ("get-promise", lambda e: e.get_promise("p", name="n"), f.get_promise("p", 1, name="n")),
    ("peek-promise", lambda e: e.peek_promise("p"), f.peek_promise("p", 1)),
    ("complete-promise", lambda e: e.complete_promise("p", b"v"), f.complete_promise("p", 1, value=b"v")),
    (
        "reject-promise",
        lambda e: e.complete_promise("p", FAILURE),
        f.complete_promise("p", 1, failure=FAILURE),
    ),
    ("sleep", lambda e: e.sleep(1_700_000_000_000, name="nap"), f.sleep(1_700_000_000_000, 1, name="nap")),
    (
        "call",
        lambda e: e.call("S", "h", b"{}", key="k", headers=[("x", "y")], idempotency_key="ik", name="c"),
        f.call("S", "h", b"{}", 1, 2, key="k", headers=[("x", "y")], idempotency_key="ik", name="c"),
    ),
    (
        "one-way-call",
        lambda e: e.send("S", "h", b"{}", invoke_time_ms=5000, idempotency_key="ik"),
        f.one_way_call("S", "h", b"{}", 1, invoke_time=5000, idempotency_key="ik"),
    ),
    ("cancel", lambda e: e.cancel_invocation("inv_1x"), SEND_SIGNAL_CANCEL.data),
    (
        "named-signal",
        lambda e: e.send_signal("inv_1x", signal_name="go", result=b"v"),
        f.send_signal("inv_1x", signal_name="go", value=b"v"),
    ),
    ("run", lambda e: e.run("pay"), RUN_PAY.data),
    ("call-vector", lambda e: e.call("Greeter", "greet", b'"bob"', key="k"), CALL_GREETER.data),
    (
        "one-way-call-vector",
        lambda e: e.send("Greeter", "greet", b"", invoke_time_ms=5000, idempotency_key="ik"),
        ONE_WAY_CALL_GREETER.data,
    ),
    (
        "resolve-awakeable-vector",
        lambda e: e.complete_awakeable("sign_1abc", b"v"),
        COMPLETE_AWAKEABLE_V.data,
    ),
    ("attach", lambda e: e.attach_invocation("inv_1x"), f.attach_invocation("inv_1x", 1)),
    ("get-output", lambda e: e.get_invocation_output("inv_1x"), f.get_invocation_output("inv_1x", 1)),
    (
        "resolve-awakeable",
        lambda e: e.complete_awakeable(AWAKEABLE_ID_17, b"v"),
        f.complete_awakeable(AWAKEABLE_ID_17, value=b"v"),
    ),
    (
        "reject-awakeable",
        lambda e: e.complete_awakeable(AWAKEABLE_ID_17, FAILURE),
        f.complete_awakeable(AWAKEABLE_ID_17, failure=FAILURE),
    ),
    ("set-state", lambda e: e.set_state("count", b'{"n": 1234}'), SET_STATE_COUNT.data),
    ("clear-state", lambda e: e.clear_state("k"), f.clear_state("k")),
    ("clear-all-state", lambda e: e.clear_all_state(), f.clear_all_state()),
]


@pytest.mark.parametrize(("op", "expected"), [w[1:] for w in WRITES], ids=[w[0] for w in WRITES])
def test_command_bytes(op: Any, expected: bytes) -> None:
    engine = processing()
    op(engine)
    assert engine.data_to_send() == expected
    assert engine.command_index == 2


def test_completion_ids_are_numbered_in_issue_order() -> None:
    engine = processing(partial_state=True)
    assert engine.get_state("k") == (False, None, completion(1))
    assert engine.call("S", "h", b"") == (completion(2), completion(3))  # invocation id first, then result
    assert engine.send("S", "h", b"") == completion(4)
    _, handle = engine.awakeable()  # takes a signal id, no completion id
    assert handle == signal(17)
    assert engine.sleep(1000) == completion(5)
    assert engine.run() == (completion(6), 5)
    engine.set_state("a", b"1")  # no id
    assert engine.get_state("a") == (True, b"1", None)  # eager, but still consumes id 7
    assert engine.peek_promise("p") == completion(8)


# ---- state (§7) ---------------------------------------------------------------------------------------


def test_key_in_the_map_is_eager_with_its_value() -> None:
    engine = processing(state={"k": b""}, partial_state=True)
    assert engine.get_state("k") == (True, b"", None)  # an empty value is a present value
    assert engine.data_to_send() == GET_EAGER_STATE_EMPTY.data


def test_absent_key_in_a_complete_map_is_eager_void() -> None:
    engine = processing(state={"other": b"1"}, partial_state=False)
    assert engine.get_state("k") == (True, None, None)
    assert engine.data_to_send() == GET_EAGER_STATE_VOID.data


def test_absent_key_in_a_partial_map_is_lazy() -> None:
    engine = processing(state={"other": b"1"}, partial_state=True)
    assert engine.get_state("k") == (False, None, completion(1))
    assert engine.data_to_send() == GET_LAZY_STATE.data
    engine.receive_data(f.completion(T.GET_LAZY_STATE_COMPLETION, 1, value=b"late"))
    assert engine.result(completion(1)).value == b"late"


def test_keys_of_a_complete_map_are_eager_and_sorted() -> None:
    engine = processing(state={"b": b"2", "a": b"1", "c": b"3"}, partial_state=False)
    engine.clear_state("c")
    engine.data_to_send()
    assert engine.get_state_keys() == (True, ["a", "b"], None)
    assert engine.data_to_send() == f.get_eager_state_keys(["a", "b"])


def test_keys_of_a_partial_map_are_lazy() -> None:
    engine = processing(state={"a": b"1"}, partial_state=True)
    assert engine.get_state_keys() == (False, [], completion(1))
    assert engine.data_to_send() == f.get_lazy_state_keys(1)
    engine.receive_data(f.completion(T.GET_LAZY_STATE_KEYS_COMPLETION, 1, state_keys=["a", "z"]))
    assert engine.result(completion(1)).state_keys == m.StateKeys([b"a", b"z"])


def test_writes_update_the_local_view() -> None:
    engine = processing(partial_state=True)
    engine.set_state("k", b"v")
    engine.clear_state("gone")
    engine.data_to_send()
    assert engine.get_state("k") == (True, b"v", None)
    assert engine.get_state("gone") == (True, None, None)  # cleared: known absent, even in a partial map
    assert engine.data_to_send() == f.get_eager_state("k", b"v") + f.get_eager_state("gone", None)


def test_clear_all_empties_the_map_and_marks_it_complete() -> None:
    engine = processing(state={"k": b"v"}, partial_state=True)
    engine.clear_all_state()
    engine.set_state("n", b"1")
    engine.data_to_send()
    assert engine.get_state("k") == (True, None, None)
    assert engine.get_state_keys() == (True, ["n"], None)
    assert engine.data_to_send() == f.get_eager_state("k", None) + f.get_eager_state_keys(["n"])


# ---- identifiers and randomness ------------------------------------------------------------------------


def test_awakeable_id_format() -> None:
    engine = processing()
    assert engine.awakeable() == (AWAKEABLE_ID_17, signal(17))
    assert engine.awakeable() == (AWAKEABLE_ID_18, signal(18))
    assert engine.data_to_send() == b""  # nothing journaled (§5.6)
    raw = base64.urlsafe_b64decode(AWAKEABLE_ID_17.removeprefix("sign_1") + "==")
    assert raw == INVOCATION_ID + (17).to_bytes(4, "big")
    assert "=" not in AWAKEABLE_ID_17


def test_awakeable_resolves_by_signal_notification() -> None:
    engine = processing()
    _, handle = engine.awakeable()
    engine.receive_data(f.signal(17, value=b"done"))
    assert engine.is_completed(handle)
    assert engine.result(handle).value == b"done"


def test_v6_random_seed_is_start_field_9() -> None:
    engine = processing(random_seed=0xFFFF_FFFF_FFFF_FFFF)
    assert engine.random_seed == 0xFFFF_FFFF_FFFF_FFFF
    assert engine_for(START_FRESH.data + INPUT_HI.data).random_seed == 42


def test_v5_random_seed_is_derived_from_the_invocation_id() -> None:
    engine = processing(version=5, random_seed=42)  # a V5 server sends no seed; field 9 is ignored
    assert engine.random_seed == int.from_bytes(V5_SEED.data, "big") == 0x4D4D56AA4EE51347


# ---- V5 has no failure metadata -------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "expected"), [(6, OUTPUT_FAILURE_V6), (5, OUTPUT_FAILURE_V5)])
def test_output_failure_metadata_by_version(version: int, expected: Any) -> None:
    engine = processing(version=version)
    engine.write_output(FAILURE_WITH_METADATA)
    assert engine.data_to_send() == expected.data + END_MESSAGE.data
    assert engine.outcome == "failure"


def test_v5_drops_metadata_on_every_failure_it_writes() -> None:
    bare = m.Failure(code=409, message="cancelled")
    engine = processing(version=5)
    engine.complete_awakeable("sign_1x", FAILURE_WITH_METADATA)
    engine.complete_promise("p", FAILURE_WITH_METADATA)
    engine.send_signal("inv_1x", idx=17, result=FAILURE_WITH_METADATA)
    handle, _ = engine.run()
    engine.propose_run_completion(handle, FAILURE_WITH_METADATA)
    assert engine.data_to_send() == (
        f.complete_awakeable("sign_1x", failure=bare)
        + f.complete_promise("p", 1, failure=bare)
        + f.send_signal("inv_1x", idx=17, failure=bare)
        + f.run(2)
        + f.propose_run(2, failure=bare)
    )


def test_v6_keeps_metadata() -> None:
    engine = processing(version=6)
    engine.complete_awakeable("sign_1x", FAILURE_WITH_METADATA)
    assert engine.data_to_send() == f.complete_awakeable("sign_1x", failure=FAILURE_WITH_METADATA)


# ---- runs -----------------------------------------------------------------------------------------------


def test_run_proposal_and_its_echo() -> None:
    engine = processing(retry_count=3, duration_ms=200)
    handle, index = engine.run()
    assert (handle, index) == (completion(1), 1)
    assert engine.run_retry_info(index) == (3, 200)  # the first new entry after replay (§6.4)
    engine.propose_run_completion(handle, b"x")
    assert engine.data_to_send() == f.run(1) + PROPOSE_RUN_X.data
    assert not engine.is_completed(handle)  # only the server's echo counts (§6.4 step 4)
    engine.receive_data(f.completion(T.RUN_COMPLETION, 1, value=b"x"))
    assert engine.result(handle).value == b"x"


def test_run_proposal_after_close_is_dropped() -> None:
    engine = processing()
    handle, _ = engine.run()
    engine.fail(500, "boom")
    engine.data_to_send()
    engine.propose_run_completion(handle, b"x")
    assert engine.data_to_send() == b""


# ---- the end of an attempt ------------------------------------------------------------------------------


def test_fail_writes_error_message() -> None:
    engine = processing()
    engine.fail(500, "boom", command_index=1, next_retry_delay_ms=1000)
    assert engine.data_to_send() == ERROR_MESSAGE.data
    assert engine.phase is Phase.CLOSED and engine.outcome == "error"


def test_suspension_bytes() -> None:
    engine = processing()
    engine.sleep(1000)
    handle = engine.sleep(1000)
    engine.data_to_send()
    engine.suspend(handle)  # CANCEL signal 1 is always listened for (§6.3)
    assert engine.data_to_send() == SUSPENSION_ON_2.data
    assert engine.phase is Phase.CLOSED and engine.outcome == "suspended"


def test_suspension_lists_sorted_and_deduplicated() -> None:
    engine = processing()
    engine.suspend(
        AwaitNode(
            Combinator.FIRST_COMPLETED,
            (completion(3), named_signal("go"), signal(17), completion(2), CANCEL_HANDLE, completion(3)),
        )
    )
    assert engine.data_to_send() == SUSPENSION_MIXED.data


def test_input_is_ignored_once_closed() -> None:
    engine = processing()
    engine.suspend(completion(1))
    engine.data_to_send()
    engine.receive_data(b"\xff" * 20)  # whatever the server still sends, the attempt is over
    engine.receive_eof()
    assert engine.data_to_send() == b""


def test_no_second_terminal_message() -> None:
    engine = processing()
    engine.write_output(b"")
    engine.data_to_send()
    with pytest.raises(ProtocolViolation, match=r"^send-terminal is not allowed while closed$"):
        engine.suspend(completion(1))
    assert engine.data_to_send() == b""


# ---- notifications ----------------------------------------------------------------------------------------


def test_notification_arriving_out_of_order() -> None:
    engine = processing()
    engine.sleep(1000)
    id_handle, result_handle = engine.call("S", "h", b"")
    assert (id_handle, result_handle) == (completion(2), completion(3))
    engine.receive_data(CALL_COMPLETION_3.data)  # the result (3) before the invocation id (2)
    assert engine.is_completed(result_handle)
    assert not engine.is_completed(id_handle)
    assert not engine.is_completed(completion(1))
    assert engine.result(result_handle).value == b'"r"'
    engine.receive_data(CALL_INVOCATION_ID_2.data)
    assert engine.result(id_handle).invocation_id == "inv_1x"
    engine.receive_data(SLEEP_COMPLETION_1.data)
    assert engine.result(completion(1)).void is True


def test_notifications_out_of_order_in_the_replayed_journal() -> None:
    engine = engine_for(
        f.replay(
            f.sleep(1, 1), f.call("S", "h", b"", 2, 3), CALL_COMPLETION_3.data, CALL_INVOCATION_ID_2.data
        )
    )
    engine.sleep(1)
    assert engine.call("S", "h", b"") == (completion(2), completion(3))
    assert engine.result(completion(3)).value == b'"r"'
    assert engine.result(completion(2)).invocation_id == "inv_1x"
    assert not engine.is_completed(completion(1))


def test_notification_before_its_command_is_kept() -> None:
    engine = processing()
    engine.receive_data(SLEEP_COMPLETION_1.data)
    assert engine.sleep(1000) == completion(1)
    assert engine.is_completed(completion(1))


def test_signals_by_index_and_by_name() -> None:
    engine = processing()
    engine.receive_data(CANCEL_SIGNAL.data + f.named_signal("go", value=b"v") + f.signal(17, failure=FAILURE))
    assert engine.is_completed(CANCEL_HANDLE)
    assert engine.result(named_signal("go")).value == b"v"
    assert engine.result(signal(17)).failure == FAILURE
    assert not engine.is_completed(completion(1))


def test_command_ack_is_tolerated_and_not_a_journal_entry() -> None:
    engine = engine_for(f.start(known_entries=2) + f.command_ack(0) + f.input())
    assert engine.phase is Phase.WAITING_ENTRIES
    engine.receive_data(f.sleep(1, 1) + f.command_ack(1))
    assert engine.phase is Phase.REPLAYING


def test_ack_flag_on_an_incoming_frame_is_accepted() -> None:
    engine = engine_for(f.start() + f.frame(m.InputCommandMessage(), ack=True))
    assert engine.phase is Phase.PROCESSING


# ---- reads: split frames, several frames ----------------------------------------------------------------

STREAM = (
    f.replay(
        f.get_lazy_state("k", 1),
        f.completion(T.GET_LAZY_STATE_COMPLETION, 1, value=b"v" * 300),
        f.call("S", "h", b"p" * 5000, 2, 3),
        CALL_INVOCATION_ID_2.data,
        input_value=b'"hi"',
        partial_state=True,
    )
    + CALL_COMPLETION_3.data
)  # arrives after the journal, as in BIDI mode


def snapshot(engine: InvocationEngine) -> tuple[Any, ...]:
    return (
        engine.phase,
        engine.input,
        engine.start,
        engine.known_commands,
        list(engine._replay),
        engine._notifications,
    )


@pytest.mark.parametrize("size", [1, 7, 8, 9, 4096])
def test_frames_split_across_reads(size: int) -> None:
    engine = InvocationEngine()
    for piece in chunks(STREAM, size):
        engine.receive_data(piece)
    engine.receive_eof()
    assert snapshot(engine) == snapshot(engine_for(STREAM))
    assert engine.phase is Phase.REPLAYING
    assert engine.input == m.InputCommandMessage(value=b'"hi"')
    assert engine.get_state("k") == (False, None, completion(1))
    assert engine.call("S", "h", b"p" * 5000) == (completion(2), completion(3))
    assert engine.result(completion(3)).value == b'"r"'
    assert engine.phase is Phase.PROCESSING
    assert engine.data_to_send() == b""


SMALL = START_FRESH.data + INPUT_HI.data + SLEEP_COMPLETION_1.data


@pytest.mark.parametrize("cut", range(1, len(SMALL)))
def test_a_frame_split_at_every_byte_boundary(cut: int) -> None:
    engine = InvocationEngine()
    engine.receive_data(SMALL[:cut])
    # each message is handled as soon as its last byte arrives, not before
    expected = (
        Phase.WAITING_START
        if cut < len(START_FRESH.data)
        else Phase.WAITING_ENTRIES
        if cut < len(START_FRESH.data) + len(INPUT_HI.data)
        else Phase.PROCESSING
    )
    assert engine.phase is expected
    engine.receive_data(SMALL[cut:])
    assert snapshot(engine) == snapshot(engine_for(SMALL))
    assert engine.is_completed(completion(1))


def test_several_frames_in_one_read() -> None:
    engine = InvocationEngine()
    engine.receive_data(STREAM + SLEEP_COMPLETION_1.data + CANCEL_SIGNAL.data)
    assert engine.phase is Phase.REPLAYING
    assert engine.known_commands == 3
    assert engine.is_completed(CANCEL_HANDLE)
    assert engine.is_completed(completion(1)) and engine.is_completed(completion(3))


# ---- end of input ----------------------------------------------------------------------------------------


def test_eof_after_the_journal_closes_input() -> None:
    engine = processing()
    engine.receive_eof()
    assert engine.input_closed


def test_eof_mid_frame() -> None:
    engine = InvocationEngine()
    engine.receive_data(START_FRESH.data + INPUT_HI.data[:5])
    with pytest.raises(
        ProtocolViolation, match=r"^request body ended inside a message \(5 bytes left\)$"
    ) as info:
        engine.receive_eof()
    assert info.value.code == 571


def test_eof_mid_frame_while_processing() -> None:
    engine = processing()
    engine.receive_data(SLEEP_COMPLETION_1.data[:9])
    with pytest.raises(ProtocolViolation, match=r"inside a message \(9 bytes left\)"):
        engine.receive_eof()


def test_eof_before_start() -> None:
    with pytest.raises(ProtocolViolation, match=r"^request body ended before the journal was complete$"):
        InvocationEngine().receive_eof()


def test_eof_before_the_journal_is_complete() -> None:
    engine = engine_for(f.start(known_entries=3) + f.input())
    with pytest.raises(
        ProtocolViolation, match=r"^request body ended before the journal was complete \(2 entries missing\)$"
    ):
        engine.receive_eof()


# ---- malformed input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_id", [0x0008, 0x040F, 0x0415, 0x8000, 0xFC00, 0xFFFF])
def test_unknown_message_type(type_id: int) -> None:
    engine = engine_for(f.fresh())
    with pytest.raises(ProtocolViolation, match=rf"^unknown message type 0x{type_id:04x}$"):
        engine.receive_data(f.raw(type_id, b"\x08\x01"))


def test_unknown_message_type_first() -> None:
    with pytest.raises(ProtocolViolation, match=r"^unknown message type 0x0008$"):
        InvocationEngine().receive_data(f.raw(0x0008))


def test_a_deep_future_tree_from_the_server_is_refused_undecoded() -> None:
    # SuspensionMessage and AwaitingOnMessage only go to the server; their Future trees could nest
    # deeper than the decoder recurses, so they are refused on the type alone
    payload = b"\x0a\x00"
    for _ in range(5000):
        payload = b"\x22" + encode_varint(len(payload)) + payload  # Future{nested_futures: [payload]}
    payload = b"\x0a" + encode_varint(len(payload)) + payload  # AwaitingOnMessage{awaiting_on}
    engine = processing()
    with pytest.raises(ProtocolViolation, match=r"^unexpected AwaitingOnMessage while processing$"):
        engine.receive_data(f.raw(0x0006, payload))


def test_message_exceeding_max_size() -> None:
    engine = InvocationEngine(max_message_size=100)
    engine.receive_data(f.fresh())
    with pytest.raises(ProtocolViolation, match=r"^message of 101 bytes exceeds the limit of 100 bytes$"):
        engine.receive_data(bytes.fromhex("80 0c 00 00 00 00 00 65"))  # the header alone is enough


def test_message_at_max_size_is_accepted() -> None:
    engine = InvocationEngine(max_message_size=100)
    engine.receive_data(f.fresh())
    notification = f.completion(T.SLEEP_COMPLETION, 1, value=b"v" * 94)
    assert len(notification) == 8 + 100
    engine.receive_data(notification)
    assert engine.result(completion(1)).value == b"v" * 94


def test_writing_a_message_over_the_limit_is_refused() -> None:
    engine = InvocationEngine(max_message_size=100)
    engine.receive_data(f.fresh())
    with pytest.raises(
        UnsupportedFeature,
        match=r"^SetStateCommandMessage of 107 bytes exceeds the message size limit of 100 bytes$",
    ) as info:
        engine.set_state("k", b"v" * 100)
    assert info.value.code == 573
    assert engine.data_to_send() == b""


def test_unsupported_protocol_version() -> None:
    with pytest.raises(UnsupportedFeature, match=r"^service protocol v8 is not supported \(5..7 are\)$"):
        InvocationEngine(8)
    with pytest.raises(UnsupportedFeature, match=r"v4"):
        InvocationEngine(4)


def test_known_entries_zero() -> None:
    with pytest.raises(
        ProtocolViolation, match=r"^StartMessage.known_entries is 0 \(the input command is missing\)$"
    ):
        engine_for(f.start(known_entries=0))


@pytest.mark.parametrize(
    ("first", "name"),
    [
        (INPUT_HI.data, "InputCommandMessage"),
        (SLEEP_COMPLETION_1.data, "NotificationMessage"),
        (END_MESSAGE.data, "EndMessage"),
    ],
)
def test_first_message_must_be_start(first: bytes, name: str) -> None:
    with pytest.raises(ProtocolViolation, match=rf"^expected StartMessage first, got {name}$"):
        engine_for(first)


def test_journal_must_start_with_input() -> None:
    with pytest.raises(
        ProtocolViolation, match=r"^the journal must start with InputCommand, got SetStateCommandMessage$"
    ):
        engine_for(f.start(known_entries=2) + f.set_state("k", b"v"))


def test_journal_of_notifications_only() -> None:
    with pytest.raises(ProtocolViolation, match=r"^the replayed journal has no InputCommand$"):
        engine_for(f.start(known_entries=1) + SLEEP_COMPLETION_1.data)


@pytest.mark.parametrize(
    ("late", "name"),
    [
        (SET_STATE_COUNT.data, "SetStateCommandMessage"),
        (START_FRESH.data, "StartMessage"),
        (END_MESSAGE.data, "EndMessage"),
        (SUSPENSION_ON_2.data, "SuspensionMessage"),
        (ERROR_MESSAGE.data, "ErrorMessage"),
        (PROPOSE_RUN_X.data, "ProposeRunCompletionMessage"),
        (f.raw(0x0006, b"\x0a\x02\x12\x00"), "AwaitingOnMessage"),
    ],
)
def test_messages_the_runtime_may_not_send_now(late: bytes, name: str) -> None:
    engine = processing()
    with pytest.raises(ProtocolViolation, match=rf"^unexpected {name} while processing$"):
        engine.receive_data(late)


def test_sdk_only_message_in_the_journal() -> None:
    engine = engine_for(f.start(known_entries=3) + f.input())
    with pytest.raises(ProtocolViolation, match=r"^unexpected EndMessage while waiting-entries$"):
        engine.receive_data(END_MESSAGE.data)


def test_notification_without_an_id() -> None:
    engine = processing()
    with pytest.raises(ProtocolViolation, match=r"^notification 0x800c has no completion or signal id$"):
        engine.receive_data(f.raw(0x800C, bytes.fromhex("22 00")))


def test_malformed_payload_through_the_engine() -> None:
    engine = processing()
    with pytest.raises(ProtocolViolation, match=r"NotificationMessage.signal_name: invalid UTF-8"):
        engine.receive_data(f.raw(0xFBFF, bytes.fromhex("1a 01 ff")))


def test_reserved_header_bits_through_the_engine() -> None:
    with pytest.raises(ProtocolViolation, match=r"reserved header bits"):
        InvocationEngine().receive_data(bytes.fromhex("00 00 40 00 00 00 00 00"))


def test_error_codes() -> None:
    # §6.5: 570 journal mismatch, 571 protocol violation, 573 unsupported feature
    assert (ProtocolError.code, JournalMismatch.code, ProtocolViolation.code, UnsupportedFeature.code) == (
        571,
        570,
        571,
        573,
    )
    assert all(issubclass(c, ProtocolError) for c in (JournalMismatch, ProtocolViolation, UnsupportedFeature))


def test_non_utf8_state_key_in_the_map_is_a_violation() -> None:
    # §7: keys are bytes on the wire but must be valid UTF-8
    engine = processing(state={b"\xff": b"1", "a": b"2"}, partial_state=False)
    with pytest.raises(ProtocolViolation, match=r"^state key b'\\xff' is not valid UTF-8$"):
        engine.get_state_keys()
    assert engine.data_to_send() == b""  # checked before the command is written


def test_fail_always_ends_the_attempt_even_with_unencodable_text() -> None:
    # the last resort must not raise: exception texts may carry lone surrogates (e.g. from os.fsdecode)
    engine = processing()
    engine.fail(500, "bad file \udcff", stacktrace="at \ud800")
    assert engine.data_to_send() == f.raw(
        0x0002, bytes.fromhex("08 f4 03 12 0a") + b"bad file ?" + bytes.fromhex("1a 04") + b"at ?"
    )
    assert engine.phase is Phase.CLOSED
