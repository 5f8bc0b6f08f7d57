"""What each kind of failure does, through restate-server 1.7.12 (docs/sdk.md "What an error does").

A finished invocation is checked through the ingress; a retried or paused one through the admin
API's ``sys_invocation`` table (status, last error code and message, next retry time).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import restate_sdk as restate
from restate_sdk import Context, ObjectContext, TerminalError
from restate_testing import RestateEnvironment

pytestmark = pytest.mark.integration

svc = restate.Service("Failures")
obj = restate.VirtualObject("FailuresObject")


class Opaque:
    pass


@obj.handler()
async def bump(ctx: ObjectContext) -> int:
    return 1


@obj.handler()
async def store(ctx: ObjectContext) -> None:
    ctx.set("thing", Opaque())


@svc.handler()
async def stores(ctx: Context) -> None:
    await ctx.object_call(store, key="k")


@svc.handler()
async def chained(ctx: Context) -> str:
    try:
        raise TerminalError("not allowed", status_code=418)
    except TerminalError as e:
        raise ValueError("wrapped") from e


@svc.handler()
async def retry_later(ctx: Context) -> str:
    raise restate.RetryableError("come back later", status_code=503, retry_after=timedelta(hours=1))


def _flaky() -> str:
    raise restate.RetryableError("rate limited", status_code=429, retry_after=timedelta(hours=1))


@svc.handler()
async def run_retry_later(ctx: Context) -> str:
    return await ctx.run("flaky", _flaky)


def _never() -> str:
    raise ConnectionError("down")


@svc.handler()
async def run_gives_up(ctx: Context) -> str:
    try:
        return await ctx.run(
            "never", _never, max_attempts=2, initial_retry_interval=timedelta(milliseconds=10)
        )
    except TerminalError as e:
        return f"gave up: {e.status_code} {e.message}"


def _as_terminal(e: Exception) -> TerminalError | None:
    return TerminalError(f"bad input: {e}", status_code=422) if isinstance(e, KeyError) else None


@svc.handler(as_terminal_error=_as_terminal)
async def mapped(ctx: Context) -> str:
    raise KeyError("missing")


@svc.handler()
async def pause(ctx: Context) -> str:
    raise restate.PauseError("the pricing table is missing")


@svc.handler()
async def exits(ctx: Context, where: str) -> str:
    if where == "handler":
        sys.exit(2)
    if where == "run-thread":
        return await ctx.run("exit", lambda: sys.exit(2))

    async def interrupt() -> str:
        raise KeyboardInterrupt

    return await ctx.run("interrupt", interrupt)


@svc.handler()
def exits_sync(ctx: restate.SyncContext) -> str:
    sys.exit(2)


@svc.handler()
async def slow(ctx: Context) -> str:
    await asyncio.sleep(1.5)  # not durable: in flight while another invocation exits
    return "still here"


@svc.handler()
async def bad_output(ctx: Context) -> str:
    return Opaque()  # type: ignore[return-value]


@svc.handler()
async def bad_run_result(ctx: Context) -> str:
    await ctx.run("opaque", Opaque)
    return "unreachable"


@svc.handler()
async def wrong_kind(ctx: Context) -> int:
    return await ctx.service_call(bump)  # type: ignore[arg-type]


@svc.handler()
async def bad_key(ctx: Context) -> int:
    return await ctx.object_call(bump, key=5)  # type: ignore[arg-type]


@svc.handler()
async def inside_run(ctx: Context, where: str) -> str:
    async def uses_ctx() -> str:
        await ctx.sleep(timedelta(milliseconds=1))
        return "slept"

    def uses_ctx_on_a_thread() -> str:
        ctx.sleep(timedelta(milliseconds=1))
        return "unreachable"

    if where == "thread":
        return await ctx.run("uses ctx", uses_ctx_on_a_thread)
    return await ctx.run("uses ctx", uses_ctx)


_kept: dict[str, Context] = {}


@svc.handler()
async def keep(ctx: Context, millis: int) -> str:
    _kept["ctx"] = ctx
    await asyncio.sleep(millis / 1000)
    return "kept"


@svc.handler()
async def use_kept(ctx: Context) -> str:
    await _kept["ctx"].sleep(timedelta(milliseconds=1))
    return "unreachable"


_outlived: dict[str, BaseException] = {}
_background: set[asyncio.Task[None]] = set()


@svc.handler()
async def spawns(ctx: Context, marker: str) -> str:
    async def outlives() -> None:
        await asyncio.sleep(0.3)
        try:
            ctx.sleep(timedelta(milliseconds=1))
        except BaseException as e:
            _outlived[marker] = e

    task = asyncio.get_running_loop().create_task(outlives())
    _background.add(task)
    task.add_done_callback(_background.discard)
    return "spawned"


@svc.handler()
async def timeouts(ctx: Context) -> list[str]:
    out: list[str] = []
    _, never = ctx.awakeable(type_hint=str)
    try:
        await restate.with_timeout(never, timedelta(milliseconds=100))
    except restate.TimeoutError as e:
        out.append(f"timeout {e.status_code}")
    out.append(await restate.with_timeout(ctx.run("quick", lambda: "quick"), timedelta(seconds=30)))
    return out


def _fails() -> str:
    raise TerminalError("no", status_code=409)


@svc.handler()
async def settled(ctx: Context) -> list[str]:
    a = ctx.run("ok", lambda: "ok")
    b = ctx.run("fails", _fails)
    c = ctx.sleep(timedelta(milliseconds=50))
    results = await restate.gather(a, b, c, return_exceptions=True)
    return [repr(r) for r in results]


CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "always-suspending": {"always_replay": True},
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def env(request: pytest.FixtureRequest) -> Iterator[RestateEnvironment]:
    with RestateEnvironment(restate.app([svc, obj]), backend="binary", **CONFIGS[request.param]) as e:
        yield e


def call(env: RestateEnvironment, handler: str, body: object = None, timeout: float = 60) -> httpx.Response:
    with httpx.Client(base_url=env.ingress_url, timeout=timeout) as client:
        return client.post(f"/Failures/{handler}", json=body, headers={"idempotency-key": uuid.uuid4().hex})


def send(env: RestateEnvironment, handler: str, body: object = None) -> str:
    with httpx.Client(base_url=env.ingress_url, timeout=60) as client:
        r = client.post(f"/Failures/{handler}/send", json=body)
        assert r.status_code == 202, r.text
        return str(r.json()["invocationId"])


def status_when(env: RestateEnvironment, invocation_id: str, statuses: set[str]) -> dict[str, Any]:
    """The invocation's sys_invocation row, once its status is one of ``statuses``."""
    deadline = time.monotonic() + 30
    row: dict[str, Any] = {}
    while time.monotonic() < deadline:
        rows = env.admin.query(
            "select status, retry_count, last_failure, last_failure_error_code, next_retry_at, "
            f"last_failure_related_command_name from sys_invocation where id = '{invocation_id}'"
        )
        if rows:
            row = rows[0]
            if row["status"] in statuses and (row.get("last_failure") or row["status"] == "paused"):
                return row
        time.sleep(0.1)
    raise AssertionError(f"{invocation_id} never reached {statuses}: {row}")


def kill(env: RestateEnvironment, invocation_id: str) -> None:
    httpx.delete(f"{env.admin_url}/invocations/{invocation_id}?mode=kill", timeout=30)


def test_a_terminal_error_in_the_cause_chain_ends_the_invocation(env: RestateEnvironment) -> None:
    r = call(env, "chained")
    assert r.status_code == 418, r.text
    assert "not allowed" in r.text


@pytest.mark.parametrize(
    ("handler", "code", "command"), [("retry_later", 503, None), ("run_retry_later", 429, "flaky")]
)
def test_retryable_error_sets_the_status_and_the_next_retry_delay(
    env: RestateEnvironment, handler: str, code: int, command: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "restate_sdk")
    invocation_id = send(env, handler)
    try:
        row = status_when(env, invocation_id, {"backing-off"})
        assert row["last_failure"].startswith(f"[{code}] "), row  # ErrorMessage.code
        next_retry = datetime.fromisoformat(str(row["next_retry_at"]).replace("Z", "+00:00"))
        if next_retry.tzinfo is None:
            next_retry = next_retry.replace(tzinfo=UTC)
        assert next_retry - datetime.now(UTC) > timedelta(minutes=50)  # retry_after, not the policy's
        assert row.get("last_failure_related_command_name") == command
        lines = [
            r for r in caplog.records if r.levelno == logging.WARNING and invocation_id in r.getMessage()
        ]
        assert lines, caplog.text
        assert "attempt 1 failed" in lines[0].getMessage()
        assert (command is None) == ("ctx.run" not in lines[0].getMessage())
        assert "Restate retries it after 3600s" in lines[0].getMessage()
        assert lines[0].__dict__["restate_invocation_id"] == invocation_id
    finally:
        kill(env, invocation_id)


def test_a_runs_own_retry_policy_still_governs_the_run(env: RestateEnvironment) -> None:
    r = call(env, "run_gives_up")
    assert r.status_code == 200, r.text
    assert r.json().startswith("gave up: 500 run 'never' failed after 2 attempts: ConnectionError: down")


def test_as_terminal_error_maps_an_exception(env: RestateEnvironment) -> None:
    r = call(env, "mapped")
    assert r.status_code == 422, r.text
    assert "bad input" in r.text


def test_pause_error_falls_back_to_a_retry_below_v7(env: RestateEnvironment) -> None:
    invocation_id = send(env, "pause")
    try:
        row = status_when(env, invocation_id, {"backing-off"})
        assert "the pricing table is missing (pausing needs service protocol V7" in row["last_failure"]
    finally:
        kill(env, invocation_id)


@pytest.mark.parametrize(
    ("handler", "body", "what"),
    [
        ("exits", "handler", "SystemExit(2)"),
        ("exits", "run-thread", "SystemExit(2)"),
        ("exits", "run-async", "KeyboardInterrupt()"),
        ("exits_sync", None, "SystemExit(2)"),
    ],
)
def test_system_exit_fails_the_attempt_and_the_endpoint_goes_on(
    env: RestateEnvironment, handler: str, body: object, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "restate_sdk")
    result: list[httpx.Response] = []
    in_flight = threading.Thread(target=lambda: result.append(call(env, "slow")))
    in_flight.start()
    time.sleep(0.3)
    invocation_id = send(env, handler, body)
    try:
        row = status_when(env, invocation_id, {"backing-off"})
        assert what in row["last_failure"], row
        assert "the endpoint goes on" in row["last_failure"]
        in_flight.join(30)
        assert result and result[0].status_code == 200 and result[0].json() == "still here"
        assert call(env, "mapped").status_code == 422  # and it serves new invocations
        assert any(invocation_id in r.getMessage() and what in r.getMessage() for r in caplog.records)
    finally:
        kill(env, invocation_id)


@pytest.mark.parametrize(
    ("handler", "words"),
    [
        ("bad_output", ["Failures.bad_output", "test_failures.Opaque", "output_serde="]),
        (
            "bad_run_result",
            ["Failures.bad_run_result", "ctx.run 'opaque'", "test_failures.Opaque", "type_hint="],
        ),
        (
            "wrong_kind",
            [
                "Failures.wrong_kind",
                "FailuresObject.bump",
                "belongs to a virtual object, not a service",
                "object_call",
            ],
        ),
        ("bad_key", ["Failures.bad_key", "must be a str", "int 5", "str(key)"]),
        ("stores", ["FailuresObject.store", "state 'thing'", "test_failures.Opaque", "serde="]),
    ],
)
def test_deterministic_sdk_failures_end_the_invocation(
    env: RestateEnvironment, handler: str, words: list[str]
) -> None:
    r = call(env, handler)
    assert r.status_code == 500, r.text
    for word in words:
        assert word in r.text, r.text


@pytest.mark.parametrize("where", ["loop", "thread"])
def test_ctx_inside_its_own_run_is_a_usage_error(env: RestateEnvironment, where: str) -> None:
    r = call(env, "inside_run", where, timeout=30)
    assert r.status_code == 500, r.text
    assert "inside one of its own ctx.run functions" in r.text
    assert "invocation inv_" in r.text


def test_ctx_after_its_invocation_ended_is_a_usage_error(env: RestateEnvironment) -> None:
    assert call(env, "keep", 0).json() == "kept"
    r = call(env, "use_kept")
    assert r.status_code == 500, r.text
    assert "after its invocation attempt ended" in r.text


def test_ctx_from_a_task_that_outlives_the_handler_is_a_usage_error(env: RestateEnvironment) -> None:
    marker = uuid.uuid4().hex
    assert call(env, "spawns", marker).json() == "spawned"
    deadline = time.monotonic() + 10
    while marker not in _outlived and time.monotonic() < deadline:
        time.sleep(0.05)
    error = _outlived[marker]
    assert isinstance(error, restate.SdkUsageError)
    assert "after its invocation attempt ended" in str(error) and "invocation inv_" in str(error)


def test_ctx_of_another_invocation_is_a_usage_error(env: RestateEnvironment) -> None:
    kept: list[httpx.Response] = []
    first = threading.Thread(target=lambda: kept.append(call(env, "keep", 1500)))
    first.start()
    time.sleep(0.5)
    r = call(env, "use_kept")
    first.join(30)
    assert r.status_code == 500, r.text
    assert "from a task of another invocation" in r.text
    assert kept[0].json() == "kept"


def test_with_timeout(env: RestateEnvironment) -> None:
    r = call(env, "timeouts")
    assert r.status_code == 200, r.text
    assert r.json() == ["timeout 408", "quick"]


def test_gather_returning_exceptions(env: RestateEnvironment) -> None:
    r = call(env, "settled")
    assert r.status_code == 200, r.text
    assert r.json() == ["'ok'", "TerminalError('no', status_code=409)", "None"]


@pytest.fixture(scope="module")
def v7_env() -> Iterator[RestateEnvironment]:
    options: dict[str, Any] = {"env": {"RESTATE_EXPERIMENTAL_ENABLE_PROTOCOL_V7": "true"}}
    with RestateEnvironment(restate.app([svc, obj]), backend="binary", **options) as e:
        yield e


def test_pause_error_pauses_on_v7(v7_env: RestateEnvironment) -> None:
    invocation_id = send(v7_env, "pause")
    try:
        started = time.monotonic()
        row = status_when(v7_env, invocation_id, {"paused"})
        # paused by the ErrorMessage's behavior, not by running out of the server's 70 retries
        assert row["status"] == "paused" and time.monotonic() - started < 20
    finally:
        kill(v7_env, invocation_id)
