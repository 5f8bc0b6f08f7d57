"""Generate restate_ingress/_sync_client.py from _async_client.py (the way httpcore uses unasync).

The async client is the one definition of the ingress client's surface; the blocking one is the
same text with ``async``/``await`` dropped and the async names swapped for their sync twins.

    uv run python scripts/unasync.py           # rewrite _sync_client.py
    uv run python scripts/unasync.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "packages" / "ingress" / "src" / "restate_ingress"
SOURCE = PACKAGE / "_async_client.py"
TARGET = PACKAGE / "_sync_client.py"

# (pattern, replacement), applied in order to the whole text, docstrings included.
RULES: list[tuple[str, str]] = [
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\basync def\b", "def"),
    (r"\bawait ", ""),
    (r"\bAsyncClient\b", "Client"),
    (r"\bAsyncTarget\b", "Target"),
    (r"\bAsyncWorkflowTarget\b", "WorkflowTarget"),
    (r"\bAsyncInvocationHandle\b", "InvocationHandle"),
    (r"\bAsyncIO\b", "SyncIO"),
    (r"\bAsyncBaseTransport\b", "BaseTransport"),
    (r"\baclose\b", "close"),
]

HEADER = '''"""``Client``, its targets and handles: the blocking ingress client.

GENERATED from ``_async_client.py`` by ``scripts/unasync.py``: do not edit; edit that file and
run ``uv run python scripts/unasync.py``.
"""
'''


def generate() -> str:
    """The text ``_sync_client.py`` must have, formatted with ruff."""
    text = SOURCE.read_text()
    docstring = re.match(r'"""(?:.|\n)*?"""\n', text)
    assert docstring is not None, f"{SOURCE} must start with its docstring"
    body = text[docstring.end() :]
    for pattern, replacement in RULES:
        body = re.sub(pattern, replacement, body)
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(TARGET), "-"],
        input=HEADER + body,
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE,
    )
    return formatted.stdout


def main(argv: list[str]) -> int:
    wanted = generate()
    if "--check" in argv:
        if TARGET.read_text() != wanted:
            print(f"{TARGET} is out of date: run `uv run python scripts/unasync.py`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
