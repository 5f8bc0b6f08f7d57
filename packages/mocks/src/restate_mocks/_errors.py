"""Failures a MockContext reports; all are AssertionErrors, so pytest shows them as test failures.

MockError(AssertionError)
├─ UnexpectedOperationError   strict mode: the handler did something no expectation allows
├─ UnmetExpectationError      verify(): expected operations that did not happen (enough times)
├─ MissingStubError           the handler awaited a result the test never gave (a call, an attach)
└─ HandlerBlockedError        the handler waits for something nothing will ever complete
"""

from __future__ import annotations

__all__ = [
    "HandlerBlockedError",
    "MissingStubError",
    "MockError",
    "UnexpectedOperationError",
    "UnmetExpectationError",
]


class MockError(AssertionError):
    """Base of every failure a MockContext reports."""


class UnexpectedOperationError(MockError):
    """A strict MockContext saw an operation that no expectation matches."""


class UnmetExpectationError(MockError):
    """``verify()`` found expectations that were not met."""


class MissingStubError(MockError):
    """The handler awaited the result of an operation the test gave no result for."""


class HandlerBlockedError(MockError):
    """The handler waits on futures that nothing completes (in production it would suspend forever)."""
