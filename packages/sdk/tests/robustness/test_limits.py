"""Payload limits: restate-server's 32 MiB message size limit, from both sides.

restate-server (1.7) limits: the ingress refuses request bodies over ``ingress.request-size-limit``
(default: the 32 MiB networking message size limit) with 413; a message over the 32 MiB limit fails
the attempt. The SDK refuses to write a message over the limit itself (``InvocationEngine``'s
``max_message_size``, 32 MiB + 1 KiB of framing slack) and says which message, its size and the limit.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import restate_sdk as restate
from restate_sdk._endpoint import app as app_module
from restate_sdk._engine import messages as m
from restate_sdk._engine.engine import InvocationEngine
from restate_sdk._engine.framing import FrameBuffer, encode_header
from restate_testing import RestateServer

from .support import EndpointProcess, crash_lines, register

MiB = 1024 * 1024
LIMIT = 2000  # the engine's message size limit in the in-process tests


def _frame(msg: Any) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


# ---- in process: a small limit, the endpoint driven like restate-server drives it -----------------

svc = restate.Service("Limits")


@svc.handler()
async def big_run(ctx: restate.Context, n: int) -> int:
    data = await ctx.run("big", lambda: "y" * n)
    return len(data)


@svc.handler()
async def big_run_once(ctx: restate.Context, n: int) -> int:
    data = await ctx.run("big", lambda: "y" * n, max_attempts=1)
    return len(data)


@svc.handler()
async def big_output(ctx: restate.Context, n: int) -> str:
    return "z" * n


LIMITS_APP = restate.app([svc])


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        app_module, "InvocationEngine", lambda v, **kw: InvocationEngine(v, max_message_size=LIMIT, **kw)
    )


async def _invoke(handler: str, arg: int) -> list[Any]:
    """One attempt over HTTP/2 whose request body stays open (BIDI), as restate-server does it."""
    body = _frame(
        m.StartMessage(id=b"\x02" * 24, debug_id="inv_1limits", known_entries=1, partial_state=True)
    ) + _frame(m.InputCommandMessage(value=str(arg).encode()))
    inbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    inbox.put_nowait({"type": "http.request", "body": body, "more_body": True})
    sent: list[MutableMapping[str, Any]] = []
    out = FrameBuffer()

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)
        out.feed(msg.get("body", b""))
        while (f := out.next_frame()) is not None:
            if f.type == m.MessageType.PROPOSE_RUN_COMPLETION:  # stored: echoed as a notification
                p = m.decode_message(m.ProposeRunCompletionMessage, f.payload)
                n = m.NotificationMessage(
                    completion_id=p.result_completion_id, value=p.value, failure=p.failure
                )
                payload = m.encode_message(n)
                echo = encode_header(m.MessageType.RUN_COMPLETION, len(payload)) + payload
                inbox.put_nowait({"type": "http.request", "body": echo, "more_body": True})
            elif f.type in (m.MessageType.END, m.MessageType.ERROR, m.MessageType.SUSPENSION):
                inbox.put_nowait({"type": "http.request", "body": b"", "more_body": False})

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/invoke/Limits/{handler}",
        "http_version": "2",
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v6")],
    }
    await asyncio.wait_for(LIMITS_APP(scope, inbox.get, send), 10)
    assert sent[0]["status"] == 200
    buf = FrameBuffer()
    buf.feed(b"".join(x.get("body", b"") for x in sent[1:]))
    out = []
    while (f := buf.next_frame()) is not None:
        out.append(m.decode_message(m.MESSAGES[f.type], f.payload))
    return out


async def test_a_run_result_over_the_limit_fails_the_attempt_with_its_size(small_limit: None) -> None:
    """It used to kill the run's task silently and leave the handler waiting for the result until
    restate-server's inactivity timeout, then again on every retry."""
    *_, last = await _invoke("big_run", 5000)
    assert isinstance(last, m.ErrorMessage), last
    assert last.code == 500
    assert last.related_command_type == m.MessageType.RUN_COMMAND
    assert last.related_command_name == "big"
    assert "ProposeRunCompletionMessage of 50" in last.message  # 5000 + a few bytes of framing
    assert f"exceeds the message size limit of {LIMIT} bytes" in last.message


async def test_a_run_result_over_the_limit_becomes_the_runs_failure_when_attempts_run_out(
    small_limit: None,
) -> None:
    *_, output, end = await _invoke("big_run_once", 5000)
    assert isinstance(end, m.EndMessage)
    assert isinstance(output, m.OutputCommandMessage) and output.failure is not None
    assert output.failure.code == 500
    assert "run 'big' failed after 1 attempts" in output.failure.message
    assert f"exceeds the message size limit of {LIMIT} bytes" in output.failure.message


async def test_an_output_over_the_limit_fails_the_attempt_with_its_size(small_limit: None) -> None:
    *_, last = await _invoke("big_output", 5000)
    assert isinstance(last, m.ErrorMessage), last
    assert last.code == 573
    assert "OutputCommandMessage of 50" in last.message
    assert f"exceeds the message size limit of {LIMIT} bytes" in last.message


async def test_under_the_limit_all_is_well(small_limit: None) -> None:
    *_, output, end = await _invoke("big_run", 1000)
    assert isinstance(end, m.EndMessage)
    assert isinstance(output, m.OutputCommandMessage) and output.value == b"1000"


# ---- through restate-server: 30 MiB in and out, and what happens over the limit -----------------------


@pytest.fixture(scope="module")
def endpoint(server: RestateServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointProcess]:
    ep = EndpointProcess(tmp_path_factory.mktemp("limits") / "endpoint.log")
    ep.start()
    register(server, ep.url)
    yield ep
    ep.stop()


@pytest.fixture(scope="module")
def ingress(server: RestateServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.ingress_url, timeout=120) as client:
        yield client


@pytest.mark.integration
def test_30_mib_in_and_30_mib_out(endpoint: EndpointProcess, ingress: httpx.Client) -> None:
    raw = {"content-type": "application/octet-stream"}
    started = time.monotonic()
    r = ingress.post("/Big/size", content=b"a" * (30 * MiB), headers=raw)
    took_in = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert r.json() == 30 * MiB

    started = time.monotonic()
    r = ingress.post("/Big/blob", json=30 * MiB)
    took_out = time.monotonic() - started
    assert r.status_code == 200, r.text[:300]
    assert len(r.content) == 30 * MiB and r.content == b"x" * (30 * MiB)

    rss = endpoint.peak_rss_mb()
    print(f"\n30 MiB input: {took_in:.2f}s, 30 MiB output: {took_out:.2f}s, endpoint peak RSS {rss:.0f} MiB")
    assert took_in < 30 and took_out < 30
    assert rss < 800


@pytest.mark.integration
def test_an_input_over_the_ingress_limit_is_refused_with_413(
    ingress: httpx.Client, endpoint: EndpointProcess
) -> None:
    r = ingress.post(
        "/Big/size", content=b"a" * (33 * MiB), headers={"content-type": "application/octet-stream"}
    )
    assert r.status_code == 413, r.text


@pytest.mark.integration
def test_an_output_over_the_limit_fails_the_invocation_naming_size_and_limit(
    ingress: httpx.Client, endpoint: EndpointProcess
) -> None:
    r = ingress.post("/Big/blob", json=33 * MiB)  # 2 attempts (the handler's retry policy), then killed
    assert r.status_code == 573, r.text
    message = r.json()["message"]
    assert "OutputCommandMessage of 34603018 bytes" in message, message
    assert "exceeds the message size limit of 33555456 bytes" in message, message


@pytest.mark.integration
def test_a_run_result_over_the_limit_fails_the_run_naming_size_and_limit(
    ingress: httpx.Client, endpoint: EndpointProcess
) -> None:
    started = time.monotonic()
    r = ingress.post("/Big/run_blob", json=33 * MiB)  # the run gives up after 2 attempts
    assert time.monotonic() - started < 30, "the run hung instead of failing"
    assert r.status_code == 500, r.text
    message = r.json()["message"]
    assert "run 'big' failed after 2 attempts" in message, message
    assert re.search(r"ProposeRunCompletionMessage of \d{8} bytes", message), message  # base64 of 33 MiB
    assert "exceeds the message size limit of 33555456 bytes" in message, message


@pytest.mark.integration
def test_the_endpoint_survived_the_big_payloads(endpoint: EndpointProcess, ingress: httpx.Client) -> None:
    assert ingress.post("/Echo/say", json="fine").json() == "fine"
    assert not crash_lines(endpoint.log_text()), endpoint.log_text()[-3000:]


def test_the_limit_is_restate_servers(tmp_path: Path) -> None:
    assert InvocationEngine().max_message_size == 32 * MiB + 1024
