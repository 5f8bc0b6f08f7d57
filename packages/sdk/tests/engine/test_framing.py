"""The 8-byte header and FrameBuffer (protocol.md §4)."""

from __future__ import annotations

import re

import pytest
from restate_sdk._engine.errors import ProtocolViolation
from restate_sdk._engine.framing import (
    DEFAULT_MAX_MESSAGE_SIZE,
    Frame,
    FrameBuffer,
    decode_header,
    encode_header,
)
from restate_sdk._engine.messages import MessageType as T

from .factory import MessageFactory, chunks
from .vectors import (
    ALL_VECTORS,
    END_HEADER,
    INPUT_HI,
    PROPOSE_RUN_ACK_HEADER_42,
    SET_STATE_COUNT,
    SET_STATE_HEADER_22,
    SLEEP_COMPLETION_1,
    START_FRESH,
)

f = MessageFactory()


def frames_of(buffer: FrameBuffer) -> list[Frame]:
    out: list[Frame] = []
    while (frame := buffer.next_frame()) is not None:
        out.append(frame)
    return out


# ---- the vectors themselves -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL_VECTORS))
def test_vectors_are_spaced_hex_and_cite_a_rule(name: str) -> None:
    vector = ALL_VECTORS[name]
    assert re.fullmatch(r"[0-9a-f]{2}( [0-9a-f]{2})*", vector.hex), vector.hex
    assert "§" in vector.rule


# ---- header ---------------------------------------------------------------------------------------


def test_end_header() -> None:
    assert encode_header(T.END, 0) == END_HEADER.data


def test_set_state_header() -> None:
    assert encode_header(T.SET_STATE_COMMAND, length=22) == SET_STATE_HEADER_22.data


def test_ack_flag_is_bit_47() -> None:
    assert encode_header(T.PROPOSE_RUN_COMPLETION, 42, ack=True) == PROPOSE_RUN_ACK_HEADER_42.data


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        (END_HEADER.hex, (0x0003, False, 0)),
        (SET_STATE_HEADER_22.hex, (0x0403, False, 22)),
        (PROPOSE_RUN_ACK_HEADER_42.hex, (0x0005, True, 42)),
        ("fb ff 00 00 ff ff ff ff", (0xFBFF, False, 0xFFFF_FFFF)),  # type = h >> 48, len = h & 0xFFFF_FFFF
    ],
)
def test_decode_header(vector: str, expected: tuple[int, bool, int]) -> None:
    assert decode_header(bytes.fromhex(vector)) == expected


def test_header_length_must_fit_u32() -> None:
    assert encode_header(T.END, 0xFFFF_FFFF) == bytes.fromhex("00 03 00 00 ff ff ff ff")
    with pytest.raises(ValueError, match=r"does not fit the 32-bit length field"):
        encode_header(T.END, 0x1_0000_0000)


# ---- FrameBuffer ----------------------------------------------------------------------------------


def test_whole_frame() -> None:
    buffer = FrameBuffer()
    buffer.feed(SET_STATE_COUNT.data)
    assert buffer.next_frame() == Frame(0x0403, False, SET_STATE_COUNT.data[8:])
    assert buffer.next_frame() is None
    assert buffer.pending == 0


def test_empty_payload_frame() -> None:
    buffer = FrameBuffer()
    buffer.feed(END_HEADER.data)
    assert buffer.next_frame() == Frame(0x0003, False, b"")


def test_ack_flag_is_reported() -> None:
    buffer = FrameBuffer()
    buffer.feed(PROPOSE_RUN_ACK_HEADER_42.data + bytes(42))
    assert buffer.next_frame() == Frame(0x0005, True, bytes(42))


def test_partial_header_waits() -> None:
    buffer = FrameBuffer()
    buffer.feed(SET_STATE_COUNT.data[:7])
    assert buffer.next_frame() is None
    assert buffer.pending == 7


def test_partial_payload_waits_and_keeps_the_header() -> None:
    buffer = FrameBuffer()
    buffer.feed(SET_STATE_COUNT.data[:29])
    assert buffer.next_frame() is None
    assert buffer.pending == 29
    buffer.feed(SET_STATE_COUNT.data[29:])
    assert buffer.next_frame() == Frame(0x0403, False, SET_STATE_COUNT.data[8:])
    assert buffer.pending == 0


def test_several_frames_in_one_read() -> None:
    stream = START_FRESH.data + INPUT_HI.data + SLEEP_COMPLETION_1.data + END_HEADER.data
    buffer = FrameBuffer()
    buffer.feed(stream)
    assert frames_of(buffer) == [
        Frame(0x0000, False, START_FRESH.data[8:]),
        Frame(0x0400, False, INPUT_HI.data[8:]),
        Frame(0x800C, False, SLEEP_COMPLETION_1.data[8:]),
        Frame(0x0003, False, b""),
    ]


def test_trailing_partial_frame_stays_pending() -> None:
    buffer = FrameBuffer()
    buffer.feed(INPUT_HI.data + SET_STATE_COUNT.data[:10])
    assert frames_of(buffer) == [Frame(0x0400, False, INPUT_HI.data[8:])]
    assert buffer.pending == 10


STREAM = START_FRESH.data + INPUT_HI.data + SET_STATE_COUNT.data + END_HEADER.data + SLEEP_COMPLETION_1.data
EXPECTED = [
    Frame(0x0000, False, START_FRESH.data[8:]),
    Frame(0x0400, False, INPUT_HI.data[8:]),
    Frame(0x0403, False, SET_STATE_COUNT.data[8:]),
    Frame(0x0003, False, b""),
    Frame(0x800C, False, SLEEP_COMPLETION_1.data[8:]),
]


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_split_in_two_at_every_byte_boundary(cut: int) -> None:
    buffer = FrameBuffer()
    buffer.feed(STREAM[:cut])
    got = frames_of(buffer)
    buffer.feed(STREAM[cut:])
    got += frames_of(buffer)
    assert got == EXPECTED
    assert buffer.pending == 0


@pytest.mark.parametrize("size", [1, 7, 8, 9, 4096])
def test_split_into_reads_of(size: int) -> None:
    buffer = FrameBuffer()
    got: list[Frame] = []
    for piece in chunks(STREAM, size):
        buffer.feed(piece)
        got += frames_of(buffer)
    assert got == EXPECTED


def test_empty_reads_are_harmless() -> None:
    buffer = FrameBuffer()
    buffer.feed(b"")
    assert buffer.next_frame() is None
    buffer.feed(END_HEADER.data)
    buffer.feed(b"")
    assert frames_of(buffer) == [Frame(0x0003, False, b"")]


def test_many_frames_past_the_compaction_threshold() -> None:
    payload = bytes(range(256)) * 40  # 10 KiB per frame; 20 frames cross the 64 KiB compaction point
    frame = f.raw(0x0403, payload)
    buffer = FrameBuffer()
    got: list[Frame] = []
    for piece in chunks(frame * 20, 3000):
        buffer.feed(piece)
        got += frames_of(buffer)
    assert got == [Frame(0x0403, False, payload)] * 20
    assert buffer.pending == 0


def test_reserved_header_bits_are_a_violation() -> None:
    buffer = FrameBuffer()
    buffer.feed(bytes.fromhex("00 03 00 01 00 00 00 00"))  # bit 32 is reserved (§4: bits 46..32)
    with pytest.raises(ProtocolViolation, match=r"reserved header bits set in 0003000100000000"):
        buffer.next_frame()


def test_oversized_message_is_rejected_from_its_header() -> None:
    buffer = FrameBuffer(max_message_size=16)
    buffer.feed(bytes.fromhex("04 03 00 00 00 00 00 11"))  # 17 bytes announced, none sent yet
    with pytest.raises(ProtocolViolation, match=r"message of 17 bytes exceeds the limit of 16 bytes"):
        buffer.next_frame()


def test_message_at_the_limit_is_accepted() -> None:
    buffer = FrameBuffer(max_message_size=16)
    buffer.feed(f.raw(0x0403, bytes(16)))
    assert buffer.next_frame() == Frame(0x0403, False, bytes(16))


def test_default_limit_is_the_server_limit_plus_slack() -> None:
    assert DEFAULT_MAX_MESSAGE_SIZE == 32 * 1024 * 1024 + 1024  # §3.3: 32 MiB message size limit
    buffer = FrameBuffer()
    buffer.feed(bytes.fromhex("04 03 00 00 ff ff ff ff"))
    with pytest.raises(ProtocolViolation, match=r"4294967295 bytes exceeds"):
        buffer.next_frame()
