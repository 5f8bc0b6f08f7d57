"""An endpoint registered over HTTP/1.1 runs in REQUEST_RESPONSE mode: it suspends at every await.

Served three ways: by hypercorn (ASGI, AppServer) and by ``restate.serve`` on granian and on its builtin server (RSGI).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from restate_testing import AppServer, RestateServer

from .apps import app

pytestmark = pytest.mark.integration

_SERVE = """
import sys
sys.path.insert(0, sys.argv[2])
import restate_sdk
from apps import app
restate_sdk.serve(app, port=int(sys.argv[1]), host="127.0.0.1", server=sys.argv[3])
"""


@contextlib.contextmanager
def _served_endpoint(server: str) -> Iterator[str]:
    """``restate_sdk.serve`` in a process of its own, on ``server`` ("builtin" or "granian")."""
    if server == "granian":
        pytest.importorskip("granian")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen([sys.executable, "-c", _SERVE, str(port), str(Path(__file__).parent), server])
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            assert process.poll() is None, f"the {server} endpoint exited"
            assert time.monotonic() < deadline, f"the {server} endpoint did not come up"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


@contextlib.contextmanager
def _hypercorn_endpoint() -> Iterator[str]:
    with AppServer(app, server="hypercorn") as endpoint:
        yield endpoint.url


@pytest.fixture(scope="module", params=["hypercorn", "granian", "builtin"])
def ingress(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    endpoint = _hypercorn_endpoint() if request.param == "hypercorn" else _served_endpoint(request.param)
    with RestateServer(backend="binary") as server, endpoint as url:
        r = httpx.post(
            f"{server.admin_url}/deployments",
            json={"uri": url, "force": True, "use_http_11": True},
            timeout=30,
        )
        assert r.status_code in (200, 201), r.text
        deployment = httpx.get(f"{server.admin_url}/deployments/{r.json()['id']}").json()
        assert deployment.get("protocol_type", deployment.get("protocolType")) == "RequestResponse", (
            deployment
        )
        with httpx.Client(base_url=server.ingress_url, timeout=60) as client:
            yield client


def test_greeter_over_http11(ingress: httpx.Client) -> None:
    assert ingress.post("/Greeter/greet", json="Ann").json() == "Hello Ann!"


def test_state_sleep_and_calls_over_http11(ingress: httpx.Client) -> None:
    key = uuid.uuid4().hex
    assert ingress.post("/Steps/chain", json=key).json() == "Hello #1!"
    assert ingress.post(f"/Counter/{key}/current").json() == 1
    assert ingress.post("/Steps/nap", json=50).json() == "rested"
    assert ingress.post("/Steps/run_steps", json={"count": 3, "log": "/dev/null"}).json() == 3
