"""The ASGI app called in-process with scripted receive/send."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import msgspec
import pytest
import restate_sdk as restate
from restate_sdk._engine import messages as m
from restate_sdk._engine.framing import FrameBuffer, encode_header

svc = restate.Service("Greeter", description="says hello")


@svc.handler(documentation="greets")
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}!"


obj = restate.VirtualObject("Counter")


@obj.handler(kind="shared", inactivity_timeout=__import__("datetime").timedelta(seconds=5))
async def get(ctx: restate.ObjectSharedContext) -> int:
    return 0


wf = restate.Workflow("Flow")


@wf.main(retry_policy=restate.RetryPolicy(max_attempts=3, on_max_attempts="kill"))
async def run(ctx: restate.WorkflowContext, x: int) -> None:
    return None


APP = restate.app([svc, obj, wf])


async def request(
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    method: str = "GET",
    http_version: str = "2",
    app: restate.Endpoint = APP,
) -> tuple[int, dict[str, str], bytes]:
    sent: list[MutableMapping[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> MutableMapping[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(msg: MutableMapping[str, Any]) -> None:
        sent.append(msg)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "http_version": http_version,
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    await app(scope, receive, send)
    start = sent[0]
    out = b"".join(x.get("body", b"") for x in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, out


def frame(msg: Any) -> bytes:
    payload = m.encode_message(msg)
    return encode_header(msg.TYPE, len(payload)) + payload


async def test_discovery_picks_the_highest_manifest_version_offered() -> None:
    accept = ", ".join(f"application/vnd.restate.endpointmanifest.v{v}+json" for v in (1, 2, 3, 4))
    status, headers, body = await request("/discover", {"accept": accept})
    assert status == 200
    assert headers["content-type"] == "application/vnd.restate.endpointmanifest.v4+json"
    manifest = msgspec.json.decode(body)
    assert manifest["protocolMode"] == "BIDI_STREAM"
    assert (manifest["minProtocolVersion"], manifest["maxProtocolVersion"]) == (5, 7)
    greeter, counter, flow = manifest["services"]
    assert greeter["documentation"] == "says hello"
    assert greeter["handlers"][0]["input"] == {
        "required": False,
        "contentType": "application/json",
        "jsonSchema": {"type": "string"},
    }
    assert greeter["handlers"][0]["output"]["jsonSchema"] == {"type": "string"}
    assert counter["handlers"][0]["ty"] == "SHARED"
    assert counter["handlers"][0]["inactivityTimeout"] == 5000
    assert counter["handlers"][0]["input"] == {}
    main = flow["handlers"][0]
    assert main["ty"] == "WORKFLOW"
    assert main["retryPolicyMaxAttempts"] == 3
    assert main["retryPolicyOnMaxAttempts"] == "KILL"


async def test_an_older_manifest_that_cannot_carry_an_option_fails_discovery() -> None:
    status, _, body = await request(
        "/discover", {"accept": "application/vnd.restate.endpointmanifest.v2+json"}, http_version="1.1"
    )
    assert status == 415
    text = body.decode()
    assert text.startswith("restate-server asked for discovery manifest v2")
    assert "handler Counter.get: inactivity_timeout= (needs v3)" in text
    assert "handler Flow.run: retry_policy= (needs v4)" in text
    assert "upgrade restate-server" in text


async def test_an_older_manifest_carries_what_it_can_express() -> None:
    plain = restate.Service("Plain", description="v2 has documentation")

    @plain.handler(metadata={"team": "a"})
    async def hello(ctx: restate.Context) -> str:
        return "hi"

    status, headers, body = await request(
        "/discover",
        {"accept": "application/vnd.restate.endpointmanifest.v2+json"},
        http_version="1.1",
        app=restate.app([plain]),
    )
    assert status == 200
    assert headers["content-type"] == "application/vnd.restate.endpointmanifest.v2+json"
    manifest = msgspec.json.decode(body)
    assert manifest["protocolMode"] == "REQUEST_RESPONSE"
    (service,) = manifest["services"]
    assert service["documentation"] == "v2 has documentation"
    assert service["handlers"][0]["metadata"] == {"team": "a"}


async def test_discovery_without_a_supported_version_is_415() -> None:
    status, _, body = await request(
        "/discover", {"accept": "application/vnd.restate.endpointmanifest.v9+json"}
    )
    assert status == 415
    assert b"v2..v4" in body


async def test_health() -> None:
    status, _, body = await request("/health", {})
    assert (status, body) == (200, b'{"status":"ok"}')


@pytest.mark.parametrize(
    ("path", "content_type", "status"),
    [
        ("/invoke/Nope/greet", "application/vnd.restate.invocation.v6", 404),
        ("/invoke/Greeter/nope", "application/vnd.restate.invocation.v6", 404),
        ("/invoke/Greeter/greet", "application/json", 415),
        ("/invoke/Greeter/greet", "application/vnd.restate.invocation.v9", 415),
        ("/somewhere", "application/json", 404),
    ],
)
async def test_invoke_rejects(path: str, content_type: str, status: int) -> None:
    got, _, _ = await request(path, {"content-type": content_type}, method="POST")
    assert got == status


async def test_invoke_runs_a_handler_in_request_response_mode() -> None:
    body = frame(m.StartMessage(id=b"\x01" * 24, debug_id="inv_1", known_entries=1, random_seed=7)) + frame(
        m.InputCommandMessage(value=b'"Ann"')
    )
    ct = "application/vnd.restate.invocation.v6"
    status, headers, out = await request("/invoke/Greeter/greet", {"content-type": ct}, body, "POST")
    assert status == 200
    assert headers["content-type"] == ct
    assert out == frame(m.OutputCommandMessage(value=b'"Hello Ann!"')) + frame(m.EndMessage())


async def test_invoke_with_a_mount_prefix() -> None:
    body = frame(m.StartMessage(id=b"\x01" * 24, known_entries=1)) + frame(
        m.InputCommandMessage(value=b'"B"')
    )
    ct = "application/vnd.restate.invocation.v5"
    status, _, out = await request("/restate/v1/invoke/Greeter/greet", {"content-type": ct}, body, "POST")
    assert status == 200
    assert out.endswith(frame(m.EndMessage()))


async def test_truncated_journal_is_a_protocol_error() -> None:
    body = frame(m.StartMessage(id=b"\x01" * 24, known_entries=2)) + frame(
        m.InputCommandMessage(value=b'"B"')
    )
    ct = "application/vnd.restate.invocation.v6"
    status, _, out = await request("/invoke/Greeter/greet", {"content-type": ct}, body, "POST")
    assert status == 400
    assert b"journal was complete" in out


routes = restate.Service("Routes")


@routes.handler()
async def health(ctx: restate.Context) -> str:
    return "the handler named health"


@routes.handler()
async def discover(ctx: restate.Context) -> str:
    return "the handler named discover"


@pytest.mark.parametrize("name", ["health", "discover"])
async def test_an_invocation_path_wins_over_the_health_and_discovery_routes(name: str) -> None:
    body = frame(m.StartMessage(id=b"\x01" * 24, known_entries=1)) + frame(m.InputCommandMessage())
    ct = "application/vnd.restate.invocation.v6"
    status, _, out = await request(
        f"/invoke/Routes/{name}", {"content-type": ct}, body, "POST", app=restate.app([routes])
    )
    assert status == 200
    value = msgspec.json.encode(f"the handler named {name}")
    assert out == frame(m.OutputCommandMessage(value=value)) + frame(m.EndMessage())


async def test_health_and_discovery_still_answer_beside_such_handlers() -> None:
    app = restate.app([routes])
    assert (await request("/health", {}, app=app))[0] == 200
    assert (await request("/restate/health", {}, app=app))[0] == 200
    status, _, body = await request(
        "/discover", {"accept": "application/vnd.restate.endpointmanifest.v4+json"}, app=app
    )
    assert status == 200
    assert [h["name"] for h in msgspec.json.decode(body)["services"][0]["handlers"]] == ["health", "discover"]


def b58(data: bytes) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n, out = int.from_bytes(data, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out  # each leading zero byte is a "1"


async def test_an_invocation_of_a_handler_named_health_is_authenticated() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = "publickeyv1_" + b58(Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    app = restate.app([routes], identity_keys=[key])
    status, _, body = await request(
        "/invoke/Routes/health",
        {"content-type": "application/vnd.restate.invocation.v6"},
        method="POST",
        app=app,
    )
    assert status == 401  # unsigned: refused, where the health route would have answered 200
    assert b"identity" in body
    assert (await request("/health", {}, app=app))[0] == 200


drift = restate.Service("Drift")


@drift.handler()
async def changed(ctx: restate.Context) -> str:
    return await ctx.run("now a run", lambda: "x")  # the journal recorded a sleep here


@pytest.mark.parametrize(
    ("version", "option", "behavior"),
    [
        (7, "retry", m.ErrorBehavior.RETRY),
        (7, "pause", m.ErrorBehavior.PAUSE),
        (7, "fail", m.ErrorBehavior.FAIL),
        (6, "pause", m.ErrorBehavior.RETRY),  # V6 cannot express it: the server retries
        (5, "fail", m.ErrorBehavior.RETRY),
    ],
)
async def test_on_journal_mismatch_chooses_the_error_behavior(
    version: int, option: Any, behavior: m.ErrorBehavior
) -> None:
    app = restate.app([drift], on_journal_mismatch=option)
    body = (
        frame(m.StartMessage(id=b"\x01" * 24, debug_id="inv_1", known_entries=2, random_seed=7))
        + frame(m.InputCommandMessage(value=b""))
        + frame(m.SleepCommandMessage(wake_up_time=1, result_completion_id=1))
    )
    ct = f"application/vnd.restate.invocation.v{version}"
    status, _, out = await request("/invoke/Drift/changed", {"content-type": ct}, body, "POST", app=app)
    assert status == 200
    (error,) = [msg for msg in decode_frames(out) if isinstance(msg, m.ErrorMessage)]
    assert error.code == 570 and "SleepCommandMessage" in error.message
    assert error.behavior == behavior


def test_on_journal_mismatch_refuses_other_values() -> None:
    with pytest.raises(restate.SdkUsageError, match="on_journal_mismatch must be 'retry', 'pause' or 'fail'"):
        restate.app([drift], on_journal_mismatch="kill")  # type: ignore[arg-type]


def decode_frames(data: bytes) -> list[Any]:
    buf = FrameBuffer()
    buf.feed(data)
    out: list[Any] = []
    while (f := buf.next_frame()) is not None:
        out.append(m.decode_message(m.MESSAGES[f.type], f.payload))
    return out
