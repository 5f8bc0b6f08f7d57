"""ServiceToServiceScopeConcurrency (e2e sdk-tests v2.2): Proxy propagates scope and limit key.

A concurrency rule on ``scope/limitKey`` must limit the invocations Proxy.manyCalls sends with
those options. Their target, BlockingProxy, runs in this test process (served by ``AppServer``) so
the test counts how many of its handlers run at once; each one calls a Blocker object that waits
on an awakeable the test resolves, one at a time. If either option were dropped, the rule would not
match and all of them would run together.

Scopes need service protocol V7 and vqueues: the test runs in the ``v7`` server configuration.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import httpx
import pytest
import restate_sdk
from harness import Restate, wait_until
from restate_sdk import Context, ObjectContext, ObjectSharedContext
from restate_testing import AppServer

pytestmark = pytest.mark.integration

blocking_proxy = restate_sdk.Service("BlockingProxy")
blocker = restate_sdk.VirtualObject("Blocker")


class Concurrency:
    """How many BlockingProxy.block handlers run now, and the most seen at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


blocks = Concurrency()


@blocking_proxy.handler()
async def block(ctx: Context, key: str) -> str:
    blocks.enter()
    try:
        return await ctx.object_call(run, key)
    finally:
        blocks.leave()  # also when the attempt ends without a result (suspension)


@blocker.handler()
async def run(ctx: ObjectContext) -> str:
    awakeable_id, done = ctx.awakeable(str)
    ctx.set("awk", awakeable_id)
    result = await done
    ctx.set("result", result)
    return result


@blocker.handler(kind="shared")
async def get_awakeable(ctx: ObjectSharedContext) -> str:
    return await ctx.get("awk", type_hint=str) or ""


@blocker.handler(kind="shared")
async def get_result(ctx: ObjectSharedContext) -> str:
    return await ctx.get("result", type_hint=str) or ""


def test_scope_and_limit_key_are_propagated_on_service_to_service_calls(restate: Restate) -> None:
    if restate.config != "v7":
        pytest.skip("scopes need service protocol v7 and vqueues (the v7 configuration)")
    run_id = uuid.uuid4().hex[:8]
    scope, limit_key = f"s2s-scope-{run_id}", f"s2s-limitkey-{run_id}"
    pattern, limit, count = f"{scope}/{limit_key}", 2, 4
    keys = [f"blocker-{run_id}-{i}" for i in range(count)]
    admin_url = restate.server.admin_url

    with AppServer(restate_sdk.app([blocking_proxy, blocker])) as endpoint:
        restate.admin.register_deployment(endpoint.url, force=True)
        rule = httpx.put(
            f"{admin_url}/limits/rules", json=[{"pattern": pattern, "limits": {"concurrency": limit}}]
        )
        assert rule.status_code == 200, rule.text
        time.sleep(3)  # the rule book reaches the partitions within the 1 s poll interval
        try:
            restate.client.service("Proxy").call(
                "manyCalls",
                [
                    {
                        "proxyRequest": {
                            "serviceName": "BlockingProxy",
                            "handlerName": "block",
                            "message": list(json.dumps(key).encode()),
                            "scope": scope,
                            "limitKey": limit_key,
                        },
                        "oneWayCall": True,
                        "awaitAtTheEnd": False,
                    }
                    for key in keys
                ],
                idempotency_key=f"many-{run_id}",
            )
            running = (
                "SELECT id FROM sys_invocation WHERE target_service_name = 'BlockingProxy' "
                f"AND scope = '{scope}' AND status = 'running'"
            )
            wait_until(
                lambda: len(restate.query(running)) == limit or None,
                what=f"{limit} scoped invocations running",
            )
            time.sleep(1)  # and no more than that, also a moment later
            assert len(restate.query(running)) == limit

            unresolved = set(keys)
            for _ in keys:

                def waiting() -> str | None:
                    for key in sorted(unresolved):
                        if restate.client.object("Blocker", key).call("get_awakeable"):
                            return key
                    return None

                key = wait_until(waiting, what="a Blocker waiting on its awakeable")
                awakeable_id = restate.client.object("Blocker", key).call("get_awakeable")
                restate.client.resolve_awakeable(awakeable_id, "done")
                unresolved.remove(key)

            for key in keys:
                wait_until(
                    lambda key=key: (
                        restate.client.object("Blocker", key).call("get_result") == "done" or None
                    ),
                    what=f"blocker {key} completed",
                )
            assert blocks.most <= limit
        finally:
            httpx.post(f"{admin_url}/limits/rules/bulk-delete", json=[{"pattern": pattern}])
