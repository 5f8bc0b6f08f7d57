"""Serdes: how handler inputs, outputs, state values and run results become bytes.

msgspec JSON is the default and covers builtins, dataclasses, TypedDict, msgspec Structs,
enums, datetimes and unions. Pydantic models are handled through pydantic itself when it is
installed; ``bytes`` passes through untouched.
"""

from __future__ import annotations

import contextlib
import typing
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import msgspec

from ._errors import TerminalError

__all__ = ["BytesSerde", "JsonSerde", "PydanticSerde", "Serde", "serde_for"]

T = TypeVar("T")


@runtime_checkable
class Serde(Protocol[T]):
    """Turns values of one type into bytes and back.

    ``content_type`` goes into discovery; ``json_schema()`` too when it is not None.
    """

    content_type: str

    def encode(self, value: T) -> bytes:
        """The bytes for ``value``."""
        ...

    def decode(self, data: bytes) -> T:
        """The value ``data`` stands for; raises on bytes that are not one."""
        ...

    def json_schema(self) -> dict[str, Any] | None:
        """The JSON Schema of the values, for discovery; None when there is none."""
        ...


_ENCODER = msgspec.json.Encoder()


class JsonSerde(Generic[T]):
    """JSON through msgspec, validated against ``type_hint`` (``Any`` accepts any JSON)."""

    content_type = "application/json"

    def __init__(self, type_hint: Any = Any) -> None:
        self.type_hint = type_hint
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(type_hint)
        self._void = type_hint is type(None)

    def encode(self, value: T) -> bytes:
        """The bytes for ``value``."""
        if self._void and value is None:
            return b""
        return _ENCODER.encode(value)

    def decode(self, data: bytes) -> T:
        """The value ``data`` stands for; raises on bytes that are not one."""
        if not data and (self._void or _accepts_none(self.type_hint)):
            return None  # type: ignore[return-value]
        return self._decoder.decode(data)

    def json_schema(self) -> dict[str, Any] | None:
        """The JSON Schema of the values, for discovery; None when there is none."""
        if self.type_hint is Any or self._void:
            return None
        try:
            return msgspec.json.schema(self.type_hint)
        except (TypeError, ValueError):
            return None


class BytesSerde:
    """Raw bytes, untouched (``application/octet-stream``)."""

    content_type = "application/octet-stream"

    def encode(self, value: bytes) -> bytes:
        """The bytes for ``value``."""
        return bytes(value)

    def decode(self, data: bytes) -> bytes:
        """The value ``data`` stands for; raises on bytes that are not one."""
        return data

    def json_schema(self) -> dict[str, Any] | None:
        """The JSON Schema of the values, for discovery; None when there is none."""
        return None


class PydanticSerde(Generic[T]):
    """A pydantic model (or any type pydantic's TypeAdapter accepts)."""

    content_type = "application/json"

    def __init__(self, type_hint: Any) -> None:
        from pydantic import TypeAdapter

        self.type_hint = type_hint
        self._adapter: Any = TypeAdapter(type_hint)

    def encode(self, value: T) -> bytes:
        """The bytes for ``value``."""
        return self._adapter.dump_json(value)  # type: ignore[no-any-return]

    def decode(self, data: bytes) -> T:
        """The value ``data`` stands for; raises on bytes that are not one."""
        return self._adapter.validate_json(data)  # type: ignore[no-any-return]

    def json_schema(self) -> dict[str, Any] | None:
        """The JSON Schema of the values, for discovery; None when there is none."""
        return self._adapter.json_schema()  # type: ignore[no-any-return]


def _accepts_none(type_hint: Any) -> bool:
    if type_hint is Any or type_hint is None or type_hint is type(None):
        return True
    return type(None) in typing.get_args(type_hint)


def _is_pydantic(type_hint: Any) -> bool:
    try:
        from pydantic import BaseModel
    except ImportError:  # pydantic is optional
        return False
    if isinstance(type_hint, type) and issubclass(type_hint, BaseModel):
        return True
    return any(_is_pydantic(arg) for arg in typing.get_args(type_hint))


_CACHE: dict[Any, Serde[Any]] = {}


def serde_for(type_hint: Any) -> Serde[Any]:
    """The default serde for a type: bytes as is, pydantic models via pydantic, else msgspec JSON."""
    if type_hint is None:
        type_hint = type(None)
    try:
        return _CACHE[type_hint]
    except (KeyError, TypeError):
        pass
    serde: Serde[Any]
    if type_hint is bytes:
        serde = BytesSerde()
    elif _is_pydantic(type_hint):
        serde = PydanticSerde(type_hint)
    else:
        serde = JsonSerde(type_hint)
    with contextlib.suppress(TypeError):  # an unhashable hint is simply not cached
        _CACHE[type_hint] = serde
    return serde


def decode_input(serde: Serde[Any], data: bytes, what: str) -> Any:
    """Decode, turning any failure into a terminal 400 that says what was wrong."""
    try:
        return serde.decode(data)
    except Exception as e:
        raise TerminalError(f"Invalid {what}: {e}", status_code=400) from e
