"""The mock_context fixture, through the pytest11 entry point, in a separate pytest run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = """
from datetime import timedelta

from restate_mocks import MockContext


async def test_met(mock_context):
    ctx = mock_context(key="a", strict=True)
    assert isinstance(ctx, MockContext)
    ctx.expect_sleep(timedelta(seconds=1))
    await ctx.sleep(timedelta(seconds=1))


def test_unmet(mock_context):
    ctx = mock_context()
    ctx.expect_cancel("inv_1")


def test_swallowed(mock_context):
    ctx = mock_context(strict=True)
    try:
        ctx.cancel_invocation("inv_2")
    except AssertionError:
        pass


def test_failing_on_its_own(mock_context):
    ctx = mock_context()
    ctx.expect_cancel("inv_3")
    assert 1 == 2
"""


def test_the_fixture_verifies_every_mock_at_teardown(tmp_path: Path) -> None:
    (tmp_path / "test_handlers.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:restate_testing",
            "-p",
            "no:hypothesispytest",
            "-rA",
            str(tmp_path),
        ],
        capture_output=True,
        env={**os.environ, "COLUMNS": "300"},
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    out = result.stdout
    assert "PASSED test_handlers.py::test_met" in out, out
    assert "ERROR test_handlers.py::test_unmet - restate_mocks.UnmetExpectationError" in out, out
    assert "cancel 'inv_1': expected 1 time, happened 0 times" in out, out
    assert "ERROR test_handlers.py::test_swallowed - restate_mocks.UnexpectedOperationError" in out, out
    assert "FAILED test_handlers.py::test_failing_on_its_own" in out, out
    assert "ERROR test_handlers.py::test_failing_on_its_own" not in out, out
    assert "1 failed, 3 passed, 2 errors" in out, out  # a teardown error still counts the call as passed
