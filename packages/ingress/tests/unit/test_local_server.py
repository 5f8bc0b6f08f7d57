"""The clients' safety settings against real HTTP servers on 127.0.0.1: timeouts, the user's httpx
client, redirects to another origin, credentials in messages, and tokens over plain http."""

from __future__ import annotations

import json
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from restate_ingress import AdminClient, AsyncClient, Client, IngressTimeout, IngressTransportError

from .conftest import ready


class _Handler(BaseHTTPRequestHandler):
    server: LocalServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(
            (self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        path = self.path.split("?")[0]
        if "stall" in path:  # accept the request, never answer (until the test ends)
            self.server.release.wait(30)
            return
        if path.startswith("/hop/"):
            target = self.server.redirect_to + path[len("/hop") :]
            self.send_response(307)
            self.send_header("location", target)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        reply: Any = {"invocationId": "inv_1", "status": "Accepted"} if path.endswith("/send") else "ok"
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        self.redirect_to = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def servers() -> Iterator[tuple[LocalServer, LocalServer]]:
    pair = (LocalServer(), LocalServer())
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in pair]
    for t in threads:
        t.start()
    yield pair
    for s in pair:
        s.release.set()
        s.shutdown()
        s.server_close()


def _make(kind: str, base_url: str, **options: Any) -> Client | AsyncClient:
    return Client(base_url, **options) if kind == "sync" else AsyncClient(base_url, **options)


async def _close(client: Client | AsyncClient) -> None:
    await ready(client.close() if isinstance(client, Client) else client.aclose())


KINDS = ["sync", "async"]


@pytest.mark.parametrize("kind", KINDS)
async def test_calls_sends_and_attach_time_out_on_a_stalled_server(
    kind: str, servers: tuple[LocalServer, LocalServer]
) -> None:
    server, _ = servers
    client = _make(kind, server.url)
    try:
        for request in (
            lambda: client.service("Greeter").call("stall", "x", timeout=0.3),
            lambda: client.service("Greeter").send("stall", "x", timeout=0.3),
            lambda: client.invocation("inv_stall").attach(timeout=0.3),
        ):
            started = time.monotonic()
            with pytest.raises(IngressTimeout) as caught:
                await ready(request())
            assert time.monotonic() - started < 5
            assert "ReadTimeout" in str(caught.value)
    finally:
        await _close(client)


@pytest.mark.parametrize("kind", KINDS)
async def test_the_default_timeouts_are_finite(kind: str, servers: tuple[LocalServer, LocalServer]) -> None:
    server, _ = servers
    seen: list[dict[str, float | None]] = []
    hooks = {"request": [lambda r: seen.append(r.extensions["timeout"])]}
    client = _make(kind, server.url)
    client._http.event_hooks = hooks if kind == "sync" else {"request": [_async(hooks["request"][0])]}
    try:
        assert await ready(client.service("Greeter").call("greet", "Ann")) == "ok"
        await ready(client.service("Greeter").send("greet", "Ann"))
        await ready(client.invocation("inv_1").attach())
    finally:
        await _close(client)
    call, send, attach = seen
    assert call == send == {"connect": 10.0, "read": 300.0, "write": 60.0, "pool": 60.0}
    assert attach == {"connect": 10.0, "read": 3600.0, "write": 60.0, "pool": 60.0}


def _async(fn: Any) -> Any:
    async def hook(request: httpx.Request) -> None:
        fn(request)

    return hook


@pytest.mark.parametrize("kind", KINDS)
async def test_a_users_httpx_client_keeps_its_timeout(
    kind: str, servers: tuple[LocalServer, LocalServer]
) -> None:
    server, _ = servers
    http: Any = httpx.Client(timeout=0.3) if kind == "sync" else httpx.AsyncClient(timeout=0.3)
    client = _make(kind, server.url, http_client=http)
    try:
        for request in (
            lambda: client.service("Greeter").call("stall", "x"),
            lambda: client.invocation("inv_stall").attach(),
        ):
            started = time.monotonic()
            with pytest.raises(IngressTimeout):
                await ready(request())
            assert time.monotonic() - started < 5  # not the 5 minutes (or an hour) of our defaults
        # an explicit timeout on the method still wins
        with pytest.raises(IngressTimeout):
            await ready(client.service("Greeter").call("stall", "x", timeout=0.2))
    finally:
        await ready(http.close() if kind == "sync" else http.aclose())


@pytest.mark.parametrize("kind", KINDS)
async def test_a_redirect_to_another_origin_drops_credentials_and_custom_headers(
    kind: str, servers: tuple[LocalServer, LocalServer]
) -> None:
    first, second = servers
    first.redirect_to = second.url
    http: Any = (
        httpx.Client(follow_redirects=True) if kind == "sync" else httpx.AsyncClient(follow_redirects=True)
    )
    client = _make(kind, first.url, token="tok-123", headers={"x-api-key": "key-456"}, http_client=http)
    try:
        answer = await ready(client.service("hop").call("greet", "Ann", idempotency_key="idem-1"))
        assert answer == "ok"
        (_, _, at_first, _), (method, path, at_second, body) = first.seen[-1], second.seen[-1]
        assert at_first["authorization"] == "Bearer tok-123" and at_first["x-api-key"] == "key-456"
        assert (method, path, body) == ("POST", "/greet", b'"Ann"')
        assert "authorization" not in at_second and "x-api-key" not in at_second
        assert at_second["idempotency-key"] == "idem-1" and at_second["content-type"] == "application/json"
        # the same origin keeps them
        first.redirect_to = first.url
        await ready(client.service("hop").call("greet", "Ann"))
        assert first.seen[-1][2]["x-api-key"] == "key-456"
        assert first.seen[-1][2]["authorization"] == "Bearer tok-123"
    finally:
        await ready(http.close() if kind == "sync" else http.aclose())


@pytest.mark.parametrize("kind", KINDS)
async def test_our_own_client_does_not_follow_redirects(
    kind: str, servers: tuple[LocalServer, LocalServer]
) -> None:
    first, second = servers
    first.redirect_to = second.url
    client = _make(kind, first.url, token="tok-123")
    try:
        with pytest.raises(Exception) as caught:
            await ready(client.service("hop").call("greet", "Ann"))
        assert getattr(caught.value, "status", None) == 307
        assert second.seen == []
    finally:
        await _close(client)


@pytest.mark.parametrize("kind", KINDS)
async def test_credentials_never_show_in_messages_or_reprs(
    kind: str, servers: tuple[LocalServer, LocalServer]
) -> None:
    server, _ = servers
    port = server.server_address[1]
    stalled = _make(kind, f"http://ann:pw-789@127.0.0.1:{port}", token="tok-123")
    closed_port = LocalServer()
    closed_port.server_close()  # a port nobody listens on
    refused = _make(kind, f"http://ann:pw-789@127.0.0.1:{closed_port.server_address[1]}", token="tok-123")
    try:
        errors: list[BaseException] = []
        for request in (
            lambda: stalled.service("Greeter").call("stall", "x", timeout=0.2),
            lambda: refused.service("Greeter").call("greet", "x"),
        ):
            with pytest.raises(IngressTransportError) as caught:
                await ready(request())
            errors.append(caught.value)
        assert "authorization" in server.seen[-1][2]  # credentials went to the server, nowhere else
        for error in errors:
            text = "".join(traceback.format_exception(error)) + repr(error) + str(error)
            assert "pw-789" not in text and "tok-123" not in text, text
            assert "127.0.0.1" in str(error)
        for client in (stalled, refused):
            assert "pw-789" not in repr(client) and "tok-123" not in repr(client)
    finally:
        await _close(stalled)
        await _close(refused)


def test_a_token_over_plain_http_to_another_host_warns(servers: tuple[LocalServer, LocalServer]) -> None:
    with pytest.warns(UserWarning, match=r"over plain http.*use https://") as caught:
        Client("http://10.1.2.3:8080", token="tok-123").close()
    assert "tok-123" not in str(caught[0].message)
    with pytest.warns(UserWarning, match="over plain http"):
        AdminClient("http://restate.internal:9070", headers={"x-api-key": "k"}).close()
    with pytest.warns(UserWarning, match="over plain http"):
        Client("http://ann:pw@ingress.example:8080").close()
    server, _ = servers
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for url in (server.url, f"http://localhost:{server.server_address[1]}", "https://10.1.2.3"):
            Client(url, token="tok-123").close()
        Client("http://10.1.2.3:8080").close()  # nothing secret to send
        with Client(server.url, token="tok-123") as client:
            assert client.service("Greeter").call("greet", "Ann") == "ok"
