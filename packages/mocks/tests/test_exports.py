"""The public names: one sorted __all__, each with a docstring and the package as its module."""

from __future__ import annotations

import restate_mocks


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in dir(restate_mocks) if name.isidentifier() and not name.startswith("_")}
    public -= {"annotations", "contextlib"}
    assert restate_mocks.__all__ == sorted(restate_mocks.__all__)
    assert set(restate_mocks.__all__) == public


def test_public_classes_are_documented_and_report_the_package_as_module() -> None:
    for name in restate_mocks.__all__:
        obj = getattr(restate_mocks, name)
        if isinstance(obj, type):
            assert obj.__doc__, name
            assert obj.__module__ == "restate_mocks", name
