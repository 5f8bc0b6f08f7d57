"""What a handler awaits, as a tree: the engine's input for "what next" and for suspension.

A leaf is a handle (the notification that completes one operation). A node applies one combinator to
its children. The combinators are the ones protocol V7 puts on the wire (protocol-v7.md §4): the
server evaluates the same tree to decide when a suspended invocation resumes. On V5/V6 only the
leaves can be sent, so a suspension there waits for any of them.

``Watch`` evaluates a tree as its leaves complete, each leaf once: waiting on N futures costs O(N)
in all, however many notifications it takes to resolve.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum

Handle = tuple[int, int | str]
"""Names the notification that completes an operation: (kind, completion id / signal index / name)."""


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


class _Node:
    """The running evaluation of one ``AwaitNode``."""

    __slots__ = ("combinator", "done", "failed", "parent", "size", "succeeded")

    def __init__(self, combinator: Combinator, size: int, parent: _Node | None) -> None:
        self.combinator = combinator
        self.size = size
        self.parent = parent
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
        """What is still awaited, for a suspension: the tree without ``completed`` leaves."""
        return _prune(self.awaited, completed) or self.awaited


def _prune(node: AwaitNode, completed: set[Handle]) -> AwaitNode | None:
    children: list[Handle | AwaitNode] = []
    for child in node.children:
        if isinstance(child, AwaitNode):
            pruned = _prune(child, completed)
            if pruned is not None:
                children.append(pruned)
        elif child not in completed:
            children.append(child)
    return AwaitNode(node.combinator, tuple(children)) if children else None
