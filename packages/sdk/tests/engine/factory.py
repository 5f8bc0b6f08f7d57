"""MessageFactory: builds the framed byte streams restate-server sends (and the SDK writes).

Payloads come from the SDK's table-driven encoder; test_wire.py pins that encoder to the hand-written
vectors, so streams built here are as trustworthy as those vectors. Every method returns ``bytes``:
one framed message, or (``replay``/``fresh``) a whole request body.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import InvocationEngine
from restate_sdk._engine.framing import encode_header
from restate_sdk._engine.messages import MessageType as T

from .vectors import DEBUG_ID, INVOCATION_ID

__all__ = ["MessageFactory", "chunks", "engine_for"]


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` cut into reads of ``size`` bytes (the last may be shorter)."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


def engine_for(stream: bytes, *, version: int = 6, eof: bool = False, **kwargs: Any) -> InvocationEngine:
    """A fresh engine that has been fed ``stream`` in one read (and end of input if ``eof``)."""
    engine = InvocationEngine(version, **kwargs)
    engine.receive_data(stream)
    if eof:
        engine.receive_eof()
    return engine


def _key(key: str | bytes) -> bytes:
    return key.encode() if isinstance(key, str) else key


class MessageFactory:
    """One invocation's identity plus a builder per protocol message (§5)."""

    def __init__(self, invocation_id: bytes = INVOCATION_ID, debug_id: str = DEBUG_ID) -> None:
        self.invocation_id = invocation_id
        self.debug_id = debug_id

    # ---- framing ------------------------------------------------------------------------------

    @staticmethod
    def frame(msg: Any, *, type_id: int | None = None, ack: bool = False) -> bytes:
        """Header + payload for ``msg`` (``type_id`` overrides its type, e.g. for notifications)."""
        payload = m.encode_message(msg)
        return encode_header(msg.TYPE if type_id is None else type_id, len(payload), ack=ack) + payload

    @staticmethod
    def raw(type_id: int, payload: bytes = b"", *, ack: bool = False) -> bytes:
        """A frame with arbitrary type and payload bytes."""
        return encode_header(type_id, len(payload), ack=ack) + payload

    # ---- the request body -----------------------------------------------------------------------

    def start(
        self,
        known_entries: int = 1,
        *,
        state: Mapping[str | bytes, bytes] | None = None,
        partial_state: bool = False,
        key: str = "",
        random_seed: int = 0,
        retry_count: int = 0,
        duration_ms: int = 0,
        scope: str | None = None,
        limit_key: str | None = None,
        idempotency_key: str | None = None,
    ) -> bytes:
        return self.frame(
            m.StartMessage(
                id=self.invocation_id,
                debug_id=self.debug_id,
                known_entries=known_entries,
                state_map=[m.StateEntry(_key(k), v) for k, v in (state or {}).items()],
                partial_state=partial_state,
                key=key,
                retry_count_since_last_stored_entry=retry_count,
                duration_since_last_stored_entry=duration_ms,
                random_seed=random_seed,
                scope=scope,
                limit_key=limit_key,
                idempotency_key=idempotency_key,
            )
        )

    def input(self, value: bytes = b"", *, headers: Iterable[tuple[str, str]] = ()) -> bytes:
        return self.frame(m.InputCommandMessage(headers=[m.Header(k, v) for k, v in headers], value=value))

    def replay(self, *entries: bytes, input_value: bytes = b"", **start: Any) -> bytes:
        """StartMessage{known_entries = 1 + len(entries)}, InputCommand, then the journal ``entries``."""
        return (
            self.start(known_entries=1 + len(entries), **start) + self.input(input_value) + b"".join(entries)
        )

    def fresh(self, input_value: bytes = b"", **start: Any) -> bytes:
        """A new invocation: Start{known_entries=1} + Input."""
        return self.replay(input_value=input_value, **start)

    # ---- commands (§5.3) ------------------------------------------------------------------------

    def output(self, value: bytes | None = None, failure: m.Failure | None = None) -> bytes:
        return self.frame(m.OutputCommandMessage(value=value, failure=failure))

    def get_lazy_state(self, key: str | bytes, completion_id: int, name: str = "") -> bytes:
        return self.frame(
            m.GetLazyStateCommandMessage(key=_key(key), result_completion_id=completion_id, name=name)
        )

    def get_eager_state(self, key: str | bytes, value: bytes | None = None) -> bytes:
        """Recorded eager get; ``value=None`` records ``void`` (not found)."""
        return self.frame(
            m.GetEagerStateCommandMessage(key=_key(key), void=True if value is None else None, value=value)
        )

    def set_state(self, key: str | bytes, value: bytes) -> bytes:
        return self.frame(m.SetStateCommandMessage(key=_key(key), value=value))

    def clear_state(self, key: str | bytes) -> bytes:
        return self.frame(m.ClearStateCommandMessage(key=_key(key)))

    def clear_all_state(self) -> bytes:
        return self.frame(m.ClearAllStateCommandMessage())

    def get_lazy_state_keys(self, completion_id: int) -> bytes:
        return self.frame(m.GetLazyStateKeysCommandMessage(result_completion_id=completion_id))

    def get_eager_state_keys(self, keys: Iterable[str | bytes]) -> bytes:
        return self.frame(m.GetEagerStateKeysCommandMessage(value=m.StateKeys(keys=[_key(k) for k in keys])))

    def get_promise(self, key: str, completion_id: int, name: str = "") -> bytes:
        return self.frame(m.GetPromiseCommandMessage(key=key, result_completion_id=completion_id, name=name))

    def peek_promise(self, key: str, completion_id: int, name: str = "") -> bytes:
        return self.frame(m.PeekPromiseCommandMessage(key=key, result_completion_id=completion_id, name=name))

    def complete_promise(
        self,
        key: str,
        completion_id: int,
        *,
        value: bytes | None = None,
        failure: m.Failure | None = None,
        name: str = "",
    ) -> bytes:
        return self.frame(
            m.CompletePromiseCommandMessage(
                key=key,
                completion_value=value,
                completion_failure=failure,
                result_completion_id=completion_id,
                name=name,
            )
        )

    def sleep(self, wake_up_time: int, completion_id: int, name: str = "") -> bytes:
        return self.frame(
            m.SleepCommandMessage(wake_up_time=wake_up_time, result_completion_id=completion_id, name=name)
        )

    def call(
        self,
        service: str,
        handler: str,
        parameter: bytes,
        invocation_id_completion: int,
        result_completion: int,
        *,
        key: str = "",
        headers: Iterable[tuple[str, str]] = (),
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        name: str = "",
    ) -> bytes:
        return self.frame(
            m.CallCommandMessage(
                service_name=service,
                handler_name=handler,
                parameter=parameter,
                headers=[m.Header(k, v) for k, v in headers],
                key=key,
                idempotency_key=idempotency_key,
                scope=scope,
                limit_key=limit_key,
                invocation_id_notification_idx=invocation_id_completion,
                result_completion_id=result_completion,
                name=name,
            )
        )

    def one_way_call(
        self,
        service: str,
        handler: str,
        parameter: bytes,
        invocation_id_completion: int,
        *,
        invoke_time: int = 0,
        key: str = "",
        headers: Iterable[tuple[str, str]] = (),
        idempotency_key: str | None = None,
        scope: str | None = None,
        limit_key: str | None = None,
        name: str = "",
    ) -> bytes:
        return self.frame(
            m.OneWayCallCommandMessage(
                service_name=service,
                handler_name=handler,
                parameter=parameter,
                invoke_time=invoke_time,
                headers=[m.Header(k, v) for k, v in headers],
                key=key,
                idempotency_key=idempotency_key,
                scope=scope,
                limit_key=limit_key,
                invocation_id_notification_idx=invocation_id_completion,
                name=name,
            )
        )

    def send_signal(
        self,
        target_invocation_id: str,
        *,
        idx: int | None = None,
        signal_name: str | None = None,
        value: bytes | None = None,
        failure: m.Failure | None = None,
        name: str = "",
    ) -> bytes:
        void = True if value is None and failure is None else None
        return self.frame(
            m.SendSignalCommandMessage(
                target_invocation_id=target_invocation_id,
                idx=idx,
                signal_name=signal_name,
                void=void,
                value=value,
                failure=failure,
                name=name,
            )
        )

    def run(self, completion_id: int, name: str = "") -> bytes:
        return self.frame(m.RunCommandMessage(result_completion_id=completion_id, name=name))

    def attach_invocation(self, invocation_id: str, completion_id: int, name: str = "") -> bytes:
        return self.frame(
            m.AttachInvocationCommandMessage(
                invocation_id=invocation_id, result_completion_id=completion_id, name=name
            )
        )

    def get_invocation_output(self, invocation_id: str, completion_id: int, name: str = "") -> bytes:
        return self.frame(
            m.GetInvocationOutputCommandMessage(
                invocation_id=invocation_id, result_completion_id=completion_id, name=name
            )
        )

    def complete_awakeable(
        self,
        awakeable_id: str,
        *,
        value: bytes | None = None,
        failure: m.Failure | None = None,
        name: str = "",
    ) -> bytes:
        return self.frame(
            m.CompleteAwakeableCommandMessage(
                awakeable_id=awakeable_id, value=value, failure=failure, name=name
            )
        )

    # ---- notifications (§5.5), by completion id / signal id / signal name ------------------------

    def completion(
        self,
        type_id: int,
        completion_id: int,
        *,
        void: bool = False,
        value: bytes | None = None,
        failure: m.Failure | None = None,
        invocation_id: str | None = None,
        state_keys: Iterable[str | bytes] | None = None,
    ) -> bytes:
        return self.frame(
            m.NotificationMessage(
                completion_id=completion_id,
                void=True if void else None,
                value=value,
                failure=failure,
                invocation_id=invocation_id,
                state_keys=None if state_keys is None else m.StateKeys([_key(k) for k in state_keys]),
            ),
            type_id=type_id,
        )

    def signal(self, idx: int, *, value: bytes | None = None, failure: m.Failure | None = None) -> bytes:
        void = True if value is None and failure is None else None
        return self.frame(
            m.NotificationMessage(signal_id=idx, void=void, value=value, failure=failure),
            type_id=T.SIGNAL_NOTIFICATION,
        )

    def named_signal(
        self, name: str, *, value: bytes | None = None, failure: m.Failure | None = None
    ) -> bytes:
        void = True if value is None and failure is None else None
        return self.frame(
            m.NotificationMessage(signal_name=name, void=void, value=value, failure=failure),
            type_id=T.SIGNAL_NOTIFICATION,
        )

    # ---- control messages -------------------------------------------------------------------------

    def command_ack(self, command_index: int) -> bytes:
        return self.frame(m.CommandAckMessage(command_index=command_index))

    def end(self) -> bytes:
        return self.frame(m.EndMessage())

    def suspension(
        self,
        completions: Iterable[int] = (),
        signals: Iterable[int] = (),
        named_signals: Iterable[str] = (),
    ) -> bytes:
        return self.frame(
            m.SuspensionMessage(
                waiting_completions=list(completions),
                waiting_signals=list(signals),
                waiting_named_signals=list(named_signals),
            )
        )

    def propose_run(
        self,
        completion_id: int,
        *,
        value: bytes | None = None,
        failure: m.Failure | None = None,
        ack: bool = False,
    ) -> bytes:
        return self.frame(
            m.ProposeRunCompletionMessage(result_completion_id=completion_id, value=value, failure=failure),
            ack=ack,
        )

    # ---- V7 control messages (protocol-v7.md) ------------------------------------------------------

    def run_ack(self, completion_id: int) -> bytes:
        return self.frame(m.ProposeRunCompletionAckMessage(completion_id=completion_id))

    def suspension_on(self, future: m.Future) -> bytes:
        return self.frame(m.SuspensionMessage(awaiting_on=future))

    def awaiting_on(self, future: m.Future) -> bytes:
        return self.frame(m.AwaitingOnMessage(awaiting_on=future))
