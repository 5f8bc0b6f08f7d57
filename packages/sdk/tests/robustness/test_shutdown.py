"""SIGTERM: in-flight attempts drain within a deadline, without a busy loop, and nothing is lost.

``restate.serve`` drains on SIGTERM: attempts blocked on a durable result suspend at once, running
``ctx.run`` closures finish and their results go out, new attempts get 503; restate-server retries
whatever was cut off once the endpoint is back.

``hypercorn apps:app`` (the plain command line) does not drain: its master process gets the SIGTERM
and tells its worker to stop; the worker stops accepting, gives open requests ``--graceful-timeout``
(3 s by default) and then cancels them; the app's lifespan shutdown comes only after that, too late
to drain. Attempts blocked on a durable result keep their stream open until then, a running closure
is cut (and runs again on the retry). restate-server retries every cut attempt: nothing is lost.
Use ``restate.serve`` (or ``Endpoint.drain`` from your own shutdown path) for a clean drain.
"""

from __future__ import annotations

import asyncio
import collections
import subprocess
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import FrameBuffer, encode_header
from restate_testing import RestateServer

from .apps import app
from .support import EndpointProcess, register


def _frame(msg: Any) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


async def test_an_attempt_cancelled_by_its_server_stops_at_once() -> None:
    """A server that gives up on a request (connection lost, graceful timeout over) cancels the app's
    task. The attempt used to swallow that cancellation (it took it for its own cancelling of the
    handler), fail the engine and try to send: hypercorn's writer being gone, that send never
    returned, and ``hypercorn app:app`` never exited on SIGTERM."""
    inbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    start = m.StartMessage(id=b"\x03" * 24, debug_id="inv_1cancel", known_entries=1, partial_state=True)
    inbox.put_nowait(
        {
            "type": "http.request",
            "body": _frame(start) + _frame(m.InputCommandMessage(value=b"60000")),
            "more_body": True,
        }
    )
    sleeping = asyncio.Event()
    writer_gone = asyncio.Event()
    out = FrameBuffer()

    async def send(msg: MutableMapping[str, Any]) -> None:
        if writer_gone.is_set():
            await asyncio.Event().wait()  # like hypercorn once its connection task is cancelled
        out.feed(msg.get("body", b""))
        while (f := out.next_frame()) is not None:
            if f.type == m.MessageType.SLEEP_COMMAND:
                sleeping.set()

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/invoke/Steps/nap",
        "http_version": "2",
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v6")],
    }
    task = asyncio.get_running_loop().create_task(app(scope, inbox.get, send))
    await asyncio.wait_for(sleeping.wait(), 5)
    writer_gone.set()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done, "the attempt did not stop when its server cancelled it"
    assert task.cancelled()
    assert app.in_flight == 0


# ---- the plain hypercorn command line ---------------------------------------------------------------


@pytest.mark.integration
def test_hypercorn_command_line_sigterm_exits_after_its_graceful_timeout_and_nothing_is_lost(
    server: RestateServer, tmp_path: Path
) -> None:
    endpoint = EndpointProcess(tmp_path / "endpoint.log", mode="hypercorn-cli")
    endpoint.start()
    try:
        register(server, endpoint.url)
        slow_log = tmp_path / "slow.log"
        with httpx.Client(base_url=server.ingress_url, timeout=120) as ingress:
            slow = [
                ingress.post(
                    "/Steps/slow_run/send", json={"seconds": 8, "log": str(slow_log), "tag": f"c{k}"}
                ).json()["invocationId"]
                for k in range(3)
            ]
            naps = [ingress.post("/Steps/nap/send", json=5000).json()["invocationId"] for _ in range(20)]
            deadline = time.monotonic() + 30
            while not slow_log.exists() or slow_log.read_text().count("start") < 3:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert endpoint.proc is not None
            sigterm_at = time.monotonic()
            endpoint.terminate()
            try:
                code = endpoint.proc.wait(15)
            except subprocess.TimeoutExpired:
                pytest.fail("hypercorn did not exit within 15 s of SIGTERM")
            stopped_in = time.monotonic() - sigterm_at
            print(f"\nhypercorn CLI: exit {code} {stopped_in:.2f}s after SIGTERM (graceful timeout 3 s)")
            assert code == 0
            assert 2.5 < stopped_in < 10  # it waited for its graceful timeout, then cut the attempts
            assert slow_log.read_text().count("end") == 0, "the 8 s runs were cut"

            endpoint.start()
            for k, invocation_id in enumerate(slow):
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == f"done-c{k}"
            for invocation_id in naps:
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == "rested"
        starts = collections.Counter(
            line.split()[1] for line in slow_log.read_text().splitlines() if line.startswith("start")
        )
        assert starts == {f"c{k}": 2 for k in range(3)}, "cut runs run again (and only they)"
    finally:
        endpoint.stop()
