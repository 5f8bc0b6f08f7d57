"""State: Counter, ListObject, MapObject, and state read by shared handlers."""

from __future__ import annotations

import pytest
from harness import Restate, wait_until
from restate_ingress import Client, IngressError

pytestmark = pytest.mark.integration


def test_counter_add_get_reset(client: Client, key: str) -> None:
    counter = client.object("Counter", key)
    assert counter.call("get") == 0
    assert counter.call("add", 3) == {"oldValue": 0, "newValue": 3}
    assert counter.call("add", 4) == {"oldValue": 3, "newValue": 7}
    assert counter.call("get") == 7
    counter.call("reset")
    assert counter.call("get") == 0


def test_add_then_fail_persists_the_write(client: Client, key: str) -> None:
    counter = client.object("Counter", key)
    with pytest.raises(IngressError) as failure:
        counter.call("addThenFail", 5)
    assert failure.value.message == key
    assert counter.call("get") == 5


def test_list_object(client: Client, key: str) -> None:
    lst = client.object("ListObject", key)
    assert lst.call("get") == []
    for item in ("a", "b", "c"):
        lst.call("append", item)
    assert lst.call("get") == ["a", "b", "c"]
    assert lst.call("clear") == ["a", "b", "c"]
    assert lst.call("get") == []


def test_map_object(client: Client, key: str) -> None:
    obj = client.object("MapObject", key)
    assert obj.call("get", "missing") == ""
    obj.call("set", {"key": "k1", "value": "v1"})
    obj.call("set", {"key": "k2", "value": "v2"})
    assert obj.call("get", "k1") == "v1"
    entries = obj.call("clearAll")
    assert sorted(entries, key=lambda e: e["key"]) == [
        {"key": "k1", "value": "v1"},
        {"key": "k2", "value": "v2"},
    ]
    assert obj.call("get", "k1") == ""
    assert obj.call("clearAll") == []


def test_shared_handler_reads_state_of_suspended_exclusive_handler(restate: Restate, key: str) -> None:
    interpreter = restate.client.object("VirtualObjectCommandInterpreter", key)
    sent = interpreter.send(
        "interpretCommands",
        {"commands": [{"type": "awaitOne", "command": {"type": "createAwakeable", "awakeableKey": "a"}}]},
    )
    # The exclusive handler blocks on the awakeable; the state it set is visible to shared handlers.
    wait_until(lambda: interpreter.call("hasAwakeable", "a"), what="the awakeable to be stored")
    assert restate.client.object("VirtualObjectCommandInterpreter", key).call("hasAwakeable", "b") is False
    interpreter.call("resolveAwakeable", {"awakeableKey": "a", "value": "hello"})
    assert restate.client.invocation(sent.invocation_id).attach() == "hello"
    assert interpreter.call("getResults") == ["hello"]


def test_concurrent_adds_are_serialized(client: Client, key: str) -> None:
    sends = [client.object("Counter", key).send("add", 1) for _ in range(20)]
    outputs = [client.invocation(sent.invocation_id).attach() for sent in sends]
    assert sorted(o["newValue"] for o in outputs) == list(range(1, 21))
    assert client.object("Counter", key).call("get") == 20


def test_proxy_one_way_add(restate: Restate, key: str) -> None:
    req = {
        "serviceName": "Counter",
        "virtualObjectKey": key,
        "handlerName": "add",
        "message": list(b"2"),
    }
    for _ in range(3):
        restate.client.service("Proxy").call("oneWayCall", req)
    wait_until(lambda: restate.client.object("Counter", key).call("get") == 6, what="the three adds")
