"""Request identity (protocol.md §8): verify the Ed25519 JWT restate-server signs each request with.

Everything a request carries is hostile until the signature checks out, so the order is: size cap,
shape (three base64url parts), signature over the first two parts, and only then any JSON. Each
failure is a short reason (a 401 for the caller); nothing here raises on request input.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._errors import SdkUsageError

__all__ = ["MAX_TOKEN_SIZE", "IdentityVerifier", "parse_keys"]

MAX_TOKEN_SIZE = 4096
"""Longest ``x-restate-jwt-v1`` accepted: restate-server's tokens are about 300 bytes."""

_PREFIX = "publickeyv1_"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}")  # 64-byte signature: 86 chars


def _b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        n = n * 58 + _B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + raw


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]}"


_HOW = (
    "copy the key as restate-server logs it at startup ('Loaded request identity key', kid=publickeyv1_...)"
)


def parse_key(key: object, index: int = 0) -> Ed25519PublicKey:
    """One ``publickeyv1_<base58>`` key; the error names the key, what is wrong and the fix."""
    where = f"identity_keys[{index}]"
    if not isinstance(key, str):
        raise SdkUsageError(f"{where} is of type {type(key).__name__}, not a 'publickeyv1_...' string")
    if not key.startswith(_PREFIX):
        raise SdkUsageError(f"{where} {_short(key)} does not start with {_PREFIX!r}: {_HOW}")
    body = key[len(_PREFIX) :]
    for pos, ch in enumerate(body):
        if ch not in _B58:
            raise SdkUsageError(
                f"{where} {_short(key)} has {ch!r} at position {len(_PREFIX) + pos}, which is not a base58 "
                f"character (base58 has no 0, O, I or l): {_HOW}"
            )
    raw = _b58decode(body)
    if len(raw) != 32:
        raise SdkUsageError(
            f"{where} {_short(key)} decodes to {len(raw)} bytes, not to a 32-byte Ed25519 public key: {_HOW}"
        )
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as e:  # pragma: no cover - any 32 bytes load today; stay clear if that changes
        raise SdkUsageError(f"{where} {_short(key)} is not an Ed25519 public key: {e}") from None


def parse_keys(keys: object) -> list[Ed25519PublicKey]:
    """``identity_keys`` as ``restate.app`` takes it: a non-empty list of keys (None, checked by the
    caller, turns verification off)."""
    if isinstance(keys, (str, bytes)):
        raise SdkUsageError(
            f"identity_keys must be a list of keys, not one string: identity_keys=[{_short(keys)}]"
        )
    if not isinstance(keys, Iterable):
        raise SdkUsageError(f"identity_keys must be a list of 'publickeyv1_...' strings, not {_short(keys)}")
    items: list[object] = list(keys)  # pyright: ignore[reportUnknownArgumentType]
    if not items:
        raise SdkUsageError(
            "identity_keys=[] lists no key, so no request could be verified: pass the key(s) restate-server "
            "signs with, identity_keys=['publickeyv1_...'], or identity_keys=None to accept unsigned requests"
        )
    return [parse_key(k, i) for i, k in enumerate(items)]


def _audience(path: str) -> str:
    segments = [s for s in path.split("/") if s]
    if len(segments) >= 3 and segments[-3] == "invoke":
        return "/" + "/".join(segments[-3:])
    if segments and segments[-1] == "discover":
        return "/discover"
    return path


def _json_object(part: str) -> dict[str, Any] | None:
    try:
        value = json.loads(_b64url(part))
    except (ValueError, RecursionError):  # RecursionError: a deeply nested document
        return None
    return value if isinstance(value, dict) else None  # pyright: ignore[reportUnknownVariableType]


class IdentityVerifier:
    """Checks the ``x-restate-jwt-v1`` header of each request against the configured keys."""

    def __init__(self, keys: object) -> None:
        self._keys = parse_keys(keys)

    def verify(self, path: str, headers: Mapping[str, str]) -> str | None:
        """None when the request is signed by one of our keys, else why not (short, bounded)."""
        scheme = headers.get("x-restate-signature-scheme")
        if scheme is None:
            return "missing x-restate-signature-scheme header"
        if scheme != "v1":
            return f"signature scheme {_short(scheme, 30)} is not accepted"
        token = headers.get("x-restate-jwt-v1")
        if not token:
            return "missing x-restate-jwt-v1 header"
        if len(token) > MAX_TOKEN_SIZE:
            return f"JWT of {len(token)} bytes is longer than {MAX_TOKEN_SIZE}"
        if _JWT.fullmatch(token) is None:
            return "malformed JWT"
        signed, _, sig_b64 = token.rpartition(".")
        try:
            signature = _b64url(sig_b64)
        except binascii.Error:
            return "malformed JWT"
        data = signed.encode("ascii")
        for key in self._keys:
            try:
                key.verify(signature, data)
                break
            except InvalidSignature:
                continue
        else:
            return "signature does not match any configured key"
        # signed by restate-server from here on; the JSON is still checked, never trusted to be well-formed
        header_b64, _, payload_b64 = signed.partition(".")
        header = _json_object(header_b64)
        claims = _json_object(payload_b64)
        if header is None or claims is None:
            return "malformed JWT"
        if header.get("alg") != "EdDSA":
            return f"JWT algorithm {_short(header.get('alg'), 30)} is not EdDSA"
        for claim in ("aud", "exp", "iat", "nbf"):
            if claim not in claims:
                return f"JWT lacks the {claim!r} claim"
        exp, nbf, aud = claims["exp"], claims["nbf"], claims["aud"]
        if not isinstance(exp, (int, float)) or not isinstance(nbf, (int, float)):
            return "JWT 'exp' and 'nbf' must be numbers"
        now = time.time()
        if exp < now:
            return "JWT expired"
        if nbf > now:
            return "JWT not yet valid"
        expected = _audience(path)
        audiences: list[object] = aud if isinstance(aud, list) else [aud]  # pyright: ignore[reportUnknownVariableType]
        if expected not in audiences:
            return f"JWT audience {_short(audiences if isinstance(aud, list) else aud)} does not match {_short(expected)}"
        return None
