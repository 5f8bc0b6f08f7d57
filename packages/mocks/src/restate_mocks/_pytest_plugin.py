"""pytest plugin (entry point ``pytest11``): the ``mock_context`` fixture.

``mock_context`` is the MockContext class, with one difference: every context a test makes with
it is verified when the test ends (unless the test already failed), so an unmet expectation or
a failure the handler swallowed fails the test::

    async def test_add(mock_context):
        ctx = mock_context(key="a", state={"count": 1}, strict=True)
        ctx.expect_send(notify, 3)
        assert await add(ctx, 2) == 3
        # teardown: ctx.verify()

Without the entry point (e.g. the package is not installed), list the plugin in a conftest.py:
``pytest_plugins = ["restate_mocks._pytest_plugin"]``.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from ._context import MockContext

__all__ = ["mock_context", "pytest_runtest_makereport"]

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if call.when == "call":
        item.stash[_CALL_FAILED] = bool(report.failed)
    return report


@pytest.fixture
def mock_context(request: pytest.FixtureRequest) -> Generator[type[MockContext]]:
    """MockContext, verified at teardown: ``ctx = mock_context(key="a", strict=True)``."""
    made: list[MockContext] = []

    class VerifiedMockContext(MockContext):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            made.append(self)

    VerifiedMockContext.__name__ = VerifiedMockContext.__qualname__ = "MockContext"
    yield VerifiedMockContext
    if request.node.stash.get(_CALL_FAILED, False):
        return  # the test's own failure says more; do not pile verification errors on top
    for ctx in made:
        ctx.verify()
