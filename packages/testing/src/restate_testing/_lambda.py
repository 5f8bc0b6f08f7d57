"""LambdaStandIn: the AWS Lambda Invoke API on 127.0.0.1, calling a Lambda handler in this process."""

from __future__ import annotations

import json
import threading
import traceback
import urllib.parse
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

__all__ = ["LambdaStandIn"]

_INVOKE_PREFIX = "/2015-03-31/functions/"


class LambdaStandIn:
    """Answers restate-server's Lambda invocations by calling ``handler(event, context)`` in-process.

    restate-server sends its Lambda calls to ``AWS_ENDPOINT_URL_LAMBDA`` when that is set; ``env``
    holds it and dummy AWS credentials for the server. Register any ARN with a version or alias::

        with LambdaStandIn(restate.lambda_handler(app)) as aws, RestateServer(env=aws.env) as server:
            httpx.post(f"{server.admin_url}/deployments", json={"arn": LambdaStandIn.ARN})

    Like one warm Lambda instance, it runs one event at a time. ``invoked`` lists the ARNs called, in order.
    """

    ARN = "arn:aws:lambda:us-east-1:123456789012:function:restate-test:$LATEST"

    def __init__(self, handler: Callable[[Mapping[str, Any], Any], Mapping[str, Any]]) -> None:
        self.handler = handler
        self.invoked: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:port`` of the stand-in."""
        if self._server is None:
            raise RuntimeError("the Lambda stand-in has not been started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def env(self) -> dict[str, str]:
        """Environment for restate-server: send Lambda calls here, signed with dummy credentials."""
        return {
            "AWS_ENDPOINT_URL_LAMBDA": self.url,
            "AWS_ACCESS_KEY_ID": "AKIDRESTATETESTING",
            "AWS_SECRET_ACCESS_KEY": "restate-testing-secret",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1."""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                if not (path.startswith(_INVOKE_PREFIX) and path.endswith("/invocations")):
                    self._answer(404, {"message": f"no route for {path}"})
                    return
                arn = urllib.parse.unquote(path[len(_INVOKE_PREFIX) : -len("/invocations")])
                event = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
                with stand_in._lock:
                    stand_in.invoked.append(arn)
                    try:
                        result: Any = stand_in.handler(event, None)
                    except Exception as e:
                        # what Lambda answers for an exception in the function
                        error = {
                            "errorMessage": str(e),
                            "errorType": type(e).__name__,
                            "stackTrace": traceback.format_exception(e),
                        }
                        self._answer(200, error, {"X-Amz-Function-Error": "Unhandled"})
                        return
                self._answer(200, result)

            def _answer(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.send_header("X-Amz-Executed-Version", "$LATEST")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="lambda-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
