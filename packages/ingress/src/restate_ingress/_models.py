"""Plain values shared by the sync and async clients, and the pieces that turn Python into HTTP.

Nothing here does I/O: an ``Operation`` is a built ``httpx.Request`` plus the function that reads
its response; ``Client`` and ``AsyncClient`` only differ in how they send it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
import msgspec
from restate_sdk import BytesSerde, JsonSerde, Serde, serde_for

from ._errors import INVOCATION_ID_HEADER, ResponseDecodeError, check_response

__all__ = ["SendResponse", "SendStatus"]

T = TypeVar("T")

SendStatus = Literal["Accepted", "PreviouslyAccepted"]
"""What the server says of a send: accepted now, or accepted before (same idempotency key or workflow run)."""

Timeout = float | timedelta | httpx.Timeout | None
"""A timeout as the clients accept it: seconds, a timedelta, an ``httpx.Timeout``, or None (wait forever)."""

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=300.0, write=60.0, pool=60.0)
"""Calls, sends and every other request but ``attach``: a call waits for its handler up to 5 minutes
(restate-server sends nothing until the result), so a stalled connection cannot hang the caller
forever; longer work is better sent, then attached to."""

DEFAULT_ATTACH_TIMEOUT = httpx.Timeout(connect=10.0, read=3600.0, write=60.0, pool=60.0)
"""``attach()`` exists to wait for long-running invocations and workflows: up to an hour."""


@dataclass(frozen=True, slots=True)
class SendResponse:
    """What restate-server answers to a one-way send: the new invocation's id and whether it is new.

    ``status`` is ``"Accepted"`` for a new invocation and ``"PreviouslyAccepted"`` when an
    earlier send with the same idempotency key (or the same workflow key) already created it.
    ``execution_time`` is set for delayed sends.

    Example::

        sent = client.service("Greeter").send("greet", "Ann", idempotency_key="k")
        sent.invocation_id            # 'inv_1...'
        client.invocation(sent.invocation_id).attach()
    """

    invocation_id: str
    status: SendStatus
    execution_time: datetime | None = None

    @property
    def previously_accepted(self) -> bool:
        return self.status == "PreviouslyAccepted"


class _SendBody(msgspec.Struct, rename="camel"):
    invocation_id: str
    status: str
    execution_time: datetime | None = None


_SEND_BODY = msgspec.json.Decoder(_SendBody)


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """A request ready to send and the function that turns its (read) response into a result."""

    request: httpx.Request
    parse: Callable[[httpx.Response], T]


class _NoInput:
    """Marks 'no argument given': the request carries no body (a handler without input)."""

    def __repr__(self) -> str:
        return "NO_INPUT"


NO_INPUT: Any = _NoInput()

_ANY_JSON: JsonSerde[Any] = JsonSerde()
_BYTES = BytesSerde()


def segment(value: str) -> str:
    """One URL path segment: everything percent-encoded, ``/`` included (object keys may hold it)."""
    return quote(value, safe="")


def delay_param(delay: timedelta) -> str:
    """A send's ``?delay=`` value in the server's friendly form, whole milliseconds: ``"5000ms"``."""
    ms = math.ceil(delay / timedelta(milliseconds=1))
    if ms < 0:
        raise ValueError(f"delay must not be negative, got {delay!r}")
    return f"{ms}ms"


def to_httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, timedelta):
        return httpx.Timeout(timeout.total_seconds())
    return httpx.Timeout(timeout)


def input_serde_for(value: Any) -> Serde[Any]:
    """The serde for an argument sent by name, without a handler: bytes as is, pydantic models
    through pydantic, anything else as msgspec JSON."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _BYTES
    if _is_pydantic_model(value):
        return serde_for(type(value))
    return _ANY_JSON


def _is_pydantic_model(value: Any) -> bool:
    try:
        from pydantic import BaseModel
    except ImportError:  # pydantic is optional
        return False
    return isinstance(value, BaseModel)


def encode_body(value: Any, serde: Serde[Any] | None) -> tuple[bytes, dict[str, str]]:
    """The body and content-type header for an argument (no body at all for ``NO_INPUT``)."""
    if value is NO_INPUT:
        return b"", {}
    serde = serde or input_serde_for(value)
    body = serde.encode(value)
    return body, ({"content-type": serde.content_type} if body else {})


def decode_output(response: httpx.Response, serde: Serde[Any] | None) -> Any:
    """A 2xx response's body as the output. Without a serde: JSON when the server says JSON,
    None for an empty body, and the raw bytes for any other content type."""
    data = response.content
    try:
        if serde is not None:
            return serde.decode(data)
        if not data:
            return None
        content_type = response.headers.get("content-type", "application/json").split(";")[0].strip()
        if content_type == "application/json" or content_type.endswith("+json"):
            return _ANY_JSON.decode(data)
        return data
    except Exception as e:
        raise ResponseDecodeError(
            f"cannot decode the output: {e}",
            status=response.status_code,
            invocation_id=response.headers.get(INVOCATION_ID_HEADER),
        ) from e


def output_serde_for(output_type: Any, output_serde: Serde[Any] | None) -> Serde[Any] | None:
    if output_serde is not None:
        return output_serde
    if output_type is None:
        return None
    return serde_for(output_type)


def parse_send_response(response: httpx.Response) -> SendResponse:
    check_response(response)
    try:
        body = _SEND_BODY.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise ResponseDecodeError(
            f"unexpected answer to a send: {e}",
            status=response.status_code,
            invocation_id=response.headers.get(INVOCATION_ID_HEADER),
        ) from e
    status: SendStatus = "PreviouslyAccepted" if body.status == "PreviouslyAccepted" else "Accepted"
    return SendResponse(body.invocation_id, status, body.execution_time)


def merge_headers(*layers: Mapping[str, str] | None) -> dict[str, str]:
    merged: dict[str, str] = {}
    for layer in layers:
        if layer:
            merged.update(layer)
    return merged
