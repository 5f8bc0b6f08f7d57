"""Type-checked, never run: the types a user sees (checked by test_typing.py with pyright strict)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_type

import restate_sdk as restate
from restate_ingress import (
    AsyncClient,
    AsyncInvocationHandle,
    Client,
    IngressError,
    InvocationHandle,
    SendResponse,
)
from restate_sdk import Context, ObjectContext, ObjectSharedContext, WorkflowContext


@dataclass
class Person:
    name: str


greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: Context, person: Person) -> str:
    return person.name


counter = restate.VirtualObject("Counter")


@counter.handler(kind="shared")
async def current(ctx: ObjectSharedContext) -> int:
    return 0


@counter.handler()
async def add(ctx: ObjectContext, delta: int) -> int:
    return delta


@counter.handler(name="peek", kind="shared")
def blocking_peek(ctx: ObjectSharedContext) -> float:
    return 0.0


@greeter.handler()
def blocking_greet(ctx: Context, name: str) -> bytes:
    return name.encode()


signup = restate.Workflow("Signup")


@signup.main()
async def run(ctx: WorkflowContext, email: str) -> bool:
    return True


def sync_usage(client: Client) -> None:
    assert_type(client.call(greet, Person("a")), str)
    assert_type(client.call(current, key="k"), int)
    assert_type(client.service("Greeter").call(greet, Person("a")), str)
    assert_type(client.object("Counter", "k").call(add, 1), int)
    assert_type(client.call(blocking_greet, "a"), bytes)
    assert_type(client.call(blocking_peek, key="k"), float)
    assert_type(client.object("Counter", "k").call(blocking_peek), float)
    assert_type(client.service("Greeter").invocation(blocking_greet, "idem").attach(), bytes)
    assert_type(client.service("Greeter").call("greet", {"name": "a"}), Any)
    assert_type(client.service("Greeter").call("greet", {"name": "a"}, output_type=str), str)
    assert_type(client.service("Greeter").send("greet", {"name": "a"}), SendResponse)
    assert_type(client.send(add, 1, key="k"), SendResponse)
    assert_type(client.invocation("inv_1"), InvocationHandle[Any])
    assert_type(client.invocation("inv_1", output_type=int).attach(), int)
    assert_type(client.idempotent_invocation("Greeter", "greet", "k", output_type=str).output(), str)
    assert_type(client.object("Counter", "k").invocation(add, "idem").attach(), int)
    assert_type(client.workflow(run, "wf").submit("a@b"), InvocationHandle[bool])
    assert_type(client.workflow(run, "wf").attach(), bool)
    assert_type(client.workflow("Signup", "wf").output(), Any)
    client.call(greet, "not a person")  # pyright: ignore[reportCallIssue, reportArgumentType]
    client.workflow(run, "wf").submit(1)  # pyright: ignore[reportArgumentType]
    try:
        client.resolve_awakeable("sign_1", 1)
    except IngressError as e:
        assert_type(e.metadata, dict[str, str])
        assert_type(e.status, int | None)


async def async_usage(client: AsyncClient) -> None:
    assert_type(await client.call(greet, Person("a")), str)
    assert_type(await client.call(current, key="k"), int)
    assert_type(await client.object("Counter", "k").call(add, 1), int)
    assert_type(await client.call(blocking_greet, "a"), bytes)
    assert_type(await client.service("Greeter").call(blocking_greet, "a"), bytes)
    assert_type(await client.service("Greeter").call("greet", {"name": "a"}), Any)
    assert_type(await client.service("Greeter").call("greet", 1, output_type=str), str)
    assert_type(await client.service("Greeter").send("greet", {"name": "a"}), SendResponse)
    assert_type(client.invocation("inv_1"), AsyncInvocationHandle[Any])
    assert_type(await client.invocation("inv_1", output_type=int).output(), int)
    assert_type(await client.workflow(run, "wf").submit("a@b"), AsyncInvocationHandle[bool])
    assert_type(await client.workflow(run, "wf").attach(), bool)
    await client.resolve_awakeable("sign_1", 1)
