"""Protocol errors, each carrying the code that goes into ErrorMessage.

ProtocolError(code)
├─ JournalMismatch      570  the handler did something else than the journal records
├─ ProtocolViolation    571  the peer sent bytes or messages the protocol does not allow
└─ UnsupportedFeature   573  not available on the negotiated protocol version
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["JournalMismatch", "ProtocolError", "ProtocolViolation", "UnsupportedFeature"]


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


class JournalMismatch(ProtocolError):
    code = 570


class ProtocolViolation(ProtocolError):
    code = 571


class UnsupportedFeature(ProtocolError):
    code = 573
