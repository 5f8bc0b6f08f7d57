from __future__ import annotations

import restate_testing


def test_all_is_sorted_and_complete() -> None:
    # (pytest rewrites plugin modules and adds "@py_builtins"-style names; those are not identifiers)
    public = {n for n in vars(restate_testing) if n.isidentifier() and not n.startswith("_")} - {
        "annotations"
    }
    assert restate_testing.__all__ == sorted(restate_testing.__all__)
    assert set(restate_testing.__all__) == public


def test_public_names_say_they_live_in_the_package() -> None:
    for name in restate_testing.__all__:
        assert getattr(restate_testing, name).__module__ == "restate_testing", name


def test_error_tree() -> None:
    assert issubclass(restate_testing.RestateStartError, RuntimeError)
    assert issubclass(restate_testing.ProvisionError, RuntimeError)
