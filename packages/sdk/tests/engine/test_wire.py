"""The proto3 codec: wire.py primitives and the table-driven encode/decode of every message (§5)."""

from __future__ import annotations

from typing import Any

import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.errors import ProtocolViolation
from restate_sdk._engine.messages import MESSAGES, decode_message, encode_message
from restate_sdk._engine.wire import decode_fields, encode_varint, read_varint

from .vectors import (
    CALL_COMPLETION_3,
    CALL_GREETER,
    CALL_INVOCATION_ID_2,
    CANCEL_SIGNAL,
    COMPLETE_AWAKEABLE_V,
    DEBUG_ID,
    ERROR_MESSAGE,
    GET_EAGER_STATE_EMPTY,
    GET_EAGER_STATE_VOID,
    GET_LAZY_STATE,
    INPUT_HI,
    INVOCATION_ID,
    ONE_WAY_CALL_GREETER,
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
    SUSPENSION_PACKED_PAYLOAD,
    SUSPENSION_UNPACKED_PAYLOAD,
    V7_ATTACH_WORKFLOW_SCOPED,
    V7_AWAITING_ON_1,
    V7_CALL_GREETER_SCOPED,
    V7_ERROR_FAIL,
    V7_ERROR_PAUSE,
    V7_GET_OUTPUT_IDEMPOTENT_SCOPED,
    V7_ONE_WAY_CALL_GREETER_SCOPED,
    V7_PROPOSE_RUN_OK_ACK,
    V7_RUN_ACK_1,
    V7_START_SCOPED,
    V7_SUSPENSION_ON_2,
    V7_SUSPENSION_WAIT_FIRST,
    Vector,
)

NESTED: frozenset[type[Any]] = frozenset(
    {
        m.Failure,
        m.FailureMetadata,
        m.StateKeys,
        m.Header,
        m.StateEntry,
        m.WorkflowTarget,
        m.IdempotentRequestTarget,
        m.Future,
    }
)
ALL_CLASSES: list[type[Any]] = sorted(set(MESSAGES.values()) | NESTED, key=lambda c: c.__name__)

FAILURE = m.Failure(code=409, message="cancelled", metadata=[m.FailureMetadata("k", "v")])
U32 = 0xFFFF_FFFF
U64 = 0xFFFF_FFFF_FFFF_FFFF

# One or more representative values per message class; oneof arms get one value each.
REPRESENTATIVE: list[Any] = [
    m.FailureMetadata(key="retryable", value="false"),
    FAILURE,
    m.StateKeys(keys=[b"a", b"", "ü".encode()]),
    m.Header(key="content-type", value="application/json"),
    m.StateEntry(key=b"count", value=b""),
    m.WorkflowTarget(workflow_name="Signup", workflow_key="alice"),
    m.IdempotentRequestTarget(service_name="S", service_key="", handler_name="h", idempotency_key="ik"),
    m.IdempotentRequestTarget(service_name="S", service_key=None, handler_name="h", idempotency_key="ik"),
    m.StartMessage(
        id=INVOCATION_ID,
        debug_id=DEBUG_ID,
        known_entries=U32,
        state_map=[m.StateEntry(b"a", b"1"), m.StateEntry(b"b", b"")],
        partial_state=True,
        key="ключ",
        retry_count_since_last_stored_entry=3,
        duration_since_last_stored_entry=U64,
        random_seed=U64,
    ),
    m.SuspensionMessage(
        waiting_completions=[1, U32], waiting_signals=[1, 17], waiting_named_signals=["a", ""]
    ),
    m.ErrorMessage(
        code=571,
        message="bad",
        stacktrace="Traceback",
        related_command_index=0,
        related_command_name="",
        related_command_type=0x0411,
        next_retry_delay=0,
    ),
    m.EndMessage(),
    m.CommandAckMessage(command_index=7),
    m.ProposeRunCompletionMessage(result_completion_id=1, value=b""),
    m.ProposeRunCompletionMessage(result_completion_id=2, failure=m.Failure(500, "x")),
    m.InputCommandMessage(headers=[m.Header("a", "b"), m.Header("", "")], name="in", value=b'"hi"'),
    m.OutputCommandMessage(name="out", value=b""),
    m.OutputCommandMessage(failure=FAILURE),
    m.GetLazyStateCommandMessage(key=b"k", result_completion_id=1, name="get"),
    m.SetStateCommandMessage(key=b"k", value=b"\x00\xff", name="set"),
    m.ClearStateCommandMessage(key=b"k", name="clear"),
    m.ClearAllStateCommandMessage(name="clear-all"),
    m.GetLazyStateKeysCommandMessage(result_completion_id=U32, name="keys"),
    m.GetEagerStateCommandMessage(key=b"k", void=True),
    m.GetEagerStateCommandMessage(key=b"k", value=b"v", name="eager"),
    m.GetEagerStateKeysCommandMessage(name="eager-keys", value=m.StateKeys([b"a", b"b"])),
    m.GetEagerStateKeysCommandMessage(value=m.StateKeys([])),
    m.GetPromiseCommandMessage(key="p", result_completion_id=4, name="gp"),
    m.PeekPromiseCommandMessage(key="p", result_completion_id=5, name="pp"),
    m.CompletePromiseCommandMessage(key="p", completion_value=b"1", result_completion_id=6, name="cp"),
    m.CompletePromiseCommandMessage(key="p", completion_failure=FAILURE, result_completion_id=6),
    m.SleepCommandMessage(wake_up_time=1_700_000_000_000, result_completion_id=2, name="nap"),
    m.CallCommandMessage(
        service_name="Greeter",
        handler_name="greet",
        parameter=b'"bob"',
        headers=[m.Header("x", "y")],
        key="k",
        idempotency_key="",
        invocation_id_notification_idx=2,
        result_completion_id=3,
        name="call",
    ),
    m.OneWayCallCommandMessage(
        service_name="Greeter",
        handler_name="greet",
        parameter=b"",
        invoke_time=U64,
        headers=[],
        key="",
        idempotency_key="ik",
        invocation_id_notification_idx=4,
        name="send",
    ),
    m.SendSignalCommandMessage(target_invocation_id="inv_1x", idx=1, void=True),
    m.SendSignalCommandMessage(target_invocation_id="inv_1x", signal_name="go", value=b"v", name="sig"),
    m.SendSignalCommandMessage(target_invocation_id="inv_1x", idx=0, failure=FAILURE),
    m.RunCommandMessage(result_completion_id=1, name="side-effect"),
    m.AttachInvocationCommandMessage(invocation_id="inv_1x", result_completion_id=1, name="att"),
    m.AttachInvocationCommandMessage(
        idempotent_request_target=m.IdempotentRequestTarget("S", "k", "h", "ik"), result_completion_id=2
    ),
    m.AttachInvocationCommandMessage(workflow_target=m.WorkflowTarget("W", "id"), result_completion_id=3),
    m.GetInvocationOutputCommandMessage(invocation_id="inv_1x", result_completion_id=1, name="out"),
    m.GetInvocationOutputCommandMessage(workflow_target=m.WorkflowTarget("W", ""), result_completion_id=2),
    m.CompleteAwakeableCommandMessage(awakeable_id="sign_1abc", value=b"v", name="aw"),
    m.CompleteAwakeableCommandMessage(awakeable_id="sign_1abc", failure=m.Failure(500, "no")),
    m.NotificationMessage(completion_id=0, void=True),
    m.NotificationMessage(completion_id=1, value=b""),
    m.NotificationMessage(completion_id=2, failure=FAILURE),
    m.NotificationMessage(completion_id=3, invocation_id="inv_1x"),
    m.NotificationMessage(completion_id=4, state_keys=m.StateKeys([b"a"])),
    m.NotificationMessage(signal_id=1, void=True),
    m.NotificationMessage(signal_name="go", value=b"v"),
    # V7
    m.Future(
        waiting_completions=[1, U32],
        waiting_signals=[1],
        waiting_named_signals=["go", ""],
        nested_futures=[m.Future(waiting_signals=[17]), m.Future(waiting_completions=[2], combinator_type=4)],
        combinator_type=2,
    ),
    m.SuspensionMessage(awaiting_on=m.Future(waiting_completions=[3], combinator_type=1)),
    m.AwaitingOnMessage(awaiting_on=m.Future(waiting_named_signals=["x"]), executing_side_effects=True),
    m.ProposeRunCompletionAckMessage(completion_id=U32),
    m.ErrorMessage(code=500, behavior=m.ErrorBehavior.FAIL),
    m.StartMessage(id=b"x", scope="", limit_key="a/b", idempotency_key="ik"),
    m.CallCommandMessage(service_name="S", handler_name="h", scope="s", limit_key="l1/l2"),
    m.OneWayCallCommandMessage(service_name="S", handler_name="h", scope="s", limit_key=""),
    m.WorkflowTarget(workflow_name="W", workflow_key="k", scope="s"),
    m.IdempotentRequestTarget(service_name="S", handler_name="h", idempotency_key="ik", scope="s"),
]


def test_every_message_class_has_a_representative() -> None:
    assert {type(x) for x in REPRESENTATIVE} == set(ALL_CLASSES)


@pytest.mark.parametrize("msg", REPRESENTATIVE, ids=lambda x: type(x).__name__)
def test_round_trip(msg: Any) -> None:
    assert decode_message(type(msg), encode_message(msg)) == msg


# ---- exact bytes ----------------------------------------------------------------------------------

PINNED: list[tuple[Vector, Any]] = [
    (
        START_FRESH,
        m.StartMessage(
            id=INVOCATION_ID, debug_id=DEBUG_ID, known_entries=1, partial_state=True, random_seed=42
        ),
    ),
    (INPUT_HI, m.InputCommandMessage(value=b'"hi"')),
    (SET_STATE_COUNT, m.SetStateCommandMessage(key=b"count", value=b'{"n": 1234}')),
    (OUTPUT_OK, m.OutputCommandMessage(value=b'"ok"')),
    (OUTPUT_FAILURE_V6, m.OutputCommandMessage(failure=FAILURE)),
    (GET_EAGER_STATE_EMPTY, m.GetEagerStateCommandMessage(key=b"k", value=b"")),
    (GET_EAGER_STATE_VOID, m.GetEagerStateCommandMessage(key=b"k", void=True)),
    (GET_LAZY_STATE, m.GetLazyStateCommandMessage(key=b"k", result_completion_id=1)),
    (SLEEP_1000_CID_2, m.SleepCommandMessage(wake_up_time=1000, result_completion_id=2)),
    (ERROR_MESSAGE, m.ErrorMessage(code=500, message="boom", related_command_index=1, next_retry_delay=1000)),
    (PROPOSE_RUN_X, m.ProposeRunCompletionMessage(result_completion_id=1, value=b"x")),
    (
        CALL_GREETER,
        m.CallCommandMessage(
            service_name="Greeter",
            handler_name="greet",
            parameter=b'"bob"',
            key="k",
            invocation_id_notification_idx=1,
            result_completion_id=2,
        ),
    ),
    (
        ONE_WAY_CALL_GREETER,
        m.OneWayCallCommandMessage(
            service_name="Greeter",
            handler_name="greet",
            invoke_time=5000,
            idempotency_key="ik",
            invocation_id_notification_idx=1,
        ),
    ),
    (SEND_SIGNAL_CANCEL, m.SendSignalCommandMessage(target_invocation_id="inv_1x", idx=1, void=True)),
    (RUN_PAY, m.RunCommandMessage(result_completion_id=1, name="pay")),
    (COMPLETE_AWAKEABLE_V, m.CompleteAwakeableCommandMessage(awakeable_id="sign_1abc", value=b"v")),
    (SUSPENSION_ON_2, m.SuspensionMessage(waiting_completions=[2], waiting_signals=[1])),
    (
        SUSPENSION_MIXED,
        m.SuspensionMessage(
            waiting_completions=[2, 3], waiting_signals=[1, 17], waiting_named_signals=["go"]
        ),
    ),
    (SLEEP_COMPLETION_1, m.NotificationMessage(completion_id=1, void=True)),
    (CALL_INVOCATION_ID_2, m.NotificationMessage(completion_id=2, invocation_id="inv_1x")),
    (CALL_COMPLETION_3, m.NotificationMessage(completion_id=3, value=b'"r"')),
    (CANCEL_SIGNAL, m.NotificationMessage(signal_id=1, void=True)),
    # V7
    (V7_PROPOSE_RUN_OK_ACK, m.ProposeRunCompletionMessage(result_completion_id=1, value=b"ok")),
    (V7_RUN_ACK_1, m.ProposeRunCompletionAckMessage(completion_id=1)),
    (
        V7_AWAITING_ON_1,
        m.AwaitingOnMessage(
            awaiting_on=m.Future(waiting_completions=[1], waiting_signals=[1], combinator_type=1)
        ),
    ),
    (
        V7_SUSPENSION_WAIT_FIRST,
        m.SuspensionMessage(
            awaiting_on=m.Future(
                waiting_signals=[1],
                nested_futures=[m.Future(waiting_completions=[2, 3], combinator_type=1)],
                combinator_type=1,
            )
        ),
    ),
    (
        V7_SUSPENSION_ON_2,
        m.SuspensionMessage(
            awaiting_on=m.Future(waiting_completions=[2], waiting_signals=[1], combinator_type=1)
        ),
    ),
    (V7_ERROR_PAUSE, m.ErrorMessage(code=500, message="x", behavior=m.ErrorBehavior.PAUSE)),
    (V7_ERROR_FAIL, m.ErrorMessage(code=500, message="x", behavior=m.ErrorBehavior.FAIL)),
    (
        V7_START_SCOPED,
        m.StartMessage(
            id=INVOCATION_ID,
            debug_id=DEBUG_ID,
            known_entries=1,
            partial_state=True,
            random_seed=42,
            scope="checkout",
            limit_key="tenant1",
            idempotency_key="k1",
        ),
    ),
    (
        V7_CALL_GREETER_SCOPED,
        m.CallCommandMessage(
            service_name="Greeter",
            handler_name="greet",
            parameter=b'"bob"',
            key="k",
            scope="s1",
            limit_key="t/u",
            invocation_id_notification_idx=1,
            result_completion_id=2,
        ),
    ),
    (
        V7_ONE_WAY_CALL_GREETER_SCOPED,
        m.OneWayCallCommandMessage(
            service_name="Greeter",
            handler_name="greet",
            invoke_time=5000,
            idempotency_key="ik",
            scope="s1",
            limit_key="t",
            invocation_id_notification_idx=1,
        ),
    ),
    (
        V7_ATTACH_WORKFLOW_SCOPED,
        m.AttachInvocationCommandMessage(
            workflow_target=m.WorkflowTarget("W", "id", scope="s"), result_completion_id=1
        ),
    ),
    (
        V7_GET_OUTPUT_IDEMPOTENT_SCOPED,
        m.GetInvocationOutputCommandMessage(
            idempotent_request_target=m.IdempotentRequestTarget(
                service_name="S", handler_name="h", idempotency_key="ik", scope="s"
            ),
            result_completion_id=2,
        ),
    ),
]


@pytest.mark.parametrize(("vector", "msg"), PINNED, ids=lambda x: type(x).__name__)
def test_encode_matches_vector_payload(vector: Vector, msg: Any) -> None:
    assert encode_message(msg) == vector.data[8:]
    assert int.from_bytes(vector.data[6:8], "big") == len(vector.data) - 8


@pytest.mark.parametrize(("vector", "msg"), PINNED, ids=lambda x: type(x).__name__)
def test_decode_vector_payload(vector: Vector, msg: Any) -> None:
    type_id = int.from_bytes(vector.data[:2], "big")
    assert MESSAGES[type_id] is type(msg)
    assert decode_message(MESSAGES[type_id], vector.data[8:]) == msg


# ---- proto3 defaults ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_defaults_are_omitted(cls: type[Any]) -> None:
    assert encode_message(cls()) == b""
    assert decode_message(cls, b"") == cls()


def test_zero_scalars_and_empty_strings_are_omitted() -> None:
    msg = m.StartMessage(id=b"", debug_id="", known_entries=0, partial_state=False, random_seed=0)
    assert encode_message(msg) == b""
    assert encode_message(m.InputCommandMessage(headers=[], name="")) == b""
    assert encode_message(m.SuspensionMessage(waiting_completions=[], waiting_named_signals=[])) == b""


@pytest.mark.parametrize(
    ("msg", "hex_payload"),
    [
        # proto3 ``optional`` / oneof arms are sent even when they hold the zero value
        (m.NotificationMessage(completion_id=0), "08 00"),
        (m.SendSignalCommandMessage(idx=0), "10 00"),
        (m.SendSignalCommandMessage(signal_name=""), "1a 00"),
        (m.ErrorMessage(related_command_index=0, next_retry_delay=0), "20 00 40 00"),
        (m.IdempotentRequestTarget(service_key=""), "12 00"),
        (m.CallCommandMessage(idempotency_key=""), "32 00"),
        (m.AttachInvocationCommandMessage(invocation_id=""), "0a 00"),
        (m.ProposeRunCompletionMessage(value=b""), "72 00"),
        # Value{} (present, empty) vs absent; Void is present-or-absent
        (m.OutputCommandMessage(value=b""), "72 00"),
        (m.OutputCommandMessage(value=None), ""),
        (m.GetEagerStateCommandMessage(void=True), "6a 00"),
        (m.GetEagerStateCommandMessage(void=None), ""),
        # a nested message is sent even when empty (its presence is the information)
        (m.GetEagerStateKeysCommandMessage(value=m.StateKeys()), "72 00"),
        (m.OutputCommandMessage(failure=m.Failure()), "7a 00"),
        # repeated strings/bytes/messages: one field per element, empty elements included
        (m.StateKeys(keys=[b"", b"a"]), "0a 00 0a 01 61"),
        (m.SuspensionMessage(waiting_named_signals=["", "b"]), "1a 00 1a 01 62"),
        (m.InputCommandMessage(headers=[m.Header()]), "0a 00"),
    ],
)
def test_presence_encoding(msg: Any, hex_payload: str) -> None:
    assert encode_message(msg) == bytes.fromhex(hex_payload)
    assert decode_message(type(msg), bytes.fromhex(hex_payload)) == msg


def test_void_false_is_not_sent() -> None:
    assert encode_message(m.GetEagerStateCommandMessage(key=b"k", void=False)) == bytes.fromhex("0a 01 6b")


# ---- repeated uint32: packed and unpacked -----------------------------------------------------------


def test_packed_repeated_uint32() -> None:
    msg = decode_message(m.SuspensionMessage, SUSPENSION_PACKED_PAYLOAD.data)
    assert msg.waiting_completions == [2, 3]


def test_unpacked_repeated_uint32() -> None:
    msg = decode_message(m.SuspensionMessage, SUSPENSION_UNPACKED_PAYLOAD.data)
    assert msg.waiting_completions == [2, 3]


def test_packed_and_unpacked_mixed_keep_wire_order() -> None:
    payload = bytes.fromhex("08 05 0a 02 02 03 08 01 12 01 11")
    msg = decode_message(m.SuspensionMessage, payload)
    assert msg.waiting_completions == [5, 2, 3, 1]
    assert msg.waiting_signals == [17]


def test_packed_multibyte_varints() -> None:
    payload = bytes.fromhex("0a 07 ac 02 ff ff ff ff 0f")  # [300, 2**32 - 1]
    assert decode_message(m.SuspensionMessage, payload).waiting_completions == [300, U32]
    assert encode_message(m.SuspensionMessage(waiting_completions=[300, U32])) == payload


# ---- unknown fields ---------------------------------------------------------------------------------

UNKNOWN_FIELDS = {
    "varint": "98 06 96 01",  # field 99, wire type 0
    "fixed64": "99 06 01 02 03 04 05 06 07 08",  # field 99, wire type 1
    "length-delimited": "9a 06 02 aa bb",  # field 99, wire type 2
    "fixed32": "9d 06 01 02 03 04",  # field 99, wire type 5
}


@pytest.mark.parametrize("unknown", UNKNOWN_FIELDS.values(), ids=list(UNKNOWN_FIELDS))
def test_unknown_fields_are_skipped(unknown: str) -> None:
    extra = bytes.fromhex(unknown)
    body = SET_STATE_COUNT.data[8:]
    expected = m.SetStateCommandMessage(key=b"count", value=b'{"n": 1234}')
    assert decode_message(m.SetStateCommandMessage, extra + body) == expected
    assert decode_message(m.SetStateCommandMessage, body + extra) == expected
    notification = SLEEP_COMPLETION_1.data[8:]
    assert decode_message(m.NotificationMessage, notification + extra) == m.NotificationMessage(1, void=True)


def test_reserved_notification_field_12_is_skipped() -> None:
    payload = SLEEP_COMPLETION_1.data[8:] + bytes.fromhex("62 01 00")  # §5.5: field 12 reserved
    assert decode_message(m.NotificationMessage, payload) == m.NotificationMessage(1, void=True)


def test_unknown_fields_inside_nested_messages_and_values_are_skipped() -> None:
    # Output{failure{1: 409, 99: varint}}; Input{value: Value{2: "zz", 1: "ab"}}
    assert decode_message(m.OutputCommandMessage, bytes.fromhex("7a 06 08 99 03 98 06 01")) == (
        m.OutputCommandMessage(failure=m.Failure(code=409))
    )
    assert decode_message(m.InputCommandMessage, bytes.fromhex("72 08 12 02 7a 7a 0a 02 61 62")) == (
        m.InputCommandMessage(value=b"ab")
    )


def test_a_later_singular_field_wins() -> None:
    payload = bytes.fromhex("0a 01 61 0a 01 62")  # key "a" then key "b"
    assert decode_message(m.ClearStateCommandMessage, payload) == m.ClearStateCommandMessage(key=b"b")


# ---- varints ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hex_bytes"),
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "80 01"),
        (300, "ac 02"),
        (U32, "ff ff ff ff 0f"),
        (U64, "ff ff ff ff ff ff ff ff ff 01"),
    ],
)
def test_varint(value: int, hex_bytes: str) -> None:
    data = bytes.fromhex(hex_bytes)
    assert encode_varint(value) == data
    assert read_varint(data + b"\x55", 0) == (value, len(data))


@pytest.mark.parametrize("value", [-1, U64 + 1])
def test_varint_out_of_range_is_a_local_error(value: int) -> None:
    with pytest.raises(ValueError, match=rf"varint out of range: {value}"):
        encode_varint(value)


def test_decode_fields_wire_types() -> None:
    payload = bytes.fromhex("08 96 01 11 01 00 00 00 00 00 00 80 1a 02 68 69 25 ff ff ff ff")
    assert decode_fields(payload) == [
        (1, 0, 150),
        (2, 1, 0x8000_0000_0000_0001),
        (3, 2, b"hi"),
        (4, 5, 0xFFFF_FFFF),
    ]


# ---- malformed payloads: always ProtocolViolation -------------------------------------------------

MALFORMED: list[tuple[str, type[Any], str, str]] = [
    ("truncated tag", m.StartMessage, "80", "truncated varint"),
    ("truncated varint value", m.StartMessage, "18", "truncated varint"),
    ("11-byte varint", m.StartMessage, "18 80 80 80 80 80 80 80 80 80 80 01", "varint longer than 10 bytes"),
    ("varint over 64 bits", m.StartMessage, "18 ff ff ff ff ff ff ff ff ff 02", "varint larger than 64 bits"),
    ("field number 0", m.StartMessage, "00 01", "field number 0"),
    ("length past the end", m.StartMessage, "0a 05 61", "field 1 claims 5 bytes, 1 left"),
    ("truncated fixed64", m.StartMessage, "09 00 00", "truncated fixed64"),
    ("truncated fixed32", m.StartMessage, "0d 00", "truncated fixed32"),
    ("start group", m.StartMessage, "0b", "unsupported wire type 3 for field 1"),
    ("end group", m.StartMessage, "0c", "unsupported wire type 4 for field 1"),
    ("wire type 6", m.StartMessage, "0e", "unsupported wire type 6 for field 1"),
    ("wire type 7", m.NotificationMessage, "0f", "unsupported wire type 7 for field 1"),
    ("string not UTF-8", m.StartMessage, "12 02 c3 28", "StartMessage.debug_id: invalid UTF-8"),
    ("surrogate in UTF-8", m.StartMessage, "32 03 ed a0 80", "StartMessage.key: invalid UTF-8"),
    (
        "repeated string not UTF-8",
        m.SuspensionMessage,
        "1a 01 ff",
        "SuspensionMessage.waiting_named_signals: invalid UTF-8",
    ),
    ("nested string not UTF-8", m.OutputCommandMessage, "7a 03 12 01 ff", "Failure.message: invalid UTF-8"),
    ("varint field as bytes", m.StartMessage, "1a 01 01", "StartMessage.known_entries: expected a varint"),
    ("bool as fixed32", m.StartMessage, "2d 01 00 00 00", "StartMessage.partial_state: expected a varint"),
    ("string as varint", m.StartMessage, "10 01", "StartMessage.debug_id: expected a length-delimited field"),
    (
        "message as varint",
        m.OutputCommandMessage,
        "78 01",
        "OutputCommandMessage.failure: expected a length-delimited",
    ),
    (
        "Value as fixed64",
        m.InputCommandMessage,
        "71 00 00 00 00 00 00 00 00",
        "InputCommandMessage.value: expected a length",
    ),
    (
        "repeated uint32 as fixed32",
        m.SuspensionMessage,
        "0d 00 00 00 00",
        "waiting_completions: bad wire type 5",
    ),
    ("bad packed varint", m.SuspensionMessage, "0a 01 80", "truncated varint"),
    ("bad nested message", m.OutputCommandMessage, "7a 01 08", "truncated varint"),
    ("bad Value wrapper", m.InputCommandMessage, "72 02 0a 05", "field 1 claims 5 bytes, 0 left"),
    ("bad repeated message", m.StartMessage, "22 02 0a 09", "field 1 claims 9 bytes, 0 left"),
    ("bad notification state keys", m.NotificationMessage, "8a 01 01 0b", "unsupported wire type 3"),
]


@pytest.mark.parametrize(
    ("cls", "hex_payload", "message"), [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED]
)
def test_malformed_payload_is_a_protocol_violation(cls: type[Any], hex_payload: str, message: str) -> None:
    with pytest.raises(ProtocolViolation, match=message) as info:
        decode_message(cls, bytes.fromhex(hex_payload))
    assert info.value.code == 571
