from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import msgspec
import pydantic
import pytest
import restate_sdk as restate
from restate_sdk._codecs import decode_input


@dataclass
class Point:
    x: int
    y: int


class Box(msgspec.Struct):
    label: str
    size: float


class Movie(TypedDict):
    title: str
    year: int


class User(pydantic.BaseModel):
    name: str
    age: int


@pytest.mark.parametrize(
    ("hint", "value", "wire"),
    [
        (Point, Point(1, 2), b'{"x":1,"y":2}'),
        (Box, Box("a", 1.5), b'{"label":"a","size":1.5}'),
        (Movie, {"title": "Up", "year": 2009}, b'{"title":"Up","year":2009}'),
        (list[int], [1, 2], b"[1,2]"),
        (str, "hi", b'"hi"'),
        (User, User(name="ann", age=3), b'{"name":"ann","age":3}'),
    ],
)
def test_round_trip(hint: Any, value: Any, wire: bytes) -> None:
    serde = restate.serde_for(hint)
    assert serde.encode(value) == wire
    assert serde.decode(wire) == value
    assert serde.json_schema() is not None


def test_bytes_pass_through_untouched() -> None:
    serde = restate.serde_for(bytes)
    assert serde.content_type == "application/octet-stream"
    assert serde.encode(b"\x00\xff") == b"\x00\xff"
    assert serde.decode(b"\x00\xff") == b"\x00\xff"


def test_none_is_an_empty_body() -> None:
    serde = restate.serde_for(None)
    assert serde.encode(None) == b""
    assert serde.decode(b"") is None


def test_bad_input_is_a_terminal_400_saying_why() -> None:
    with pytest.raises(restate.TerminalError) as info:
        decode_input(restate.serde_for(Point), b'{"x":"one","y":2}', "input")
    assert info.value.status_code == 400
    assert "Expected `int`, got `str`" in info.value.message
    with pytest.raises(restate.TerminalError) as info:
        decode_input(restate.serde_for(User), b'{"name":"ann"}', "input")
    assert info.value.status_code == 400
    assert "age" in info.value.message
