"""Property-based tests of the frame decoder, the message codec and the engine's input side.

Random and mutated byte streams never raise anything but ProtocolError subclasses, and valid messages
(generated from each class's FIELDS table) round-trip through encode/decode and through framing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import InvocationEngine
from restate_sdk._engine.errors import ProtocolError
from restate_sdk._engine.framing import FrameBuffer
from restate_sdk._engine.messages import MESSAGES, MessageType, decode_message, encode_message
from restate_sdk._engine.wire import Kind

from .factory import MessageFactory
from .vectors import ALL_VECTORS

f = MessageFactory()

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
TYPE_IDS = sorted(MESSAGES)

U32 = st.integers(0, 2**32 - 1)
U64 = st.integers(0, 2**64 - 1)
TEXT = st.text(max_size=12)
BLOB = st.binary(max_size=24)

FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
MEDIUM = settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


# ---- strategies built from the FIELDS tables --------------------------------------------------------


def _field_strategy(kind: Kind, nested: Any) -> st.SearchStrategy[Any]:
    scalar: dict[Kind, st.SearchStrategy[Any]] = {
        Kind.UINT32: U32,
        Kind.UINT64: U64,
        Kind.BOOL: st.booleans(),
        Kind.STRING: TEXT,
        Kind.BYTES: BLOB,
        Kind.VALUE: BLOB,
        Kind.VOID: st.just(True),  # presence is the information; False is not representable
        Kind.REPEATED_UINT32: st.lists(U32, max_size=4),
        Kind.REPEATED_STRING: st.lists(TEXT, max_size=3),
        Kind.REPEATED_BYTES: st.lists(BLOB, max_size=3),
    }
    # deferred: a message may hold its own class (Future.nested_futures)
    if kind is Kind.MESSAGE:
        return st.deferred(lambda: message_strategy(nested))
    if kind is Kind.REPEATED_MESSAGE:
        return st.lists(
            st.deferred(lambda: message_strategy(nested)), max_size=2 if nested is m.Future else 3
        )
    return scalar[kind]


@functools.cache
def message_strategy(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Any value of ``cls``: every field from its kind; fields that default to None may also be None."""
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for _number, attr, kind, nested in cls.FIELDS:
        strategy = _field_strategy(kind, nested)
        kwargs[attr] = st.none() | strategy if defaults[attr] is None else strategy
    return st.builds(cls, **kwargs)


ANY_MESSAGE = st.one_of([message_strategy(cls) for cls in ALL_CLASSES])
TYPED_MESSAGE = st.one_of([st.tuples(st.just(t), message_strategy(MESSAGES[t])) for t in TYPE_IDS])


def only_protocol_errors(action: Any) -> None:
    """Run ``action``; a ProtocolError is a fine outcome, any other exception fails the test."""
    with contextlib.suppress(ProtocolError):
        action()


# ---- valid messages round-trip ------------------------------------------------------------------------


@MEDIUM
@given(msg=ANY_MESSAGE)
def test_every_message_round_trips(msg: Any) -> None:
    assert decode_message(type(msg), encode_message(msg)) == msg


@FAST
@given(
    msgs=st.lists(TYPED_MESSAGE, max_size=5),
    cuts=st.lists(st.integers(0, 400), max_size=6),
)
def test_framed_messages_round_trip_through_any_split(msgs: list[tuple[int, Any]], cuts: list[int]) -> None:
    stream = b"".join(f.frame(msg, type_id=type_id) for type_id, msg in msgs)
    buffer = FrameBuffer()
    decoded: list[tuple[int, Any]] = []
    bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    for start, end in itertools.pairwise(bounds):
        buffer.feed(stream[start:end])
        while (frame := buffer.next_frame()) is not None:
            decoded.append((frame.type, decode_message(MESSAGES[frame.type], frame.payload)))
    assert decoded == msgs
    assert buffer.pending == 0


@FAST
@given(msg=ANY_MESSAGE)
def test_encoding_is_canonical(msg: Any) -> None:
    data = encode_message(msg)
    assert encode_message(decode_message(type(msg), data)) == data


# ---- random bytes: only protocol errors ----------------------------------------------------------------


@MEDIUM
@given(cls=st.sampled_from(ALL_CLASSES), payload=st.binary(max_size=64))
def test_random_payloads_decode_or_violate(cls: type[Any], payload: bytes) -> None:
    only_protocol_errors(lambda: decode_message(cls, payload))


@MEDIUM
@given(data=st.binary(max_size=256), size=st.integers(1, 64))
def test_random_bytes_through_frame_buffer_and_decode(data: bytes, size: int) -> None:
    buffer = FrameBuffer(max_message_size=4096)

    def run() -> None:
        for i in range(0, len(data), size):
            buffer.feed(data[i : i + size])
            while (frame := buffer.next_frame()) is not None:
                cls = MESSAGES.get(frame.type)
                if cls is not None:
                    decode_message(cls, frame.payload)

    only_protocol_errors(run)


def _feed(engine: InvocationEngine, data: bytes, size: int, eof: bool) -> None:
    for i in range(0, len(data), size):
        engine.receive_data(data[i : i + size])
    if eof:
        engine.receive_eof()


# A header of a known type, then random payload: gets past framing into the decoder and the engine.
FRAMES = st.tuples(st.sampled_from(TYPE_IDS), st.binary(max_size=40)).map(lambda tp: f.raw(tp[0], tp[1]))


@MEDIUM
@given(data=st.binary(max_size=256), size=st.integers(1, 300), eof=st.booleans())
def test_random_bytes_into_the_engine(data: bytes, size: int, eof: bool) -> None:
    only_protocol_errors(lambda: _feed(InvocationEngine(), data, size, eof))


@MEDIUM
@given(
    prefix=st.sampled_from([b"", f.start(known_entries=3), f.fresh(), f.start(known_entries=2) + f.input()]),
    frames=st.lists(FRAMES, max_size=6),
    size=st.integers(1, 100),
    eof=st.booleans(),
    version=st.sampled_from([5, 6, 7]),
)
def test_random_frames_into_the_engine(
    prefix: bytes, frames: list[bytes], size: int, eof: bool, version: int
) -> None:
    only_protocol_errors(lambda: _feed(InvocationEngine(version), prefix + b"".join(frames), size, eof))


@FAST
@given(
    start=message_strategy(m.StartMessage),
    entries=st.lists(
        st.one_of(FRAMES, TYPED_MESSAGE.map(lambda tm: f.frame(tm[1], type_id=tm[0]))), max_size=6
    ),
    version=st.sampled_from([5, 6, 7]),
)
def test_random_start_and_journal_then_handler_calls(start: Any, entries: list[bytes], version: int) -> None:
    """Whatever the server sent (any StartMessage, any well- or ill-formed entries), the handler's calls
    fail only with protocol errors (mismatch, violation)."""
    engine = InvocationEngine(version)
    start.known_entries = 1 + len(entries)

    def run() -> None:
        engine.receive_data(f.frame(start) + f.input() + b"".join(entries))
        engine.receive_eof()
        if not engine.ready:
            return
        assert isinstance(engine.random_seed, int)
        engine.awakeable()
        engine.get_state("k")
        engine.get_state_keys()
        engine.clear_state("k")
        handle = engine.sleep(1)
        engine.awaiting_on(handle)
        engine.call("S", "h", b"")
        run, _ = engine.run()
        engine.propose_run_completion(run, b"")
        engine.next_step(handle)  # may suspend: then the output below is refused
        engine.write_output(b"")

    only_protocol_errors(run)


# ---- mutated valid streams -----------------------------------------------------------------------------

VALID = [
    f.replay(
        f.get_lazy_state("k", 1),
        f.completion(MessageType.GET_LAZY_STATE_COMPLETION, 1, value=b"v"),
        f.call("S", "h", b"{}", 2, 3, headers=[("a", "b")], idempotency_key="ik"),
        f.completion(MessageType.CALL_INVOCATION_ID_COMPLETION, 2, invocation_id="inv_1x"),
        f.complete_promise("p", 4, failure=m.Failure(1, "x", [m.FailureMetadata("k", "v")])),
        f.send_signal("inv_1x", signal_name="go", value=b"1"),
        f.named_signal("go", failure=m.Failure(2, "y")),
        f.get_eager_state_keys(["a", "b"]),
        f.attach_invocation("inv_1x", 5),
        partial_state=True,
        state={"a": b"1", "b": b""},
        key="obj",
        random_seed=7,
    ),
    f.fresh(input_value=b'"hi"')
    + f.signal(17, value=b"x")
    + f.completion(MessageType.RUN_COMPLETION, 1, void=True),
    b"".join(v.data for v in ALL_VECTORS.values()),
]

MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just(0)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for op, pos, byte in mutations:
        if not out and op != "insert":
            continue
        i = pos % (len(out) + (op == "insert"))
        if op == "flip":
            out[i] ^= byte
        elif op == "insert":
            out.insert(i, byte)
        elif op == "delete":
            del out[i]
        else:
            del out[i:]
    return bytes(out)


@MEDIUM
@given(
    base=st.sampled_from(VALID),
    mutations=st.lists(MUTATION, min_size=1, max_size=4),
    size=st.integers(1, 200),
    eof=st.booleans(),
)
def test_mutated_streams_into_the_engine(
    base: bytes, mutations: list[tuple[str, int, int]], size: int, eof: bool
) -> None:
    only_protocol_errors(lambda: _feed(InvocationEngine(), mutate(base, mutations), size, eof))


@FAST
@given(msg=ANY_MESSAGE, mutations=st.lists(MUTATION, min_size=1, max_size=3))
def test_mutated_payloads_decode_or_violate(msg: Any, mutations: list[tuple[str, int, int]]) -> None:
    payload = mutate(encode_message(msg), mutations)
    for cls in (type(msg), m.NotificationMessage, m.StartMessage):
        only_protocol_errors(lambda cls=cls: decode_message(cls, payload))


def test_valid_streams_are_accepted_unmutated() -> None:
    """The mutation bases themselves are valid (so the mutated properties start from real streams)."""
    for base in VALID[:2]:
        engine = InvocationEngine()
        engine.receive_data(base)
        engine.receive_eof()
        assert engine.ready
