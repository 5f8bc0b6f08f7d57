"""Generated files (scripts/unasync.py) are up to date with the one definition they come from:
the Sync contexts with the Context Protocols, the blocking ingress client with the async one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[4] / "scripts" / "unasync.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


UNASYNC = _script()


@pytest.mark.parametrize("job", UNASYNC.JOBS, ids=lambda job: job.target.name)
def test_the_generated_file_is_up_to_date(job: UNASYNC.Job) -> None:  # pyright: ignore[reportInvalidTypeForm]
    assert job.target.read_text() == job.generate(), (
        f"{job.target.name} is out of date: run `uv run python scripts/unasync.py`"
    )
