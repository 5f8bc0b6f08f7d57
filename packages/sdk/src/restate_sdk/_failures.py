"""What an exception raised by user code does to the attempt: end the invocation, retry, or pause.

The runtime calls ``classify`` wherever user code failed (a handler, a ``ctx.run`` function) and
acts on the verdict:

    Terminal(error)                    the invocation (or the run) fails with ``error``; no retry
    Retry(code, message, retry_after)  the attempt ends with an ErrorMessage; restate-server retries
    Pause(code, message)               the attempt ends with behavior PAUSE (V7; ``fallback()`` below V7)

The rules, in order:

1. A ``BaseException`` that is not an ``Exception`` (``SystemExit``, ``KeyboardInterrupt``,
   ``GeneratorExit``, ``asyncio.CancelledError``...) fails the attempt (``Retry``) with a message
   that says so: it must never take the endpoint process down.
2. The exception and its chain are searched for a Restate error, starting from the exception
   itself and following what a traceback shows (``__cause__``, else ``__context__`` unless
   ``raise ... from None`` hid it; the members of an exception group come before its own chain);
   the first one found decides. ``TerminalError`` -> ``Terminal``; ``RetryableError`` -> ``Retry``
   with its status and ``retry_after``; ``PauseError`` -> ``Pause``; ``SdkUsageError`` (a misused
   context, a value the codec cannot encode, a key of the wrong type: it would fail the same way
   on every retry) -> ``Terminal`` naming the handler.
3. Otherwise ``as_terminal_error(exc)``, when set, may map the exception to a ``TerminalError``
   (None keeps retrying).
4. Otherwise ``Retry`` with status 500 and the server's retry policy.

``encode_checked`` and ``check_key`` turn the SDK's own deterministic failures into
``SdkUsageError`` with a message that names the value's type and the fix.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from ._codecs import Serde
from ._errors import PauseError, RetryableError, SdkUsageError, TerminalError

__all__ = [
    "AsTerminalError",
    "Pause",
    "Retry",
    "Terminal",
    "Verdict",
    "check_as_terminal_error",
    "check_key",
    "classify",
    "encode_checked",
    "misuse",
]

AsTerminalError = Callable[[Exception], TerminalError | None]
"""``as_terminal_error=``: maps an exception to a ``TerminalError``, or None to keep retrying."""

_MAX_CODE = 2**32 - 1  # ErrorMessage.code is a uint32


@dataclass(frozen=True, slots=True)
class Terminal:
    """No retry: ``error`` becomes the invocation's failure (or the run's journaled failure)."""

    error: TerminalError

    def next_step(self) -> str:
        return f"the invocation fails with status {self.error.status_code}"


@dataclass(frozen=True, slots=True)
class Retry:
    """The attempt fails; restate-server retries after ``retry_after`` or its policy's delay."""

    code: int
    message: str
    stacktrace: str = ""
    retry_after: timedelta | None = None

    @property
    def next_retry_delay_ms(self) -> int | None:
        """``ErrorMessage.next_retry_delay``: None leaves the delay to the server's retry policy."""
        if self.retry_after is None:
            return None
        return max(0, int(self.retry_after.total_seconds() * 1000))

    def next_step(self) -> str:
        if self.retry_after is None:
            return "Restate retries it (server retry policy)"
        return f"Restate retries it after {_seconds(self.retry_after)}"


@dataclass(frozen=True, slots=True)
class Pause:
    """The invocation pauses until an operator resumes it (``ErrorMessage.behavior`` PAUSE, V7)."""

    code: int
    message: str
    stacktrace: str = ""

    def fallback(self) -> Retry:
        """What to send on protocol V5/V6, which cannot pause: a retried failure that says so."""
        return Retry(
            self.code, f"{self.message} (pausing needs service protocol V7: retried instead)", self.stacktrace
        )

    def next_step(self) -> str:
        return "the invocation is paused until it is resumed"


Verdict = Terminal | Retry | Pause


def classify(
    exc: BaseException, *, handler: str, as_terminal_error: AsTerminalError | None = None
) -> Verdict:
    """What ``exc``, raised by user code in ``handler`` ("Service.handler"), does to the attempt.

    The runtime handles its own control-flow exceptions (suspension, the end of the attempt)
    before calling this; see the module docstring for the rules.
    """
    if not isinstance(exc, Exception):
        return Retry(500, _base_exception_message(exc, handler), _stacktrace(exc))
    for e in _chain(exc):
        if isinstance(e, TerminalError):
            if _code(e.status_code) != e.status_code:  # the failure report itself must encode
                return Terminal(
                    TerminalError(f"{e.message} (status {e.status_code!r} is not a uint32)", 500, e.metadata)
                )
            return Terminal(e)
        if isinstance(e, RetryableError):
            return Retry(_code(e.status_code), e.message, _stacktrace(exc), e.retry_after)
        if isinstance(e, PauseError):
            return Pause(500, e.message, _stacktrace(exc))
        if isinstance(e, SdkUsageError):
            return Terminal(TerminalError(f"{handler}: {e}"))
    if as_terminal_error is not None:
        try:
            mapped: object = as_terminal_error(exc)
        except Exception as mapper_error:
            return Retry(
                500,
                f"{_describe(exc)} (and as_terminal_error raised {_describe(mapper_error)} while mapping it)",
                _stacktrace(exc),
            )
        if isinstance(mapped, TerminalError):
            return Terminal(mapped)
        if mapped is not None:
            return Terminal(
                TerminalError(
                    f"{handler}: as_terminal_error returned {type(mapped).__name__}, not a TerminalError or None, "
                    f"for {_describe(exc)}; return restate.TerminalError(...) to end the invocation, None to retry"
                )
            )
    return Retry(500, _describe(exc), _stacktrace(exc))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what a traceback of it shows, depth first; each exception once (chains may loop)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        link = e.__cause__ if e.__cause__ is not None else (None if e.__suppress_context__ else e.__context__)
        if link is not None:
            stack.append(link)
        if isinstance(e, BaseExceptionGroup):
            stack.extend(reversed(e.exceptions))  # type: ignore[arg-type]


def _base_exception_message(exc: BaseException, handler: str) -> str:
    what = f"{type(exc).__name__}{_args(exc)}"
    if isinstance(exc, asyncio.CancelledError):
        return f"{handler}: the attempt was cancelled ({what}); Restate retries it"
    hint = ""
    if isinstance(exc, SystemExit):
        hint = (
            " A handler must not exit the process (argparse exits on bad input: use"
            " ArgumentParser(exit_on_error=False), and raise TerminalError for input that can never succeed)."
        )
    return f"{handler} raised {what}; this attempt fails and Restate retries it, the endpoint goes on.{hint}"


def _args(exc: BaseException) -> str:
    return "(" + ", ".join(repr(a) for a in exc.args) + ")"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _stacktrace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _code(code: object) -> int:
    # a status that cannot go into ErrorMessage.code / Failure.code must not break the failure report
    return (
        int(code) if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= _MAX_CODE else 500
    )


def _seconds(d: timedelta) -> str:
    return f"{d.total_seconds():g}s"


def encode_checked(serde: Serde[Any], value: object, what: str, fix: str) -> bytes:
    """``serde.encode(value)``; a failure becomes ``SdkUsageError`` naming ``what``, the type and ``fix``.

    A value the codec cannot encode fails the same way on every retry, so ``classify`` makes it
    terminal. Example: ``encode_checked(info.output_serde, result, "the output", "return a type
    the codec supports, or set output_serde= on the handler")``.
    """
    try:
        return serde.encode(value)
    except Exception as e:
        raise SdkUsageError(
            f"cannot encode {what}: a value of type {_type_name(value)} ({_describe(e)}); {fix}"
        ) from e


def check_key(key: object, target: str) -> str:
    """``key`` if it is a str, else ``SdkUsageError`` naming ``target``, the key's type and the fix."""
    if isinstance(key, str):
        return key
    raise SdkUsageError(
        f"the key of {target} must be a str, got {_type_name(key)} {key!r}; pass str(key) (or f'{{key}}')"
    )


def _type_name(value: object) -> str:
    t = type(value)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def check_as_terminal_error(fn: object, where: str) -> AsTerminalError | None:
    """``fn`` if it can be an ``as_terminal_error=`` (None or a callable), else ``SdkUsageError``."""
    if fn is None or callable(fn):
        return fn  # type: ignore[return-value]
    raise SdkUsageError(
        f"as_terminal_error= of {where} must be a function of an exception returning a TerminalError or None, "
        f"got {_type_name(fn)}"
    )


_MISUSE = {
    "inside_run": (
        "the context was used inside one of its own ctx.run functions; a run function must not use ctx: "
        "pass it the values it needs as arguments, and take durable steps outside the run"
    ),
    "ended": (
        "the context was used after its invocation attempt ended; use ctx only while the handler runs "
        "(a task, thread or callback that outlives the handler must not keep it)"
    ),
    "other_task": (
        "the context was used from a task of another invocation; each invocation must use only the ctx "
        "its handler was given"
    ),
}


def misuse(rule: Literal["inside_run", "ended", "other_task"], invocation_id: str) -> SdkUsageError:
    """The ``SdkUsageError`` for a context used where it does not belong, naming the invocation and the rule."""
    return SdkUsageError(f"invocation {invocation_id or '(unknown)'}: {_MISUSE[rule]}")
