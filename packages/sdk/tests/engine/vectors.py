"""Named byte vectors, written out by hand from reference/protocol.md (V7: reference/protocol-v7.md).

Every vector is spaced hex and names the rule it checks (``rule``). They are computed from the protocol
text, not from the SDK's encoder, so the codec tests compare the engine against the spec.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ALL_VECTORS",
    "AWAKEABLE_ID_17",
    "AWAKEABLE_ID_18",
    "CALL_COMPLETION_3",
    "CALL_GREETER",
    "CALL_INVOCATION_ID_2",
    "CANCEL_SIGNAL",
    "COMPLETE_AWAKEABLE_V",
    "DEBUG_ID",
    "END_HEADER",
    "END_MESSAGE",
    "ERROR_500_X",
    "ERROR_MESSAGE",
    "GET_EAGER_STATE_EMPTY",
    "GET_EAGER_STATE_VOID",
    "GET_LAZY_STATE",
    "INPUT_HI",
    "INVOCATION_ID",
    "ONE_WAY_CALL_GREETER",
    "OUTPUT_FAILURE_V5",
    "OUTPUT_FAILURE_V6",
    "OUTPUT_OK",
    "PROPOSE_RUN_ACK_HEADER_42",
    "PROPOSE_RUN_X",
    "RUN_PAY",
    "SEND_SIGNAL_CANCEL",
    "SET_STATE_COUNT",
    "SET_STATE_HEADER_22",
    "SLEEP_1000_CID_2",
    "SLEEP_COMPLETION_1",
    "START_FRESH",
    "SUSPENSION_MIXED",
    "SUSPENSION_ON_2",
    "SUSPENSION_PACKED_PAYLOAD",
    "SUSPENSION_UNPACKED_PAYLOAD",
    "V5_SEED",
    "V7_ATTACH_WORKFLOW_SCOPED",
    "V7_AWAITING_ON_1",
    "V7_CALL_GREETER_SCOPED",
    "V7_ERROR_FAIL",
    "V7_ERROR_PAUSE",
    "V7_FUTURE_ALL_COMPLETED_UNKNOWN",
    "V7_FUTURE_AWAKEABLE_17",
    "V7_FUTURE_NAMED_GO",
    "V7_FUTURE_PROTO_EXAMPLE",
    "V7_FUTURE_RACE_17_18",
    "V7_GET_OUTPUT_IDEMPOTENT_SCOPED",
    "V7_ONE_WAY_CALL_GREETER_SCOPED",
    "V7_PROPOSE_RUN_OK_ACK",
    "V7_RUN_ACK_1",
    "V7_START_SCOPED",
    "V7_SUSPENSION_ON_2",
    "V7_SUSPENSION_WAIT_FIRST",
    "Vector",
]


class Vector(NamedTuple):
    hex: str  # spaced hex, two digits per byte
    rule: str  # the protocol.md section the bytes follow from

    @property
    def data(self) -> bytes:
        return bytes.fromhex(self.hex)


# 24-byte raw invocation id (§6.7): partition key u64 BE 7 ‖ UUID u128 BE 0011..eeff.
INVOCATION_ID = bytes.fromhex("00 00 00 00 00 00 00 07 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff")
DEBUG_ID = "inv_1test"

# ---- headers (§4 "Worked header values") --------------------------------------------------

END_HEADER = Vector("00 03 00 00 00 00 00 00", "§4 worked header: EndMessage, empty payload")
SET_STATE_HEADER_22 = Vector("04 03 00 00 00 00 00 16", "§4 worked header: SetStateCommand, 22-byte payload")
PROPOSE_RUN_ACK_HEADER_42 = Vector(
    "00 05 80 00 00 00 00 2a", "§4 worked header: ProposeRunCompletion, 42 bytes, bit 47 requested-ack"
)

# ---- whole frames: header + proto3 payload ------------------------------------------------

END_MESSAGE = Vector("00 03 00 00 00 00 00 00", "§4 absent payload is a valid empty message; §6.5 End")

START_FRESH = Vector(
    "00 00 00 00 00 00 00 2b"  # StartMessage 0x0000, 43 bytes
    " 0a 18 00 00 00 00 00 00 00 07 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff"  # 1 id
    " 12 09 69 6e 76 5f 31 74 65 73 74"  # 2 debug_id "inv_1test"
    " 18 01"  # 3 known_entries 1
    " 28 01"  # 5 partial_state true
    " 48 2a",  # 9 random_seed 42
    "§5.2 StartMessage fields 1,2,3,5,9",
)

INPUT_HI = Vector(
    "04 00 00 00 00 00 00 08 72 06 0a 04 22 68 69 22",  # 14 value: Value{1 content '"hi"'}
    "§5.1 InputCommand 0x0400; §5.4 Value wraps content in field 1",
)

SET_STATE_COUNT = Vector(
    "04 03 00 00 00 00 00 16"
    " 0a 05 63 6f 75 6e 74"  # 1 key "count"
    " 1a 0d 0a 0b 7b 22 6e 22 3a 20 31 32 33 34 7d",  # 3 value Value{'{"n": 1234}'}
    "§4 worked header 0x0403..0016 with its 22-byte SetStateCommand payload",
)

OUTPUT_OK = Vector(
    "04 01 00 00 00 00 00 08 72 06 0a 04 22 6f 6b 22",  # 14 value Value{'"ok"'}
    "§5.1 OutputCommand 0x0401; §6.5 success = OutputCommand{value} then End",
)

OUTPUT_FAILURE_V6 = Vector(
    "04 01 00 00 00 00 00 18"
    " 7a 16"  # 15 failure, 22 bytes
    " 08 99 03"  # 1 code 409
    " 12 09 63 61 6e 63 65 6c 6c 65 64"  # 2 message "cancelled"
    " 1a 06 0a 01 6b 12 01 76",  # 3 metadata [{k: v}]
    "§5.4 Failure.metadata (field 3) exists from V6",
)

OUTPUT_FAILURE_V5 = Vector(
    "04 01 00 00 00 00 00 10 7a 0e 08 99 03 12 09 63 61 6e 63 65 6c 6c 65 64",
    "§5.4 Failure has no metadata on V5 (C refuses to send it)",
)

GET_EAGER_STATE_EMPTY = Vector(
    "04 07 00 00 00 00 00 05 0a 01 6b 72 00",  # 1 key "k", 14 value Value{} (present, empty)
    "§5.2/§7 an empty value is a present value",
)

GET_EAGER_STATE_VOID = Vector(
    "04 07 00 00 00 00 00 05 0a 01 6b 6a 00",  # 1 key "k", 13 void
    "§7 key absent and map complete -> GetEagerStateCommand{key, void}",
)

GET_LAZY_STATE = Vector(
    "04 02 00 00 00 00 00 05 0a 01 6b 58 01",  # 1 key "k", 11 result_completion_id 1
    "§7 key absent and map partial -> GetLazyStateCommand{key, result_completion_id}",
)

SLEEP_1000_CID_2 = Vector(
    "04 0c 00 00 00 00 00 05 08 e8 07 58 02",  # 1 wake_up_time 1000, 11 result_completion_id 2
    "§5.1 SleepCommand 0x040C",
)

CALL_GREETER = Vector(
    "04 0d 00 00 00 00 00 1e"
    " 0a 07 47 72 65 65 74 65 72"  # 1 service_name "Greeter"
    " 12 05 67 72 65 65 74"  # 2 handler_name "greet"
    " 1a 05 22 62 6f 62 22"  # 3 parameter '"bob"'
    " 2a 01 6b"  # 5 key "k"
    " 50 01"  # 10 invocation_id_notification_idx 1
    " 58 02",  # 11 result_completion_id 2
    "§5.6 a Call takes two completion ids: invocation id first, then result",
)

ONE_WAY_CALL_GREETER = Vector(
    "04 0e 00 00 00 00 00 19"
    " 0a 07 47 72 65 65 74 65 72"  # 1 service_name "Greeter"
    " 12 05 67 72 65 65 74"  # 2 handler_name "greet"
    " 20 88 27"  # 4 invoke_time 5000
    " 3a 02 69 6b"  # 7 idempotency_key "ik"
    " 50 01",  # 10 invocation_id_notification_idx 1
    "§5.1 OneWayCallCommand 0x040E; §5.6 it takes one completion id",
)

SEND_SIGNAL_CANCEL = Vector(
    "04 10 00 00 00 00 00 0c 0a 06 69 6e 76 5f 31 78 10 01 22 00",  # 1 "inv_1x", 2 idx 1, 4 void
    "§6.6 cancel another invocation = SendSignalCommand{idx: 1, void}; id 0x0410 (§5.1 note)",
)

RUN_PAY = Vector(
    "04 11 00 00 00 00 00 07 58 01 62 03 70 61 79",  # 11 result_completion_id 1, 12 name "pay"
    "§6.4 RunCommand{result_completion_id, name}",
)

COMPLETE_AWAKEABLE_V = Vector(
    "04 14 00 00 00 00 00 10"
    " 0a 09 73 69 67 6e 5f 31 61 62 63"  # 1 awakeable_id "sign_1abc"
    " 12 03 0a 01 76",  # 2 value Value{'v'}
    "§5.3 CompleteAwakeableCommand 0x0414",
)

ERROR_MESSAGE = Vector(
    "00 02 00 00 00 00 00 0e"
    " 08 f4 03"  # 1 code 500
    " 12 04 62 6f 6f 6d"  # 2 message "boom"
    " 20 01"  # 4 related_command_index 1
    " 40 e8 07",  # 8 next_retry_delay 1000
    "§6.5 retryable failure = ErrorMessage with next_retry_delay",
)

PROPOSE_RUN_X = Vector(
    "00 05 00 00 00 00 00 05 08 01 72 01 78",  # 1 result_completion_id 1, 14 value raw 'x'
    "§6.4 ProposeRunCompletion, no ack flag on V6 (§4 flag semantics)",
)

SUSPENSION_ON_2 = Vector(
    "00 01 00 00 00 00 00 06 0a 01 02 12 01 01",  # 1 completions [2], 2 signals [1] (packed)
    "§6.3 suspension lists the awaited completion plus CANCEL signal 1",
)

SUSPENSION_MIXED = Vector(
    "00 01 00 00 00 00 00 0c"
    " 0a 02 02 03"  # 1 waiting_completions [2, 3]
    " 12 02 01 11"  # 2 waiting_signals [1, 17]
    " 1a 02 67 6f",  # 3 waiting_named_signals ["go"]
    "§5.2 SuspensionMessage V5/V6 flat lists",
)

SUSPENSION_PACKED_PAYLOAD = Vector("0a 02 02 03", "§5.2 repeated uint32, packed (proto3 default)")
SUSPENSION_UNPACKED_PAYLOAD = Vector("08 02 08 03", "§5.2 repeated uint32, unpacked (parsers must accept)")

SLEEP_COMPLETION_1 = Vector(
    "80 0c 00 00 00 00 00 04 08 01 22 00",  # 1 completion_id 1, 4 void
    "§5.5 notification template: completion_id + void",
)

CALL_INVOCATION_ID_2 = Vector(
    "80 0e 00 00 00 00 00 0b 08 02 82 01 06 69 6e 76 5f 31 78",  # 1 completion_id 2, 16 "inv_1x"
    "§5.5 notification template: invocation_id is field 16",
)

CALL_COMPLETION_3 = Vector(
    "80 0d 00 00 00 00 00 09 08 03 2a 05 0a 03 22 72 22",  # 1 completion_id 3, 5 value '"r"'
    "§5.5 notification template: value is field 5",
)

CANCEL_SIGNAL = Vector(
    "fb ff 00 00 00 00 00 04 10 01 22 00",  # 2 signal idx 1, 4 void
    "§6.6 cancellation = SignalNotification{idx: 1, void}",
)

# ---- identifiers and seeds ----------------------------------------------------------------

# §6.7: "sign_1" + base64url-nopad(raw invocation id ‖ u32 BE signal index); user signals start at 17 (§5.6).
AWAKEABLE_ID_17 = "sign_1AAAAAAAAAAcAESIzRFVmd4iZqrvM3e7_AAAAEQ"
AWAKEABLE_ID_18 = "sign_1AAAAAAAAAAcAESIzRFVmd4iZqrvM3e7_AAAAEg"

# §6.8: V5 seed = first 8 bytes, big-endian, of SHA-256(StartMessage.id).
V5_SEED = Vector("4d 4d 56 aa 4e e5 13 47", "§6.8 V5 random seed = sha256(id)[:8] as a BE u64")

# ---- V7 (reference/protocol-v7.md; rules cite its sections as "v7 §n") ----------------------

V7_PROPOSE_RUN_OK_ACK = Vector(
    "00 05 80 00 00 00 00 06 08 01 72 02 6f 6b",  # bit 47 set; 1 result_completion_id 1, 14 value 'ok'
    "v7 §3 worked frame: ProposeRunCompletion with the requested-ack bit",
)

V7_RUN_ACK_1 = Vector(
    "00 07 00 00 00 00 00 02 08 01",  # 1 completion_id 1
    "v7 §3/§7.1 worked frame: ProposeRunCompletionAck 0x0007",
)

V7_AWAITING_ON_1 = Vector(
    "00 06 00 00 00 00 00 0a"
    " 0a 08"  # 1 awaiting_on, 8 bytes
    " 0a 01 01 12 01 01 28 01",  # Future{completions [1], signals [1], FIRST_COMPLETED}
    "v7 §6 example: AwaitingOnMessage on completion 1 with the cancel wrapper",
)

V7_SUSPENSION_WAIT_FIRST = Vector(
    "00 01 00 00 00 00 00 0f"
    " 22 0d"  # 4 awaiting_on, 13 bytes
    " 12 01 01"  # signals [1] (cancel)
    " 22 06 0a 02 02 03 28 01"  # nested [{completions [2, 3], FIRST_COMPLETED}]
    " 28 01",  # FIRST_COMPLETED
    "v7 §5.2 example: wait_first(call result 2, sleep 3) with the cancel wrapper",
)

V7_SUSPENSION_ON_2 = Vector(
    "00 01 00 00 00 00 00 0a 22 08 0a 01 02 12 01 01 28 01",  # awaiting_on{completions [2], signals [1], FC}
    "v7 §4.3: a single completion becomes {FIRST_COMPLETED, completions [c], signals [1]}",
)

# Future payloads (no frame) for the shapes of v7 §4.3's table and §4.2's proto example.
V7_FUTURE_AWAKEABLE_17 = Vector("12 02 11 01 28 01", "v7 §4.3: one awakeable -> {FC, signals [17, 1]}")
V7_FUTURE_RACE_17_18 = Vector(
    "12 01 01 22 06 12 02 11 12 28 01 28 01",
    "v7 §4.3: race of awakeables 17, 18 -> {FC, signals [1], nested [{FC, signals [17, 18]}]}",
)
V7_FUTURE_ALL_COMPLETED_UNKNOWN = Vector(
    "0a 01 01 22 03 12 01 11 28 02",
    "v7 §4.3: all_completed(c1, unknown(signal 17)), no cancel -> {ALL_COMPLETED, [1], nested [{UNKNOWN, [17]}]}",
)
V7_FUTURE_PROTO_EXAMPLE = Vector(
    "0a 01 03 22 06 12 02 01 02 28 01 28 04",
    "v7 §4.2 proto example: Promise.all([completion 3, Promise.race([signal 1, signal 2])])",
)
V7_FUTURE_NAMED_GO = Vector(
    "12 01 01 1a 02 67 6f 28 01", "v7 §4.1: a named signal is a string leaf (field 3); {FC, ['go'], [1]}"
)

V7_ERROR_PAUSE = Vector(
    "00 02 00 00 00 00 00 08 08 f4 03 12 01 78 48 01",  # 1 code 500, 2 message 'x', 9 behavior PAUSE
    "v7 §8.1 example: ErrorMessage{500, 'x', behavior PAUSE}",
)
V7_ERROR_FAIL = Vector(
    "00 02 00 00 00 00 00 08 08 f4 03 12 01 78 48 02", "v7 §8.1: behavior FAIL = 2 (field 9, tag 0x48)"
)
ERROR_500_X = Vector(
    "00 02 00 00 00 00 00 06 08 f4 03 12 01 78", "v7 §8.1: RETRY = 0 is the default and not encoded"
)

V7_START_SCOPED = Vector(
    "00 00 00 00 00 00 00 42"  # StartMessage, 66 bytes
    " 0a 18 00 00 00 00 00 00 00 07 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff"  # 1 id
    " 12 09 69 6e 76 5f 31 74 65 73 74"  # 2 debug_id "inv_1test"
    " 18 01"  # 3 known_entries 1
    " 28 01"  # 5 partial_state true
    " 48 2a"  # 9 random_seed 42
    " 52 08 63 68 65 63 6b 6f 75 74"  # 10 scope "checkout"
    " 5a 07 74 65 6e 61 6e 74 31"  # 11 limit_key "tenant1"
    " 62 02 6b 31",  # 12 idempotency_key "k1"
    "v7 §9.1/§9.5 example tail: StartMessage fields 10-12",
)

V7_CALL_GREETER_SCOPED = Vector(
    "04 0d 00 00 00 00 00 27"
    " 0a 07 47 72 65 65 74 65 72"  # 1 service_name "Greeter"
    " 12 05 67 72 65 65 74"  # 2 handler_name "greet"
    " 1a 05 22 62 6f 62 22"  # 3 parameter '"bob"'
    " 2a 01 6b"  # 5 key "k"
    " 3a 02 73 31"  # 7 scope "s1"
    " 42 03 74 2f 75"  # 8 limit_key "t/u"
    " 50 01"  # 10 invocation_id_notification_idx 1
    " 58 02",  # 11 result_completion_id 2
    "v7 §9.1: CallCommand scope (7, tag 0x3A) and limit_key (8, tag 0x42)",
)

V7_ONE_WAY_CALL_GREETER_SCOPED = Vector(
    "04 0e 00 00 00 00 00 20"
    " 0a 07 47 72 65 65 74 65 72"  # 1 service_name "Greeter"
    " 12 05 67 72 65 65 74"  # 2 handler_name "greet"
    " 20 88 27"  # 4 invoke_time 5000
    " 3a 02 69 6b"  # 7 idempotency_key "ik"
    " 42 02 73 31"  # 8 scope "s1"
    " 4a 01 74"  # 9 limit_key "t"
    " 50 01",  # 10 invocation_id_notification_idx 1
    "v7 §9.1: OneWayCallCommand scope (8, tag 0x42) and limit_key (9, tag 0x4A)",
)

V7_ATTACH_WORKFLOW_SCOPED = Vector(
    "04 12 00 00 00 00 00 0e"
    " 22 0a 0a 01 57 12 02 69 64 1a 01 73"  # 4 workflow_target{1 "W", 2 "id", 3 scope "s"}
    " 58 01",  # 11 result_completion_id 1
    "v7 §9.1: WorkflowTarget.scope (3, tag 0x1A)",
)

V7_GET_OUTPUT_IDEMPOTENT_SCOPED = Vector(
    "04 13 00 00 00 00 00 11"
    " 1a 0d 0a 01 53 1a 01 68 22 02 69 6b 2a 01 73"  # 3 target{1 "S", 3 "h", 4 "ik", 5 scope "s"}
    " 58 02",  # 11 result_completion_id 2
    "v7 §9.1: IdempotentRequestTarget.scope (5, tag 0x2A)",
)

ALL_VECTORS: dict[str, Vector] = {
    name: value for name, value in dict(globals()).items() if isinstance(value, Vector)
}
