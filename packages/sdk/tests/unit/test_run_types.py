from __future__ import annotations

from dataclasses import dataclass

from restate_sdk._run_serde import return_type as _return_type


@dataclass
class Receipt:
    id: str


def pay() -> Receipt:
    return Receipt("r1")


async def pay_async() -> Receipt:
    return Receipt("r2")


def test_string_annotations_resolve_to_the_declared_type() -> None:
    assert _return_type(pay) is Receipt
    assert _return_type(pay_async) is Receipt


def test_unannotated_callables_are_any_json() -> None:
    from typing import Any

    assert _return_type(lambda: 1) is Any
    assert _return_type(print) is Any
