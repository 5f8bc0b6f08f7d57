from __future__ import annotations

import restate_ingress


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(restate_ingress) if not name.startswith("_")}
    public -= {"annotations"}
    assert restate_ingress.__all__ == sorted(restate_ingress.__all__)
    assert set(restate_ingress.__all__) == public


def test_public_classes_say_they_live_in_the_package() -> None:
    for name in restate_ingress.__all__:
        obj = getattr(restate_ingress, name)
        if isinstance(obj, type):
            assert obj.__module__ == "restate_ingress", name


def test_error_tree() -> None:
    from restate_ingress import (
        BadRequest,
        Conflict,
        Gone,
        IngressError,
        IngressTimeout,
        IngressTransportError,
        NotFound,
        NotReady,
        ResponseDecodeError,
        ServerError,
        Unauthorized,
    )

    for cls in (BadRequest, Conflict, Gone, NotFound, NotReady, ServerError, Unauthorized):
        assert cls.__bases__ == (IngressError,)
    assert issubclass(IngressTransportError, IngressError)
    assert issubclass(IngressTimeout, IngressTransportError)
    assert issubclass(IngressTimeout, TimeoutError)
    assert issubclass(ResponseDecodeError, IngressError)
