"""Call ordering: calls and sends to one virtual object key run in the order they were issued."""

from __future__ import annotations

import json

import pytest
from harness import wait_until
from restate_ingress import Client

pytestmark = pytest.mark.integration


def _append(key: str, value: str) -> dict[str, object]:
    return {
        "serviceName": "ListObject",
        "virtualObjectKey": key,
        "handlerName": "append",
        "message": list(json.dumps(value).encode()),
    }


@pytest.mark.parametrize(
    "one_way",
    [[True, False, True], [False, True, False], [True, True, False], [False, False, True, True, False]],
    ids=lambda flags: "".join("s" if f else "c" for f in flags),
)
def test_many_calls_keep_their_order(client: Client, key: str, one_way: list[bool]) -> None:
    requests = [
        {"proxyRequest": _append(key, str(i)), "oneWayCall": send, "awaitAtTheEnd": i % 2 == 0}
        for i, send in enumerate(one_way)
    ]
    client.service("Proxy").call("manyCalls", requests)
    expected = [str(i) for i in range(len(one_way))]
    lst = client.object("ListObject", key)
    assert (
        wait_until(lambda: (items := lst.call("get")) == expected and items, what="all appends") == expected
    )


def test_calls_to_one_key_queue_behind_each_other(client: Client, key: str) -> None:
    # A long exclusive handler holds the key: later invocations wait their turn, in order.
    holder = client.object("VirtualObjectCommandInterpreter", key)
    blocked = holder.send(
        "interpretCommands",
        {"commands": [{"type": "awaitOne", "command": {"type": "createAwakeable", "awakeableKey": "k"}}]},
    )
    wait_until(lambda: holder.call("hasAwakeable", "k"), what="the awakeable")
    queued = [
        holder.send("interpretCommands", {"commands": [{"type": "getEnvVariable", "envName": f"UNSET_{i}"}]})
        for i in range(3)
    ]
    holder.call("resolveAwakeable", {"awakeableKey": "k", "value": "first"})
    assert client.invocation(blocked.invocation_id).attach() == "first"
    for sent in queued:
        assert client.invocation(sent.invocation_id).attach() == ""
    assert holder.call("getResults") == ["first", "", "", ""]
