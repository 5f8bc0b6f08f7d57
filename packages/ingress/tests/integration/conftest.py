"""One restate-server for the module's tests, the test app served and registered; clients of both kinds."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from restate_ingress import AdminClient, AsyncAdminClient, AsyncClient, Client
from restate_testing import RestateEnvironment

from .apps import app


@pytest.fixture(scope="session")
def env() -> Iterator[RestateEnvironment]:
    with RestateEnvironment(app, backend="binary") as environment:
        yield environment


@pytest.fixture(params=["sync", "async"])
async def client(
    request: pytest.FixtureRequest, env: RestateEnvironment
) -> AsyncIterator[Client | AsyncClient]:
    if request.param == "sync":
        with Client(env.ingress_url, timeout=60) as sync_client:
            yield sync_client
    else:
        async with AsyncClient(env.ingress_url, timeout=60) as async_client:
            yield async_client


@pytest.fixture(params=["sync", "async"])
async def admin(
    request: pytest.FixtureRequest, env: RestateEnvironment
) -> AsyncIterator[AdminClient | AsyncAdminClient]:
    if request.param == "sync":
        with AdminClient(env.admin_url) as sync_admin:
            yield sync_admin
    else:
        async with AsyncAdminClient(env.admin_url) as async_admin:
            yield async_admin


async def ready(value: Any) -> Any:
    """The value, or what it resolves to when it is awaitable (the async clients' methods)."""
    return await value if inspect.isawaitable(value) else value
