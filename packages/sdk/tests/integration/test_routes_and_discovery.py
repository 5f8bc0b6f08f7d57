"""Through restate-server 1.7.12: handlers named like the endpoint's routes, and options it must carry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import restate_sdk as restate
from restate_testing import RestateEnvironment

pytestmark = pytest.mark.integration

routes = restate.Service("Routes")


@routes.handler()
async def health(ctx: restate.Context) -> str:
    return "the health handler"


@routes.handler()
async def discover(ctx: restate.Context, name: str) -> str:
    await ctx.sleep(timedelta(milliseconds=1))  # suspends under always-replay
    return f"discovered {name}"


@routes.handler()
async def via_private(ctx: restate.Context) -> str:
    return await ctx.service_call(secret)


private = restate.Service("Private", ingress_private=True)


@private.handler()
async def secret(ctx: restate.Context) -> str:
    return "only for other services"


CONFIGS: dict[str, dict[str, Any]] = {"default": {}, "always-suspending": {"always_replay": True}}


@pytest.fixture(scope="module", params=list(CONFIGS))
def env(request: pytest.FixtureRequest) -> Iterator[RestateEnvironment]:
    app = restate.app([routes, private])
    with RestateEnvironment(app, backend="binary", **CONFIGS[request.param]) as environment:
        yield environment


def test_handlers_named_health_and_discover_are_invoked(env: RestateEnvironment) -> None:
    with httpx.Client(base_url=env.ingress_url, timeout=60) as ingress:
        r = ingress.post("/Routes/health")
        assert (r.status_code, r.json()) == (200, "the health handler")
        r = ingress.post("/Routes/discover", json="Ann")
        assert (r.status_code, r.json()) == (200, "discovered Ann")


def test_a_private_service_stays_private(env: RestateEnvironment) -> None:
    with httpx.Client(base_url=env.admin_url, timeout=30) as admin:
        assert admin.get("/services/Private").json()["public"] is False
        assert admin.get("/services/Routes").json()["public"] is True
    with httpx.Client(base_url=env.ingress_url, timeout=60) as ingress:
        assert ingress.post("/Private/secret").status_code == 400
        r = ingress.post("/Routes/via_private")
        assert (r.status_code, r.json()) == (200, "only for other services")
