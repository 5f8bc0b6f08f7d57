"""restate.serve's arguments are checked before anything starts."""

from __future__ import annotations

import pytest
import restate_sdk as restate

APP = restate.app([restate.Service("Nothing")])


@pytest.mark.parametrize(("option", "value"), [("server", "uvicorn"), ("loop", "trio")])
def test_serve_names_the_servers_and_loops_it_takes(option: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"{option} must be"):
        restate.serve(APP, port=0, **{option: value})  # type: ignore[arg-type]
