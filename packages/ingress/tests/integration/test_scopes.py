"""Scoped calls and sends through restate-server 1.7.12's ingress (vqueues on, protocol V7 so the
handler sees its scope and limit key in ``ctx.request()``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import restate_sdk as restate
from restate_ingress import AsyncClient, Client
from restate_sdk import Context, ObjectContext
from restate_testing import RestateEnvironment

pytestmark = pytest.mark.integration

scoped = restate.Service("Scoped")


@scoped.handler()
async def whoami(ctx: Context) -> list[str | None]:
    r = ctx.request()
    return [r.scope, r.limit_key]


tenant = restate.VirtualObject("Tenant")


@tenant.handler()
async def where(ctx: ObjectContext) -> list[str | None]:
    return [ctx.key(), ctx.request().scope]


V7_VQUEUES = {
    "RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7": "true",
    "RESTATE_EXPERIMENTAL_ENABLE_VQUEUES": "true",
    "RESTATE_EXPERIMENTAL_ENABLE_SCOPED_VIRTUAL_OBJECTS": "true",
}


@pytest.fixture(scope="module")
def env() -> Iterator[RestateEnvironment]:
    with RestateEnvironment(restate.app([scoped, tenant]), backend="binary", env=V7_VQUEUES) as environment:
        yield environment


def test_a_scoped_call_with_a_limit_key(env: RestateEnvironment) -> None:
    with Client(env.ingress_url, timeout=60) as client:
        assert client.call(whoami, scope="acme", limit_key="gold/u1") == ["acme", "gold/u1"]
        assert client.service("Scoped").call("whoami", scope="acme") == ["acme", None]
        assert client.call(whoami) == [None, None]
        assert client.object("Tenant", "t1").call("where", scope="acme") == ["t1", "acme"]


def test_a_scoped_send_with_a_delay(env: RestateEnvironment) -> None:
    with Client(env.ingress_url, timeout=60) as client:
        sent = client.send(whoami, scope="acme", limit_key="l1", delay=timedelta(milliseconds=100))
        assert client.invocation(sent.invocation_id).attach() == ["acme", "l1"]


async def test_the_async_client_takes_them_too(env: RestateEnvironment) -> None:
    async with AsyncClient(env.ingress_url, timeout=60) as client:
        assert await client.call(whoami, scope="beta", limit_key="x") == ["beta", "x"]
        sent = await client.service("Scoped").send("whoami", scope="beta")
        assert await client.invocation(sent.invocation_id).attach() == ["beta", None]


@pytest.mark.parametrize(
    ("scope", "limit_key", "error"),
    [
        ("", None, "invalid scope ''"),
        ("a/b", None, "invalid scope 'a/b'"),
        (None, "l1", "limit_key 'l1' needs a scope"),
        ("s", "a//b", "invalid limit_key 'a//b'"),
    ],
)
def test_bad_values_are_refused_before_sending(scope: str | None, limit_key: str | None, error: str) -> None:
    with Client("http://127.0.0.1:9", timeout=1) as client, pytest.raises(ValueError, match=error):
        client.call(whoami, scope=scope, limit_key=limit_key)
