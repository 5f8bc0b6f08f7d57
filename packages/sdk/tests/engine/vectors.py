"""Named byte vectors, written out by hand from reference/protocol.md.

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

ALL_VECTORS: dict[str, Vector] = {
    name: value for name, value in dict(globals()).items() if isinstance(value, Vector)
}
