"""restate.app(..., protocol="request_response") over HTTP/2: discovery announces request-response,
and every invocation runs that way (it suspends and resumes), though the connection could stream."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import restate_sdk as restate
from restate_testing import AppServer, RestateServer

from .apps import SERVICES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ingress() -> Iterator[httpx.Client]:
    app = restate.app(SERVICES, protocol="request_response")
    with RestateServer(backend="binary") as server, AppServer(app) as endpoint:
        r = httpx.post(
            f"{server.admin_url}/deployments", json={"uri": endpoint.url, "force": True}, timeout=30
        )
        assert r.status_code in (200, 201), r.text
        deployment = httpx.get(f"{server.admin_url}/deployments/{r.json()['id']}").json()
        assert deployment["protocol_type"] == "RequestResponse", deployment
        assert deployment["http_version"] == "HTTP/2.0", deployment  # not use_http_11
        with httpx.Client(base_url=server.ingress_url, timeout=60) as client:
            yield client


def test_request_response_over_http2(ingress: httpx.Client) -> None:
    key = uuid.uuid4().hex
    assert ingress.post("/Steps/chain", json=key).json() == "Hello #1!"
    assert ingress.post("/Steps/nap", json=20).json() == "rested"
    assert ingress.post(f"/Counter/{key}/current").json() == 1
