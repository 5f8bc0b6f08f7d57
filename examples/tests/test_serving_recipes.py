"""docs/sdk.md's FastAPI recipe runs as written: the Restate app mounted under /restate, on uvicorn
(HTTP/1.1, registered with use_http_11) and on hypercorn (h2c), through a real restate-server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Generator
from typing import Any

import httpx
import pytest
from restate_testing import AppServer, RestateServer

from examples.tests.test_docs import program

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def _uvicorn(app: Any) -> Generator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def _hypercorn(app: Any) -> Generator[str]:
    with AppServer(app) as endpoint:
        yield endpoint.url


@pytest.mark.parametrize(
    ("serve", "use_http_11", "mode"),
    [
        (_uvicorn, True, "RequestResponse"),
        (_hypercorn, False, "BidiStream"),
        (_hypercorn, True, "RequestResponse"),
    ],
)
def test_fastapi_recipe(serve: Any, use_http_11: bool, mode: str) -> None:
    snippet = program("docs/sdk.md", 'api.mount("/restate"')
    with RestateServer(backend="binary") as server, serve(snippet.api) as url:
        assert httpx.get(f"{url}/hello").json() == {"hello": "web"}  # the web app is still there
        r = httpx.post(
            f"{server.admin_url}/deployments",
            json={"uri": f"{url}/restate", "force": True, "use_http_11": use_http_11},
            timeout=30,
        )
        assert r.status_code in (200, 201), r.text
        deployment = httpx.get(f"{server.admin_url}/deployments/{r.json()['id']}").json()
        assert deployment["protocol_type"] == mode, deployment
        with httpx.Client(base_url=server.ingress_url, timeout=60) as ingress:
            for name in ("Ann", "Bob"):
                assert ingress.post("/Greeter/greet", json=name).json() == f"Hello {name}!"
