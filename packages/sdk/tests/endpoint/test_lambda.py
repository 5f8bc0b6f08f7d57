"""restate.lambda_handler: Lambda events in, the app's ASGI answers out (no server; see
integration/test_lambda.py for the path through restate-server)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import MutableMapping
from typing import Any

import pytest
import restate_sdk as restate

svc = restate.Service("LambdaSvc")


@svc.handler()
async def hi(ctx: restate.Context, name: str) -> str:
    return f"hi {name}"


APP = restate.app([svc])
MANIFEST_V3 = "application/vnd.restate.endpointmanifest.v3+json"


def _event(path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "path": path,
        "httpMethod": "POST" if body else "GET",
        "headers": headers or {},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


def _body(response: dict[str, Any]) -> bytes:
    assert response["isBase64Encoded"] is True
    return base64.b64decode(response["body"])


def test_discovery_answers_request_response() -> None:
    handler = restate.lambda_handler(APP)
    response = handler(_event("/discover", headers={"Accept": MANIFEST_V3}), None)
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == MANIFEST_V3
    assert "content-length" not in response["headers"]  # Lambda re-frames the body
    manifest = json.loads(_body(response))
    assert manifest["protocolMode"] == "REQUEST_RESPONSE"
    assert [s["name"] for s in manifest["services"]] == ["LambdaSvc"]


def test_warm_invocations_reuse_one_event_loop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def asgi(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        loops.append(asyncio.get_running_loop())
        request = await receive()
        assert scope["path"] == "/echo" and scope["http_version"] == "1.1"
        assert dict(scope["headers"])[b"x-test"] == b"1"
        await send(
            {"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1"), (b"x-a", b"2")]}
        )
        await send({"type": "http.response.body", "body": request["body"][:3], "more_body": True})
        await send({"type": "http.response.body", "body": request["body"][3:]})

    handler = restate.lambda_handler(asgi)
    for _ in range(2):
        response = handler(_event("/echo", b"hello world", {"X-Test": "1"}), None)
        assert response["statusCode"] == 201
        assert response["headers"]["x-a"] == "1, 2"
        assert _body(response) == b"hello world"
    assert loops[0] is loops[1]


def test_api_gateway_v2_events_and_text_bodies() -> None:
    handler = restate.lambda_handler(APP)
    event = {
        "rawPath": "/prefix/health",
        "requestContext": {"http": {"method": "GET", "path": "/prefix/health"}},
        "headers": {},
        "body": "",
        "isBase64Encoded": False,
    }
    response = handler(event, None)
    assert response["statusCode"] == 200
    assert json.loads(_body(response)) == {"status": "ok"}


def test_unknown_route_is_a_404_not_an_exception() -> None:
    response = restate.lambda_handler(APP)(_event("/nowhere"), None)
    assert response["statusCode"] == 404


def test_a_non_http_event_names_what_was_expected() -> None:
    with pytest.raises(ValueError, match="restate-server's Lambda invoker"):
        restate.lambda_handler(APP)({"detail-type": "Scheduled Event"}, None)


def test_an_app_without_a_response_gives_500() -> None:
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None

    assert restate.lambda_handler(silent)(_event("/x"), None)["statusCode"] == 500
