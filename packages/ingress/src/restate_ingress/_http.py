"""The HTTP plumbing every client shares: configuration and request building (``HTTPBase``), and
the one I/O call, written once blocking (``SyncIO``) and once for asyncio (``AsyncIO``)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from ._errors import mapped_transport_errors
from ._models import Operation, Timeout, merge_headers, to_httpx_timeout

__all__: list[str] = []

T = TypeVar("T")


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()
"""'Use the client's setting' (for per-request timeouts)."""


@functools.cache
def _otel_inject() -> Callable[[dict[str, str]], None] | None:
    """opentelemetry-api's ``propagate.inject``, or None when it is not installed (looked up once)."""
    try:
        from opentelemetry.propagate import inject
    except ImportError:
        return None
    return inject


def trace_context() -> dict[str, str] | None:
    """The current OpenTelemetry trace context as headers (``traceparent``...), if opentelemetry-api
    is installed; the invocation then joins the caller's trace.

    The trace flags keep only "sampled": restate-server 1.7 (opentelemetry-rust) rejects a version-00
    ``traceparent`` whose flags exceed 0x02, e.g. the W3C level-2 "random" flag next to "sampled"
    that opentelemetry-python sets, and would start a new trace instead.
    """
    inject = _otel_inject()
    if inject is None:
        return None
    carrier: dict[str, str] = {}
    inject(carrier)
    parent = carrier.get("traceparent")
    if parent is not None and len(parent) == 55 and parent.startswith("00-"):
        try:
            carrier["traceparent"] = f"{parent[:53]}{int(parent[53:], 16) & 0x01:02x}"
        except ValueError:
            del carrier["traceparent"]
    return carrier


class HTTPBase:
    """Base URL, headers (with the bearer token) and timeout; builds requests, sends none."""

    _build_request: Callable[..., httpx.Request]

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        token: str | None,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
    ) -> None:
        self.base_url = str(base_url).rstrip("/")
        auth = {"authorization": f"Bearer {token}"} if token else None
        self.headers: dict[str, str] = merge_headers(headers, auth)
        self.timeout = to_httpx_timeout(timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _request(
        self,
        method: str,
        path: str,
        *,
        content: bytes = b"",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> httpx.Request:
        return self._build_request(
            method,
            self.base_url + path,
            content=content or None,
            headers=merge_headers(trace_context(), self.headers, headers),  # explicit headers win
            params=params,
            timeout=self.timeout if timeout is DEFAULT else to_httpx_timeout(timeout),
        )


class SyncIO(HTTPBase):
    """Blocking I/O over one ``httpx.Client`` (connections are reused)."""

    def _open(self, transport: httpx.BaseTransport | None, http_client: httpx.Client | None) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=self.timeout)
        self._build_request = self._http.build_request

    def _run(self, op: Operation[T]) -> T:
        with mapped_transport_errors(op.request):
            response = self._http.send(op.request)
        return op.parse(response)

    def close(self) -> None:
        """Close the connections (not those of an ``http_client`` passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncIO(HTTPBase):
    """asyncio I/O over one ``httpx.AsyncClient``; never blocks the event loop."""

    def _open(
        self, transport: httpx.AsyncBaseTransport | None, http_client: httpx.AsyncClient | None
    ) -> None:
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=self.timeout)
        self._build_request = self._http.build_request

    async def _run(self, op: Operation[T]) -> T:
        with mapped_transport_errors(op.request):
            response = await self._http.send(op.request)
        return op.parse(response)

    async def aclose(self) -> None:
        """Close the connections (not those of an ``http_client`` passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
