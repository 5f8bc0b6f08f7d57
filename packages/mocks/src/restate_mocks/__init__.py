"""MockContext: unit-test Restate handlers without a server.

Example::

    from restate_mocks import MockContext

    ctx = MockContext(key="a", state={"count": 1})
    assert await add(ctx, 2) == 3
    assert ctx.state["count"] == 3

Expectations, Go-mock style (``verify()``, or the ``mock_context`` pytest fixture, checks them)::

    ctx = MockContext(strict=True)
    ctx.expect_call(charge, ANY).returns(Receipt(ok=True))
    ctx.expect_send(expire, key="u1", delay=timedelta(minutes=15))
    await checkout(ctx, order)
    ctx.verify()
"""

from __future__ import annotations

import contextlib

from ._context import MockContext, MockPromise
from ._errors import (
    HandlerBlockedError,
    MissingStubError,
    MockError,
    UnexpectedOperationError,
    UnmetExpectationError,
)
from ._expectations import (
    ANY,
    AttachExpectation,
    AwakeableExpectation,
    CallExpectation,
    Expectation,
    RunExpectation,
    SendExpectation,
    SignalExpectation,
    SleepExpectation,
)
from ._records import (
    AwakeableRecord,
    CallRecord,
    CompletionRecord,
    RunRecord,
    SignalRecord,
    SleepRecord,
)

__version__ = "0.1.0"

__all__ = [
    "ANY",
    "AttachExpectation",
    "AwakeableExpectation",
    "AwakeableRecord",
    "CallExpectation",
    "CallRecord",
    "CompletionRecord",
    "Expectation",
    "HandlerBlockedError",
    "MissingStubError",
    "MockContext",
    "MockError",
    "MockPromise",
    "RunExpectation",
    "RunRecord",
    "SendExpectation",
    "SignalExpectation",
    "SignalRecord",
    "SleepExpectation",
    "SleepRecord",
    "UnexpectedOperationError",
    "UnmetExpectationError",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("restate_mocks."):
        with contextlib.suppress(AttributeError, TypeError):
            _obj.__module__ = "restate_mocks"
