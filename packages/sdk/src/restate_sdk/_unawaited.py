"""A warning for a durable future that is garbage-collected without ever being awaited or combined.

A forgotten ``await`` (``ctx.sleep(delta)`` instead of ``await ctx.sleep(delta)``) otherwise
passes silently. The warning names the place the future was created; its category,
``restate.UnawaitedFutureWarning``, can be made an error, e.g. in pytest::

    filterwarnings = ["error::restate_sdk.UnawaitedFutureWarning"]

How a future type takes part (``TracksAwait`` is a mixin with one slot)::

    class RestateFuture(TracksAwait, Generic[T]):
        def __init__(self, ...):
            self._track_unawaited(scope, "ctx.sleep()")   # or self._unawaited = None: not tracked
        def __await__(self):
            self._mark_awaited()                          # also when a combinator takes it

One ``AwaitScope`` per attempt: futures warn only while their scope is open. Close it before an
attempt that suspends or fails drops its frames (the futures it never reached are not forgotten,
the attempt simply ended); after the handler returned, ``check()`` raises a warning that a filter
turned into an error: inside ``__del__`` it could only be printed.
"""

from __future__ import annotations

import sys
import warnings

__all__ = ["AwaitScope", "TracksAwait", "UnawaitedFutureWarning"]


class UnawaitedFutureWarning(RuntimeWarning):
    """A durable future was garbage-collected without being awaited or passed to a combinator."""


class AwaitScope:
    """The futures of one attempt: ``close()`` silences them, ``check()`` raises a warning made an error."""

    __slots__ = ("errors", "open")

    def __init__(self) -> None:
        self.open = True
        self.errors: list[Warning] = []

    def close(self) -> None:
        self.open = False

    def check(self) -> None:
        """Raise the first warning that a filter made an error (``-W error::...``), if any."""
        if self.errors:
            error, self.errors = self.errors[0], []
            raise error


_REGISTRY: dict[
    str | tuple[str, type[Warning], int], int
] = {}  # warn_explicit's "already shown" registry for these warnings
_SDK = "restate_sdk"


class TracksAwait:
    """Mixin: warn with ``UnawaitedFutureWarning`` when collected while still unawaited."""

    __slots__ = ("_unawaited",)

    _unawaited: tuple[AwaitScope, str, str, int, str] | None  # scope, what, filename, line, module

    def _track_unawaited(self, scope: AwaitScope, what: str) -> None:
        """Watch this object; ``what`` names it in the warning (e.g. ``"ctx.sleep()"``).

        Call it from the object's constructor: the creation site is the first caller outside
        the SDK (``restate_sdk.*`` modules).
        """
        frame = sys._getframe(2)  # skip the constructor that calls this, then the SDK's frames
        while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(_SDK):
            frame = frame.f_back  # the first frame outside the SDK: where the user created it
        self._unawaited = (
            scope,
            what,
            frame.f_code.co_filename,
            frame.f_lineno,
            frame.f_globals.get("__name__", ""),
        )

    def _mark_awaited(self) -> None:
        self._unawaited = None

    def __del__(self) -> None:
        info = getattr(self, "_unawaited", None)
        if info is None:
            return
        scope, what, filename, lineno, module = info
        if not scope.open:
            return
        try:
            warnings.warn_explicit(
                f"{what} created at {filename}:{lineno} was never awaited (a missing `await`?): await it, "
                "or pass it to a combinator such as restate.gather",
                UnawaitedFutureWarning,
                filename,
                lineno,
                module=module,
                registry=_REGISTRY,
            )
        except Warning as e:  # a filter made it an error: __del__ cannot raise, the scope's check() will
            scope.errors.append(e)
        except Exception:  # interpreter shutdown: the warnings machinery may be gone
            pass
