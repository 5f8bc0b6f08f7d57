"""What a handler awaits, as a tree: the engine's input for "what next" and for suspension.

A leaf is a handle (the notification that completes one operation). A node applies one combinator to
its children. The combinators are the ones protocol V7 puts on the wire (protocol-v7.md §4): the
server evaluates the same tree to decide when a suspended invocation resumes. On V5/V6 only the
leaves can be sent, so a suspension there waits for any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum

from .handles import CANCEL_HANDLE, COMPLETION, SIGNAL, Handle
from .messages import Future


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


MAX_WIRE_DEPTH = 64
"""Nodes nested deeper than this are sent flattened (see ``to_future_message``)."""


def to_future_message(awaited: Awaited, *, cancel: bool = True) -> Future:
    """The V7 ``Future`` for ``awaited`` (protocol-v7.md §4.3), as shared-core writes it.

    With ``cancel`` the tree is wrapped as ``FIRST_COMPLETED(awaited, signal 1)``, so that a cancellation
    resumes a suspended invocation. A handle child is inlined into its node's leaf list (completions,
    signal indexes, signal names); a node child becomes a nested Future; a lone handle becomes a
    FIRST_COMPLETED node with that one leaf. Nodes without any leaf below them are left out: the
    server refuses empty nodes. The tree is sent as given, finished children included: the server
    evaluates it against the notifications it has stored.

    restate-server accepts nesting up to depth 1000, but a tree that deep would overrun Python's
    recursion limit here and in the encoder; below ``MAX_WIRE_DEPTH`` a subtree is sent as one UNKNOWN
    node over its leaves, which the server resumes on when any of them completes (earlier than the
    real combinator, never later: the handler then re-checks and suspends again if it must).
    """
    if cancel:
        awaited = AwaitNode(Combinator.FIRST_COMPLETED, (awaited, CANCEL_HANDLE))
    elif not isinstance(awaited, AwaitNode):
        awaited = AwaitNode(Combinator.FIRST_COMPLETED, (awaited,))
    root = _node(awaited, 0)
    if root is None:
        raise ValueError("an await tree without any handle cannot be sent: the server refuses empty nodes")
    return root


def _node(node: AwaitNode, depth: int) -> Future | None:
    if depth >= MAX_WIRE_DEPTH:
        out = _add_leaves(Future(combinator_type=Combinator.UNKNOWN), _iter_leaves(node))
    else:
        out = Future(combinator_type=node.combinator)
        handles: list[Handle] = []
        for child in node.children:
            if isinstance(child, AwaitNode):
                nested = _node(child, depth + 1)
                if nested is not None:
                    out.nested_futures.append(nested)
            else:
                handles.append(child)
        _add_leaves(out, handles)
    if out.waiting_completions or out.waiting_signals or out.waiting_named_signals or out.nested_futures:
        return out
    return None


def _add_leaves(out: Future, handles: Iterable[Handle]) -> Future:
    for kind, ident in dict.fromkeys(handles):  # listed once each, in order of appearance
        if kind == COMPLETION:
            out.waiting_completions.append(int(ident))
        elif kind == SIGNAL:
            out.waiting_signals.append(int(ident))
        else:
            out.waiting_named_signals.append(str(ident))
    return out


def _iter_leaves(node: AwaitNode) -> Iterator[Handle]:
    """Every handle below ``node``, without recursion (the subtree may be arbitrarily deep)."""
    stack: list[AwaitNode] = [node]
    while stack:
        for child in stack.pop().children:
            if isinstance(child, AwaitNode):
                stack.append(child)
            else:
                yield child


def flat_leaves(awaited: Awaited, *, cancel: bool = True) -> Future:
    """Every handle of ``awaited`` (and signal 1 with ``cancel``) in one node's leaf lists, each sorted:
    what a V5/V6 suspension lists, resuming when any of them completes."""
    handles = _iter_leaves(awaited) if isinstance(awaited, AwaitNode) else iter((awaited,))
    return _add_leaves(Future(), sorted({*handles, *((CANCEL_HANDLE,) if cancel else ())}))
