"""Every V5-V7 protocol message, declared once.

Each class is a slotted dataclass whose fields carry their protobuf number and kind
(``pb(number, kind)``); ``@message(type_id)`` turns that into the class's field table and registers
it in ``MESSAGES``. ``encode_message`` and ``decode_message`` read only those tables.

Oneofs are flattened: every arm is its own optional attribute, ``None`` when absent.
Restate's ``Value`` wrapper is flattened to ``bytes``; ``Void`` to ``True``.
Names follow reference/protocol.md §5; what V7 adds follows reference/protocol-v7.md. A field a
version does not define is simply left unset (None, empty) when writing for that version.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, TypeVar, cast

from .errors import ProtocolViolation
from .wire import VARINT_KINDS, Kind, decode_fields, decode_packed_varints, encode_varint

__all__ = ["MESSAGES", "ErrorBehavior", "MessageType", "decode_message", "encode_message", "pb"]


class MessageType(IntEnum):
    START = 0x0000
    SUSPENSION = 0x0001
    ERROR = 0x0002
    END = 0x0003
    COMMAND_ACK = 0x0004
    PROPOSE_RUN_COMPLETION = 0x0005
    AWAITING_ON = 0x0006  # V7
    PROPOSE_RUN_COMPLETION_ACK = 0x0007  # V7
    INPUT_COMMAND = 0x0400
    OUTPUT_COMMAND = 0x0401
    GET_LAZY_STATE_COMMAND = 0x0402
    SET_STATE_COMMAND = 0x0403
    CLEAR_STATE_COMMAND = 0x0404
    CLEAR_ALL_STATE_COMMAND = 0x0405
    GET_LAZY_STATE_KEYS_COMMAND = 0x0406
    GET_EAGER_STATE_COMMAND = 0x0407
    GET_EAGER_STATE_KEYS_COMMAND = 0x0408
    GET_PROMISE_COMMAND = 0x0409
    PEEK_PROMISE_COMMAND = 0x040A
    COMPLETE_PROMISE_COMMAND = 0x040B
    SLEEP_COMMAND = 0x040C
    CALL_COMMAND = 0x040D
    ONE_WAY_CALL_COMMAND = 0x040E
    SEND_SIGNAL_COMMAND = 0x0410
    RUN_COMMAND = 0x0411
    ATTACH_INVOCATION_COMMAND = 0x0412
    GET_INVOCATION_OUTPUT_COMMAND = 0x0413
    COMPLETE_AWAKEABLE_COMMAND = 0x0414
    GET_LAZY_STATE_COMPLETION = 0x8002
    GET_LAZY_STATE_KEYS_COMPLETION = 0x8006
    GET_PROMISE_COMPLETION = 0x8009
    PEEK_PROMISE_COMPLETION = 0x800A
    COMPLETE_PROMISE_COMPLETION = 0x800B
    SLEEP_COMPLETION = 0x800C
    CALL_COMPLETION = 0x800D
    CALL_INVOCATION_ID_COMPLETION = 0x800E
    RUN_COMPLETION = 0x8011
    ATTACH_INVOCATION_COMPLETION = 0x8012
    GET_INVOCATION_OUTPUT_COMPLETION = 0x8013
    SIGNAL_NOTIFICATION = 0xFBFF

    @property
    def is_command(self) -> bool:
        return 0x0400 <= self < 0x8000

    @property
    def is_notification(self) -> bool:
        return 0x8000 <= self < 0xFC00


class ErrorBehavior(IntEnum):
    """What the server does after an ErrorMessage (V7 ``ErrorMessage.behavior``, protocol-v7.md §8)."""

    RETRY = 0  # retry by the retry policy (the only behaviour V5/V6 know)
    PAUSE = 1  # pause the invocation until an operator resumes it
    FAIL = 2  # end the invocation now with this error as its failure


SELF = "self"  # ``nested=SELF``: a field holding the message's own class (Future.nested_futures)


def pb(number: int, kind: Kind, default: Any = None, nested: type | str | None = None) -> Any:
    """Declare a protobuf field: its number and kind (and the class of a nested message)."""
    if kind in (Kind.REPEATED_UINT32, Kind.REPEATED_STRING, Kind.REPEATED_BYTES, Kind.REPEATED_MESSAGE):
        return cast(Any, field(default_factory=list, metadata={"pb": (number, kind, nested)}))
    return field(default=default, metadata={"pb": (number, kind, nested)})


# (number, attribute, kind, nested class), in field-number order
FieldTable = tuple[tuple[int, str, Kind, Any], ...]

M = TypeVar("M")
MESSAGES: dict[int, type[Any]] = {}


def _table(cls: type[Any]) -> FieldTable:
    rows = [
        (
            f.metadata["pb"][0],
            f.name,
            f.metadata["pb"][1],
            cls if f.metadata["pb"][2] == SELF else f.metadata["pb"][2],
        )
        for f in dataclasses.fields(cls)
    ]
    return tuple(sorted(rows))


def message(type_id: int | None = None) -> Callable[[type[M]], type[M]]:
    """Finish a message class: build its field table and, for top-level messages, register its id."""

    def finish(cls: type[M]) -> type[M]:
        table = _table(cls)
        cls.FIELDS = table  # type: ignore[attr-defined]
        cls.BY_NUMBER = {row[0]: row for row in table}  # type: ignore[attr-defined]
        if type_id is not None:
            cls.TYPE = MessageType(type_id)  # type: ignore[attr-defined]
            MESSAGES[type_id] = cls
        return cls

    return finish


class Message:
    """Base of all messages (a marker with the class-level tables)."""

    __slots__ = ()
    TYPE: ClassVar[MessageType]
    FIELDS: ClassVar[FieldTable]
    BY_NUMBER: ClassVar[dict[int, tuple[int, str, Kind, Any]]]


# ---- nested types (§5.4) -------------------------------------------------------------------


@message()
@dataclass(slots=True)
class FailureMetadata(Message):
    key: str = pb(1, Kind.STRING, "")
    value: str = pb(2, Kind.STRING, "")


@message()
@dataclass(slots=True)
class Failure(Message):
    code: int = pb(1, Kind.UINT32, 0)
    message: str = pb(2, Kind.STRING, "")
    metadata: list[FailureMetadata] = pb(3, Kind.REPEATED_MESSAGE, nested=FailureMetadata)


@message()
@dataclass(slots=True)
class StateKeys(Message):
    keys: list[bytes] = pb(1, Kind.REPEATED_BYTES)


@message()
@dataclass(slots=True)
class Header(Message):
    key: str = pb(1, Kind.STRING, "")
    value: str = pb(2, Kind.STRING, "")


@message()
@dataclass(slots=True)
class StateEntry(Message):
    key: bytes = pb(1, Kind.BYTES, b"")
    value: bytes = pb(2, Kind.BYTES, b"")


@message()
@dataclass(slots=True)
class WorkflowTarget(Message):
    workflow_name: str = pb(1, Kind.STRING, "")
    workflow_key: str = pb(2, Kind.STRING, "")
    scope: str | None = pb(3, Kind.STRING)  # V7


@message()
@dataclass(slots=True)
class IdempotentRequestTarget(Message):
    service_name: str = pb(1, Kind.STRING, "")
    service_key: str | None = pb(2, Kind.STRING)
    handler_name: str = pb(3, Kind.STRING, "")
    idempotency_key: str = pb(4, Kind.STRING, "")
    scope: str | None = pb(5, Kind.STRING)  # V7


# ---- control messages (§5.2) ---------------------------------------------------------------


@message(MessageType.START)
@dataclass(slots=True)
class StartMessage(Message):
    id: bytes = pb(1, Kind.BYTES, b"")
    debug_id: str = pb(2, Kind.STRING, "")
    known_entries: int = pb(3, Kind.UINT32, 0)
    state_map: list[StateEntry] = pb(4, Kind.REPEATED_MESSAGE, nested=StateEntry)
    partial_state: bool = pb(5, Kind.BOOL, False)
    key: str = pb(6, Kind.STRING, "")
    retry_count_since_last_stored_entry: int = pb(7, Kind.UINT32, 0)
    duration_since_last_stored_entry: int = pb(8, Kind.UINT64, 0)
    random_seed: int = pb(9, Kind.UINT64, 0)
    # V7, filled only where the server knows them (protocol-v7.md §9.5)
    scope: str | None = pb(10, Kind.STRING)
    limit_key: str | None = pb(11, Kind.STRING)
    idempotency_key: str | None = pb(12, Kind.STRING)


@message()
@dataclass(slots=True)
class Future(Message):
    """V7's await tree node (protocol-v7.md §4.1): ``combinator_type`` over the leaves and nested nodes."""

    waiting_completions: list[int] = pb(1, Kind.REPEATED_UINT32)
    waiting_signals: list[int] = pb(2, Kind.REPEATED_UINT32)
    waiting_named_signals: list[str] = pb(3, Kind.REPEATED_STRING)
    nested_futures: list[Future] = pb(4, Kind.REPEATED_MESSAGE, nested=SELF)
    combinator_type: int = pb(5, Kind.UINT32, 0)  # a CombinatorType (awaiting.Combinator)


@message(MessageType.SUSPENSION)
@dataclass(slots=True)
class SuspensionMessage(Message):
    """Both shapes of 0x0001: fields 1-3 on V5/V6 (V7 reserves them), field 4 on V7 (protocol-v7.md §5)."""

    waiting_completions: list[int] = pb(1, Kind.REPEATED_UINT32)
    waiting_signals: list[int] = pb(2, Kind.REPEATED_UINT32)
    waiting_named_signals: list[str] = pb(3, Kind.REPEATED_STRING)
    awaiting_on: Future | None = pb(4, Kind.MESSAGE, nested=Future)


@message(MessageType.ERROR)
@dataclass(slots=True)
class ErrorMessage(Message):
    code: int = pb(1, Kind.UINT32, 0)
    message: str = pb(2, Kind.STRING, "")
    stacktrace: str = pb(3, Kind.STRING, "")
    related_command_index: int | None = pb(4, Kind.UINT32)
    related_command_name: str | None = pb(5, Kind.STRING)
    related_command_type: int | None = pb(6, Kind.UINT32)
    next_retry_delay: int | None = pb(8, Kind.UINT64)
    behavior: int = pb(9, Kind.UINT32, 0)  # V7: an ErrorBehavior; 0 (RETRY) is not encoded


@message(MessageType.END)
@dataclass(slots=True)
class EndMessage(Message):
    pass


@message(MessageType.COMMAND_ACK)
@dataclass(slots=True)
class CommandAckMessage(Message):
    command_index: int = pb(1, Kind.UINT32, 0)


@message(MessageType.PROPOSE_RUN_COMPLETION)
@dataclass(slots=True)
class ProposeRunCompletionMessage(Message):
    result_completion_id: int = pb(1, Kind.UINT32, 0)
    value: bytes | None = pb(14, Kind.BYTES)  # raw bytes here, not a Value
    failure: Failure | None = pb(15, Kind.MESSAGE, nested=Failure)


@message(MessageType.AWAITING_ON)
@dataclass(slots=True)
class AwaitingOnMessage(Message):
    """V7, SDK to server: what the handler is blocked on, a hint for observability (protocol-v7.md §6)."""

    awaiting_on: Future | None = pb(1, Kind.MESSAGE, nested=Future)
    executing_side_effects: bool = pb(2, Kind.BOOL, False)


@message(MessageType.PROPOSE_RUN_COMPLETION_ACK)
@dataclass(slots=True)
class ProposeRunCompletionAckMessage(Message):
    """V7, server to SDK: the run result proposed with the ack bit is stored (protocol-v7.md §7)."""

    completion_id: int = pb(1, Kind.UINT32, 0)


# ---- commands (§5.3) -----------------------------------------------------------------------


@message(MessageType.INPUT_COMMAND)
@dataclass(slots=True)
class InputCommandMessage(Message):
    headers: list[Header] = pb(1, Kind.REPEATED_MESSAGE, nested=Header)
    name: str = pb(12, Kind.STRING, "")
    value: bytes | None = pb(14, Kind.VALUE)


@message(MessageType.OUTPUT_COMMAND)
@dataclass(slots=True)
class OutputCommandMessage(Message):
    name: str = pb(12, Kind.STRING, "")
    value: bytes | None = pb(14, Kind.VALUE)
    failure: Failure | None = pb(15, Kind.MESSAGE, nested=Failure)


@message(MessageType.GET_LAZY_STATE_COMMAND)
@dataclass(slots=True)
class GetLazyStateCommandMessage(Message):
    key: bytes = pb(1, Kind.BYTES, b"")
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.SET_STATE_COMMAND)
@dataclass(slots=True)
class SetStateCommandMessage(Message):
    key: bytes = pb(1, Kind.BYTES, b"")
    value: bytes | None = pb(3, Kind.VALUE)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.CLEAR_STATE_COMMAND)
@dataclass(slots=True)
class ClearStateCommandMessage(Message):
    key: bytes = pb(1, Kind.BYTES, b"")
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.CLEAR_ALL_STATE_COMMAND)
@dataclass(slots=True)
class ClearAllStateCommandMessage(Message):
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.GET_LAZY_STATE_KEYS_COMMAND)
@dataclass(slots=True)
class GetLazyStateKeysCommandMessage(Message):
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.GET_EAGER_STATE_COMMAND)
@dataclass(slots=True)
class GetEagerStateCommandMessage(Message):
    key: bytes = pb(1, Kind.BYTES, b"")
    name: str = pb(12, Kind.STRING, "")
    void: bool | None = pb(13, Kind.VOID)
    value: bytes | None = pb(14, Kind.VALUE)


@message(MessageType.GET_EAGER_STATE_KEYS_COMMAND)
@dataclass(slots=True)
class GetEagerStateKeysCommandMessage(Message):
    name: str = pb(12, Kind.STRING, "")
    value: StateKeys | None = pb(14, Kind.MESSAGE, nested=StateKeys)


@message(MessageType.GET_PROMISE_COMMAND)
@dataclass(slots=True)
class GetPromiseCommandMessage(Message):
    key: str = pb(1, Kind.STRING, "")
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.PEEK_PROMISE_COMMAND)
@dataclass(slots=True)
class PeekPromiseCommandMessage(Message):
    key: str = pb(1, Kind.STRING, "")
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.COMPLETE_PROMISE_COMMAND)
@dataclass(slots=True)
class CompletePromiseCommandMessage(Message):
    key: str = pb(1, Kind.STRING, "")
    completion_value: bytes | None = pb(2, Kind.VALUE)
    completion_failure: Failure | None = pb(3, Kind.MESSAGE, nested=Failure)
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.SLEEP_COMMAND)
@dataclass(slots=True)
class SleepCommandMessage(Message):
    wake_up_time: int = pb(1, Kind.UINT64, 0)
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.CALL_COMMAND)
@dataclass(slots=True)
class CallCommandMessage(Message):
    service_name: str = pb(1, Kind.STRING, "")
    handler_name: str = pb(2, Kind.STRING, "")
    parameter: bytes = pb(3, Kind.BYTES, b"")
    headers: list[Header] = pb(4, Kind.REPEATED_MESSAGE, nested=Header)
    key: str = pb(5, Kind.STRING, "")
    idempotency_key: str | None = pb(6, Kind.STRING)
    scope: str | None = pb(7, Kind.STRING)  # V7
    limit_key: str | None = pb(8, Kind.STRING)  # V7
    invocation_id_notification_idx: int = pb(10, Kind.UINT32, 0)
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.ONE_WAY_CALL_COMMAND)
@dataclass(slots=True)
class OneWayCallCommandMessage(Message):
    service_name: str = pb(1, Kind.STRING, "")
    handler_name: str = pb(2, Kind.STRING, "")
    parameter: bytes = pb(3, Kind.BYTES, b"")
    invoke_time: int = pb(4, Kind.UINT64, 0)
    headers: list[Header] = pb(5, Kind.REPEATED_MESSAGE, nested=Header)
    key: str = pb(6, Kind.STRING, "")
    idempotency_key: str | None = pb(7, Kind.STRING)
    scope: str | None = pb(8, Kind.STRING)  # V7
    limit_key: str | None = pb(9, Kind.STRING)  # V7
    invocation_id_notification_idx: int = pb(10, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.SEND_SIGNAL_COMMAND)
@dataclass(slots=True)
class SendSignalCommandMessage(Message):
    target_invocation_id: str = pb(1, Kind.STRING, "")
    idx: int | None = pb(2, Kind.UINT32)
    signal_name: str | None = pb(3, Kind.STRING)
    void: bool | None = pb(4, Kind.VOID)
    value: bytes | None = pb(5, Kind.VALUE)
    failure: Failure | None = pb(6, Kind.MESSAGE, nested=Failure)
    name: str = pb(12, Kind.STRING, "")  # "entry_name" in the proto


@message(MessageType.RUN_COMMAND)
@dataclass(slots=True)
class RunCommandMessage(Message):
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.ATTACH_INVOCATION_COMMAND)
@dataclass(slots=True)
class AttachInvocationCommandMessage(Message):
    invocation_id: str | None = pb(1, Kind.STRING)
    idempotent_request_target: IdempotentRequestTarget | None = pb(
        3, Kind.MESSAGE, nested=IdempotentRequestTarget
    )
    workflow_target: WorkflowTarget | None = pb(4, Kind.MESSAGE, nested=WorkflowTarget)
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.GET_INVOCATION_OUTPUT_COMMAND)
@dataclass(slots=True)
class GetInvocationOutputCommandMessage(Message):
    invocation_id: str | None = pb(1, Kind.STRING)
    idempotent_request_target: IdempotentRequestTarget | None = pb(
        3, Kind.MESSAGE, nested=IdempotentRequestTarget
    )
    workflow_target: WorkflowTarget | None = pb(4, Kind.MESSAGE, nested=WorkflowTarget)
    result_completion_id: int = pb(11, Kind.UINT32, 0)
    name: str = pb(12, Kind.STRING, "")


@message(MessageType.COMPLETE_AWAKEABLE_COMMAND)
@dataclass(slots=True)
class CompleteAwakeableCommandMessage(Message):
    awakeable_id: str = pb(1, Kind.STRING, "")
    value: bytes | None = pb(2, Kind.VALUE)
    failure: Failure | None = pb(3, Kind.MESSAGE, nested=Failure)
    name: str = pb(12, Kind.STRING, "")


# ---- notifications (§5.5): every id shares this one shape ----------------------------------


@message()
@dataclass(slots=True)
class NotificationMessage(Message):
    completion_id: int | None = pb(1, Kind.UINT32)
    signal_id: int | None = pb(2, Kind.UINT32)
    signal_name: str | None = pb(3, Kind.STRING)
    void: bool | None = pb(4, Kind.VOID)
    value: bytes | None = pb(5, Kind.VALUE)
    failure: Failure | None = pb(6, Kind.MESSAGE, nested=Failure)
    invocation_id: str | None = pb(16, Kind.STRING)
    state_keys: StateKeys | None = pb(17, Kind.MESSAGE, nested=StateKeys)


for _t in MessageType:
    if _t.is_notification:
        MESSAGES[_t] = NotificationMessage


# ---- the codec -----------------------------------------------------------------------------

_ZERO: dict[Kind, Any] = {Kind.UINT32: 0, Kind.UINT64: 0, Kind.BOOL: False, Kind.STRING: "", Kind.BYTES: b""}


def _tag(number: int, wire_type: int) -> bytes:
    return encode_varint((number << 3) | wire_type)


def encode_message(msg: Any) -> bytes:
    """Encode a message to protobuf bytes, field by field as its table says.

    Zero scalars, empty strings and bytes are left out unless the field is optional (a oneof arm or
    proto3 ``optional``); ``None`` is always left out.
    """
    cls: type[Any] = msg.__class__
    rows = _ENCODERS.get(cls)
    if rows is None:  # not `or`: a message without fields (EndMessage) has an empty table
        rows = _encoder_rows(cls)
    out = bytearray()
    for attr, op, tag, optional, _nested in rows:
        value = getattr(msg, attr)
        if value is None:
            continue
        if op is _E_VARINT:
            if value == 0 and not optional:
                continue
            out += tag
            v = int(value)
            out += _SMALL[v] if 0 <= v < 0x80 else encode_varint(v)
        elif op is _E_STRING:
            if value == "" and not optional:
                continue
            _put(out, tag, value.encode())
        elif op is _E_BYTES:
            if value == b"" and not optional:
                continue
            _put(out, tag, value if type(value) is bytes else bytes(value))
        elif op is _E_VALUE:
            if value:
                data = value if type(value) is bytes else bytes(value)
                n = len(data)
                size = _SMALL[n] if n < 0x80 else encode_varint(n)
                out += tag
                m = 1 + len(size) + n
                out += _SMALL[m] if m < 0x80 else encode_varint(m)
                out += b"\x0a"
                out += size
                out += data
            else:
                out += tag
                out += b"\x00"
        elif op is _E_VOID:
            if value:
                out += tag
                out += b"\x00"
        elif op is _E_MESSAGE:
            _put(out, tag, encode_message(value))
        elif op is _E_REPEATED_UINT32:
            if value:
                ids = cast("list[int]", value)
                _put(out, tag, b"".join(_SMALL[v] if 0 <= v < 0x80 else encode_varint(v) for v in ids))
        elif op is _E_REPEATED_STRING:
            for v in value:
                _put(out, tag, v.encode())
        elif op is _E_REPEATED_BYTES:
            for v in value:
                _put(out, tag, bytes(v))
        else:  # REPEATED_MESSAGE
            for v in value:
                _put(out, tag, encode_message(v))
    return bytes(out)


_SMALL = [bytes((i,)) for i in range(0x80)]  # one-byte varints, encoded once

# Encoder ops, one per Kind (compared with ``is``: they are small ints interned by CPython).
(_E_VARINT, _E_STRING, _E_BYTES, _E_VALUE, _E_VOID, _E_MESSAGE) = range(6)
(_E_REPEATED_UINT32, _E_REPEATED_STRING, _E_REPEATED_BYTES, _E_REPEATED_MESSAGE) = range(6, 10)
_ENCODE_OPS = {
    Kind.UINT32: _E_VARINT,
    Kind.UINT64: _E_VARINT,
    Kind.BOOL: _E_VARINT,
    Kind.STRING: _E_STRING,
    Kind.BYTES: _E_BYTES,
    Kind.VALUE: _E_VALUE,
    Kind.VOID: _E_VOID,
    Kind.MESSAGE: _E_MESSAGE,
    Kind.REPEATED_UINT32: _E_REPEATED_UINT32,
    Kind.REPEATED_STRING: _E_REPEATED_STRING,
    Kind.REPEATED_BYTES: _E_REPEATED_BYTES,
    Kind.REPEATED_MESSAGE: _E_REPEATED_MESSAGE,
}
EncoderRow = tuple[str, int, bytes, bool, Any]  # attribute, op, encoded tag, optional, nested class
_ENCODERS: dict[type[Any], tuple[EncoderRow, ...]] = {}


def _encoder_rows(cls: type[Any]) -> tuple[EncoderRow, ...]:
    """The class's FIELDS as encoder rows, with each tag encoded once."""
    optional_scalars: frozenset[str] | None = cls.__dict__.get("_optional")
    if optional_scalars is None:
        optional_scalars = _optional_scalars(cls)
    table: FieldTable = cls.FIELDS
    rows = tuple(
        (
            attr,
            _ENCODE_OPS[kind],
            _tag(number, 0 if kind in VARINT_KINDS else 2),
            attr in optional_scalars,
            nested,
        )
        for number, attr, kind, nested in table
    )
    _ENCODERS[cls] = rows
    return rows


def _put(out: bytearray, tag: bytes, data: bytes) -> None:
    n = len(data)
    out += tag
    out += _SMALL[n] if n < 0x80 else encode_varint(n)
    out += data


def _optional_scalars(cls: type[Any]) -> frozenset[str]:
    """Scalar fields whose default is None: proto3 ``optional`` or oneof arms, sent even when zero."""
    names = frozenset(
        f.name for f in dataclasses.fields(cls) if f.default is None and f.metadata["pb"][1] in _ZERO
    )
    cls._optional = names  # type: ignore[attr-defined]
    return names


def _decode_reference(cls: type[M], payload: bytes) -> M:
    """The plain table-reading decoder: ``decode_message`` falls back to it to report bad payloads."""
    by_number = cast("dict[int, tuple[int, str, Kind, Any]]", getattr(cls, "BY_NUMBER"))  # noqa: B009
    kwargs: dict[str, Any] = {}
    for number, wire_type, raw in decode_fields(payload):
        row = by_number.get(number)
        if row is None:
            continue
        _, attr, kind, nested = row
        try:
            if kind in VARINT_KINDS:
                if wire_type != 0:
                    raise ProtocolViolation(f"{cls.__name__}.{attr}: expected a varint")
                kwargs[attr] = bool(raw) if kind is Kind.BOOL else raw
                continue
            if kind is Kind.REPEATED_UINT32:
                values = kwargs.setdefault(attr, [])
                if wire_type == 0:
                    values.append(raw)
                elif wire_type == 2:
                    values.extend(decode_packed_varints(raw))
                else:
                    raise ProtocolViolation(f"{cls.__name__}.{attr}: bad wire type {wire_type}")
                continue
            if wire_type != 2:
                raise ProtocolViolation(f"{cls.__name__}.{attr}: expected a length-delimited field")
            if kind is Kind.STRING:
                kwargs[attr] = raw.decode()
            elif kind is Kind.BYTES:
                kwargs[attr] = bytes(raw)
            elif kind is Kind.VALUE:
                content = b""
                for n, wt, v in decode_fields(raw):
                    if n == 1 and wt == 2:
                        content = bytes(v)
                kwargs[attr] = content
            elif kind is Kind.VOID:
                kwargs[attr] = True
            elif kind is Kind.MESSAGE:
                kwargs[attr] = decode_message(nested, raw)
            elif kind is Kind.REPEATED_STRING:
                kwargs.setdefault(attr, []).append(raw.decode())
            elif kind is Kind.REPEATED_BYTES:
                kwargs.setdefault(attr, []).append(bytes(raw))
            else:
                kwargs.setdefault(attr, []).append(decode_message(nested, raw))
        except UnicodeDecodeError as e:
            raise ProtocolViolation(f"{cls.__name__}.{attr}: invalid UTF-8") from e
    return cls(**kwargs)


def decode_message(cls: type[M], payload: bytes) -> M:
    """Decode protobuf bytes into ``cls``; unknown fields are skipped, bad bytes raise ProtocolViolation.

    One pass over the bytes with a per-class table keyed by wire tag. Anything unusual (a truncated
    or overlong varint, a known field with the wrong wire type, bad UTF-8, ...) is handed to
    ``_decode_reference``, which decodes the same payload again and raises the precise error.
    """
    if type(payload) is not bytes:
        payload = bytes(payload)
    try:
        return _decode_fast(cls, payload)
    except (_Unusual, IndexError, UnicodeDecodeError, ProtocolViolation):
        return _decode_reference(cls, payload)


class _Unusual(Exception):
    """The fast decoder met something it leaves to the reference decoder."""


# Decoder ops: what to do with a field whose tag (number and wire type) matched.
(_D_INT, _D_BOOL, _D_STRING, _D_BYTES, _D_VALUE, _D_VOID, _D_MESSAGE) = range(7)
(_D_REPEATED_UINT32, _D_PACKED_UINT32, _D_REPEATED_STRING, _D_REPEATED_BYTES, _D_REPEATED_MESSAGE) = range(
    7, 12
)
_DECODE_OPS = {
    Kind.UINT32: ((0, _D_INT),),
    Kind.UINT64: ((0, _D_INT),),
    Kind.BOOL: ((0, _D_BOOL),),
    Kind.STRING: ((2, _D_STRING),),
    Kind.BYTES: ((2, _D_BYTES),),
    Kind.VALUE: ((2, _D_VALUE),),
    Kind.VOID: ((2, _D_VOID),),
    Kind.MESSAGE: ((2, _D_MESSAGE),),
    Kind.REPEATED_UINT32: ((0, _D_REPEATED_UINT32), (2, _D_PACKED_UINT32)),
    Kind.REPEATED_STRING: ((2, _D_REPEATED_STRING),),
    Kind.REPEATED_BYTES: ((2, _D_REPEATED_BYTES),),
    Kind.REPEATED_MESSAGE: ((2, _D_REPEATED_MESSAGE),),
}
DecoderRow = tuple[str, int, Any]  # attribute, op, nested class
_DECODERS: dict[type[Any], dict[int, DecoderRow]] = {}
_MAX_UINT64 = (1 << 64) - 1


def _decoder_rows(cls: type[Any]) -> dict[int, DecoderRow]:
    table: FieldTable = cls.FIELDS
    rows = {
        (number << 3) | wire: (attr, op, nested)
        for number, attr, kind, nested in table
        for wire, op in _DECODE_OPS[kind]
    }
    _DECODERS[cls] = rows
    return rows


def _varint_tail(buf: bytes, pos: int, first: int) -> tuple[int, int]:
    """The rest of a varint whose first byte (``first``, continuation bit set) was already read."""
    result = first & 0x7F
    shift = 7
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            if result > _MAX_UINT64:
                raise _Unusual
            return result, pos
        shift += 7
        if shift >= 70:
            raise _Unusual


def _decode_fast(cls: type[M], buf: bytes) -> M:
    rows = _DECODERS.get(cls)
    if rows is None:
        rows = _decoder_rows(cls)
    kwargs: dict[str, Any] = {}
    pos = 0
    end = len(buf)
    while pos < end:
        tag = buf[pos]
        pos += 1
        if tag & 0x80:
            tag, pos = _varint_tail(buf, pos, tag)
        wire = tag & 7
        if wire == 2:
            n = buf[pos]
            pos += 1
            if n & 0x80:
                n, pos = _varint_tail(buf, pos, n)
            start = pos
            pos += n
            if pos > end:
                raise _Unusual
            raw: Any = buf[start:pos]
        elif wire == 0:
            raw = buf[pos]
            pos += 1
            if raw & 0x80:
                raw, pos = _varint_tail(buf, pos, raw)
        elif wire == 1 or wire == 5:
            pos += 8 if wire == 1 else 4
            if pos > end:
                raise _Unusual
            raw = None
        else:
            raise _Unusual
        row = rows.get(tag)
        if row is None:
            number = tag >> 3
            if number == 0 or number in cls.BY_NUMBER:  # type: ignore[attr-defined]
                raise _Unusual  # a known field with the wrong wire type
            continue  # unknown field: skipped
        attr, op, nested = row
        if op is _D_INT:
            kwargs[attr] = raw
        elif op is _D_STRING:
            kwargs[attr] = raw.decode()
        elif op is _D_BYTES:
            kwargs[attr] = raw
        elif op is _D_VALUE:
            # Value{1: bytes content}: nearly always exactly that one field with a one-byte length
            if not raw:
                kwargs[attr] = b""
            elif len(raw) >= 2 and raw[0] == 0x0A and raw[1] == len(raw) - 2:
                kwargs[attr] = raw[2:]
            else:
                kwargs[attr] = _value_content(raw)
        elif op is _D_MESSAGE:
            kwargs[attr] = _decode_fast(nested, raw)
        elif op is _D_BOOL:
            kwargs[attr] = bool(raw)
        elif op is _D_VOID:
            kwargs[attr] = True
        else:
            values: list[Any] | None = kwargs.get(attr)
            if values is None:
                values = kwargs[attr] = []
            if op is _D_REPEATED_MESSAGE:
                pair = _decode_pair(raw) if nested is Header or nested is StateEntry else None
                if pair is None:
                    values.append(_decode_fast(nested, raw))
                elif nested is Header:
                    values.append(Header(pair[0].decode(), pair[1].decode()))
                else:
                    values.append(StateEntry(pair[0], pair[1]))
            elif op is _D_REPEATED_STRING:
                values.append(raw.decode())
            elif op is _D_PACKED_UINT32:
                values.extend(decode_packed_varints(raw))
            else:  # repeated bytes, or one unpacked uint32
                values.append(raw)
    return cls(**kwargs)


def _decode_pair(raw: bytes) -> tuple[bytes, bytes] | None:
    """Fields 1 and 2 of a Header or StateEntry in their usual shape, or None for anything else.

    Every request carries several of these (the ingress headers, eager state): the common encoding,
    field 1 then field 2 with one-byte lengths, skips the generic loop; the rest goes through it.
    """
    end = len(raw)
    if end < 4 or raw[0] != 0x0A:
        return None
    n = raw[1]
    if n & 0x80 or 2 + n + 2 > end or raw[2 + n] != 0x12:
        return None
    m = raw[3 + n]
    if m & 0x80 or 4 + n + m != end:
        return None
    return raw[2 : 2 + n], raw[4 + n : end]


def _value_content(raw: bytes) -> bytes:
    content = b""
    for n, wt, v in decode_fields(raw):
        if n == 1 and wt == 2:
            content = bytes(v)
    return content
