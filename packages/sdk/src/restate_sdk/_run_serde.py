"""Which serde ``ctx.run`` journals a result with: one choice, shared by the SDK and restate_mocks.

An explicit ``serde`` wins, then ``type_hint``, then the function's declared return type (string
annotations, as ``from __future__ import annotations`` makes them, resolved); without any, the
result is any JSON.
"""

from __future__ import annotations

import contextlib
import typing
import weakref
from collections.abc import Callable
from typing import Any

from ._codecs import JsonSerde, Serde, serde_for

__all__ = ["return_type", "run_serde"]

_ANY_JSON: JsonSerde[Any] = JsonSerde()


def run_serde(fn: Callable[..., Any], type_hint: Any, serde: Serde[Any] | None) -> Serde[Any]:
    """The serde a run of ``fn`` encodes and decodes its result with."""
    if serde is not None:
        return serde
    if type_hint is None:
        type_hint = return_type(fn)
    return _ANY_JSON if type_hint is Any else serde_for(type_hint)


def return_type(fn: Callable[..., Any]) -> Any:
    """The declared return type of a run's function (string annotations resolved), else Any."""
    try:
        return _RETURN_TYPES[fn]
    except (KeyError, TypeError):  # not seen yet, or not weak-referenceable (builtins)
        pass
    try:
        hint = typing.get_type_hints(fn).get("return", Any)
    except Exception:  # unresolvable names, callables without annotations
        hint = Any
    with contextlib.suppress(TypeError):
        _RETURN_TYPES[fn] = hint
    return hint


# Resolving string annotations compiles and evaluates them: once per function is enough. Weak keys, so
# closures made per call do not pile up.
_RETURN_TYPES: weakref.WeakKeyDictionary[Callable[..., Any], Any] = weakref.WeakKeyDictionary()
