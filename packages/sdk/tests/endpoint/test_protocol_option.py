"""restate.app(protocol=...): the mode discovery announces, whatever HTTP version carries it."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import msgspec
import pytest
import restate_sdk as restate

svc = restate.Service("ProtocolSvc")


@svc.handler()
async def hi(ctx: restate.Context) -> str:
    return "hi"


async def _mode(app: restate.Endpoint, http_version: str) -> str:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/discover",
        "http_version": http_version,
        "headers": [(b"accept", b"application/vnd.restate.endpointmanifest.v3+json")],
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    return str(msgspec.json.decode(sent[1]["body"])["protocolMode"])


@pytest.mark.parametrize(
    ("protocol", "http_version", "mode"),
    [
        (None, "2", "BIDI_STREAM"),
        (None, "1.1", "REQUEST_RESPONSE"),
        ("request_response", "2", "REQUEST_RESPONSE"),
        ("request_response", "1.1", "REQUEST_RESPONSE"),
        ("bidi", "2", "BIDI_STREAM"),
        ("bidi", "1.1", "BIDI_STREAM"),
    ],
)
async def test_discovery_mode(protocol: Any, http_version: str, mode: str) -> None:
    assert await _mode(restate.app([svc], protocol=protocol), http_version) == mode


def test_an_unknown_protocol_is_refused() -> None:
    with pytest.raises(restate.SdkUsageError, match="'bidi' or 'request_response'"):
        restate.app([svc], protocol="streaming")  # type: ignore[arg-type]
