"""Expectations: what a test says the handler will do, and what each operation gives back.

``MockContext.expect_*`` builds one; its methods chain::

    ctx.expect_call(charge, ANY).returns(Receipt(ok=True))
    ctx.expect_run("reserve").raises(TerminalError("sold out", status_code=409))
    ctx.expect_send(expire, key="u1", delay=timedelta(minutes=15)).times(2)
    ctx.expect_sleep(timedelta(minutes=1)).pending()         # the timer never fires

An expectation matches an operation when each field it names compares equal to the operation's
(``ANY``, the default, matches anything; any object with an ``__eq__``, e.g. ``unittest.mock.ANY``
or a dirty-equals matcher, works too). By default it expects exactly one matching operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Literal, Self

__all__ = [
    "ANY",
    "AttachExpectation",
    "AwakeableExpectation",
    "CallExpectation",
    "Expectation",
    "RunExpectation",
    "SendExpectation",
    "SignalExpectation",
    "SleepExpectation",
]

Kind = Literal[
    "run",
    "call",
    "send",
    "sleep",
    "awakeable",
    "signal",
    "attach",
    "cancel",
    "resolve_awakeable",
    "reject_awakeable",
    "resolve_signal",
    "reject_signal",
]


class _Any:
    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Any()
"""Matches any value in an expectation (the default of every field)."""

# The field named first, without its name, when an operation is described.
_PRIMARY: dict[str, str] = {
    "run": "name",
    "call": "target",
    "send": "target",
    "sleep": "delta",
    "signal": "name",
    "attach": "invocation_id",
    "cancel": "invocation_id",
    "resolve_awakeable": "awakeable_id",
    "reject_awakeable": "awakeable_id",
    "resolve_signal": "invocation_id",
    "reject_signal": "invocation_id",
}

# How to expect each kind of operation, for messages.
_HINTS: dict[str, str] = {
    "run": "ctx.expect_run(name)",
    "call": "ctx.expect_call(handler, arg)",
    "send": "ctx.expect_send(handler, arg)",
    "sleep": "ctx.expect_sleep(delta)",
    "awakeable": "ctx.expect_awakeable()",
    "signal": "ctx.expect_signal(name)",
    "attach": "ctx.expect_attach(invocation_id)",
    "cancel": "ctx.expect_cancel(invocation_id)",
    "resolve_awakeable": "ctx.expect_resolve_awakeable(awakeable_id, value)",
    "reject_awakeable": "ctx.expect_reject_awakeable(awakeable_id, reason)",
    "resolve_signal": "ctx.expect_resolve_signal(invocation_id, name, value)",
    "reject_signal": "ctx.expect_reject_signal(invocation_id, name, reason)",
}


def _show(value: Any) -> str:
    return str(value) if isinstance(value, timedelta) else repr(value)


def _blank(value: Any) -> bool:
    if isinstance(value, _Any):
        return True
    return value is None or (isinstance(value, str | bytes | tuple | list | dict) and not value)


def describe(kind: str, fields: Mapping[str, Any]) -> str:
    """One line naming an operation (or an expectation: fields left at ANY are not shown)."""
    primary = _PRIMARY.get(kind)
    text = kind
    if primary is not None and not isinstance(fields[primary], _Any):
        value = fields[primary]
        text += f" {value}" if kind in ("call", "send") else f" {_show(value)}"
    extras = [
        f"{name}={_show(value)}" for name, value in fields.items() if name != primary and not _blank(value)
    ]
    if extras:
        text += " " + ", ".join(extras)
    return text


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, _Any):
        return True
    try:
        return bool(expected == actual)
    except Exception:  # a value whose __eq__ cannot compare with this one
        return False


def _times(n: int) -> str:
    return "1 time" if n == 1 else f"{n} times"


class Expectation:
    """One expected operation; ``MockContext.expect_*`` builds it, ``verify()`` checks it was met."""

    def __init__(self, kind: Kind, fields: dict[str, Any]) -> None:
        self.kind: Kind = kind
        self.fields = fields
        self.count = 0
        """How many operations this expectation matched so far."""
        self._times: int | None = 1

    def times(self, n: int) -> Self:
        """Expect exactly ``n`` matching operations (instead of one)."""
        if n < 0:
            raise ValueError("times() needs a count >= 0")
        self._times = n
        return self

    def any_times(self) -> Self:
        """Allow any number of matching operations, none included (a stub rather than a check)."""
        self._times = None
        return self

    @property
    def met(self) -> bool:
        """True once the expected number of operations happened."""
        return self._times is None or self.count >= self._times

    def status(self) -> str:
        """How far along the expectation is, e.g. ``expected 2 times, happened 1 time``."""
        expected = "any number of times" if self._times is None else _times(self._times)
        return f"expected {expected}, happened {_times(self.count)}"

    def _accepts(self, fields: Mapping[str, Any]) -> bool:
        if self._times is not None and self.count >= self._times:
            return False
        return all(_matches(expected, fields[name]) for name, expected in self.fields.items())

    def __str__(self) -> str:
        return describe(self.kind, self.fields)

    def __repr__(self) -> str:
        return f"<Expectation {self}: {self.status()}>"


Outcome = tuple[Literal["returns", "raises", "pending"], Any]


class _Stubbed(Expectation):
    """An expectation that can also say how the operation's future completes."""

    def __init__(self, kind: Kind, fields: dict[str, Any]) -> None:
        super().__init__(kind, fields)
        self.outcome: Outcome | None = None

    def raises(self, error: BaseException) -> Self:
        """Complete the operation's future with ``error`` (usually a ``TerminalError``)."""
        self.outcome = ("raises", error)
        return self

    def pending(self) -> Self:
        """Never complete the operation's future (a timer that does not fire, a call that hangs)."""
        self.outcome = ("pending", None)
        return self


class _Returning(_Stubbed):
    def returns(self, value: Any) -> Self:
        """Complete the operation's future with ``value`` (it goes through the same serde as in production)."""
        self.outcome = ("returns", value)
        return self


class RunExpectation(_Returning):
    """Expects ``ctx.run(name, ...)``; without ``returns``/``raises`` the function really runs.

    Example::

        ctx.expect_run("charge card").returns("receipt-1")
    """


class CallExpectation(_Returning):
    """Expects a call (``service_call``, ``object_call``, ``workflow_call``, ``generic_call``).

    Example::

        ctx.expect_call(process, PaymentRequest(amount=3)).returns(Receipt(ok=True))
    """

    invocation_id: str | None = None

    def with_invocation_id(self, invocation_id: str) -> Self:
        """The id ``await call.invocation_id()`` gives."""
        self.invocation_id = invocation_id
        return self


class SendExpectation(Expectation):
    """Expects a one-way send (``*_send``).

    Example::

        ctx.expect_send(expire, "t1", key="u1", delay=timedelta(minutes=15))
    """

    invocation_id: str | None = None

    def with_invocation_id(self, invocation_id: str) -> Self:
        """The id ``await handle.invocation_id()`` gives."""
        self.invocation_id = invocation_id
        return self


class SleepExpectation(_Stubbed):
    """Expects ``ctx.sleep(delta)``; the timer fires at once unless ``pending()`` or ``raises()``.

    Example::

        ctx.expect_sleep(timedelta(minutes=1)).pending()    # so the call it races wins
    """


class AwakeableExpectation(_Returning):
    """Expects ``ctx.awakeable()``; ``returns(v)`` resolves it, ``raises(e)`` rejects it.

    Example::

        ctx.expect_awakeable().with_id("sign_1").returns("approved")
    """

    awakeable_id: str | None = None

    def with_id(self, awakeable_id: str) -> Self:
        """The awakeable id the handler gets (by default ``sign_mock_<n>``)."""
        self.awakeable_id = awakeable_id
        return self


class SignalExpectation(_Returning):
    """Expects ``ctx.signal(name)``; ``returns(v)`` delivers the signal at once.

    Example::

        ctx.expect_signal("approve").returns(True)
    """


class AttachExpectation(_Returning):
    """Expects ``ctx.attach_invocation(invocation_id)``.

    Example::

        ctx.expect_attach("inv_123").returns("done")
    """


def unexpected_message(kind: str, fields: Mapping[str, Any], expectations: Iterable[Expectation]) -> str:
    """Why a strict MockContext refused an operation: what happened, what was expected instead."""
    same_kind = [e for e in expectations if e.kind == kind]
    lines = [f"unexpected {describe(kind, fields)} (strict MockContext)"]
    if same_kind:
        lines.append(f"expected {kind} operations:")
        lines += [f"  - {e}: {e.status()}" for e in same_kind]
    else:
        lines.append(f"no {kind} was expected; expect it with {_HINTS[kind]}")
    return "\n".join(lines)


def unmet_message(unmet: Iterable[Expectation], journal: Iterable[str]) -> str:
    """Which expectations were not met, and everything the handler did."""
    unmet = list(unmet)
    noun = "expectation" if len(unmet) == 1 else "expectations"
    lines = [f"{len(unmet)} {noun} not met:"]
    lines += [f"  - {e}: {e.status()}" for e in unmet]
    done = list(journal)
    if done:
        lines.append("what the handler did:")
        lines += [f"  - {entry}" for entry in done]
    else:
        lines.append("the handler did nothing through the context")
    return "\n".join(lines)


def hint(kind: str) -> str:
    """The ``expect_*`` call that covers ``kind``."""
    return _HINTS[kind]
