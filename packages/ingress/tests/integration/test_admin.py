"""AdminClient / AsyncAdminClient against a real restate-server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from restate_ingress import AdminClient, AsyncAdminClient, Client, Conflict, IngressError, NotFound
from restate_testing import RestateEnvironment

from .conftest import ready

pytestmark = pytest.mark.integration

AnyAdmin = AdminClient | AsyncAdminClient


async def test_health_and_version(admin: AnyAdmin) -> None:
    assert await ready(admin.health()) is True
    version = await ready(admin.version())
    assert version["version"].startswith("1.")


async def test_register_and_list(admin: AnyAdmin, env: RestateEnvironment) -> None:
    answer = await ready(admin.register_deployment(env.deployment_uri, force=True))
    assert answer["id"].startswith("dp_")
    assert {s["name"] for s in answer["services"]} >= {"Greeter", "Counter", "Signup", "Waiter"}
    services = await ready(admin.list_services())
    assert {s["name"] for s in services} >= {"Greeter", "Counter", "Signup", "Waiter"}
    greeter = await ready(admin.get_service("Greeter"))
    assert greeter["ty"] == "Service"
    assert "greet" in {h["name"] for h in greeter["handlers"]}
    deployments = await ready(admin.list_deployments())
    assert answer["id"] in {d["id"] for d in deployments}
    with pytest.raises(NotFound):
        await ready(admin.get_service("NoSuchService"))


async def test_register_an_unreachable_deployment(admin: AnyAdmin) -> None:
    with pytest.raises(IngressError) as caught:
        await ready(admin.register_deployment("http://127.0.0.1:9/"))
    assert caught.value.restate_code is not None


async def _status(admin: AnyAdmin, invocation_id: str) -> dict[str, Any]:
    rows = await ready(
        admin.query(
            "select id, status, completion_result, completion_failure, last_failure, "
            f"last_failure_related_command_name from sys_invocation where id = '{invocation_id}'"
        )
    )
    assert len(rows) == 1
    return rows[0]


async def _running(admin: AnyAdmin, invocation_id: str) -> None:
    for _ in range(100):
        rows = await ready(admin.query(f"select status from sys_invocation where id = '{invocation_id}'"))
        if rows and rows[0]["status"] in ("running", "suspended", "backing-off"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{invocation_id} never ran")


async def test_cancel(admin: AnyAdmin, env: RestateEnvironment) -> None:
    with Client(env.ingress_url) as client:
        sent = client.service("Greeter").send("slow", 30)
        await _running(admin, sent.invocation_id)
        await ready(admin.cancel_invocation(sent.invocation_id))
        with pytest.raises(Conflict) as caught:
            client.invocation(sent.invocation_id).attach()
    assert caught.value.message == "cancelled"
    assert caught.value.is_terminal_failure
    row = await _status(admin, sent.invocation_id)
    assert row["status"] == "completed"
    assert row["completion_result"] == "failure"
    with pytest.raises(Conflict, match="already completed"):
        await ready(admin.cancel_invocation(sent.invocation_id))


async def test_kill_and_purge(admin: AnyAdmin, env: RestateEnvironment) -> None:
    with Client(env.ingress_url) as client:
        sent = client.service("Greeter").send("slow", 30)
        await _running(admin, sent.invocation_id)
        await ready(admin.kill_invocation(sent.invocation_id))
        with pytest.raises(Conflict) as caught:
            client.invocation(sent.invocation_id).attach()
        assert caught.value.message == "killed"
        await ready(admin.purge_invocation(sent.invocation_id))
        with pytest.raises(NotFound):
            client.invocation(sent.invocation_id).output()
    with pytest.raises(NotFound):
        await ready(admin.purge_invocation(sent.invocation_id))


async def test_unknown_invocation(admin: AnyAdmin) -> None:
    with pytest.raises(NotFound):
        await ready(admin.cancel_invocation("inv_1eBMQvL8muLV3J6n34dJjfxbb4WYbrjgDX"))


async def test_query_reads_invocation_status(admin: AnyAdmin, env: RestateEnvironment) -> None:
    name = f"q-{uuid.uuid4().hex[:8]}"
    with Client(env.ingress_url) as client:
        sent = client.service("Greeter").send("greet", name)
        client.invocation(sent.invocation_id).attach()
    row = await _status(admin, sent.invocation_id)
    assert row["status"] == "completed"
    assert row["completion_result"] == "success"
    with pytest.raises(IngressError, match="nope"):
        await ready(admin.query("select nope from sys_invocation"))
