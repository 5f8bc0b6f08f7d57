"""Errors raised by restate_testing.

::

    RuntimeError
    ├─ RestateStartError      restate-server (or the app, or the registration) did not come up;
    │                         the server log is attached with add_note()
    └─ ProvisionError         no restate-server binary could be found or downloaded
"""

from __future__ import annotations

__all__ = ["ProvisionError", "RestateStartError"]

# How much of a log goes into an exception note: enough to see the cause, not a wall of text.
_NOTE_LINES = 80


class RestateStartError(RuntimeError):
    """restate-server, the served app or its registration failed to come up."""

    def attach_logs(self, title: str, logs: str) -> RestateStartError:
        """Attach the tail of a log as a note (shown under the traceback); returns self."""
        lines = logs.rstrip().splitlines()
        tail = lines[-_NOTE_LINES:]
        skipped = f" (last {len(tail)} of {len(lines)} lines)" if len(lines) > len(tail) else ""
        body = "\n".join(tail) if tail else "<empty>"
        self.add_note(f"--- {title}{skipped} ---\n{body}")
        return self


class ProvisionError(RuntimeError):
    """No restate-server binary could be found, downloaded or unpacked."""
