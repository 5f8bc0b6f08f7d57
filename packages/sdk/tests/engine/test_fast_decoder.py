"""The fast decoder agrees with the reference decoder on every payload, valid or not.

``decode_message`` takes a one-pass path with per-class tag tables and hands anything unusual to
``_decode_reference``; these properties check that the two can never disagree: same value, or the
same ProtocolViolation message.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from restate_sdk._engine import messages as m
from restate_sdk._engine.errors import ProtocolViolation
from restate_sdk._engine.messages import _decode_reference, decode_message, encode_message

from .test_properties import ALL_CLASSES, ANY_MESSAGE

SETTINGS = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _outcome(decode: Any, cls: type[Any], payload: bytes) -> tuple[str, Any]:
    try:
        return "value", decode(cls, payload)
    except ProtocolViolation as e:
        return "violation", e.message


@SETTINGS
@given(cls=st.sampled_from(ALL_CLASSES), payload=st.binary(max_size=80))
def test_random_bytes(cls: type[Any], payload: bytes) -> None:
    assert _outcome(decode_message, cls, payload) == _outcome(_decode_reference, cls, payload)


@SETTINGS
@given(msg=ANY_MESSAGE, data=st.data())
def test_mutated_valid_messages(msg: Any, data: st.DataObject) -> None:
    payload = bytearray(encode_message(msg))
    for _ in range(data.draw(st.integers(0, 3))):
        if not payload:
            break
        i = data.draw(st.integers(0, len(payload) - 1))
        payload[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(payload)))
    for candidate in (bytes(payload), bytes(payload[:cut])):
        cls = type(msg)
        assert _outcome(decode_message, cls, candidate) == _outcome(_decode_reference, cls, candidate)


def _len_field(number: int, payload: bytes) -> bytes:
    assert len(payload) < 2**14
    n = len(payload)
    length = bytes([n]) if n < 0x80 else bytes([(n & 0x7F) | 0x80, n >> 7])
    return bytes([number << 3 | 2]) + length + payload


@SETTINGS
@given(
    pairs=st.lists(st.tuples(st.binary(max_size=140), st.binary(max_size=140)), max_size=4),
    order=st.sampled_from(["key-value", "value-key", "key-only", "value-only", "key-twice"]),
)
def test_header_and_state_entry_pairs_in_any_shape(pairs: list[tuple[bytes, bytes]], order: str) -> None:
    # the fast path takes only "field 1 then field 2, one-byte lengths"; every other shape, and
    # bytes that are not UTF-8, must come out exactly as the reference decoder has them
    def pair(k: bytes, v: bytes) -> bytes:
        return {
            "key-value": _len_field(1, k) + _len_field(2, v),
            "value-key": _len_field(2, v) + _len_field(1, k),
            "key-only": _len_field(1, k),
            "value-only": _len_field(2, v),
            "key-twice": _len_field(1, k) + _len_field(2, v) + _len_field(1, v),
        }[order]

    input_payload = b"".join(_len_field(1, pair(k, v)) for k, v in pairs)  # InputCommand.headers
    start_payload = b"".join(_len_field(4, pair(k, v)) for k, v in pairs)  # StartMessage.state_map
    for cls, payload in ((m.InputCommandMessage, input_payload), (m.StartMessage, start_payload)):
        assert _outcome(decode_message, cls, payload) == _outcome(_decode_reference, cls, payload)
