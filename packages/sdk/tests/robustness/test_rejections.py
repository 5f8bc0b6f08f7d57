"""Requests rejected while, or after, their body arrives: answered at once, connection intact."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import encode_header

from .apps import app
from .support import EndpointProcess

CT = b"application/vnd.restate.invocation.v6"


def _frame(msg: Any) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


START = _frame(m.StartMessage(id=b"\x01" * 24, debug_id="inv_1x", known_entries=1, partial_state=True))
INPUT = _frame(m.InputCommandMessage(value=b'"hi"'))


async def test_a_body_broken_in_its_last_chunk_is_rejected_without_waiting() -> None:
    """Once the body has ended nothing more will come: the 400 must not wait for a disconnect.

    Servers send ``http.disconnect`` only when the exchange is over, so a rejection that waits for
    more body after the last chunk waits for its timeout (5 s) on every such request.
    """
    chunks = [
        {"type": "http.request", "body": START, "more_body": True},
        {"type": "http.request", "body": INPUT[:-2], "more_body": False},  # ends inside a message
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        if chunks:
            return chunks.pop(0)
        await asyncio.Event().wait()  # like a real server: nothing until the response is over
        raise AssertionError("unreachable")

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invoke/Echo/say",
        "http_version": "2",
        "headers": [(b"content-type", CT)],
    }
    started = time.monotonic()
    await asyncio.wait_for(app(scope, receive, send), 10)
    assert time.monotonic() - started < 1.0
    assert sent[0]["status"] == 400
    assert b"ended inside a message" in b"".join(x.get("body", b"") for x in sent[1:])


@pytest.fixture(params=["builtin", "granian", "hypercorn"], scope="module")
def endpoint(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EndpointProcess]:
    ep = EndpointProcess(tmp_path_factory.mktemp("ep") / "endpoint.log", server=request.param)
    ep.start()
    yield ep
    ep.stop()


def _chunked_post(port: int, path: str, content_type: bytes, pieces: list[bytes]) -> bytes:
    """POST with Transfer-Encoding: chunked, one piece at a time; returns the raw response."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\nhost: x\r\ncontent-type: "
            + content_type
            + b"\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        for piece in pieces:
            s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))  # BrokenPipeError if the server hung up
            time.sleep(0.02)
        s.sendall(b"0\r\n\r\n")
        response = b""
        while b"\r\n0\r\n\r\n" not in response and b"content-length" not in response.lower():
            data = s.recv(65536)
            if not data:
                break
            response += data
        return response


@pytest.mark.parametrize(
    ("path", "content_type", "first", "status", "message"),
    [
        ("/invoke/Echo/say", CT, b"\x00\x00\x00\x00\x00\x00\x00\x04garb", b"400", b"protocol violation"),
        ("/invoke/Echo/nope", CT, START, b"404", b"unknown handler"),
        ("/invoke/Echo/say", b"text/plain", START, b"415", b"unsupported content-type"),
    ],
    ids=["broken-frames-400", "unknown-handler-404", "content-type-415"],
)
def test_a_chunked_http1_body_rejected_early_still_gets_its_answer(
    endpoint: EndpointProcess, path: str, content_type: bytes, first: bytes, status: bytes, message: bytes
) -> None:
    """The client keeps sending after the rejection; it must read the status, not a broken pipe."""
    response = _chunked_post(endpoint.port, path, content_type, [first, b"x" * 100, b"y" * 100, b"z" * 100])
    assert response.startswith(b"HTTP/1.1 " + status), response[:200]
    assert message in response


@pytest.mark.parametrize("path", ["/health", "/discover"])
async def test_a_body_sent_to_health_or_discover_over_h2_keeps_the_connection(
    endpoint: EndpointProcess, path: str
) -> None:
    """Answered before its body was read, such a request took down hypercorn's whole h2 connection
    (a KeyError on the DATA that followed) and got its stream reset by granian."""

    async def body() -> Any:
        for _ in range(4):
            yield b"x" * 20000
            await asyncio.sleep(0.02)

    accept = {"accept": "application/vnd.restate.endpointmanifest.v4+json"}
    async with httpx.AsyncClient(base_url=endpoint.url, http1=False, http2=True, timeout=10) as c:
        with_body, *others = await asyncio.gather(
            c.post(path, content=body(), headers=accept),
            *(c.get("/health") for _ in range(3)),
        )
        after = await c.get("/discover", headers=accept)
    assert with_body.status_code == 200
    assert all(r.status_code == 200 for r in others)
    assert after.status_code == 200


def test_the_endpoint_log_shows_no_crash(endpoint: EndpointProcess, tmp_path: Path) -> None:
    from .support import crash_lines

    assert endpoint.alive()
    assert not crash_lines(endpoint.log_text()), endpoint.log_text()[-3000:]


@pytest.mark.parametrize("suffix", ["6", "5", " 6", "6 ", "+6", "06", "0_6", "6.0", "7", "07", "8", "4", ""])
async def test_only_the_exact_invocation_content_types_are_accepted(suffix: str) -> None:
    """restate-server sends exactly ``application/vnd.restate.invocation.vN``, and the response echoes
    the content type back; anything else is a 415, not read as a number."""
    sent: list[MutableMapping[str, Any]] = []
    body = [{"type": "http.request", "body": START + INPUT, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return body.pop(0) if body else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    content_type = b"application/vnd.restate.invocation.v" + suffix.encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invoke/Echo/say",
        "http_version": "1.1",
        "headers": [(b"content-type", content_type)],
    }
    await asyncio.wait_for(app(scope, receive, send), 10)
    assert sent[0]["status"] == (200 if suffix in ("5", "6", "7") else 415)
    if suffix in ("5", "6", "7"):
        assert dict(sent[0]["headers"])[b"content-type"] == content_type
