"""Every failure the ingress and admin clients raise: one tree, mapped in one place.

::

    IngressError(message, status=, code=, metadata=, source=, invocation_id=)
    ├─ BadRequest               400  bad input, bad id, delay on a call, idempotency key on a workflow run
    ├─ Unauthorized             401
    ├─ NotFound                 404  unknown service/handler, unknown invocation
    ├─ Conflict                 409  workflow already run, invocation cancelled or killed
    ├─ Gone                     410
    ├─ NotReady                 470  output() of an invocation that has not completed
    ├─ ServerError              5xx  a handler's TerminalError with the default code, dispatcher errors
    ├─ IngressTransportError         no HTTP answer: connect refused, connection reset, bad URL
    │   └─ IngressTimeout            the timeout ran out (also a builtin ``TimeoutError``)
    └─ ResponseDecodeError           the server answered 2xx but the body did not decode as the output type

Other statuses (a handler's ``TerminalError("...", status_code=422)``, 403, 413, ...) raise the
base ``IngressError`` with that status. ``source`` says who produced the error: ``"invocation"``
(the handler ended with a terminal failure) or ``"ingress"`` (restate-server refused the request),
taken from the ``x-restate-error-source`` header or the body's ``"source"``. A terminal failure's
``metadata`` arrives intact.

Example::

    try:
        client.service("Payments").call("charge", order)
    except NotFound:
        ...                                      # no such service or handler
    except IngressError as e:
        if e.source == "invocation":             # the handler raised TerminalError
            print(e.code, e.message, e.metadata, e.invocation_id)
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Mapping, Sequence
from typing import Any

import httpx
import msgspec

__all__ = [
    "BadRequest",
    "Conflict",
    "Gone",
    "IngressError",
    "IngressTimeout",
    "IngressTransportError",
    "NotFound",
    "NotReady",
    "ResponseDecodeError",
    "ServerError",
    "Unauthorized",
]

INVOCATION_ID_HEADER = "x-restate-id"
ERROR_SOURCE_HEADER = "x-restate-error-source"


class IngressError(Exception):
    """Base of every error raised by ``restate_ingress``.

    Attributes:
        message: what went wrong, as the server (or the transport) said it.
        status: the HTTP status, or None when no answer arrived (transport errors).
        code: the failure code from the error body (a handler's ``TerminalError.status_code``);
            the HTTP status when the body had none.
        metadata: a handler's ``TerminalError.metadata``, intact; ``{}`` otherwise.
        source: ``"invocation"`` (the handler failed terminally), ``"ingress"`` (the server
            refused the request), or None when unknown.
        invocation_id: the invocation this concerns, when known (``x-restate-id``).
        restate_code: the admin API's error code (e.g. ``"META0003"``), when given.
        stacktrace: the handler's stack trace, when the server sends one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        metadata: Mapping[str, str] | None = None,
        source: str | None = None,
        invocation_id: str | None = None,
        restate_code: str | None = None,
        stacktrace: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code if code is not None else status
        self.metadata: dict[str, str] = dict(metadata or {})
        self.source = source
        self.invocation_id = invocation_id
        self.restate_code = restate_code
        self.stacktrace = stacktrace

    @property
    def is_terminal_failure(self) -> bool:
        """True when the handler itself ended the invocation with a terminal failure."""
        return self.source == "invocation"

    def __str__(self) -> str:
        head = f"[{self.code}] {self.message}" if self.code is not None else self.message
        extras = [
            f"{name}={value}"
            for name, value in (
                ("status", self.status if self.status != self.code else None),
                ("source", self.source),
                ("restate_code", self.restate_code),
                ("invocation_id", self.invocation_id),
            )
            if value is not None
        ]
        if self.metadata:
            extras.append(f"metadata={self.metadata}")
        return f"{head} ({', '.join(extras)})" if extras else head

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[IngressError], message: str, state: dict[str, Any]) -> IngressError:
    error = cls(message)
    error.__dict__.update(state)
    return error


class BadRequest(IngressError):
    """400: the server refused the request (bad input, bad id, option not allowed here)."""


class Unauthorized(IngressError):
    """401: missing or wrong credentials."""


class NotFound(IngressError):
    """404: unknown service, handler, invocation, awakeable or deployment."""


class Conflict(IngressError):
    """409: the workflow already ran, or the invocation was cancelled or killed."""


class Gone(IngressError):
    """410: the invocation's result is no longer kept."""


class NotReady(IngressError):
    """470: ``output()`` of an invocation that exists but has not completed; try ``attach()``."""


class ServerError(IngressError):
    """5xx: a handler's terminal failure with a 5xx code, or the server failed."""


class IngressTransportError(IngressError):
    """No HTTP answer: the connection failed, was reset, or the URL is unusable."""


class IngressTimeout(IngressTransportError, TimeoutError):
    """The request's timeout ran out before the answer arrived."""


class ResponseDecodeError(IngressError):
    """The server answered with success, but the body did not decode as the expected output."""


_BY_STATUS: dict[int, type[IngressError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    409: Conflict,
    410: Gone,
    470: NotReady,
}


class _ErrorBody(msgspec.Struct, kw_only=True):
    code: int | None = None
    message: str | None = None
    metadata: dict[str, str] | None = None
    stacktrace: str | None = None
    source: str | None = None
    restate_code: str | None = None


_ERROR_BODY = msgspec.json.Decoder(_ErrorBody)


def error_from_response(response: httpx.Response, *, invocation_id: str | None = None) -> IngressError:
    """The ``IngressError`` for a non-2xx response (the body must have been read)."""
    status = response.status_code
    try:
        body = _ERROR_BODY.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        body = _ErrorBody(message=response.text.strip() or response.reason_phrase or None)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else IngressError)
    return cls(
        body.message or f"HTTP {status}",
        status=status,
        code=body.code,
        metadata=body.metadata,
        source=response.headers.get(ERROR_SOURCE_HEADER) or body.source,
        invocation_id=response.headers.get(INVOCATION_ID_HEADER) or invocation_id,
        restate_code=body.restate_code,
        stacktrace=body.stacktrace,
    )


def check_response(response: httpx.Response, *, invocation_id: str | None = None) -> httpx.Response:
    """Return a 2xx response; raise the mapped ``IngressError`` for anything else."""
    if response.is_success:
        return response
    raise error_from_response(response, invocation_id=invocation_id)


@contextlib.contextmanager
def mapped_transport_errors(request: httpx.Request, secrets: Sequence[str] = ()) -> Generator[None]:
    """Turn httpx's exceptions into ``IngressTransportError``/``IngressTimeout``: the one place.

    The message names the request without the URL's user info and with ``secrets`` (the token, a
    password, key headers) blanked out, should httpx's own text contain them.
    """
    try:
        yield
    except httpx.TimeoutException as e:
        raise IngressTimeout(_describe(request, e, secrets)) from e
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as e:
        raise IngressTransportError(_describe(request, e, secrets)) from e


def _describe(request: httpx.Request, error: Exception, secrets: Sequence[str]) -> str:
    url = request.url.copy_with(userinfo=b"") if request.url.userinfo else request.url
    text = f"{type(error).__name__} on {request.method} {url}: {error}"
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
