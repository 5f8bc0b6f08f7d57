"""The README's quickstart is the one .ci/run runs: two command lines, the same in both places."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quickstart_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quickstart\n", 1)[1]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S)
    assert block is not None, "the Quickstart section has no code block"
    return block.group(1).splitlines()


def test_the_quickstart_is_two_command_lines() -> None:
    lines = quickstart_lines()
    assert len(lines) == 2, lines
    assert all(line.strip() and not line.lstrip().startswith("#") for line in lines), lines


def test_ci_runs_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    quickstart = re.search(r"^QUICKSTART_COMMAND='(.*)'$", ci, re.M)
    tests = re.search(r"^TEST_COMMAND=\((.*)\)$", ci, re.M)
    assert quickstart is not None and tests is not None
    assert quickstart_lines() == [quickstart.group(1), tests.group(1)]
