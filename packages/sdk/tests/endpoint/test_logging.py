"""Replay-aware logging: lines logged before the journal's end are not logged again on replay."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import pytest
import restate_sdk as restate
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import encode_header

log = restate.getLogger("tests.replay")
svc = restate.Service("Logged")


@svc.handler()
async def work(ctx: restate.Context, name: str) -> str:
    log.info("before the step: %s", name)
    value = await ctx.run("step", lambda: name.upper())
    log.info("after the step: %s", value)
    return value


plain = logging.getLogger("tests.plain")  # not restate.getLogger: the id is on every record


@svc.handler()
async def ids(ctx: restate.Context) -> str:
    plain.info("in the handler")

    def step() -> str:
        plain.info("in a run, on a worker thread")
        return "done"

    return await ctx.run("step", step)


APP = restate.app([svc])


def frame(msg: Any, type_id: int | None = None) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE if type_id is None else type_id, len(payload)) + payload


async def invoke(body: bytes, handler: str = "work") -> bytes:
    chunks = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/invoke/Logged/{handler}",
        "http_version": "2",
        "headers": [(b"content-type", b"application/vnd.restate.invocation.v6")],
    }
    await APP(scope, receive, send)
    return b"".join(x.get("body", b"") for x in sent[1:])


async def test_lines_before_the_journal_end_are_not_repeated(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tests.replay")
    body = (
        frame(m.StartMessage(id=b"\x02" * 24, debug_id="inv_x", known_entries=3))
        + frame(m.InputCommandMessage(value=b'"ann"'))
        + frame(m.RunCommandMessage(result_completion_id=1, name="step"))
        + frame(m.NotificationMessage(completion_id=1, value=b'"ANN"'), m.MessageType.RUN_COMPLETION)
    )
    out = await invoke(body)
    assert out.endswith(frame(m.OutputCommandMessage(value=b'"ANN"')) + frame(m.EndMessage()))
    assert [r.getMessage() for r in caplog.records] == ["after the step: ANN"]


async def test_a_fresh_attempt_logs_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tests.replay")
    body = frame(m.StartMessage(id=b"\x03" * 24, debug_id="inv_y", known_entries=1)) + frame(
        m.InputCommandMessage(value=b'"bo"')
    )
    await invoke(body)  # input closes: the run's result never arrives, so the attempt suspends
    assert [r.getMessage() for r in caplog.records] == ["before the step: bo"]


async def test_records_carry_the_invocation_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tests.plain")
    body = frame(m.StartMessage(id=b"\x04" * 24, debug_id="inv_ids", known_entries=1)) + frame(
        m.InputCommandMessage()
    )
    await invoke(body, "ids")
    assert [(r.getMessage(), r.restate_invocation_id) for r in caplog.records] == [  # type: ignore[attr-defined]
        ("in the handler", "inv_ids"),
        ("in a run, on a worker thread", "inv_ids"),
    ]
    assert (caplog.records[1].threadName or "").startswith("restate-run")
    plain.info("after the invocation")
    assert caplog.records[-1].restate_invocation_id == ""  # type: ignore[attr-defined]
