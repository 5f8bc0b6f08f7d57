"""AdminClient / AsyncAdminClient against a scripted admin API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from restate_ingress import (
    AdminClient,
    AsyncAdminClient,
    BadRequest,
    Conflict,
    IngressTransportError,
    NotFound,
    ResponseDecodeError,
    ServerError,
)

from .conftest import Ingress, ready

Any_Admin = AdminClient | AsyncAdminClient


@pytest.fixture(params=["sync", "async"])
async def admin(request: pytest.FixtureRequest, ingress: Ingress) -> AsyncIterator[Any_Admin]:
    transport = httpx.MockTransport(ingress.handle)
    if request.param == "sync":
        with AdminClient("https://admin.test:9070", token="t", transport=transport) as client:
            yield client
    else:
        async with AsyncAdminClient("https://admin.test:9070", token="t", transport=transport) as client:
            yield client


async def test_register_deployment(admin: Any_Admin, ingress: Ingress) -> None:
    ingress.reply(201, {"id": "dp_1", "services": [{"name": "Greeter"}]})
    answer = await ready(admin.register_deployment("http://127.0.0.1:9080"))
    assert answer == {"id": "dp_1", "services": [{"name": "Greeter"}]}
    request = ingress.last
    assert (request.method, request.url.path) == ("POST", "/deployments")
    assert json.loads(request.content) == {
        "uri": "http://127.0.0.1:9080",
        "force": True,
        "use_http_11": False,
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer t"
    await ready(
        admin.register_deployment(
            "http://h:1", force=False, use_http_11=True, breaking=True, additional_headers={"x": "y"}
        )
    )
    assert json.loads(ingress.last.content) == {
        "uri": "http://h:1",
        "force": False,
        "use_http_11": True,
        "breaking": True,
        "additional_headers": {"x": "y"},
    }


async def test_registration_failure_carries_the_restate_code(admin: Any_Admin, ingress: Ingress) -> None:
    ingress.reply(
        500,
        {
            "message": "[META0003] error when calling 'http://h:1/': connection refused",
            "restate_code": "META0003",
        },
    )
    with pytest.raises(ServerError) as caught:
        await ready(admin.register_deployment("http://h:1"))
    assert caught.value.restate_code == "META0003"
    assert "META0003" in str(caught.value)


async def test_services(admin: Any_Admin, ingress: Ingress) -> None:
    ingress.reply(body={"services": [{"name": "A"}, {"name": "B"}]})
    assert [s["name"] for s in await ready(admin.list_services())] == ["A", "B"]
    assert (ingress.last.method, ingress.last.url.path) == ("GET", "/services")
    ingress.reply(body={"name": "A", "handlers": []})
    assert (await ready(admin.get_service("A")))["name"] == "A"
    assert ingress.last.url.path == "/services/A"
    ingress.reply(404, {"message": "The requested service 'Nope' does not exist", "restate_code": None})
    with pytest.raises(NotFound, match="Nope"):
        await ready(admin.get_service("Nope"))
    ingress.reply(body={"deployments": [{"id": "dp_1"}]})
    assert await ready(admin.list_deployments()) == [{"id": "dp_1"}]
    ingress.reply(body={"unexpected": True})
    with pytest.raises(ResponseDecodeError):
        await ready(admin.list_services())


@pytest.mark.parametrize("action", ["cancel", "kill", "purge"])
async def test_invocation_actions(admin: Any_Admin, ingress: Ingress, action: str) -> None:
    ingress.reply(202, raw=b"")
    method = getattr(admin, f"{action}_invocation")
    assert await ready(method("inv_1abc")) is None
    assert (ingress.last.method, ingress.last.url.path) == ("PATCH", f"/invocations/inv_1abc/{action}")
    ingress.reply(409, {"message": "The invocation 'inv_1abc' was already completed.", "restate_code": None})
    with pytest.raises(Conflict) as caught:
        await ready(method("inv_1abc"))
    assert caught.value.invocation_id == "inv_1abc"
    ingress.reply(400, {"message": "The request field 'invocation_id' is invalid. Reason: bad format"})
    with pytest.raises(BadRequest):
        await ready(method("garbage"))


async def test_query(admin: Any_Admin, ingress: Ingress) -> None:
    ingress.reply(body={"rows": [{"id": "inv_1", "status": "completed"}]})
    rows = await ready(admin.query("select id, status from sys_invocation"))
    assert rows == [{"id": "inv_1", "status": "completed"}]
    request = ingress.last
    assert (request.method, request.url.path) == ("POST", "/query")
    assert json.loads(request.content) == {"query": "select id, status from sys_invocation"}
    assert request.headers["accept"] == "application/json"
    ingress.reply(500, {"message": "Datafusion error: Schema error: No field named nope."})
    with pytest.raises(ServerError, match="No field named nope"):
        await ready(admin.query("select nope from sys_invocation"))


async def test_health_and_version(admin: Any_Admin, ingress: Ingress) -> None:
    ingress.reply(200, raw=b"")
    assert await ready(admin.health()) is True
    assert ingress.last.url.path == "/health"
    ingress.reply(503, raw=b"")
    assert await ready(admin.health()) is False
    ingress.reply(body={"version": "1.7.12"})
    assert (await ready(admin.version()))["version"] == "1.7.12"


async def test_health_of_an_unreachable_server_is_false() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with AdminClient("http://admin.test", transport=httpx.MockTransport(refuse)) as admin:
        assert admin.health() is False
        with pytest.raises(IngressTransportError):
            admin.list_services()
    async with AsyncAdminClient("http://admin.test", transport=httpx.MockTransport(refuse)) as async_admin:
        assert await async_admin.health() is False
