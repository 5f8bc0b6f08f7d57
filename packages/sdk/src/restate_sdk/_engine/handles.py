"""Handles: what names the notification that completes an operation (protocol.md §5.5).

A handle is ``(kind, id)``: a completion id, a signal index or a signal name. The engine hands them
out; the await tree (awaiting.py) is built from them. They live in their own module so that both can
import them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CANCEL_HANDLE", "CANCEL_SIGNAL_ID", "COMPLETION", "NAMED_SIGNAL", "SIGNAL", "Handle"]

COMPLETION, SIGNAL, NAMED_SIGNAL = 0, 1, 2
Handle = tuple[int, int | str]


def completion(completion_id: int) -> Handle:
    return (COMPLETION, completion_id)


def signal(idx: int) -> Handle:
    return (SIGNAL, idx)


def named_signal(name: str) -> Handle:
    return (NAMED_SIGNAL, name)


CANCEL_SIGNAL_ID: Final = 1
CANCEL_HANDLE: Final = signal(CANCEL_SIGNAL_ID)
