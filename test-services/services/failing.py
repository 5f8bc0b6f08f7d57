"""Failing: terminal errors (with metadata), retried handlers and retried runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import restate_sdk as restate
from restate_sdk import ObjectContext

__all__ = ["failing"]

failing = restate.VirtualObject("Failing")


@dataclass
class FailureToPropagate:
    errorMessage: str
    metadata: dict[str, str] = field(default_factory=dict[str, str])


class _Counter:
    """A process-global attempt counter (shared by concurrent tests, hence their ``>=`` checks)."""

    def __init__(self) -> None:
        self.value = 0

    def increment(self) -> int:
        self.value += 1
        return self.value


_eventual_success_calls = _Counter()
_eventual_success_side_effects = _Counter()
_eventual_failure_side_effects = _Counter()


def _terminal(failure: FailureToPropagate) -> restate.TerminalError:
    return restate.TerminalError(failure.errorMessage, metadata=failure.metadata or None)


@failing.handler(name="terminallyFailingCall")
async def terminally_failing_call(ctx: ObjectContext, failure: FailureToPropagate) -> None:
    raise _terminal(failure)


@failing.handler(name="callTerminallyFailingCall")
async def call_terminally_failing_call(ctx: ObjectContext, failure: FailureToPropagate) -> str:
    await ctx.object_call(terminally_failing_call, str(ctx.uuid()), failure)
    raise restate.TerminalError("This should be unreachable")


@failing.handler(name="failingCallWithEventualSuccess")
async def failing_call_with_eventual_success(ctx: ObjectContext) -> int:
    attempt = _eventual_success_calls.increment()
    if attempt >= 4:
        _eventual_success_calls.value = 0
        return 4
    raise ValueError(f"Failed at attempt: {attempt}")


@failing.handler(name="terminallyFailingSideEffect")
async def terminally_failing_side_effect(ctx: ObjectContext, failure: FailureToPropagate) -> None:
    def fail() -> None:
        raise _terminal(failure)

    await ctx.run("sideEffect", fail)
    raise restate.TerminalError("Should not be reached.")


@failing.handler(name="sideEffectSucceedsAfterGivenAttempts")
async def side_effect_succeeds_after_given_attempts(ctx: ObjectContext, minimum_attempts: int) -> int:
    def succeed_eventually() -> int:
        attempt = _eventual_success_side_effects.increment()
        if attempt >= minimum_attempts:
            return attempt
        raise ValueError(f"Failed at attempt: {attempt}")

    return await ctx.run(
        "failing-side-effect",
        succeed_eventually,
        max_attempts=minimum_attempts + 1,
        initial_retry_interval=timedelta(milliseconds=1),
        retry_interval_factor=1.0,
    )


@failing.handler(name="sideEffectFailsAfterGivenAttempts")
async def side_effect_fails_after_given_attempts(ctx: ObjectContext, max_retry_count: int) -> int:
    def always_fail() -> None:
        attempt = _eventual_failure_side_effects.increment()
        raise ValueError(f"Failed at attempt: {attempt}")

    try:
        await ctx.run(
            "failing-side-effect",
            always_fail,
            max_attempts=max_retry_count,
            initial_retry_interval=timedelta(milliseconds=1),
            retry_interval_factor=1.0,
        )
    except restate.TerminalError:
        return _eventual_failure_side_effects.value
    raise restate.TerminalError("Expecting the side effect to fail!")
