"""The Context surface is declared once, in the Protocols of ``_context``; this fails on any drift.

Every public method of every Protocol must exist, with the same parameter names, kinds and
defaults, on the SDK's invocation context, on ``restate_mocks.MockContext``, on the Sync
Protocols for plain ``def`` handlers, on the SDK's blocking context and on the mock's blocking
view. The Sync Protocols return the values of what the async ones return futures of.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

import pytest
import restate_sdk as restate
from restate_mocks import MockContext
from restate_mocks._context import MockPromise, _MockSyncContext
from restate_sdk._context_impl import InvocationContext, _Promise
from restate_sdk._sync_context import BlockingContext, _SyncPromise

ASYNC = [
    restate.Context,
    restate.ObjectSharedContext,
    restate.ObjectContext,
    restate.WorkflowSharedContext,
    restate.WorkflowContext,
]
SYNC = [
    restate.SyncContext,
    restate.SyncObjectSharedContext,
    restate.SyncObjectContext,
    restate.SyncWorkflowSharedContext,
    restate.SyncWorkflowContext,
]
_OPTION_DEFAULT = "<option>"


def _public(cls: type) -> dict[str, Callable[..., Any]]:
    names = {n for c in cls.__mro__ if c is not object for n in vars(c) if not n.startswith("_")}
    return {n: getattr(cls, n) for n in sorted(names) if callable(getattr(cls, n))}


def _params(fn: Callable[..., Any]) -> list[tuple[str, str, object]]:
    """(name, kind, default) of each parameter; ``**options: Unpack[TD]`` counts as TD's keywords."""
    sig = inspect.signature(fn)
    out: list[tuple[str, str, object]] = []
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            hint = p.annotation
            # a string under `from __future__ import annotations`; some modules import it for typing only
            if isinstance(hint, str):
                hint = eval(hint, {**vars(typing), **vars(restate), **getattr(fn, "__globals__", {})})
            if typing.get_origin(hint) is typing.Unpack:
                (td,) = typing.get_args(hint)
                keys = sorted(td.__required_keys__ | td.__optional_keys__)
                out += [(k, "KEYWORD_ONLY", _OPTION_DEFAULT) for k in keys]
                continue
        default = _OPTION_DEFAULT if p.kind is p.KEYWORD_ONLY and p.default is None else p.default
        out.append((p.name, p.kind.name, default))
    # keyword-only parameters: their order is not part of the surface
    positional = [x for x in out if x[1] != "KEYWORD_ONLY"]
    return positional + sorted(x for x in out if x[1] == "KEYWORD_ONLY")


def _same_surface(declared: type, implementation: type, exact: bool = False) -> None:
    want, have = _public(declared), _public(implementation)
    missing = sorted(set(want) - set(have))
    assert not missing, f"{implementation.__name__} lacks {missing} of {declared.__name__}"
    if exact:
        extra = sorted(set(have) - set(want) - {"close"})
        assert not extra, f"{implementation.__name__} has {extra}, not in {declared.__name__}"
    for name, fn in want.items():
        assert _params(have[name]) == _params(fn), (
            f"{implementation.__name__}.{name} differs from {declared.__name__}"
        )


@pytest.mark.parametrize("protocol", ASYNC, ids=lambda c: c.__name__)
@pytest.mark.parametrize("implementation", [InvocationContext, MockContext], ids=lambda c: c.__name__)
def test_the_implementations_have_every_context_method(protocol: type, implementation: type) -> None:
    _same_surface(protocol, implementation)


@pytest.mark.parametrize("implementation", [BlockingContext, _MockSyncContext], ids=lambda c: c.__name__)
def test_the_blocking_views_have_exactly_the_sync_methods(implementation: type) -> None:
    _same_surface(restate.SyncWorkflowContext, implementation, exact=True)


@pytest.mark.parametrize(
    ("declared", "implementation"),
    [
        (restate.DurablePromise, _Promise),
        (restate.DurablePromise, MockPromise),
        (restate.SyncDurablePromise, _SyncPromise),
    ],
)
def test_the_promises_have_every_promise_method(declared: type, implementation: type) -> None:
    _same_surface(declared, implementation, exact=True)


# What a blocking method returns, from what its async twin returns (annotations are strings here).
_UNWRAP = [
    (r"^(?:RestateFuture|CallFuture)\[(.*)\]$", r"\1"),
    (r"^SendHandle$", "SyncSendHandle"),
    (r"^DurablePromise\[(.*)\]$", r"SyncDurablePromise[\1]"),
    (r"^tuple\[str, RestateFuture\[(.*)\]\]$", r"tuple[str, SyncFuture[\1]]"),
]


def _unwrapped(annotation: str) -> str:
    for pattern, replacement in _UNWRAP:
        if re.match(pattern, annotation):
            return re.sub(pattern, replacement, annotation)
    return annotation


def _signatures(fn: Callable[..., Any]) -> list[Callable[..., Any]]:
    return [*typing.get_overloads(fn), fn]


@pytest.mark.parametrize(
    ("async_cls", "sync_cls"), list(zip(ASYNC, SYNC, strict=True)), ids=lambda c: c.__name__
)
def test_the_sync_protocols_mirror_the_async_ones(async_cls: type, sync_cls: type) -> None:
    async_methods, sync_methods = _public(async_cls), _public(sync_cls)
    assert sorted(sync_methods) == sorted(async_methods)
    for name, afn in async_methods.items():
        a_sigs, s_sigs = _signatures(afn), _signatures(sync_methods[name])
        assert len(a_sigs) == len(s_sigs), f"{name}: overloads differ"
        for a, s in zip(a_sigs, s_sigs, strict=True):
            assert _params(a) == _params(s), f"{sync_cls.__name__}.{name}"
            a_ret, s_ret = inspect.signature(a).return_annotation, inspect.signature(s).return_annotation
            assert not inspect.iscoroutinefunction(s), f"{sync_cls.__name__}.{name} must block, not be async"
            assert _unwrapped(a_ret) == s_ret, (
                f"{sync_cls.__name__}.{name} returns {s_ret}, expected the value of {a_ret}"
            )


@pytest.mark.parametrize(
    "protocol", [*ASYNC, *SYNC, restate.DurablePromise, restate.SyncDurablePromise], ids=lambda c: c.__name__
)
def test_every_context_method_is_documented(protocol: type) -> None:
    undocumented = [n for n, fn in _public(protocol).items() if not (fn.__doc__ or "").strip()]
    assert not undocumented, f"{protocol.__name__}: {undocumented}"
