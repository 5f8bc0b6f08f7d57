"""Service to service: calls and one-way sends through Proxy, with idempotency keys."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from harness import Restate
from restate_ingress import Client, IngressError

pytestmark = pytest.mark.integration


def _request(service: str, handler: str, arg: Any, key: str | None = None, **extra: Any) -> dict[str, Any]:
    req = {"serviceName": service, "handlerName": handler, "message": list(json.dumps(arg).encode())}
    if key is not None:
        req["virtualObjectKey"] = key
    return req | extra


def test_regular_call(client: Client) -> None:
    raw = client.service("Proxy").call("call", _request("TestUtilsService", "echo", "via proxy"))
    assert json.loads(bytes(raw)) == "via proxy"


def test_call_with_idempotency_key(client: Client, key: str) -> None:
    req = _request("Counter", "add", 1, key, idempotencyKey="once")
    first = client.service("Proxy").call("call", req)
    second = client.service("Proxy").call("call", req)
    assert json.loads(bytes(first)) == json.loads(bytes(second)) == {"oldValue": 0, "newValue": 1}
    assert client.object("Counter", key).call("get") == 1


@pytest.mark.parametrize("idempotency_key", [None, "send-once"], ids=["plain", "idempotent"])
def test_one_way_call(restate: Restate, key: str, idempotency_key: str | None) -> None:
    extra = {"idempotencyKey": idempotency_key} if idempotency_key else {}
    req = _request("Counter", "add", 2, key, **extra)
    invocation_id = restate.client.service("Proxy").call("oneWayCall", req)
    assert invocation_id.startswith("inv_")
    assert restate.client.invocation(invocation_id).attach() == {"oldValue": 0, "newValue": 2}
    if idempotency_key:
        assert restate.client.service("Proxy").call("oneWayCall", req) == invocation_id
    assert restate.client.object("Counter", key).call("get") == 2


def test_delayed_one_way_call(restate: Restate, key: str) -> None:
    started = time.monotonic()
    req = _request("Counter", "add", 1, key, delayMillis=500)
    invocation_id = restate.client.service("Proxy").call("oneWayCall", req)
    assert restate.client.invocation(invocation_id).attach() == {"oldValue": 0, "newValue": 1}
    assert time.monotonic() - started >= 0.5


def test_scope_and_limit_key_are_forwarded_on_v7_and_refused_below(restate: Restate) -> None:
    req = _request("TestUtilsService", "echo", "scoped", scope="s", limitKey="l")
    if restate.config == "v7":
        assert json.loads(bytes(restate.client.service("Proxy").call("call", req))) == "scoped"
        return
    # V6: the call cannot carry them; the invocation fails with an error that says what to enable
    with pytest.raises(IngressError, match="RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7=true"):
        restate.client.service("Proxy").call("call", req)
