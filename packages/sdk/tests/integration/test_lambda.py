"""restate.lambda_handler through restate-server's own Lambda invoker.

restate-server signs each call and POSTs it to the Invoke API at ``AWS_ENDPOINT_URL_LAMBDA``; a local
stand-in of that API (restate_testing.LambdaStandIn) calls the handler in this process. Discovery,
invocations with state, sleeps, calls and runs (each suspending in request-response mode) all go
through the Lambda event and response shapes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import restate_sdk as restate
from restate_testing import LambdaStandIn, RestateServer

from .apps import app

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lambda_env() -> Iterator[tuple[httpx.Client, LambdaStandIn, RestateServer]]:
    with (
        LambdaStandIn(restate.lambda_handler(app)) as aws,
        RestateServer(backend="binary", env=aws.env) as server,
    ):
        r = httpx.post(f"{server.admin_url}/deployments", json={"arn": LambdaStandIn.ARN}, timeout=60)
        assert r.status_code in (200, 201), r.text
        deployment = httpx.get(f"{server.admin_url}/deployments/{r.json()['id']}").json()
        assert LambdaStandIn.ARN in str(deployment), deployment
        assert {s["name"] for s in r.json()["services"]} >= {"Greeter", "Counter", "Steps", "OrderFlow"}
        with httpx.Client(base_url=server.ingress_url, timeout=60) as client:
            yield client, aws, server


def test_discovery_went_through_the_lambda_invoke_api(
    lambda_env: tuple[httpx.Client, LambdaStandIn, RestateServer],
) -> None:
    _client, aws, _server = lambda_env
    assert aws.invoked and aws.invoked[0] == LambdaStandIn.ARN


def test_invocations_over_lambda(lambda_env: tuple[httpx.Client, LambdaStandIn, RestateServer]) -> None:
    client, aws, _server = lambda_env
    before = len(aws.invoked)
    assert client.post("/Greeter/greet", json="Ann").json() == "Hello Ann!"
    key = uuid.uuid4().hex
    # state, a call and a one-way send: the handler suspends, restate-server invokes the function again
    assert client.post("/Steps/chain", json=key).json() == "Hello #1!"
    assert client.post(f"/Counter/{key}/current").json() == 1
    assert client.post("/Steps/nap", json=50).json() == "rested"
    assert client.post("/Steps/run_steps", json={"count": 3, "log": "/dev/null"}).json() == 3
    assert client.post("/Steps/sync_steps", json="Bob").status_code == 200
    assert len(aws.invoked) - before >= 6


def test_terminal_failure_over_lambda(lambda_env: tuple[httpx.Client, LambdaStandIn, RestateServer]) -> None:
    client, _aws, _server = lambda_env
    response = client.post("/Steps/fail", json="no way")
    assert response.status_code >= 400
    assert "no way" in response.text
