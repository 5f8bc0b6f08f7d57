"""The Lambda example through restate-server's Lambda invoker, with the Invoke API stood in locally."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator

import httpx
import pytest
from restate_testing import LambdaStandIn, RestateServer

pytestmark = pytest.mark.integration

example = importlib.import_module("examples.lambda.app")  # `lambda` is a keyword: no import statement


@pytest.fixture(scope="module")
def ingress() -> Iterator[tuple[httpx.Client, LambdaStandIn]]:
    with (
        LambdaStandIn(example.handler) as aws,
        RestateServer(backend="binary", env=aws.env) as server,
    ):
        r = httpx.post(f"{server.admin_url}/deployments", json={"arn": LambdaStandIn.ARN}, timeout=60)
        assert r.status_code in (200, 201), r.text
        assert sorted(s["name"] for s in r.json()["services"]) == ["Inbox", "Reminders"]
        with httpx.Client(base_url=server.ingress_url, timeout=60) as client:
            yield client, aws


def test_a_reminder_sleeps_across_lambda_invocations(ingress: tuple[httpx.Client, LambdaStandIn]) -> None:
    client, aws = ingress
    who = f"ann-{uuid.uuid4().hex[:6]}"
    before = len(aws.invoked)
    reply = client.post("/Reminders/remind", json={"to": who, "text": "water plants", "after_ms": "300"})
    assert reply.json() == f"reminded {who} (1 so far)"
    # the sleep suspended the invocation: the function ran again when the timer fired
    assert len(aws.invoked) - before >= 3
    client.post("/Reminders/remind", json={"to": who, "text": "call Bob"})
    assert client.post(f"/Inbox/{who}/sent").json() == ["water plants", "call Bob"]


def test_the_handler_is_the_module_level_function() -> None:
    # (no `callable()` assert first: it would narrow the handler's result to `object` for pyright)
    response = example.handler({"path": "/health", "httpMethod": "GET", "headers": {}, "body": ""}, None)
    assert response["statusCode"] == 200
