"""Protocol errors, each carrying the code that goes into ErrorMessage.

ProtocolError(code)
├─ JournalMismatch      570  the handler did something else than the journal records
├─ ProtocolViolation    571  the peer sent bytes or messages the protocol does not allow
└─ UnsupportedFeature   573  not available on the negotiated protocol version

LimitExceeded(code)     a limit of this endpoint, not a protocol error: the attempt is refused
├─ JournalTooLarge      413  the journal sent before the handler starts exceeds max_journal_size
└─ JournalReadTimeout   408  the journal did not arrive within journal_read_timeout
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "NONDETERMINISM_HINT",
    "JournalMismatch",
    "JournalReadTimeout",
    "JournalTooLarge",
    "LimitExceeded",
    "ProtocolError",
    "ProtocolViolation",
    "UnsupportedFeature",
]


class ProtocolError(Exception):
    code: ClassVar[int] = 571

    def __init__(
        self,
        message: str,
        *,
        command_index: int | None = None,
        command_type: int | None = None,
        command_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.command_index = command_index
        self.command_type = command_type
        self.command_name = command_name


NONDETERMINISM_HINT = (
    "The handler is probably not deterministic: on replay it must issue the same commands, in the same "
    "order, as the journal records. Common causes are decisions taken on the clock, random numbers, "
    "uuids, or dict/set iteration order: use ctx.time(), ctx.random() and ctx.uuid(), iterate in a "
    "sorted order, and wrap any other value that may change between attempts in ctx.run."
)


class JournalMismatch(ProtocolError):
    """``message`` is ``detail`` (what differs) followed by ``NONDETERMINISM_HINT``."""

    code = 570

    def __init__(
        self,
        detail: str,
        *,
        command_index: int | None = None,
        command_type: int | None = None,
        command_name: str | None = None,
    ) -> None:
        super().__init__(
            f"{detail}. {NONDETERMINISM_HINT}",
            command_index=command_index,
            command_type=command_type,
            command_name=command_name,
        )
        self.detail = detail


class ProtocolViolation(ProtocolError):
    code = 571


class UnsupportedFeature(ProtocolError):
    code = 573


class LimitExceeded(Exception):
    """A per-attempt limit of this endpoint ran out before the handler started.

    Not a ``ProtocolError``: the endpoint answers it with an ErrorMessage carrying ``code`` (see
    ``restate_sdk._endpoint.limits``), and nothing about the peer's bytes is known to be wrong.
    """

    code: ClassVar[int] = 413

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JournalTooLarge(LimitExceeded):
    code = 413


class JournalReadTimeout(LimitExceeded):
    code = 408
