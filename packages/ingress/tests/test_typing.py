"""Runs pyright (strict) over typing/usage.py: calls typed by the handler function stay typed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

USAGE = Path(__file__).parent / "typing" / "usage.py"


def test_usage_type_checks() -> None:
    pyright = shutil.which("pyright")
    if pyright is None:
        pytest.skip("pyright is not installed")
    result = subprocess.run(
        [pyright, str(USAGE)], capture_output=True, text=True, timeout=240, cwd=Path(__file__).parents[3]
    )
    if not re.search(r"\d+ errors?, \d+ warnings?", result.stdout):
        pytest.skip(f"pyright did not run: {result.stdout[-500:]}{result.stderr[-500:]}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
