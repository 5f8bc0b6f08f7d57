"""An endpoint registered over HTTP/1.1 runs in REQUEST_RESPONSE mode: it suspends at every await."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from restate_testing import AppServer, RestateServer

from .apps import app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ingress() -> Iterator[httpx.Client]:
    with RestateServer(backend="binary") as server, AppServer(app) as endpoint:
        r = httpx.post(
            f"{server.admin_url}/deployments",
            json={"uri": endpoint.url, "force": True, "use_http_11": True},
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
