"""The ``serve`` executable: environment handling (no restate-server involved)."""

from __future__ import annotations

import os
import subprocess

import httpx
from harness import SERVE, ServicesProcess

ACCEPT = {"accept": "application/vnd.restate.endpointmanifest.v3+json"}


def test_services_selects_the_bound_services() -> None:
    process = ServicesProcess({"SERVICES": "Counter, Proxy"})
    process.env.pop("E2E_REQUEST_SIGNING", None)
    process.start()
    try:
        manifest = httpx.get(f"{process.url}/discover", headers=ACCEPT).json()
        assert sorted(s["name"] for s in manifest["services"]) == ["Counter", "Proxy"]
    finally:
        process.stop()


def test_unknown_service_name_is_an_error() -> None:
    env = {**os.environ, "SERVICES": "Counter,NoSuchService", "PORT": "0"}
    result = subprocess.run([str(SERVE)], env=env, cwd="/", capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "NoSuchService" in result.stderr
