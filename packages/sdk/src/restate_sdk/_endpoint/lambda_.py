"""AWS Lambda: restate-server's Lambda invoker event -> the app's ASGI entry -> the Lambda response.

restate-server invokes a Lambda deployment with an API-Gateway-shaped event (``path``,
``httpMethod``, ``headers``, ``body`` in base64, ``isBase64Encoded``) holding one whole request of the
request-response protocol, and reads back ``statusCode``, ``headers`` and ``body``. The adapter turns
that event into one ASGI http request (HTTP/1.1, so the endpoint answers discovery with
REQUEST_RESPONSE) and collects the response: it depends on nothing but the ASGI interface.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lambda_handler"]

LambdaEvent = Mapping[str, Any]
LambdaResponse = dict[str, Any]


def lambda_handler(app: Any) -> Callable[[LambdaEvent, Any], LambdaResponse]:
    """Return ``handler(event, context)`` serving ``app`` on the AWS Lambda Python runtime.

    Example::

        app = restate.app([greeter])
        handler = restate.lambda_handler(app)   # the function's handler: module.handler

    Register the function with restate-server by its ARN, with a version or alias
    (``restate deployments register arn:aws:lambda:REGION:ACCOUNT:function:NAME:$LATEST``).
    ``app`` may be any ASGI application that has the Restate app inside it. One event loop serves
    every invocation of a warm Lambda instance, one invocation at a time, as Lambda delivers them.
    """
    loop: asyncio.AbstractEventLoop | None = None

    def handler(event: LambdaEvent, context: Any = None) -> LambdaResponse:
        nonlocal loop
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
        return loop.run_until_complete(handle_event(app, event))

    return handler


async def handle_event(app: Any, event: LambdaEvent) -> LambdaResponse:
    """Serve one Lambda event with the ASGI ``app`` and return the Lambda response."""
    path, method = _path_and_method(event)
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
    event_headers: Mapping[str, Any] = event.get("headers") or {}
    headers = [(str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in event_headers.items()]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": None,
        "server": None,
    }
    response = _Response()
    request_read = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal request_read
        if not request_read:
            request_read = True
            return {"type": "http.request", "body": body, "more_body": False}
        # as under an HTTP server: the client goes away only once the response is complete
        await response.complete.wait()
        return {"type": "http.disconnect"}

    await app(scope, receive, response)
    return response.to_lambda()


def _path_and_method(event: LambdaEvent) -> tuple[str, str]:
    if "httpMethod" in event:  # restate-server's invoker and API Gateway REST (payload 1.0)
        return str(event.get("path") or "/"), str(event["httpMethod"])
    http = event.get("requestContext", {}).get("http")
    if http is not None:  # API Gateway HTTP API and function URLs (payload 2.0)
        return str(event.get("rawPath") or http.get("path") or "/"), str(http["method"])
    raise ValueError(
        "not an HTTP event: restate_sdk.lambda_handler expects the event restate-server's Lambda "
        "invoker sends (path, httpMethod, headers, body)"
    )


_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})


class _Response:
    """ASGI ``send`` that collects a whole response (the instance itself is the ``send``)."""

    # the body is complete before the response goes anywhere: the endpoint need not wait for the
    # request to end first (see invoke._ends_early)
    ends_early = True

    def __init__(self) -> None:
        self.status = 500
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.complete = asyncio.Event()

    async def __call__(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            for k, v in message.get("headers", ()):
                name = k.decode("latin-1").lower()
                if name in _FRAMING:
                    continue  # the body is re-framed: Lambda returns it whole
                value = v.decode("latin-1")
                self.headers[name] = f"{self.headers[name]}, {value}" if name in self.headers else value
        elif message["type"] == "http.response.body" and not self.complete.is_set():
            self.chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete.set()

    def to_lambda(self) -> LambdaResponse:
        if not self.complete.is_set():
            return {
                "statusCode": 500,
                "headers": {"content-type": "text/plain; charset=utf-8"},
                "body": base64.b64encode(b"the app returned without a complete response").decode(),
                "isBase64Encoded": True,
            }
        return {
            "statusCode": self.status,
            "headers": self.headers,
            "body": base64.b64encode(b"".join(self.chunks)).decode(),
            "isBase64Encoded": True,
        }
