"""restate.serve's errors before it serves: each names the fix, none is a traceback of the server."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from typing import Any

import pytest
import restate_sdk as restate

APP = restate.app([])


def test_granian_not_installed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "granian" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(restate.SdkUsageError, match=r"pip install 'restate-sdk-py\[granian\]'"):
        restate.serve(APP, port=0, server="granian")


@pytest.mark.parametrize("workers", [0, -1, 1.5])
def test_workers_must_be_a_positive_int(workers: Any) -> None:
    with pytest.raises(ValueError, match="workers must be a positive int"):
        restate.serve(APP, port=0, workers=workers)


@pytest.mark.parametrize("reuse_port", [False, True])
def test_a_port_in_use_is_one_line(reuse_port: bool) -> None:
    # reuse_port: what granian's own bind left behind, a listener others could join
    with socket.socket() as other:
        if reuse_port:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        code = f"import restate_sdk as r; r.serve(r.app([]), port={port}, host='127.0.0.1')"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"restate_sdk.serve: port {port} on 127.0.0.1 is already in use: "
        "stop the process listening there or pick another port"
    ]
