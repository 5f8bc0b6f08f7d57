"""User code through pyright strict: cases/*.py must type-check, and each line marked
``# pyright: ignore[rule]`` must be rejected for that rule (reportUnnecessaryTypeIgnoreComment is on).

The cases cover handler references (kind, key, input; def and async handlers), the Context and
the Sync contexts, handler options, MockContext and the ingress clients.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CASES = Path(__file__).parent / "cases"


def test_the_typing_cases_pass_pyright_strict() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyright",
            "--outputjson",
            "-p",
            str(CASES / "pyrightconfig.json"),
            "--pythonpath",
            sys.executable,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=CASES,
    )
    report = json.loads(result.stdout)  # no JSON: pyright itself did not run, and this fails
    problems = [
        f"{Path(d['file']).name}:{d['range']['start']['line'] + 1}: {d.get('rule')}: {d['message']}"
        for d in report["generalDiagnostics"]
    ]
    assert not problems, "\n".join(problems)
    assert report["summary"]["filesAnalyzed"] == len(list(CASES.glob("*.py")))
