"""What a handler awaits, as a tree: the engine's input for "what next" and for suspension.

A leaf is a handle (the notification that completes one operation). A node applies one combinator to
its children. The combinators are the ones protocol V7 puts on the wire (protocol-v7.md §4): the
server evaluates the same tree to decide when a suspended invocation resumes. On V5/V6 only the
leaves can be sent, so a suspension there waits for any of them.

``Watch`` evaluates a tree as its leaves complete, each leaf once: waiting on N futures costs O(N)
in all, however many notifications it takes to resolve.
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
        """Every handle in the tree, depth first (duplicates possible).

        Without recursion: a tree may nest deeper than Python recurses (``to_future_message``).
        """
        stack = [iter(self.children)]
        while stack:
            for child in stack[-1]:
                if isinstance(child, AwaitNode):
                    stack.append(iter(child.children))
                    break
                yield child
            else:
                stack.pop()


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
        out = _add_leaves(Future(combinator_type=Combinator.UNKNOWN), node.leaves())
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


def flat_leaves(awaited: Awaited, *, cancel: bool = True) -> Future:
    """Every handle of ``awaited`` (and signal 1 with ``cancel``) in one node's leaf lists, each sorted:
    what a V5/V6 suspension lists, resuming when any of them completes."""
    return _add_leaves(Future(), sorted({*leaves(awaited), *((CANCEL_HANDLE,) if cancel else ())}))


class _Node:
    """The running evaluation of one ``AwaitNode``."""

    __slots__ = ("combinator", "done", "failed", "nested", "parent", "size", "succeeded")

    def __init__(self, combinator: Combinator, size: int, parent: _Node | None) -> None:
        self.combinator = combinator
        self.size = size
        self.parent = parent
        self.nested: list[_Node] = []  # the states of the node's child nodes, in order
        self.succeeded = 0
        self.failed = 0
        self.done: bool | None = None  # None while pending, else whether it succeeded

    def child_done(self, ok: bool) -> None:
        node: _Node | None = self
        while node is not None and node.done is None:
            if ok:
                node.succeeded += 1
            else:
                node.failed += 1
            outcome = _outcome(node.combinator, ok, node.succeeded, node.failed, node.size)
            if outcome is None:
                return
            node.done, ok, node = outcome, outcome, node.parent


def _outcome(combinator: Combinator, ok: bool, succeeded: int, failed: int, size: int) -> bool | None:
    """A node's result once a child finished with ``ok`` (None: still pending)."""
    if combinator is Combinator.ALL_SUCCEEDED_OR_FIRST_FAILED:
        return False if not ok else (True if succeeded == size else None)
    if combinator is Combinator.FIRST_SUCCEEDED_OR_ALL_FAILED:
        return True if ok else (False if failed == size else None)
    if combinator is Combinator.ALL_COMPLETED:
        return True if succeeded + failed == size else None
    return ok  # FIRST_COMPLETED, UNKNOWN: the first child decides


class Watch:
    """An await tree evaluated incrementally: tell it each leaf that completes (``complete``).

    With ``each`` (``as_completed``), the root is a flat FIRST_COMPLETED node that resolves once per
    completed leaf: ``take()`` hands them out in completion order.
    """

    __slots__ = ("_completed", "_each", "_order", "_root", "_taken", "awaited", "cursor", "index", "resolved")

    def __init__(self, awaited: AwaitNode, *, each: bool = False) -> None:
        self.awaited = awaited
        self._each = each
        self.index: dict[Handle, list[_Node]] = {}
        """The node(s) each leaf belongs to."""
        self._order: list[Handle] = []
        self._taken = 0
        self._completed = 0
        self.cursor = 0
        """Set by the engine: how far into its log of shown notifications this watch has looked."""
        self._root = self._build(awaited, None)
        self.resolved = self._root.done is not None and not each
        """Whether the tree is resolved (``each``: whether a completed leaf waits to be taken)."""

    def _build(self, node: AwaitNode, parent: _Node | None) -> _Node:
        state = _Node(node.combinator, len(node.children), parent)
        if parent is not None:
            parent.nested.append(state)
        if not node.children:
            state.done = True  # nothing to wait for
        index = self.index
        for child in node.children:
            if isinstance(child, AwaitNode):
                self._build(child, state)
            elif child in index:
                index[child].append(state)
            else:
                index[child] = [state]
        return state

    def complete(self, handle: Handle, ok: bool) -> None:
        """``handle``'s result is visible now; ``ok`` is False for a failure. Once per handle."""
        nodes = self.index.get(handle)
        if nodes is None:
            return
        self._completed += 1
        if self._each:
            self._order += [handle] * len(nodes)  # once per place it has in the tree
            self.resolved = True
            return
        for node in nodes:
            node.child_done(ok)
        self.resolved = self._root.done is not None

    @property
    def any_completed(self) -> bool:
        """Whether any leaf has completed (resolved or not)."""
        return self._completed > 0

    def take(self) -> Handle:
        """``each`` only: the next completed leaf, in completion order."""
        handle = self._order[self._taken]
        self._taken += 1
        self.resolved = self._taken < len(self._order)
        return handle

    def pending(self, completed: set[Handle]) -> Awaited:
        """What is still awaited, for a suspension or an AwaitingOn hint: the tree without its finished
        parts, the way shared-core reduces it (protocol-v7.md §4.3).

        ``completed`` are the leaves shown to the handler, which this watch has caught up on. A
        completed leaf, and a nested node that is resolved, are dropped: in a tree whose root is
        still pending, a finished child can only be one its parent no longer needs (a success under
        ALL_SUCCEEDED_OR_FIRST_FAILED, a failure under FIRST_SUCCEEDED_OR_ALL_FAILED, anything under
        ALL_COMPLETED); keeping a resolved nested node's open leaves would make the server wait for
        them too.
        """
        return _prune(self.awaited, self._root, completed) or self.awaited


def _prune(node: AwaitNode, state: _Node, completed: set[Handle]) -> AwaitNode | None:
    children: list[Handle | AwaitNode] = []
    nested = iter(state.nested)
    for child in node.children:
        if isinstance(child, AwaitNode):
            child_state = next(nested)
            if child_state.done is None:
                pruned = _prune(child, child_state, completed)
                if pruned is not None:
                    children.append(pruned)
        elif child not in completed:
            children.append(child)
    return AwaitNode(node.combinator, tuple(children)) if children else None
