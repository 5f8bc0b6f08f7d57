"""The HTTP plumbing every client shares: configuration and request building (``HTTPBase``), and
the one I/O call, written once blocking (``SyncIO``) and once for asyncio (``AsyncIO``)."""

from __future__ import annotations

import functools
import ipaddress
import warnings
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


RequestTimeout = httpx.Timeout | httpx._client.UseClientDefault  # pyright: ignore[reportPrivateImportUsage]

# Headers a redirect to another origin keeps: content, tracing and the idempotency key. Everything
# else (authorization, x-api-key, cookies, any custom header) may be a credential and stays behind.
_CROSS_ORIGIN_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "content-type",
        "host",
        "idempotency-key",
        "traceparent",
        "tracestate",
        "transfer-encoding",
        "user-agent",
    }
)
_SECRET_HINTS = ("auth", "token", "key", "secret", "cookie", "password", "session")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redacted(url: httpx.URL | str) -> str:
    """``url`` without its user info (a password in the URL never reaches a message or a repr)."""
    url = httpx.URL(url)
    return str(url.copy_with(userinfo=b"")) if url.userinfo else str(url)


class HTTPBase:
    """Base URL, headers (with the bearer token) and timeouts; builds requests, sends none.

    Timeouts: an explicit ``timeout`` is used for every request; without one, a user's own
    ``http_client`` keeps its settings, and a client we create uses ``default_timeout`` (and
    ``wait_timeout`` for requests that wait for an invocation's end, ``attach``).
    """

    _build_request: Callable[..., httpx.Request]

    def __init__(
        self,
        base_url: str | httpx.URL,
        *,
        token: str | None,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
        default_timeout: httpx.Timeout,
        wait_timeout: httpx.Timeout | None = None,
    ) -> None:
        self.base_url = str(base_url).rstrip("/")
        auth = {"authorization": f"Bearer {token}"} if token else None
        self.headers: dict[str, str] = merge_headers(headers, auth)
        self._timeout_arg = timeout
        self._default_timeout = default_timeout
        self._wait_default = wait_timeout or default_timeout
        self.timeout: RequestTimeout = default_timeout
        self._wait_timeout: RequestTimeout = self._wait_default
        url = httpx.URL(self.base_url)
        self._secrets = [s for s in (token, url.password) if s]
        self._secrets += [
            v for k, v in self.headers.items() if any(h in k.lower() for h in _SECRET_HINTS) and v
        ]
        if url.scheme == "http" and self._secrets and not _is_loopback(url.host):
            warnings.warn(
                f"{type(self).__name__} sends credentials (a token, a password or a key header) to "
                f"{redacted(url)} over plain http, readable by anyone on the way: use https://",
                stacklevel=3,
            )

    def _set_timeouts(self, own_client: bool) -> None:
        if self._timeout_arg is not DEFAULT:
            self.timeout = self._wait_timeout = to_httpx_timeout(self._timeout_arg)
        elif own_client:
            self.timeout, self._wait_timeout = self._default_timeout, self._wait_default
        else:  # the user's httpx client: its own timeout settings apply
            self.timeout = self._wait_timeout = httpx.USE_CLIENT_DEFAULT

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redacted(self.base_url)!r})"

    def _request(
        self,
        method: str,
        path: str,
        *,
        content: bytes = b"",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        waits: bool = False,
    ) -> httpx.Request:
        """``waits``: the request waits for an invocation to end (``wait_timeout`` by default)."""
        if timeout is DEFAULT:
            chosen: RequestTimeout = self._wait_timeout if waits else self.timeout
        else:
            chosen = to_httpx_timeout(timeout)
        return self._build_request(
            method,
            self.base_url + path,
            content=content or None,
            headers=merge_headers(trace_context(), self.headers, headers),  # explicit headers win
            params=params,
            timeout=chosen,
        )

    @staticmethod
    def _next_hop(
        first: httpx.Request, response: httpx.Response, hops: int, http: httpx.Client | httpx.AsyncClient
    ) -> httpx.Request | None:
        """The redirect to follow, if the httpx client follows redirects; a redirect to another
        origin carries only ``_CROSS_ORIGIN_HEADERS`` (httpx itself only drops Authorization)."""
        nxt = response.next_request
        if nxt is None or not http.follow_redirects:
            return None
        if hops >= http.max_redirects:
            raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=nxt)
        if _origin(nxt.url) != _origin(first.url):
            for name in {k.lower() for k in nxt.headers} - _CROSS_ORIGIN_HEADERS:
                del nxt.headers[name]
        return nxt


class SyncIO(HTTPBase):
    """Blocking I/O over one ``httpx.Client`` (connections are reused)."""

    def _open(self, transport: httpx.BaseTransport | None, http_client: httpx.Client | None) -> None:
        self._owns_http = http_client is None
        self._set_timeouts(self._owns_http)
        self._http = http_client or httpx.Client(transport=transport, timeout=self._default_timeout)
        self._build_request = self._http.build_request

    def _run(self, op: Operation[T]) -> T:
        with mapped_transport_errors(op.request, self._secrets):
            response = self._http.send(op.request, follow_redirects=False)
            hops = 0
            while (nxt := self._next_hop(op.request, response, hops, self._http)) is not None:
                response.close()
                response = self._http.send(nxt, follow_redirects=False)
                hops += 1
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
        self._set_timeouts(self._owns_http)
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=self._default_timeout)
        self._build_request = self._http.build_request

    async def _run(self, op: Operation[T]) -> T:
        with mapped_transport_errors(op.request, self._secrets):
            response = await self._http.send(op.request, follow_redirects=False)
            hops = 0
            while (nxt := self._next_hop(op.request, response, hops, self._http)) is not None:
                await response.aclose()
                response = await self._http.send(nxt, follow_redirects=False)
                hops += 1
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
