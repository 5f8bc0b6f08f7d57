"""What a handler awaits, as a tree: the engine's input for "what next" and for suspension.

A leaf is a handle (the notification that completes one operation). A node applies one combinator to
its children. The combinators are the ones protocol V7 puts on the wire (protocol-v7.md §4): the
server evaluates the same tree to decide when a suspended invocation resumes. On V5/V6 only the
leaves can be sent, so a suspension there waits for any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

from .engine import Handle


class Combinator(IntEnum):
    """V7's ``CombinatorType`` (protocol-v7.md §4.1); the values are the wire values."""

    UNKNOWN = 0  # the server cannot evaluate it: resumes when any child completes
    FIRST_COMPLETED = 1  # wait_first, as_completed, a single await
    ALL_COMPLETED = 2  # gather(return_exceptions=True)
    FIRST_SUCCEEDED_OR_ALL_FAILED = 3
    ALL_SUCCEEDED_OR_FIRST_FAILED = 4  # gather


@dataclass(frozen=True, slots=True)
class AwaitNode:
    """``combinator`` over ``children``; a child is a handle or another node."""

    combinator: Combinator
    children: tuple[Handle | AwaitNode, ...]

    def leaves(self) -> Iterator[Handle]:
        """Every handle in the tree, depth first (duplicates possible)."""
        for child in self.children:
            if isinstance(child, AwaitNode):
                yield from child.leaves()
            else:
                yield child


Awaited = Handle | AwaitNode
"""What one ``await`` waits for: a single handle, or a combinator tree."""


def leaves(awaited: Awaited) -> Iterator[Handle]:
    """Every handle ``awaited`` waits for."""
    if isinstance(awaited, AwaitNode):
        yield from awaited.leaves()
    else:
        yield awaited
