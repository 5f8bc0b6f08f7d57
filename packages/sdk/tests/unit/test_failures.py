"""What each exception raised by user code does to the attempt (``_failures.classify``)."""

from __future__ import annotations

import asyncio
import traceback
from datetime import timedelta

import pytest
import restate_sdk as restate
from restate_sdk._codecs import JsonSerde, serde_for
from restate_sdk._failures import Pause, Retry, Terminal, check_key, classify, encode_checked, misuse

H = "Greeter.greet"


class AppError(Exception):
    pass


class Opaque:
    pass


def raised(fn: object) -> BaseException:
    """The exception ``fn()`` raises, with its traceback and chain as Python builds them."""
    assert callable(fn)
    try:
        fn()
    except BaseException as e:
        return e
    raise AssertionError("fn did not raise")


# ---- Restate errors ------------------------------------------------------------------------------


def test_a_terminal_error_is_terminal_as_is() -> None:
    err = restate.TerminalError("card declined", status_code=402, metadata={"card": "visa"})
    verdict = classify(err, handler=H)
    assert verdict == Terminal(err)
    assert verdict.next_step() == "the invocation fails with status 402"


def test_a_terminal_error_as_the_cause_is_terminal() -> None:
    inner = restate.TerminalError("no such user", status_code=404)

    def fn() -> None:
        raise AppError("lookup failed") from inner

    assert classify(raised(fn), handler=H) == Terminal(inner)


def test_a_terminal_error_as_the_context_is_terminal() -> None:
    inner = restate.TerminalError("no such user", status_code=404)

    def fn() -> None:
        try:
            raise inner
        except restate.TerminalError:
            raise KeyError("cleanup")  # noqa: B904 - an implicit __context__ on purpose

    assert classify(raised(fn), handler=H) == Terminal(inner)


def test_a_terminal_error_deep_in_the_chain_is_found() -> None:
    inner = restate.TerminalError("deep", status_code=422)

    def fn() -> None:
        try:
            try:
                raise inner
            except restate.TerminalError as e:
                raise ValueError("middle") from e
        except ValueError:
            raise RuntimeError("top")  # noqa: B904 - an implicit __context__ on purpose

    assert classify(raised(fn), handler=H) == Terminal(inner)


def test_raise_from_none_hides_the_context() -> None:
    def fn() -> None:
        try:
            raise restate.TerminalError("hidden")
        except restate.TerminalError:
            raise AppError("transient") from None

    verdict = classify(raised(fn), handler=H)
    assert isinstance(verdict, Retry)
    assert verdict.message == "AppError: transient"


def test_a_cyclic_chain_ends() -> None:
    a, b = AppError("a"), ValueError("b")
    a.__context__ = b
    b.__context__ = a
    verdict = classify(a, handler=H)
    assert isinstance(verdict, Retry)
    assert verdict.message == "AppError: a"


def test_a_self_cycle_ends() -> None:
    a = AppError("a")
    a.__cause__ = a
    assert isinstance(classify(a, handler=H), Retry)


def test_the_outermost_restate_error_wins() -> None:
    def fn() -> None:
        try:
            raise restate.TerminalError("was terminal")
        except restate.TerminalError as e:
            raise restate.RetryableError("try again", retry_after=timedelta(seconds=3)) from e

    verdict = classify(raised(fn), handler=H)
    assert isinstance(verdict, Retry)
    assert verdict.message == "try again"
    assert verdict.next_retry_delay_ms == 3000


def test_an_exception_group_with_a_terminal_member_is_terminal() -> None:
    inner = restate.TerminalError("one task failed for good")
    group = ExceptionGroup("tasks", [ValueError("other"), inner])
    assert classify(group, handler=H) == Terminal(inner)


def test_retryable_error_carries_status_and_retry_after() -> None:
    err = restate.RetryableError("busy", status_code=503, retry_after=timedelta(milliseconds=1500))
    verdict = classify(err, handler=H)
    assert isinstance(verdict, Retry)
    assert (verdict.code, verdict.message, verdict.next_retry_delay_ms) == (503, "busy", 1500)
    assert verdict.next_step() == "Restate retries it after 1.5s"
    assert "RetryableError: busy" in verdict.stacktrace


def test_retryable_error_without_retry_after_leaves_the_delay_to_the_server() -> None:
    verdict = classify(restate.RetryableError("busy"), handler=H)
    assert isinstance(verdict, Retry)
    assert verdict.next_retry_delay_ms is None
    assert verdict.next_step() == "Restate retries it (server retry policy)"


@pytest.mark.parametrize("code", [-1, 2**32, "503", False])
def test_a_status_the_wire_cannot_carry_becomes_500(code: object) -> None:
    verdict = classify(restate.RetryableError("x", status_code=code), handler=H)  # type: ignore[arg-type]
    assert isinstance(verdict, Retry)
    assert verdict.code == 500


@pytest.mark.parametrize("code", [-1, 2**32, "404", True])
def test_a_terminal_status_the_wire_cannot_carry_becomes_500(code: object) -> None:
    verdict = classify(restate.TerminalError("gone", status_code=code, metadata={"a": "b"}), handler=H)  # type: ignore[arg-type]
    assert isinstance(verdict, Terminal)
    assert (verdict.error.status_code, verdict.error.metadata) == (500, {"a": "b"})
    assert verdict.error.message == f"gone (status {code!r} is not a uint32)"


def test_an_int_enum_status_is_kept() -> None:
    from http import HTTPStatus

    err = restate.TerminalError("gone", status_code=HTTPStatus.GONE)
    assert classify(err, handler=H) == Terminal(err)


def test_retry_after_must_be_a_timedelta() -> None:
    with pytest.raises(
        TypeError, match=r"^retry_after must be a datetime.timedelta, got int: pass timedelta\(seconds=5\)$"
    ):
        restate.RetryableError("busy", retry_after=5)  # type: ignore[arg-type]


def test_a_negative_retry_after_is_no_delay() -> None:
    verdict = classify(restate.RetryableError("x", retry_after=timedelta(seconds=-5)), handler=H)
    assert isinstance(verdict, Retry)
    assert verdict.next_retry_delay_ms == 0


def test_pause_error_pauses() -> None:
    verdict = classify(restate.PauseError("fix the config, then resume"), handler=H)
    assert isinstance(verdict, Pause)
    assert (verdict.code, verdict.message) == (500, "fix the config, then resume")
    assert verdict.next_step() == "the invocation is paused until it is resumed"


def test_pause_falls_back_to_a_retry_below_v7() -> None:
    verdict = classify(restate.PauseError("stop"), handler=H)
    assert isinstance(verdict, Pause)
    fallback = verdict.fallback()
    assert fallback.code == 500
    assert fallback.message == "stop (pausing needs service protocol V7: retried instead)"
    assert fallback.next_retry_delay_ms is None


def test_timeout_error_is_a_terminal_408() -> None:
    err = restate.TimeoutError("the payment did not answer within 5s")
    assert isinstance(err, restate.TerminalError)
    assert not isinstance(err, TimeoutError)  # the builtin: a user's `except TimeoutError` is not ours
    assert (err.status_code, err.message) == (408, "the payment did not answer within 5s")
    assert classify(err, handler=H) == Terminal(err)


# ---- deterministic SDK failures ------------------------------------------------------------------


def test_a_usage_error_is_terminal_and_names_the_handler() -> None:
    verdict = classify(restate.SdkUsageError("service_call on an object handler; use object_call"), handler=H)
    assert isinstance(verdict, Terminal)
    assert verdict.error.status_code == 500
    assert verdict.error.message == "Greeter.greet: service_call on an object handler; use object_call"


def test_an_output_the_codec_cannot_encode_is_terminal_with_type_and_fix() -> None:
    def fn() -> None:
        encode_checked(
            serde_for(object), Opaque(), "the output", "return a supported type, or set output_serde="
        )

    verdict = classify(raised(fn), handler=H)
    assert isinstance(verdict, Terminal)
    msg = verdict.error.message
    assert msg.startswith("Greeter.greet: cannot encode the output: a value of type ")
    assert "test_failures.Opaque" in msg
    assert "Encoding objects of type Opaque is unsupported" in msg
    assert msg.endswith("; return a supported type, or set output_serde=")


def test_encode_checked_returns_the_bytes() -> None:
    assert encode_checked(JsonSerde[int](int), 3, "the output", "-") == b"3"


def test_the_original_encoding_error_stays_the_cause() -> None:
    with pytest.raises(restate.SdkUsageError) as info:
        encode_checked(serde_for(object), [Opaque()], "the result of ctx.run 'step'", "pass type_hint=")
    assert isinstance(info.value.__cause__, TypeError)
    assert "a value of type list" in str(info.value)


def test_a_key_of_the_wrong_type_is_a_terminal_usage_error() -> None:
    assert check_key("a", "Counter.add") == "a"
    err = raised(lambda: check_key(42, "Counter.add"))
    assert str(err) == "the key of Counter.add must be a str, got int 42; pass str(key) (or f'{key}')"
    verdict = classify(err, handler=H)
    assert isinstance(verdict, Terminal)
    assert verdict.error.message.startswith("Greeter.greet: the key of Counter.add must be a str, got int")


def test_a_usage_error_in_the_chain_is_terminal() -> None:
    def fn() -> None:
        try:
            check_key(1.5, "Counter.add")
        except restate.SdkUsageError as e:
            raise AppError("could not add") from e

    verdict = classify(raised(fn), handler=H)
    assert isinstance(verdict, Terminal)
    assert "got float 1.5" in verdict.error.message


# ---- other exceptions ----------------------------------------------------------------------------


def test_any_other_exception_is_retried_with_its_stacktrace() -> None:
    def fn() -> None:
        raise ConnectionError("db down")

    verdict = classify(raised(fn), handler=H)
    assert isinstance(verdict, Retry)
    assert (verdict.code, verdict.message, verdict.retry_after) == (500, "ConnectionError: db down", None)
    assert "in fn" in verdict.stacktrace
    assert verdict.stacktrace.rstrip().endswith("ConnectionError: db down")


def test_an_exception_without_text_is_named() -> None:
    verdict = classify(KeyError(), handler=H)
    assert isinstance(verdict, Retry)
    assert verdict.message == "KeyError"


@pytest.mark.parametrize(
    ("exc", "shown"),
    [
        (SystemExit(2), "SystemExit(2)"),
        (KeyboardInterrupt(), "KeyboardInterrupt()"),
        (GeneratorExit(), "GeneratorExit()"),
    ],
)
def test_a_base_exception_fails_the_attempt_with_a_clear_message(exc: BaseException, shown: str) -> None:
    verdict = classify(exc, handler=H)
    assert isinstance(verdict, Retry)
    assert verdict.code == 500
    assert verdict.message.startswith(
        f"Greeter.greet raised {shown}; this attempt fails and Restate retries it"
    )


def test_system_exit_names_the_argparse_fix() -> None:
    verdict = classify(SystemExit(2), handler=H)
    assert isinstance(verdict, Retry)
    assert "exit_on_error=False" in verdict.message


def test_a_base_exception_is_not_shown_to_as_terminal_error() -> None:
    seen: list[BaseException] = []

    def mapper(e: Exception) -> restate.TerminalError | None:
        seen.append(e)
        return restate.TerminalError("mapped")

    assert isinstance(classify(SystemExit(1), handler=H, as_terminal_error=mapper), Retry)
    assert seen == []


def test_cancellation_reaching_the_classifier_is_a_retry() -> None:
    verdict = classify(asyncio.CancelledError(), handler=H)
    assert isinstance(verdict, Retry)
    assert (
        verdict.message == "Greeter.greet: the attempt was cancelled (CancelledError()); Restate retries it"
    )


# ---- as_terminal_error ---------------------------------------------------------------------------


def value_errors_are_terminal(e: Exception) -> restate.TerminalError | None:
    if isinstance(e, ValueError):
        return restate.TerminalError(f"bad value: {e}", status_code=400)
    return None


def test_as_terminal_error_maps_an_exception() -> None:
    verdict = classify(ValueError("x"), handler=H, as_terminal_error=value_errors_are_terminal)
    assert isinstance(verdict, Terminal)
    assert (verdict.error.message, verdict.error.status_code) == ("bad value: x", 400)


def test_as_terminal_error_none_keeps_retrying() -> None:
    verdict = classify(OSError("x"), handler=H, as_terminal_error=value_errors_are_terminal)
    assert verdict == Retry(500, "OSError: x", verdict.stacktrace if isinstance(verdict, Retry) else "")


def test_as_terminal_error_does_not_override_a_restate_error() -> None:
    verdict = classify(
        restate.RetryableError("busy", status_code=503),
        handler=H,
        as_terminal_error=lambda e: restate.TerminalError("never"),
    )
    assert isinstance(verdict, Retry)
    assert verdict.code == 503


def test_as_terminal_error_that_raises_keeps_retrying_and_says_so() -> None:
    def broken(e: Exception) -> restate.TerminalError | None:
        raise RuntimeError("mapper bug")

    verdict = classify(ValueError("x"), handler=H, as_terminal_error=broken)
    assert isinstance(verdict, Retry)
    assert (
        verdict.message
        == "ValueError: x (and as_terminal_error raised RuntimeError: mapper bug while mapping it)"
    )


def test_as_terminal_error_returning_something_else_is_a_terminal_usage_error() -> None:
    verdict = classify(ValueError("x"), handler=H, as_terminal_error=lambda e: "nope")  # type: ignore[arg-type,return-value]
    assert isinstance(verdict, Terminal)
    assert verdict.error.message.startswith(
        "Greeter.greet: as_terminal_error returned str, not a TerminalError"
    )


def test_the_stacktrace_is_the_whole_chain() -> None:
    def fn() -> None:
        try:
            raise KeyError("inner")
        except KeyError as e:
            raise ValueError("outer") from e

    exc = raised(fn)
    verdict = classify(exc, handler=H)
    assert isinstance(verdict, Retry)
    assert verdict.stacktrace == "".join(traceback.format_exception(exc))
    assert "KeyError: 'inner'" in verdict.stacktrace


# ---- context misuse messages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("inside_run", "inside one of its own ctx.run functions"),
        ("ended", "after its invocation attempt ended"),
        ("other_task", "from a task of another invocation"),
    ],
)
def test_a_misuse_names_the_invocation_and_the_rule(rule: str, says: str) -> None:
    err = misuse(rule, "inv_1abc")  # type: ignore[arg-type]
    assert isinstance(err, restate.SdkUsageError)
    assert str(err).startswith(f"invocation inv_1abc: the context was used {says}")
    verdict = classify(err, handler=H)
    assert isinstance(verdict, Terminal)
    assert verdict.error.message.startswith("Greeter.greet: invocation inv_1abc: the context was used")


def test_a_misuse_without_an_id_still_reads() -> None:
    assert str(misuse("ended", "")).startswith("invocation (unknown): the context was used after")
