"""Generate the blocking twins of async code (the way httpcore uses unasync).

Two files are generated, each from the one definition of its surface:

- ``restate_sdk/_sync_api.py`` (``SyncContext``... for plain ``def`` handlers) from the Context
  Protocols in ``restate_sdk/_context.py``: ``async``/``await`` dropped, futures unwrapped to
  their values, the classes renamed ``Sync*``;
- ``restate_ingress/_sync_client.py`` (``Client``...) from ``restate_ingress/_async_client.py``.

    uv run python scripts/unasync.py           # rewrite both
    uv run python scripts/unasync.py --check   # exit 1 if one is out of date
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGES = Path(__file__).resolve().parents[1] / "packages"


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path
    start: str
    """The generated text is ``header`` + the source from the first line that starts with this."""
    header: str
    rules: list[tuple[str, str]]
    """(pattern, replacement), applied in order to the whole text, docstrings included."""

    def generate(self) -> str:
        """The text ``target`` must have, formatted with ruff."""
        text = self.source.read_text()
        body = text[text.index(self.start) :]
        for pattern, replacement in self.rules:
            body = re.sub(pattern, replacement, body, flags=re.MULTILINE)
        formatted = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(self.target), "-"],
            input=self.header + body,
            capture_output=True,
            text=True,
            check=True,
            cwd=self.target.parent,
        )
        return formatted.stdout


_CLIENT_RULES: list[tuple[str, str]] = [
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

_GENERATED = "GENERATED from ``{source}`` by ``scripts/unasync.py``: do not edit; edit that file and\nrun ``uv run python scripts/unasync.py``."

CLIENT = Job(
    source=PACKAGES / "ingress/src/restate_ingress/_async_client.py",
    target=PACKAGES / "ingress/src/restate_ingress/_sync_client.py",
    start="from __future__ import annotations",
    header=f'"""``Client``, its targets and handles: the blocking ingress client.\n\n{_GENERATED.format(source="_async_client.py")}\n"""\n\n',
    rules=_CLIENT_RULES,
)

_CONTEXTS = r"\b(Context|ObjectSharedContext|ObjectContext|WorkflowSharedContext|WorkflowContext)\b"

SYNC_CONTEXTS = Job(
    source=PACKAGES / "sdk/src/restate_sdk/_context.py",
    target=PACKAGES / "sdk/src/restate_sdk/_sync_api.py",
    start="class Context(Protocol):",
    header=f'''"""The Context types plain ``def`` handlers annotate with: the same methods, returning values.

{_GENERATED.format(source="_context.py")}

A method that returns a future in ``_context`` returns its value here, blocking the handler's
worker thread (never the event loop). ``awakeable`` returns ``(id, SyncFuture)``, sends return a
``SyncSendHandle``, and ``promise`` a ``SyncDurablePromise``.

    SyncContext                    services
    SyncObjectSharedContext        shared handlers of virtual objects
    SyncObjectContext              exclusive handlers of virtual objects
    SyncWorkflowSharedContext      shared handlers of workflows
    SyncWorkflowContext            the workflow's main handler
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar, Unpack, overload

from ._codecs import Serde
from ._context import CallOptions, Request, SendOptions
from ._definitions import ObjectHandler, ServiceHandler, WorkflowHandler
from ._sync_types import SyncDurablePromise, SyncFuture, SyncSendHandle

__all__ = [
    "SyncContext",
    "SyncObjectContext",
    "SyncObjectSharedContext",
    "SyncWorkflowContext",
    "SyncWorkflowSharedContext",
]

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
O = TypeVar("O")  # noqa: E741


''',
    rules=[
        # the prose first, while it still says "await"
        (r"; await the future for its result", " and wait for its result"),
        (r'"""A future of ', '"""Wait for '),
        (
            r"A durable timer that completes after ``delta``; await it, or race it\.",
            "Sleep durably for ``delta`` (the invocation may suspend meanwhile).",
        ),
        (r"if await (\w+):", r"if \1.result():"),
        (r"\basync def\b", "def"),
        (r"\bawait ", ""),
        # the types: a future's value, the blocking handles
        (r"-> (?:RestateFuture|CallFuture)\[(.*)\]:", r"-> \1:"),
        (r"tuple\[str, RestateFuture\[(.*)\]\]", r"tuple[str, SyncFuture[\1]]"),
        (r"\bSendHandle\b", "SyncSendHandle"),
        (r"\bDurablePromise\b", "SyncDurablePromise"),
        (_CONTEXTS, r"Sync\1"),
    ],
)

JOBS = [SYNC_CONTEXTS, CLIENT]


def main(argv: list[str]) -> int:
    stale = 0
    for job in JOBS:
        wanted = job.generate()
        if "--check" not in argv:
            job.target.write_text(wanted)
        elif job.target.read_text() != wanted:
            print(f"{job.target} is out of date: run `uv run python scripts/unasync.py`", file=sys.stderr)
            stale = 1
    return stale


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
