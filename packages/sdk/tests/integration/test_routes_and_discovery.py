"""Through restate-server 1.7.12: handlers named like the endpoint's routes, and options it must carry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import restate_sdk as restate
from restate_ingress import IngressError
from restate_testing import AppServer, RestateEnvironment

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


def older_server(app: restate.Endpoint, newest: int) -> Any:
    """``app`` as a restate-server that knows manifests up to ``newest`` reaches it: Accept lists no more."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/discover"):
            offered = ", ".join(
                f"application/vnd.restate.endpointmanifest.v{v}+json" for v in range(1, newest + 1)
            )
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept"]
            scope = {**scope, "headers": [*headers, (b"accept", offered.encode())]}
        await app(scope, receive, send)

    return asgi


def test_registration_names_the_options_an_older_manifest_cannot_carry(env: RestateEnvironment) -> None:
    svc = restate.Service("NeedsV4", retry_policy=restate.RetryPolicy(max_attempts=3))

    @svc.handler(ingress_private=True)
    async def go(ctx: restate.Context) -> None: ...

    with AppServer(older_server(restate.app([svc]), newest=2)) as server, pytest.raises(IngressError) as info:
        env.admin.register_deployment(env.server.deployment_uri(server.port))
    text = str(info.value)
    assert "restate-server asked for discovery manifest v2" in text
    assert "service NeedsV4: retry_policy= (needs v4)" in text
    assert "handler NeedsV4.go: ingress_private= (needs v3)" in text
    with httpx.Client(base_url=env.admin_url, timeout=30) as admin:
        assert admin.get("/services/NeedsV4").status_code == 404  # nothing was registered
