"""The unawaited-future warning, on objects of the test's own (``_futures.py`` hooks the mixin later)."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Generator
from typing import Any, Generic, TypeVar

import pytest
import restate_sdk as restate
from _pytest.config import parse_warning_filter
from restate_sdk._unawaited import AwaitScope, TracksAwait, UnawaitedFutureWarning

T = TypeVar("T")


class Fut(TracksAwait, Generic[T]):
    """A durable future as ``_futures.py`` will be: slotted, generic, tracked unless told not to."""

    __slots__ = ("value",)

    def __init__(self, scope: AwaitScope | None, value: T, what: str = "ctx.sleep()") -> None:
        self.value = value
        if scope is None:
            self._unawaited = None
        else:
            self._track_unawaited(scope, what)

    def __await__(self) -> Generator[Any, None, T]:
        self._mark_awaited()
        return self.value
        yield  # a generator: awaitable without an event loop's help


def line_of(marker: str) -> int:
    with open(__file__) as f:
        return next(i for i, line in enumerate(f, 1) if marker in line and "line_of" not in line)


def test_a_forgotten_future_warns_with_where_it_was_created() -> None:
    scope = AwaitScope()
    with pytest.warns(UnawaitedFutureWarning) as record:
        Fut(scope, 1)  # CREATED-HERE
        gc.collect()
    (w,) = record.list
    assert (w.filename, w.lineno) == (__file__, line_of("# CREATED-HERE"))
    assert str(w.message) == (
        f"ctx.sleep() created at {__file__}:{w.lineno} was never awaited (a missing `await`?): "
        "await it, or pass it to a combinator such as restate.gather"
    )


async def test_an_awaited_future_is_silent() -> None:
    scope = AwaitScope()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert await Fut(scope, 7) == 7
        gc.collect()
    scope.check()


def test_an_untracked_future_is_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Fut(None, 1)
        gc.collect()


def test_a_closed_scope_is_silent() -> None:
    scope = AwaitScope()
    fut = Fut(scope, 1)
    scope.close()  # the attempt suspended or failed: not reaching the future is no mistake
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del fut
        gc.collect()
    scope.check()


async def test_a_handler_that_returns_warns_at_once() -> None:
    scope = AwaitScope()

    async def handler() -> str:
        Fut(scope, None, "ctx.service_call()")  # FORGOTTEN-IN-HANDLER
        return "done"

    with pytest.warns(UnawaitedFutureWarning, match=r"^ctx.service_call\(\) created at") as record:
        assert await handler() == "done"  # CPython frees the frame on return: no gc needed
    assert record.list[0].lineno == line_of("# FORGOTTEN-IN-HANDLER")


def test_a_warning_made_an_error_is_raised_by_check() -> None:
    scope = AwaitScope()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnawaitedFutureWarning)
        Fut(scope, 1)
        gc.collect()
    with pytest.raises(UnawaitedFutureWarning, match="was never awaited"):
        scope.check()
    scope.check()  # raised once


def test_sdk_frames_are_skipped_to_find_the_creation_site() -> None:
    # a factory the way ctx.sleep() is: defined in a module of the SDK
    namespace: dict[str, Any] = {"__name__": "restate_sdk._fake_context", "Fut": Fut}
    exec(
        "def sleep(scope):\n    return inner(scope)\ndef inner(scope):\n    return Fut(scope, 1)\n", namespace
    )
    scope = AwaitScope()
    with pytest.warns(UnawaitedFutureWarning) as record:
        namespace["sleep"](scope)  # USER-CALL
        gc.collect()
    assert (record.list[0].filename, record.list[0].lineno) == (__file__, line_of("# USER-CALL"))


def test_the_category_is_public_and_pytest_can_name_it() -> None:
    assert restate.UnawaitedFutureWarning is UnawaitedFutureWarning
    assert issubclass(UnawaitedFutureWarning, RuntimeWarning)
    action, _, category, _, _ = parse_warning_filter(
        "error::restate_sdk.UnawaitedFutureWarning", escape=False
    )
    assert (action, category) == ("error", UnawaitedFutureWarning)


def test_nothing_is_added_to_the_instances_but_one_slot() -> None:
    assert TracksAwait.__slots__ == ("_unawaited",)
    assert not hasattr(Fut(None, 1), "__dict__")
