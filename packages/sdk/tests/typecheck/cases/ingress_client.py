"""The ingress client: typed by the handler, a key exactly for objects and workflows."""

from __future__ import annotations

from typing import Any, assert_type

from handlers import Person, add, click, current, greet, ping, run, square
from restate_ingress import AsyncClient, Client, InvocationHandle, SendResponse


def sync_client(client: Client) -> None:
    assert_type(client.call(greet, Person("ann")), str)
    assert_type(client.call(ping), int)
    assert_type(client.call(square, 3), int)
    assert_type(client.call(add, 1, key="ann"), int)
    assert_type(client.call(current, key="ann"), int)
    assert_type(client.call(click, "s", key="wf-1"), None)
    assert_type(client.send(add, 1, key="ann"), SendResponse)
    assert_type(client.service("Greeter").call("greet", "Ann"), Any)
    assert_type(client.service("Greeter").call(greet, Person("ann")), str)
    assert_type(client.object("Counter", "a").call("add", 1, output_type=int), int)
    assert_type(client.workflow(run, "wf-1").submit("a@b.c"), InvocationHandle[bool])
    assert_type(client.workflow(run, "wf-1").attach(), bool)
    assert_type(client.call(greet, Person("ann"), scope="acme", limit_key="gold/u1"), str)
    assert_type(client.send(add, 1, key="ann", scope="acme"), SendResponse)

    client.call(add, 1)  # pyright: ignore[reportArgumentType, reportCallIssue]
    client.call(greet, Person("ann"), key="k")  # pyright: ignore[reportArgumentType, reportCallIssue]
    client.call(add, key="ann")  # pyright: ignore[reportArgumentType, reportCallIssue]
    client.call(greet, "ann")  # pyright: ignore[reportCallIssue, reportArgumentType]
    client.send(add, 1)  # pyright: ignore[reportArgumentType]
    client.send(ping, key="k")  # pyright: ignore[reportArgumentType]
    client.workflow(add, "k")  # pyright: ignore[reportCallIssue, reportArgumentType]
    client.workflow(run, "wf-1").submit(3)  # pyright: ignore[reportArgumentType]


async def async_client(client: AsyncClient) -> None:
    assert_type(await client.call(greet, Person("ann")), str)
    assert_type(await client.call(add, 1, key="ann"), int)
    assert_type(await client.call(square, 3), int)
    assert_type(await client.workflow(run, "wf-1").attach(), bool)
    await client.call(add, 1)  # pyright: ignore[reportArgumentType, reportCallIssue]
    await client.call(greet, Person("ann"), key="k")  # pyright: ignore[reportArgumentType, reportCallIssue]
