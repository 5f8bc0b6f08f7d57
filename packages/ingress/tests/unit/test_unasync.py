"""The blocking client is generated from the async one (scripts/unasync.py): same surface."""

from __future__ import annotations

import inspect

import restate_ingress as ingress


def test_the_twins_have_the_same_methods_and_parameters() -> None:
    pairs = [
        (ingress.Client, ingress.AsyncClient),
        (ingress.Target, ingress.AsyncTarget),
        (ingress.WorkflowTarget, ingress.AsyncWorkflowTarget),
        (ingress.InvocationHandle, ingress.AsyncInvocationHandle),
    ]
    renamed = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
    for sync_cls, async_cls in pairs:
        sync_names = {n for n in dir(sync_cls) if not n.startswith("_") or n in renamed}
        async_names = {n for n in dir(async_cls) if not n.startswith("_") or n in renamed.values()}
        assert {renamed.get(n, n) for n in sync_names} == async_names, sync_cls
        for name in sync_names - set(renamed):
            sync_attr, async_attr = getattr(sync_cls, name), getattr(async_cls, name)
            if callable(sync_attr):
                sync_params = list(inspect.signature(sync_attr).parameters.values())
                async_params = list(inspect.signature(async_attr).parameters.values())
                assert [(p.name, p.kind, p.default) for p in sync_params] == [
                    (p.name, p.kind, p.default) for p in async_params
                ], f"{sync_cls.__name__}.{name}"
