"""The API reference builds in strict mode: a broken cross-reference, a guide link into the
reference that goes nowhere, or an undocumented public name (tools/mkdocs_hooks.py) fails it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def test_the_api_reference_builds_in_strict_mode(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "site" / "reference" / "restate_sdk.html").read_text()
    for anchor in (
        "restate_sdk.Context.service_call",
        "restate_sdk.SyncContext.run",
        "restate_sdk.ServiceHandler",
    ):
        assert f'id="{anchor}"' in page, anchor
    for package in ("restate_ingress", "restate_mocks", "restate_testing", "restate_otel"):
        assert (tmp_path / "site" / "reference" / f"{package}.html").is_file(), package
