"""Identity tokens and per-attempt limits through real servers (hypercorn and granian, HTTP/1.1 and h2c).

Every broken token gets a 401 (never a 5xx, never a traceback, at most a rate-limited log line); a
journal over ``max_journal_size`` and one that stops arriving get an ErrorMessage (413, 408); and
restate-server, signing with a real key and sending a journal that outgrows the limit, sees the
same, while normal invocations keep working.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
from pathlib import Path

import httpx
import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import FrameBuffer, encode_header
from restate_testing import RestateServer

from .support import EndpointProcess, crash_lines, register
from .tokens import Signer, bad_tokens, headers, mutated_tokens

pytestmark = pytest.mark.integration

CT = "application/vnd.restate.invocation.v6"
SERVERS = ["builtin", "hypercorn", "granian"]
MiB = 1024 * 1024


def _frame(msg: object) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload  # type: ignore[attr-defined]


def _start(known_entries: int) -> bytes:
    return _frame(m.StartMessage(id=b"\x05" * 24, debug_id="inv_1hard", known_entries=known_entries))


VALID_BODY = _start(1) + _frame(m.InputCommandMessage(value=b'"hi"'))


def _messages(body: bytes) -> list[object]:
    buf = FrameBuffer()
    buf.feed(body)
    out: list[object] = []
    while (f := buf.next_frame()) is not None:
        out.append(m.decode_message(m.MESSAGES[f.type], f.payload))
    assert not buf.pending, f"the response ends inside a message ({buf.pending} bytes left)"
    return out


def _clients(url: str) -> list[tuple[str, httpx.AsyncClient]]:
    return [
        ("h1", httpx.AsyncClient(base_url=url, timeout=30)),
        ("h2", httpx.AsyncClient(base_url=url, timeout=30, http1=False, http2=True)),
    ]


@pytest.mark.parametrize("http_server", SERVERS)
def test_every_broken_token_is_a_401_through_real_servers(tmp_path: Path, http_server: str) -> None:
    signer, second, other = Signer(), Signer(), Signer()  # the endpoint takes the first two
    endpoint = EndpointProcess(
        tmp_path / "endpoint.log",
        server=http_server,
        env={"IDENTITY_KEYS": f"{second.public_key},{signer.public_key}"},
    )
    endpoint.start()
    try:

        async def main() -> None:
            for label, client in _clients(endpoint.url):
                async with client:
                    for _ in range(2):
                        for path in ("/invoke/Echo/say", "/discover"):
                            for name, token in bad_tokens(signer, other, path).items():
                                r = await client.post(
                                    path, headers={**headers(token), "content-type": CT}, content=VALID_BODY
                                )
                                assert r.status_code == 401, (label, name, r.status_code, r.text[:300])
                                assert r.text.startswith("request identity check failed: ")
                                assert len(r.text) < 300
                    rng = random.Random(f"{http_server}-{label}")
                    good = signer.token("/invoke/Echo/say")
                    for token in mutated_tokens(rng, good, 150):
                        r = await client.post(
                            "/invoke/Echo/say",
                            headers={**headers(token), "content-type": CT},
                            content=VALID_BODY,
                        )
                        assert r.status_code == 401, (label, token, r.status_code, r.text[:300])
                    # a good token passes: the handler runs
                    r = await client.post(
                        "/invoke/Echo/say",
                        headers={**headers(signer.token("/invoke/Echo/say")), "content-type": CT},
                        content=VALID_BODY,
                    )
                    assert r.status_code == 200 and isinstance(_messages(r.content)[-1], m.EndMessage)

            # 8 MiB of header (HTTP/1.1: httpx's HTTP/2 encoder would take minutes to compress it):
            # the HTTP server refuses it, this request only; the endpoint keeps answering
            async with httpx.AsyncClient(base_url=endpoint.url, timeout=30) as client:
                try:
                    r = await client.get("/discover", headers=headers("A" * 8 * MiB))
                    assert 400 <= r.status_code < 500, r.status_code
                except httpx.HTTPError:
                    pass  # the server closed the connection instead of answering
            async with httpx.AsyncClient(base_url=endpoint.url, timeout=30) as client:
                accept = {"accept": "application/vnd.restate.endpointmanifest.v4+json"}
                r = await client.get("/discover", headers={**headers(second.token("/discover")), **accept})
                assert r.status_code == 200

        asyncio.run(main())
        assert endpoint.alive()
        log = endpoint.log_text()
        assert not crash_lines(log), log[-3000:]
        # 2 x (2 x 2 x 24 + 150) rejected requests: a handful of lines at most (one per 10 s)
        reports = [line for line in log.splitlines() if "request identity check failed" in line]
        assert 1 <= len(reports) <= 4, reports
        assert all(len(line) < 400 for line in reports)
    finally:
        endpoint.stop()


@pytest.mark.parametrize("http_server", SERVERS)
def test_restate_server_signs_and_the_endpoint_verifies(tmp_path: Path, http_server: str) -> None:
    signer = Signer()
    pem = tmp_path / "identity.pem"
    pem.write_bytes(signer.pem)
    env = {
        "RESTATE_REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE": str(pem),
        "RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE": str(pem),
    }
    endpoint = EndpointProcess(
        tmp_path / "endpoint.log", server=http_server, env={"IDENTITY_KEYS": signer.public_key}
    )
    endpoint.start()
    try:
        with RestateServer(backend="binary", env=env) as server:
            register(server, endpoint.url)
            with httpx.Client(base_url=server.ingress_url, timeout=60) as ingress:
                r = ingress.post("/Echo/say", json="signed")
                assert r.status_code == 200, r.text
                assert r.json() == "signed"
        assert not crash_lines(endpoint.log_text())
        assert "request identity check failed" not in endpoint.log_text()
    finally:
        endpoint.stop()


def _half_sent(port: int, body: bytes, announced: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        f"POST /invoke/Echo/say HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: {CT}\r\n"
        f"content-length: {announced}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    return sock


def _read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float | None]:
    """What the server sends until it closes the connection; and when the ErrorMessage arrived."""
    sock.settimeout(0.2)
    data = b""
    seen_error: float | None = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        data += chunk
        if seen_error is None and b"journal_read_timeout" in data:
            seen_error = time.monotonic()
    return data, seen_error


@pytest.mark.parametrize("http_server", SERVERS)
def test_journal_limits_through_real_servers(server: RestateServer, tmp_path: Path, http_server: str) -> None:
    endpoint = EndpointProcess(
        tmp_path / "endpoint.log",
        server=http_server,
        env={"MAX_JOURNAL_SIZE": str(MiB), "JOURNAL_READ_TIMEOUT": "2"},
    )
    endpoint.start()
    try:
        # 150 entries of 64 KiB (9.6 MiB) against a 1 MiB limit: refused with 413, over either transport
        entry = _frame(m.RunCommandMessage(result_completion_id=1, name="x" * 64 * 1024))
        big = _start(151) + _frame(m.InputCommandMessage(value=b'"hi"')) + entry * 150

        async def oversized() -> None:
            for label, client in _clients(endpoint.url):
                async with client:
                    r = await client.post("/invoke/Echo/say", headers={"content-type": CT}, content=big)
                    assert r.status_code == 200, (label, r.status_code)
                    (error,) = _messages(r.content)
                    assert isinstance(error, m.ErrorMessage) and error.code == 413, (label, error)
                    assert "max_journal_size=" in error.message

        asyncio.run(oversized())
        rss_before = endpoint.peak_rss_mb()

        # 100 requests that stop halfway: each gets a 408 ErrorMessage after 2 s, and is closed
        # a few seconds later (the drain), while restate-server's invocations go on as usual
        started = time.monotonic()
        socks = [_half_sent(endpoint.port, VALID_BODY[:20], len(VALID_BODY)) for _ in range(100)]
        register(server, endpoint.url)
        with httpx.Client(base_url=server.ingress_url, timeout=60) as ingress:
            r = ingress.post("/Echo/say", json="unaffected")
            assert r.status_code == 200 and r.json() == "unaffected"
        for sock in socks:
            data, seen_error = _read_until_closed(sock, timeout=30)
            sock.close()
            assert data.startswith(b"HTTP/1.1 200"), data[:200]
            assert seen_error is not None and seen_error - started >= 2, data[-300:]
        assert time.monotonic() - started < 30
        assert endpoint.alive()
        assert endpoint.peak_rss_mb() - rss_before < 50

        # restate-server's own journal outgrowing the limit: the retry is refused with the reason
        with httpx.Client(base_url=server.ingress_url, timeout=60) as ingress:
            r = ingress.post("/Grow/outgrow/send", json=5)
            assert r.status_code in (200, 202), r.text
            invocation_id = r.json()["invocationId"]
        deadline = time.monotonic() + 60
        failure = ""
        with httpx.Client(base_url=server.admin_url, timeout=30) as admin:
            while time.monotonic() < deadline and "max_journal_size" not in failure:
                rows = admin.post(
                    "/query",
                    json={"query": f"select * from sys_invocation where id = '{invocation_id}'"},
                    headers={"accept": "application/json"},
                ).json()["rows"]
                failure = str(rows[0]) if rows else ""
                time.sleep(0.2)
            admin.patch(f"/invocations/{invocation_id}/kill")
        assert "max_journal_size" in failure and "413" in failure, failure[:2000]
        log = endpoint.log_text()
        assert not crash_lines(log), log[-3000:]
    finally:
        endpoint.stop()
