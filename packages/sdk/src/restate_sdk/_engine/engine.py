"""The invocation state machine (protocol.md §5-7), sans-IO.

The endpoint pushes request bytes in with ``receive_data``/``receive_eof`` and drains response bytes
with ``data_to_send``. The context layer calls one method per durable operation; each either
matches the next recorded command (replay) or encodes a new one (processing), and returns the
handle(s) whose notification carries its result.

Phases: WAITING_START -> WAITING_ENTRIES -> REPLAYING -> PROCESSING -> CLOSED. The allowed moves
are in ``TRANSITIONS``; any other is a protocol violation.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import deque
from dataclasses import fields, replace
from enum import Enum
from typing import Any, Final, cast

from . import messages as m
from .awaiting import Awaited, AwaitNode, Watch, flat_leaves, to_future_message
from .errors import JournalMismatch, JournalTooLarge, ProtocolViolation, UnsupportedFeature
from .framing import DEFAULT_MAX_MESSAGE_SIZE, HEADER_SIZE, FrameBuffer, encode_header
from .handles import (
    CANCEL_HANDLE,
    CANCEL_SIGNAL_ID,
    Handle,
    completion,
    named_signal,
    signal,
)

__all__ = [
    "CANCEL_HANDLE",
    "DEFAULT_MAX_JOURNAL_SIZE",
    "Handle",
    "InvocationEngine",
    "Phase",
    "Step",
    "check_scope",
    "completion",
    "named_signal",
    "signal",
]


class Phase(Enum):
    WAITING_START = "waiting-start"
    WAITING_ENTRIES = "waiting-entries"
    REPLAYING = "replaying"
    PROCESSING = "processing"
    CLOSED = "closed"


class Input(Enum):
    RECV_START = "recv-start"
    JOURNAL_RECEIVED = "journal-received"
    JOURNAL_CONSUMED = "journal-consumed"
    SEND_TERMINAL = "send-terminal"


TRANSITIONS: Final[dict[tuple[Phase, Input], Phase]] = {
    (Phase.WAITING_START, Input.RECV_START): Phase.WAITING_ENTRIES,
    (Phase.WAITING_ENTRIES, Input.JOURNAL_RECEIVED): Phase.REPLAYING,
    (Phase.REPLAYING, Input.JOURNAL_CONSUMED): Phase.PROCESSING,
    (Phase.WAITING_START, Input.SEND_TERMINAL): Phase.CLOSED,
    (Phase.WAITING_ENTRIES, Input.SEND_TERMINAL): Phase.CLOSED,
    (Phase.REPLAYING, Input.SEND_TERMINAL): Phase.CLOSED,
    (Phase.PROCESSING, Input.SEND_TERMINAL): Phase.CLOSED,
}


class Step(Enum):
    """What an attempt does next for one await (``InvocationEngine.next_step``)."""

    READY = "ready"  # what the handler awaits is resolved: resume it
    READ = "read"  # wait for more input
    WAIT_RUN = "wait-run"  # no more input can come; a run in flight will bring a result
    SUSPENDED = "suspended"  # nothing can resolve it in this attempt: SuspensionMessage written
    CANCELLED = "cancelled"  # the cancel signal came first: the handler gets TerminalError(409)
    CLOSED = "closed"  # the attempt has already ended


_FIRST_USER_SIGNAL: Final = 17

# Fields not compared on replay (protocol.md §6.2): times are recomputed on every attempt.
_NOT_COMPARED: Final[dict[type[Any], tuple[str, ...]]] = {
    m.SleepCommandMessage: ("wake_up_time",),
    m.OneWayCallCommandMessage: ("invoke_time",),
}

Result = bytes | m.Failure

SUPPORTED_VERSIONS: Final = (5, 6, 7)
# Sent by the SDK only; refused before decoding (a Future tree from the peer could nest without bound).
_OUTBOUND_ONLY: Final = frozenset({m.MessageType.SUSPENSION, m.MessageType.AWAITING_ON})

DEFAULT_MAX_JOURNAL_SIZE: Final = 64 * 1024 * 1024
"""Bytes of StartMessage plus replayed journal accepted before the handler starts: two of
restate-server's largest messages (32 MiB each) fit, a runaway journal does not."""


class InvocationEngine:
    """One invocation attempt, from StartMessage to End/Suspension/Error."""

    def __init__(
        self,
        version: int = 6,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_journal_size: int = DEFAULT_MAX_JOURNAL_SIZE,
    ) -> None:
        if version not in SUPPORTED_VERSIONS:
            raise UnsupportedFeature(f"service protocol v{version} is not supported (5..7 are)")
        self.version = version
        self.phase = Phase.WAITING_START
        self.max_message_size = max_message_size
        self._frames = FrameBuffer(max_message_size)
        self.max_journal_size = max_journal_size
        self._journal_bytes = 0  # received before the journal was complete, framing included
        self._out = bytearray()
        self.messages_written = 0  # so the runtime can tell what an unsent buffer holds
        self.input_closed = False
        self.start: m.StartMessage | None = None
        self.input: m.InputCommandMessage | None = None
        self._entries_left = 0
        self._replay: deque[Any] = deque()
        self.known_commands = 0
        self.command_index = 0  # index of the next command (Input is 0)
        self._notifications: dict[Handle, m.NotificationMessage] = {}
        # Received notifications the handler has not been shown yet, in arrival order (see next_step()).
        self._arrived: deque[Handle] = deque()
        self._ready: set[Handle] = set()
        self._shown: list[Handle] = []  # _ready in the order shown: what watches catch up on
        self._running: set[Handle] = set()  # runs executing in this attempt, until their result is proposed
        self.cancel_delivered = False
        """Whether a wait has already answered CANCELLED (the handler is told once)."""
        self._next_completion = 1
        # V7: run results proposed with the ack bit, released as notifications when acked (§7.3)
        self._proposed: dict[int, m.ProposeRunCompletionMessage] = {}
        self._next_signal = _FIRST_USER_SIGNAL
        self._state: dict[bytes, bytes | None] = {}
        self._partial_state = True
        self.outcome: str | None = None
        """How the attempt ended: "success", "failure" (terminal), "suspended" or "error" (retried)."""

    # ---- phase bookkeeping ----------------------------------------------------------------

    def _move(self, event: Input) -> None:
        try:
            self.phase = TRANSITIONS[(self.phase, event)]
        except KeyError:
            raise ProtocolViolation(f"{event.value} is not allowed while {self.phase.value}") from None

    @property
    def ready(self) -> bool:
        """True once StartMessage and the whole replayed journal have arrived."""
        return self.phase in (Phase.REPLAYING, Phase.PROCESSING)

    @property
    def closed(self) -> bool:
        return self.phase is Phase.CLOSED

    @property
    def replaying(self) -> bool:
        return self.phase is Phase.REPLAYING

    def next_recorded(self) -> Any:
        """While replaying: the recorded command the next operation will be matched against."""
        return self._replay[0] if self.phase is Phase.REPLAYING else None

    # ---- input --------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed request body bytes; whole messages are processed at once."""
        if self.phase is Phase.CLOSED:
            return
        self._frames.feed(data)
        while (frame := self._frames.next_frame()) is not None:
            if frame.type in _OUTBOUND_ONLY:
                raise ProtocolViolation(
                    f"unexpected {m.MESSAGES[frame.type].__name__} while {self.phase.value}"
                )
            if not self.ready:
                self._count_journal(HEADER_SIZE + len(frame.payload))
            try:
                cls = m.MESSAGES[frame.type]
            except KeyError:
                raise ProtocolViolation(f"unknown message type 0x{frame.type:04x}") from None
            self._receive(m.decode_message(cls, frame.payload), frame.type)
        if not self.ready and self._frames.pending:
            self._count_journal(self._frames.pending, partial=True)  # a message still arriving counts too

    def _count_journal(self, size: int, *, partial: bool = False) -> None:
        total = self._journal_bytes + size
        if total > self.max_journal_size:
            raise JournalTooLarge(
                f"the journal sent before the handler starts reached {total} bytes, over this "
                f"endpoint's limit of {self.max_journal_size} bytes (raise max_journal_size= on restate.app)"
            )
        if not partial:
            self._journal_bytes = total

    def close_input(self) -> None:
        """The request body is gone (the client went away, or it ended broken): nothing more arrives."""
        self.input_closed = True

    def receive_eof(self) -> None:
        """The request body ended: nothing more will arrive for this attempt."""
        self.input_closed = True
        if self._frames.pending and self.phase is not Phase.CLOSED:
            raise ProtocolViolation(
                f"request body ended inside a message ({self._frames.pending} bytes left)"
            )
        if self.phase in (Phase.WAITING_START, Phase.WAITING_ENTRIES):
            raise ProtocolViolation(
                "request body ended before the journal was complete"
                + (f" ({self._entries_left} entries missing)" if self.phase is Phase.WAITING_ENTRIES else "")
            )

    def _receive(self, msg: Any, type_id: int) -> None:
        if self.phase is Phase.WAITING_START:
            if not isinstance(msg, m.StartMessage):
                raise ProtocolViolation(f"expected StartMessage first, got {type(msg).__name__}")
            if msg.known_entries == 0:
                raise ProtocolViolation("StartMessage.known_entries is 0 (the input command is missing)")
            self._move(Input.RECV_START)
            self.start = msg
            self._entries_left = msg.known_entries
            self._state = {e.key: e.value for e in msg.state_map}
            self._partial_state = msg.partial_state
            return
        if isinstance(msg, m.NotificationMessage):
            self._store_notification(msg, type_id)
        elif self.phase is Phase.WAITING_ENTRIES and 0x0400 <= type_id < 0x8000:
            if not self._replay and self.known_commands == 0 and not isinstance(msg, m.InputCommandMessage):
                raise ProtocolViolation(f"the journal must start with InputCommand, got {type(msg).__name__}")
            self._replay.append(msg)
            self.known_commands += 1
        elif isinstance(msg, m.ProposeRunCompletionAckMessage):
            self._run_acked(msg.completion_id)
            return
        elif isinstance(msg, m.CommandAckMessage):
            return  # we never request acks; tolerate them anyway
        else:
            raise ProtocolViolation(f"unexpected {type(msg).__name__} while {self.phase.value}")
        if self.phase is Phase.WAITING_ENTRIES:
            self._entries_left -= 1
            if self._entries_left == 0:
                self._journal_received()

    def _journal_received(self) -> None:
        if not self._replay:
            raise ProtocolViolation("the replayed journal has no InputCommand")
        self._move(Input.JOURNAL_RECEIVED)
        self.input = self._replay.popleft()
        self.command_index = 1
        if not self._replay:
            self._move(Input.JOURNAL_CONSUMED)

    def _store_notification(self, msg: m.NotificationMessage, type_id: int) -> None:
        if msg.completion_id is not None:
            handle = completion(msg.completion_id)
        elif msg.signal_id is not None:
            handle = signal(msg.signal_id)
        elif msg.signal_name is not None:
            handle = named_signal(msg.signal_name)
        else:
            raise ProtocolViolation(f"notification 0x{type_id:04x} has no completion or signal id")
        self._notifications[handle] = msg
        self._arrived.append(handle)

    def _run_acked(self, completion_id: int) -> None:
        """V7: the proposed result of a run is stored; it arrives now, in the notification order (§7.4).

        An ack can come while the handler is still replaying (a run whose result the journal lacks is
        executed again before the recorded commands after it are consumed); the arrival order is what
        counts, and on the next attempt the journaled notification stands at this same position.
        """
        proposal = self._proposed.pop(completion_id, None)
        if proposal is None:
            raise ProtocolViolation(
                f"ProposeRunCompletionAck for completion {completion_id}, which was not proposed"
            )
        self._store_notification(
            m.NotificationMessage(
                completion_id=completion_id, value=proposal.value, failure=proposal.failure
            ),
            m.MessageType.RUN_COMPLETION,
        )

    # ---- output -------------------------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Drain the bytes produced so far."""
        if not self._out:
            return b""
        data = bytes(self._out)
        self._out.clear()
        return data

    def _write(self, msg: Any, *, ack: bool = False) -> None:
        payload = m.encode_message(msg)
        if len(payload) > self.max_message_size:
            raise UnsupportedFeature(
                f"{type(msg).__name__} of {len(payload)} bytes exceeds the message size limit of "
                f"{self.max_message_size} bytes"
            )
        self._out += encode_header(msg.TYPE, len(payload), ack=ack)
        self._out += payload
        self.messages_written += 1

    def _command(self, msg: Any) -> Any:
        """Match ``msg`` against the journal (replay) or write it (processing); returns the recorded one."""
        if self.phase is Phase.REPLAYING:
            recorded = self._replay.popleft()
            self._check_replay(recorded, msg)
            self.command_index += 1
            if not self._replay:
                self._move(Input.JOURNAL_CONSUMED)
            return recorded
        if self.phase is not Phase.PROCESSING:
            raise ProtocolViolation(f"cannot write {type(msg).__name__} while {self.phase.value}")
        self._write(msg)
        self.command_index += 1
        return msg

    def _check_replay(self, recorded: Any, actual: Any) -> None:
        if recorded == actual:  # the usual case, in one comparison (dataclass eq: same type, same fields)
            return
        index = self.command_index
        if type(recorded) is not type(actual):
            raise JournalMismatch(
                f"command #{index}: the journal has {type(recorded).__name__}"
                f"{_describe(recorded)}, the handler now issues {type(actual).__name__}{_describe(actual)}",
                command_index=index,
                command_type=int(actual.TYPE),
                command_name=getattr(actual, "name", None) or None,
            )
        ignored = _NOT_COMPARED.get(cast(type[Any], type(actual)), ())
        diffs = [
            f"{f.name}: journal has {getattr(recorded, f.name)!r}, handler now has {getattr(actual, f.name)!r}"
            for f in fields(actual)
            if f.name not in ignored
            and _comparable(f.name, getattr(recorded, f.name)) != _comparable(f.name, getattr(actual, f.name))
        ]
        if diffs:
            raise JournalMismatch(
                f"command #{index} ({type(actual).__name__}) differs from the journal: " + "; ".join(diffs),
                command_index=index,
                command_type=int(actual.TYPE),
                command_name=getattr(actual, "name", None) or None,
            )

    def _completion_id(self) -> int:
        cid = self._next_completion
        self._next_completion += 1
        return cid

    # ---- notifications --------------------------------------------------------------------------

    def is_completed(self, handle: Handle) -> bool:
        """Whether ``handle``'s notification has arrived (shown to the handler or not)."""
        return handle in self._notifications

    def is_ready(self, handle: Handle) -> bool:
        """Whether the handler may see ``handle``'s result yet (see ``advance``)."""
        return handle in self._ready

    def watch(self, awaited: AwaitNode, *, each: bool = False) -> Watch:
        """Start evaluating ``awaited`` (see ``Watch``); pass the watch to ``next_step``."""
        watch = Watch(awaited, each=each)
        ready = self._ready
        for handle in watch.index:  # the leaves already shown, in tree order
            if handle in ready:
                watch.complete(handle, self._notifications[handle].failure is None)
        watch.cursor = len(self._shown)
        return watch

    def _resolved(self, watch: Watch) -> bool:
        """Catch ``watch`` up on what was shown since it last looked, until it is resolved."""
        shown, index, notifications = self._shown, watch.index, self._notifications
        while not watch.resolved:
            cursor = watch.cursor
            if cursor == len(shown):
                return False
            handle = shown[cursor]
            watch.cursor = cursor + 1
            if handle in index:
                watch.complete(handle, notifications[handle].failure is None)
        return True

    def advance(self, awaited: Handle | Watch) -> bool:
        """Whether ``awaited`` is resolved, once the arrived notifications it needs are shown.

        The READY check of ``next_step`` alone, for callers that only wait if it fails.
        """
        return self._advance(awaited, not self.cancel_delivered)

    def _advance(self, awaited: Handle | Watch, cancellable: bool) -> bool:
        """Show arrived notifications to the handler one at a time, in arrival order, until
        ``awaited`` is resolved (True) or, if ``cancellable``, the cancel signal is shown.

        The journal records notifications in the order they arrived, so a replay resolves each await
        and each race the way the first execution did, even though the whole journal (later results
        included) is known up front. shared-core's AsyncResultsState works the same way.
        """
        if isinstance(awaited, Watch):
            while not self._resolved(awaited):
                if not self._show_next(cancellable):
                    return False
            return True
        while awaited not in self._ready:
            if not self._show_next(cancellable):
                return False
        return True

    def _show_next(self, cancellable: bool) -> bool:
        """Show the next arrived notification; False if there is none, or the cancel signal is shown."""
        ready = self._ready
        if (cancellable and CANCEL_HANDLE in ready) or not self._arrived:
            return False
        handle = self._arrived.popleft()
        ready.add(handle)
        self._shown.append(handle)
        return True

    def next_step(self, awaited: Handle | Watch, *, runs: bool = False, draining: bool = False) -> Step:
        """The one place that decides what an attempt does for an await.

        ``awaited`` is a handle or a ``watch`` of a tree; ``runs`` tells whether a run may still
        propose a result in this attempt; ``draining``, whether the endpoint is shutting down (no
        more waiting for input). READY and CANCELLED come in the arrival order of notifications;
        SUSPENDED has written the SuspensionMessage (protocol.md §6.3); a journal that ends while
        the handler awaits a result it never delivered is a ``JournalMismatch``.
        """
        cancellable = not self.cancel_delivered
        if self._advance(awaited, cancellable):
            return Step.READY
        if cancellable and CANCEL_HANDLE in self._ready:
            self.cancel_delivered = True
            return Step.CANCELLED
        if self.phase is Phase.CLOSED:
            return Step.CLOSED
        no_input = self.input_closed or draining
        if self.phase is Phase.REPLAYING and self.input_closed:
            arrived = awaited.any_completed if isinstance(awaited, Watch) else awaited in self._notifications
            if not arrived:
                nxt = self._replay[0]
                raise JournalMismatch(
                    f"command #{self.command_index}: the handler awaits a result the journal never "
                    f"delivered, while the journal continues with {type(nxt).__name__}{_describe(nxt)}",
                    command_index=self.command_index,
                    command_type=int(nxt.TYPE),
                )
        if no_input and not (runs or self._running):
            self.suspend(awaited.pending(self._ready) if isinstance(awaited, Watch) else awaited)
            return Step.SUSPENDED
        return Step.WAIT_RUN if no_input else Step.READ

    def result(self, handle: Handle) -> m.NotificationMessage:
        return self._notifications[handle]

    # ---- the handler's input and identity ------------------------------------------------------

    @property
    def invocation_id(self) -> str:
        return self.start.debug_id if self.start else ""

    @property
    def key(self) -> str:
        return self.start.key if self.start else ""

    @property
    def scope(self) -> str | None:
        """V7: the invocation's scope; None if the server did not send one (always, below V7)."""
        return self.start.scope if self.start and self.version >= 7 else None

    @property
    def limit_key(self) -> str | None:
        """V7: the invocation's limit key; None if unknown (servers without vqueues never send it)."""
        return self.start.limit_key if self.start and self.version >= 7 else None

    @property
    def idempotency_key(self) -> str | None:
        """V7: the invocation's idempotency key; None if unknown (not "not idempotent", see §9.5)."""
        return self.start.idempotency_key if self.start and self.version >= 7 else None

    @property
    def random_seed(self) -> int:
        assert self.start is not None
        if self.version >= 6:
            return self.start.random_seed
        return int.from_bytes(hashlib.sha256(self.start.id).digest()[:8], "big")

    # ---- state (§7) -----------------------------------------------------------------------------

    def get_state(self, key: str) -> tuple[bool, bytes | None, Handle | None]:
        """Returns ``(known, value, handle)``: known values come back at once, else await ``handle``."""
        k = key.encode()
        cid = self._completion_id()  # one id per get, eager or lazy, to stay in step with shared-core
        if self.phase is Phase.REPLAYING:
            recorded = self._replay[0]
            if isinstance(recorded, m.GetEagerStateCommandMessage):
                self._command(replace(recorded, key=k))  # compares the key
                return True, None if recorded.void else recorded.value, None
            if isinstance(recorded, m.GetLazyStateCommandMessage):
                # a recorded lazy get is replayed as lazy even if this attempt's map has the key (§6.2)
                self._command(m.GetLazyStateCommandMessage(key=k, result_completion_id=cid))
                return False, None, completion(cid)
        if k in self._state or not self._partial_state:
            value = self._state.get(k)
            cmd = m.GetEagerStateCommandMessage(key=k, void=True if value is None else None, value=value)
            recorded = self._command(cmd)
            return True, None if recorded.void else recorded.value, None
        self._command(m.GetLazyStateCommandMessage(key=k, result_completion_id=cid))
        return False, None, completion(cid)

    def get_state_keys(self) -> tuple[bool, list[str], Handle | None]:
        cid = self._completion_id()
        if self.phase is Phase.REPLAYING:
            recorded = self._replay[0]
            if isinstance(recorded, m.GetEagerStateKeysCommandMessage):
                names = _key_names(recorded.value.keys if recorded.value else [])
                self._command(replace(recorded))
                return True, names, None
            if isinstance(recorded, m.GetLazyStateKeysCommandMessage):
                self._command(m.GetLazyStateKeysCommandMessage(result_completion_id=cid))  # see get_state
                return False, [], completion(cid)
        if not self._partial_state:
            keys = sorted(k for k, v in self._state.items() if v is not None)
            names = _key_names(keys)  # before writing: a bad key fails the attempt with nothing sent
            self._command(m.GetEagerStateKeysCommandMessage(value=m.StateKeys(keys=keys)))
            return True, names, None
        self._command(m.GetLazyStateKeysCommandMessage(result_completion_id=cid))
        return False, [], completion(cid)

    def set_state(self, key: str, value: bytes) -> None:
        k = key.encode()
        self._command(m.SetStateCommandMessage(key=k, value=value))
        self._state[k] = value

    def clear_state(self, key: str) -> None:
        k = key.encode()
        self._command(m.ClearStateCommandMessage(key=k))
        self._state[k] = None

    def clear_all_state(self) -> None:
        self._command(m.ClearAllStateCommandMessage())
        self._state = {}
        self._partial_state = False

    # ---- timers, calls, runs --------------------------------------------------------------------

    def sleep(self, wake_up_time_ms: int, name: str = "") -> Handle:
        cid = self._completion_id()
        self._command(
            m.SleepCommandMessage(wake_up_time=wake_up_time_ms, result_completion_id=cid, name=name)
        )
        return completion(cid)

    def call(
        self,
        service: str,
        handler: str,
        parameter: bytes,
        *,
        key: str = "",
        headers: list[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        name: str = "",
    ) -> tuple[Handle, Handle]:
        """Returns the handles of (the callee's invocation id, the call's result).

        ``scope`` and ``limit_key`` (V7) must pass ``check_scope``: they are sent as given, which is
        the form the server journals, so a replay compares equal.
        """
        self._check_scope(scope, limit_key)
        id_cid = self._completion_id()
        result_cid = self._completion_id()
        self._command(
            m.CallCommandMessage(
                service_name=service,
                handler_name=handler,
                parameter=parameter,
                headers=[m.Header(k, v) for k, v in headers or ()],
                key=key,
                idempotency_key=idempotency_key,
                scope=scope,
                limit_key=limit_key,
                invocation_id_notification_idx=id_cid,
                result_completion_id=result_cid,
                name=name,
            )
        )
        return completion(id_cid), completion(result_cid)

    def send(
        self,
        service: str,
        handler: str,
        parameter: bytes,
        *,
        key: str = "",
        headers: list[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
        invoke_time_ms: int = 0,
        scope: str | None = None,
        limit_key: str | None = None,
        name: str = "",
    ) -> Handle:
        """Returns the handle of the callee's invocation id (``scope``, ``limit_key``: see ``call``)."""
        self._check_scope(scope, limit_key)
        id_cid = self._completion_id()
        self._command(
            m.OneWayCallCommandMessage(
                service_name=service,
                handler_name=handler,
                parameter=parameter,
                invoke_time=invoke_time_ms,
                headers=[m.Header(k, v) for k, v in headers or ()],
                key=key,
                idempotency_key=idempotency_key,
                scope=scope,
                limit_key=limit_key,
                invocation_id_notification_idx=id_cid,
                name=name,
            )
        )
        return completion(id_cid)

    def _check_scope(self, scope: str | None, limit_key: str | None) -> None:
        if scope is None and limit_key is None:
            return
        check_scope(scope, limit_key)
        if self.version < 7:
            raise UnsupportedFeature(
                f"scope and limit_key need service protocol v7, this invocation runs on v{self.version} "
                "(restate-server 1.7 speaks v7 with RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7=true)"
            )

    def run(self, name: str = "") -> tuple[Handle, int]:
        """Journal a side effect; returns its handle and its command index."""
        cid = self._completion_id()
        index = self.command_index
        self._command(m.RunCommandMessage(result_completion_id=cid, name=name))
        handle = completion(cid)
        if handle not in self._notifications:
            self._running.add(handle)  # it executes in this attempt: a result may still come
        return handle, index

    def propose_run_completion(self, handle: Handle, result: Result) -> None:
        """Send the outcome of a side effect; it counts once the server has stored it.

        V5/V6: the server echoes the result back as a RunCompletion notification. V7: the proposal asks
        for an ack (header bit 47) and the engine keeps the result until the small ack arrives (§7).
        """
        if self.phase is Phase.CLOSED:
            return
        cid = handle[1]
        assert isinstance(cid, int)
        if isinstance(result, m.Failure):
            msg = m.ProposeRunCompletionMessage(result_completion_id=cid, failure=self._failure(result))
        else:
            msg = m.ProposeRunCompletionMessage(result_completion_id=cid, value=result)
        if self.version >= 7:
            self._proposed[cid] = msg
            self._write(msg, ack=True)
        else:
            self._write(msg)
        self._running.discard(handle)

    def run_retry_info(self, command_index: int) -> tuple[int, int]:
        """(retry count, ms spent) that apply to the run at ``command_index`` (protocol.md §6.4)."""
        assert self.start is not None
        # only the run where the journal ends (recorded but not completed) or the first new one
        if self.known_commands - 1 <= command_index <= self.known_commands:
            return self.start.retry_count_since_last_stored_entry, self.start.duration_since_last_stored_entry
        return 0, 0

    # ---- awakeables, signals, promises ----------------------------------------------------------

    def awakeable(self) -> tuple[str, Handle]:
        """A new awakeable: nothing is journaled, only a signal id is taken (§5.6)."""
        assert self.start is not None
        idx = self._next_signal
        self._next_signal += 1
        raw = self.start.id + idx.to_bytes(4, "big")
        return "sign_1" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), signal(idx)

    def complete_awakeable(self, awakeable_id: str, result: Result, name: str = "") -> None:
        if isinstance(result, m.Failure):
            cmd = m.CompleteAwakeableCommandMessage(
                awakeable_id=awakeable_id, failure=self._failure(result), name=name
            )
        else:
            cmd = m.CompleteAwakeableCommandMessage(awakeable_id=awakeable_id, value=result, name=name)
        self._command(cmd)

    def send_signal(
        self,
        invocation_id: str,
        *,
        idx: int | None = None,
        signal_name: str | None = None,
        result: Result | None = None,
        name: str = "",
    ) -> None:
        cmd = m.SendSignalCommandMessage(
            target_invocation_id=invocation_id, idx=idx, signal_name=signal_name, name=name
        )
        if result is None:
            cmd.void = True
        elif isinstance(result, m.Failure):
            cmd.failure = self._failure(result)
        else:
            cmd.value = result
        self._command(cmd)

    def cancel_invocation(self, invocation_id: str) -> None:
        self.send_signal(invocation_id, idx=CANCEL_SIGNAL_ID)

    def get_promise(self, key: str, name: str = "") -> Handle:
        cid = self._completion_id()
        self._command(m.GetPromiseCommandMessage(key=key, result_completion_id=cid, name=name))
        return completion(cid)

    def peek_promise(self, key: str, name: str = "") -> Handle:
        cid = self._completion_id()
        self._command(m.PeekPromiseCommandMessage(key=key, result_completion_id=cid, name=name))
        return completion(cid)

    def complete_promise(self, key: str, result: Result, name: str = "") -> Handle:
        cid = self._completion_id()
        cmd = m.CompletePromiseCommandMessage(key=key, result_completion_id=cid, name=name)
        if isinstance(result, m.Failure):
            cmd.completion_failure = self._failure(result)
        else:
            cmd.completion_value = result
        self._command(cmd)
        return completion(cid)

    def attach_invocation(self, invocation_id: str, name: str = "") -> Handle:
        cid = self._completion_id()
        self._command(
            m.AttachInvocationCommandMessage(invocation_id=invocation_id, result_completion_id=cid, name=name)
        )
        return completion(cid)

    def get_invocation_output(self, invocation_id: str, name: str = "") -> Handle:
        cid = self._completion_id()
        self._command(
            m.GetInvocationOutputCommandMessage(
                invocation_id=invocation_id, result_completion_id=cid, name=name
            )
        )
        return completion(cid)

    # ---- the end of the attempt -----------------------------------------------------------------

    def write_output(self, result: Result) -> None:
        """OutputCommand then End: the invocation is done (with a value or a terminal failure)."""
        if isinstance(result, m.Failure):
            self._command(m.OutputCommandMessage(failure=self._failure(result)))
        else:
            self._command(m.OutputCommandMessage(value=result))
        self._write(m.EndMessage())
        self._move(Input.SEND_TERMINAL)
        self.outcome = "failure" if isinstance(result, m.Failure) else "success"

    def suspend(self, awaited: Awaited) -> None:
        """Stop here; the server resumes the invocation when ``awaited`` (or a cancellation) resolves.

        ``awaited`` is a handle or an await tree. V7 sends the tree (protocol-v7.md §4.3, §5); V5/V6
        can only list its leaves, and the server resumes there when any of them completes.
        """
        if self.version >= 7:
            msg = m.SuspensionMessage(awaiting_on=to_future_message(awaited))
        else:
            flat = flat_leaves(awaited)
            msg = m.SuspensionMessage(
                waiting_completions=flat.waiting_completions,
                waiting_signals=flat.waiting_signals,
                waiting_named_signals=flat.waiting_named_signals,
            )
        self._move(Input.SEND_TERMINAL)  # check before encoding: no bytes after a terminal message
        self._write(msg)
        self.outcome = "suspended"

    def awaiting_on(self, awaited: Awaited | Watch) -> bool:
        """V7: tell the server what the handler is blocked on (AwaitingOnMessage, §6); True if sent.

        Only a hint for observability (``sys_invocation_state``). Nothing is sent below V7, while
        replaying, or once input is closed (then the attempt suspends instead). Call it when the handler
        blocks, not while a ``ctx.run`` closure it waits for is executing (shared-core's default), and
        not in a loop: every message restarts the server's inactivity timer. A watch is sent as what
        it still waits for, the tree a suspension would carry.
        """
        if self.version < 7 or self.phase is not Phase.PROCESSING or self.input_closed:
            return False
        if isinstance(awaited, Watch):
            awaited = awaited.pending(self._ready)
        self._write(m.AwaitingOnMessage(awaiting_on=to_future_message(awaited)))
        return True

    def fail(
        self,
        code: int,
        message: str,
        *,
        stacktrace: str = "",
        command_index: int | None = None,
        command_type: int | None = None,
        command_name: str | None = None,
        next_retry_delay_ms: int | None = None,
        behavior: m.ErrorBehavior = m.ErrorBehavior.RETRY,
    ) -> None:
        """End the attempt with an ErrorMessage; ``behavior`` says what the server does next.

        RETRY: another attempt, by the retry policy (or after ``next_retry_delay_ms``). PAUSE and FAIL
        exist from V7 on (protocol-v7.md §8): the invocation is paused, or ends with this error as its
        failure. Below V7 ``behavior`` is not sent, so the server retries: its retry policy's
        ``on-max-attempts`` (pause or kill) decides once the attempts run out.
        """
        if self.phase is Phase.CLOSED:
            return
        self._write(
            m.ErrorMessage(  # texts made encodable: this last resort must not raise
                code=code,
                message=_utf8(message),
                stacktrace=_utf8(stacktrace),
                related_command_index=command_index,
                related_command_name=None if command_name is None else _utf8(command_name),
                related_command_type=command_type,
                next_retry_delay=next_retry_delay_ms,
                behavior=int(behavior) if self.version >= 7 else 0,
            )
        )
        self._move(Input.SEND_TERMINAL)
        self.outcome = "error"

    def _failure(self, failure: m.Failure) -> m.Failure:
        if failure.metadata and self.version < 6:
            return m.Failure(code=failure.code, message=failure.message)  # V5 has no metadata field
        return failure


_RESTRICTED = re.compile(r"[A-Za-z0-9_.\-]{1,36}")


def check_scope(scope: str | None, limit_key: str | None) -> None:
    """Raise ValueError unless ``scope``/``limit_key`` are values restate-server accepts as they are.

    A scope is 1-36 characters from ``A-Z a-z 0-9 _ . -``; a limit key is ``level1`` or
    ``level1/level2``, each level like a scope, and needs a scope (protocol-v7.md §9.2, §9.3). Only
    that canonical form is accepted: the server journals the canonical form, and anything else
    ("", "a/") would make the next replay differ from the journal.
    """
    if scope is not None and not _RESTRICTED.fullmatch(scope):
        raise ValueError(
            f"invalid scope {scope!r}: use 1 to 36 characters from A-Z, a-z, 0-9, '_', '.' and '-'"
            + (", or scope=None for no scope" if scope == "" else "")
        )
    if limit_key is None:
        return
    if scope is None:
        raise ValueError(f"limit_key {limit_key!r} needs a scope: pass scope= as well")
    levels = limit_key.split("/")
    if len(levels) > 2 or not all(_RESTRICTED.fullmatch(level) for level in levels):
        raise ValueError(
            f"invalid limit_key {limit_key!r}: use 'level1' or 'level1/level2', each level 1 to 36 "
            "characters from A-Z, a-z, 0-9, '_', '.' and '-'"
            + (", or limit_key=None for no limit key" if limit_key == "" else "")
        )


def _utf8(text: str) -> str:
    """``text`` with whatever UTF-8 cannot encode (lone surrogates) replaced by '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _key_names(keys: list[bytes]) -> list[str]:
    """State keys are bytes on the wire but must be UTF-8 (protocol.md §7); anything else is the server's fault."""
    try:
        return [k.decode() for k in keys]
    except UnicodeDecodeError as e:
        raise ProtocolViolation(f"state key {e.object!r} is not valid UTF-8") from None


# Trace context headers are added by tracing middleware; they identify spans, not behaviour, and
# must not make a replay fail when tracing was switched on or off between attempts.
_TRACE_HEADERS: Final = frozenset({"traceparent", "tracestate"})


def _comparable(name: str, value: Any) -> Any:
    if name == "headers" and value:
        return [h for h in value if h.key.lower() not in _TRACE_HEADERS]
    return value


def _describe(msg: Any) -> str:
    """A short identification of a command for error messages."""
    for attr in ("name", "key", "service_name", "handler_name", "awakeable_id", "target_invocation_id"):
        value = getattr(msg, attr, None)
        if value:
            if attr == "service_name":
                return f"(target {value}/{getattr(msg, 'handler_name', '')})"
            text = value.decode(errors="replace") if isinstance(value, bytes) else value
            return f"({attr}={text!r})"
    return ""
