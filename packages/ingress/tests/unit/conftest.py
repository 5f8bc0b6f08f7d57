"""A scripted ingress: httpx.MockTransport records every request and answers from a script.

Tests run once against ``Client`` and once against ``AsyncClient``; ``ready()`` awaits the async
twin's coroutines so one test body covers both.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from restate_ingress import AsyncClient, Client

Responder = Callable[[httpx.Request], httpx.Response]


class Ingress:
    """Answers requests with the queued responses (or a default 200 ``"ok"``) and keeps them."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.responder: Responder | None = None

    def reply(
        self,
        status: int = 200,
        body: Any = "ok",
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        content = raw if raw is not None else json.dumps(body).encode()
        all_headers = {"content-type": "application/json", **(headers or {})}
        self.responder = lambda _request: httpx.Response(status, content=content, headers=all_headers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.responder is None:
            return httpx.Response(200, json="ok")
        return self.responder(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


async def ready(value: Any) -> Any:
    """The value, or what it resolves to when it is awaitable (AsyncClient's methods)."""
    return await value if inspect.isawaitable(value) else value


@pytest.fixture
def ingress() -> Ingress:
    return Ingress()


@pytest.fixture(params=["sync", "async"])
async def client(request: pytest.FixtureRequest, ingress: Ingress) -> AsyncIterator[Client | AsyncClient]:
    transport = httpx.MockTransport(ingress.handle)
    if request.param == "sync":
        with Client("http://ingress.test:8080/", transport=transport) as sync_client:
            yield sync_client
    else:
        async with AsyncClient("http://ingress.test:8080/", transport=transport) as async_client:
            yield async_client
