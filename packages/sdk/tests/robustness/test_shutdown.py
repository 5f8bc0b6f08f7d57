"""SIGTERM: in-flight attempts drain within a deadline, without a busy loop, and nothing is lost.

``restate.serve`` drains on SIGTERM: attempts blocked on a durable result suspend at once, running
``ctx.run`` closures finish and their results go out, new attempts get 503; restate-server retries
whatever was cut off once the endpoint is back.

``hypercorn apps:app`` (the plain command line) does not drain: its master process gets the SIGTERM
and tells its worker to stop; the worker stops accepting, gives open requests ``--graceful-timeout``
(3 s by default) and then cancels them; the app's lifespan shutdown comes only after that, too late
to drain. Attempts blocked on a durable result keep their stream open until then, a running closure
is cut (and runs again on the retry). restate-server retries every cut attempt: nothing is lost.
On Python 3.12+ the graceful timeout never comes: asyncio's ``Server.wait_closed()``, which
hypercorn awaits first, waits for every open connection since 3.12, so closures finish and the
worker exits once its requests have ended.

``granian --interface asgi apps:app`` does not drain either. On SIGTERM its worker stops accepting
and mostly waits for every open request to end: closures finish, but an attempt blocked on a
durable result keeps its stream, and the process, until the result arrives or restate-server's
inactivity timeout (60 s by default) ends the stream. Now and then (1 run in 5 here) it closes the
connection at once instead ("ASGI transport error: Closed"), cutting everything. Either way it
exits 0 and restate-server retries what was cut.

Neither server tells the app before it acts (both send the ASGI lifespan shutdown afterwards), so
an ``Endpoint`` cannot drain on its own under them without taking over their signal handlers. Use
``restate.serve`` (or call ``Endpoint.drain`` from your own shutdown path) for a clean, quick drain.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import FrameBuffer, encode_header
from restate_testing import RestateServer

from .apps import app
from .support import EndpointProcess, crash_lines, register


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


# ---- restate.serve: many attempts in flight, SIGTERM -----------------------------------------------

N_SLOW = 40  # one 2.5 s ctx.run each: the drain waits for them
SLOW_SECONDS = 2.5
N_NAPS = 200  # blocked on a 6 s sleep: they suspend at once
N_STEPS = 10  # 8 steps of 0.2 s each
DRAIN_DEADLINE = 10.0


def _samples_until_exit(endpoint: EndpointProcess, deadline: float) -> list[tuple[float, float]]:
    """(monotonic time, CPU seconds) every 50 ms until the process exits."""
    assert endpoint.proc is not None
    samples = []
    while endpoint.proc.poll() is None and time.monotonic() < deadline:
        try:
            samples.append((time.monotonic(), endpoint.cpu_seconds()))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            break
        time.sleep(0.05)
    return samples


@pytest.mark.integration
@pytest.mark.parametrize("http_server", ["builtin", "granian", "hypercorn"])
def test_sigterm_drains_hundreds_of_in_flight_attempts(
    server: RestateServer, tmp_path: Path, http_server: str
) -> None:
    endpoint = EndpointProcess(tmp_path / "endpoint.log", server=http_server)
    endpoint.start()
    try:
        register(server, endpoint.url)
        slow_log = tmp_path / "slow.log"
        step_logs = [tmp_path / f"steps-{k}.log" for k in range(N_STEPS)]
        with httpx.Client(base_url=server.ingress_url, timeout=120, http1=False, http2=True) as ingress:

            def send(path: str, body: Any) -> str:
                r = ingress.post(path, json=body, headers={"idempotency-key": uuid.uuid4().hex})
                assert r.status_code == 202, r.text
                return str(r.json()["invocationId"])

            slow = [
                send("/Steps/slow_run/send", {"seconds": SLOW_SECONDS, "log": str(slow_log), "tag": f"s{k}"})
                for k in range(N_SLOW)
            ]
            naps = [send("/Steps/nap/send", 6000) for _ in range(N_NAPS)]
            steps = [
                send("/Steps/run_steps/send", {"count": 8, "log": str(log), "step_seconds": 0.2})
                for log in step_logs
            ]
            deadline = time.monotonic() + 30
            while not slow_log.exists() or slow_log.read_text().count("start") < N_SLOW:
                assert time.monotonic() < deadline, "the slow runs did not all start"
                time.sleep(0.05)
            assert slow_log.read_text().count("end") == 0, "too slow a machine for this test"

            assert endpoint.proc is not None
            log_at_sigterm = len(endpoint.log_text())
            sigterm_at = time.monotonic()
            endpoint.terminate()
            samples = _samples_until_exit(endpoint, sigterm_at + 30)
            code = endpoint.proc.wait(5)
            drained_in = time.monotonic() - sigterm_at

            ends = [
                float(line.split()[2]) for line in slow_log.read_text().splitlines() if line.startswith("end")
            ]
            assert len(ends) == N_SLOW, "a running closure was cut instead of finishing"
            # CPU while the endpoint only waits for the closures' sleeps: from 0.75 s after the signal
            # (the suspensions are sent by then) to the first closure's end
            quiet_end = time.monotonic() - (time.time() - min(ends))
            quiet = [(t, c) for t, c in samples if sigterm_at + 0.75 <= t <= quiet_end - 0.05]
            cpu_total = samples[-1][1] - samples[0][1] if len(samples) > 1 else 0.0
            quiet_ratio = (
                (quiet[-1][1] - quiet[0][1]) / (quiet[-1][0] - quiet[0][0]) if len(quiet) > 4 else 0.0
            )
            print(
                f"\n{http_server}: SIGTERM with {N_SLOW} runs, {N_NAPS} sleeps, {N_STEPS} step loops in flight: "
                f"exit {code} after {drained_in:.2f}s; CPU during the drain {cpu_total:.2f}s, "
                f"while waiting for the runs {quiet_ratio:.0%} of a core"
            )
            assert code == 0, endpoint.log_text()[-3000:]
            assert drained_in < DRAIN_DEADLINE
            assert quiet_ratio < 0.3, f"busy while draining: {quiet_ratio:.0%} of a core"
            log = endpoint.log_text()
            assert not crash_lines(log[:log_at_sigterm]), log[:log_at_sigterm][-3000:]
            if crash_lines(log[log_at_sigterm:]):
                # hypercorn's h2 code may trip over a request restate-server sends while it closes
                # connections after the drain (KeyError for the DATA of a stream it reset); serve()
                # logs that and exits 0. Nothing else may show up.
                assert http_server == "hypercorn" and "KeyError" in log[log_at_sigterm:], log[-3000:]

            endpoint.start()
            for k, invocation_id in enumerate(slow):
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == f"done-s{k}"
            for invocation_id in naps:
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == "rested"
            for invocation_id in steps:
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == sum(range(8))
        starts = collections.Counter(
            line.split()[1] for line in slow_log.read_text().splitlines() if line.startswith("start")
        )
        assert starts == {f"s{k}": 1 for k in range(N_SLOW)}, "a drained run ran again"
        for log in step_logs:
            runs = collections.Counter(int(x) for x in log.read_text().split())
            assert runs == {i: 1 for i in range(8)}, f"a drained step ran again: {runs}"
    finally:
        endpoint.stop()


async def test_serve_does_not_fail_on_hypercorns_errors_after_the_drain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hypercorn.asyncio
    from restate_sdk._endpoint import serve as serve_module

    async def trips_after_shutdown(app: Any, config: Any, *, shutdown_trigger: Any) -> None:
        await shutdown_trigger()
        raise KeyError(379)  # what hypercorn's h2 code raises for DATA of a stream it reset

    async def trips_while_serving(app: Any, config: Any, *, shutdown_trigger: Any) -> None:
        raise KeyError(1)

    async def drained() -> None:
        return None

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        monkeypatch.setattr(hypercorn.asyncio, "serve", trips_after_shutdown)
        await serve_module._serve_hypercorn(app, sock, drained, {})  # logged, not raised
        monkeypatch.setattr(hypercorn.asyncio, "serve", trips_while_serving)
        with pytest.raises(KeyError):
            await serve_module._serve_hypercorn(app, sock, drained, {})


# ---- the plain hypercorn command line ---------------------------------------------------------------


@pytest.mark.integration
def test_hypercorn_command_line_sigterm_loses_nothing(server: RestateServer, tmp_path: Path) -> None:
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
            if sys.version_info < (3, 12):
                assert 2.5 < stopped_in < 7  # it waited for its graceful timeout, then cut the attempts
                assert slow_log.read_text().count("end") == 0, "the 8 s runs were cut"
            else:
                # asyncio's Server.wait_closed() waits for open connections since 3.12, and hypercorn
                # awaits it before its graceful timeout: the runs finish, their attempts end normally
                assert 7 < stopped_in < 14
                assert slow_log.read_text().count("end") == 3, "the 8 s runs finished"

            endpoint.start()
            for k, invocation_id in enumerate(slow):
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == f"done-c{k}"
            for invocation_id in naps:
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == "rested"
        starts = collections.Counter(
            line.split()[1] for line in slow_log.read_text().splitlines() if line.startswith("start")
        )
        cut = sys.version_info < (3, 12)
        assert starts == {f"c{k}": 2 if cut else 1 for k in range(3)}, "cut runs run again (and only they)"
    finally:
        endpoint.stop()


@pytest.mark.integration
def test_granian_command_line_sigterm_waits_for_open_attempts_and_nothing_is_lost(
    server: RestateServer, tmp_path: Path
) -> None:
    endpoint = EndpointProcess(
        tmp_path / "endpoint.log",
        mode="granian-cli",
        extra_args=("--http", "auto", "--http2-max-concurrent-streams", "100000"),
    )
    endpoint.start()
    try:
        register(server, endpoint.url)
        slow_log = tmp_path / "slow.log"
        with httpx.Client(base_url=server.ingress_url, timeout=120) as ingress:
            slow = [
                ingress.post(
                    "/Steps/slow_run/send", json={"seconds": 2, "log": str(slow_log), "tag": f"g{k}"}
                ).json()["invocationId"]
                for k in range(3)
            ]
            sent_naps_at = time.monotonic()
            naps = [ingress.post("/Steps/nap/send", json=4000).json()["invocationId"] for _ in range(10)]
            deadline = time.monotonic() + 30
            while not slow_log.exists() or slow_log.read_text().count("start") < 3:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert endpoint.proc is not None
            sigterm_at = time.monotonic()
            endpoint.terminate()
            code = endpoint.proc.wait(30)
            stopped_in = time.monotonic() - sigterm_at
            finished = slow_log.read_text().count("end") == 3  # all 3 runs, or (cut at once) none
            waited = finished and time.monotonic() - sent_naps_at >= 3.5
            print(
                f"\ngranian CLI: exit {code} {stopped_in:.2f}s after SIGTERM with 2 s runs and 4 s sleeps in "
                f"flight: {'it waited for all of them' if waited else 'it cut them'}"
            )
            assert code == 0

            endpoint.start()
            for k, invocation_id in enumerate(slow):
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == f"done-g{k}"
            for invocation_id in naps:
                assert ingress.get(f"/restate/invocation/{invocation_id}/attach").json() == "rested"
        starts = collections.Counter(
            line.split()[1] for line in slow_log.read_text().splitlines() if line.startswith("start")
        )
        assert starts == {f"g{k}": 1 if finished else 2 for k in range(3)}
    finally:
        endpoint.stop()
